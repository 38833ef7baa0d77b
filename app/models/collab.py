"""What surrounds the approval itself: proxies (代理), copies (抄送), notifications and who wants which by
email or SMS, attachments."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.org import User
from app.models.types import BigId, UtcDateTime


class Proxy(Base):
    """While away, `principal` lets `proxy` do the tasks that arrive for them in [starts_at, ends_at)."""

    __tablename__ = "proxy"
    __table_args__ = (Index("ix_proxy_principal_window", "principal_id", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    proxy_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    process_ids: Mapped[list | None] = mapped_column(JSON)  # None: every process
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    principal: Mapped[User] = relationship(foreign_keys=[principal_id])
    proxy: Mapped[User] = relationship(foreign_keys=[proxy_id])


class CarbonCopy(Base):
    """A request copied to a user (抄送), by a BPMN step (sent_by is None) or by an approver."""

    __tablename__ = "carbon_copy"
    __table_args__ = (Index("ix_carbon_copy_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    task_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("human_task.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # 已阅

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])


class Notification(Base):
    """An in-app notice (new task, urge, copy…), written in the same transaction as its event."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read_created", "user_id", "read_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("process_instance.id"))
    task_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("human_task.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    # A task opened in the same step has no id yet: the flush inserts it first and fills task_id in.
    task: Mapped["HumanTask | None"] = relationship("HumanTask")  # noqa: F821 - app/models/task.py


class NoticePreference(Base):
    """Which kinds of notice one user also gets by email and by SMS; in the app every notice arrives.

    No row: every kind by every channel the site has on (NOTIFY_CHANNELS), as before there was a setting.
    """

    __tablename__ = "notice_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    email_kinds: Mapped[list] = mapped_column(JSON)
    sms_kinds: Mapped[list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Attachment(Base):
    """A file attached to a request or one of its tasks; the bytes live in the attachment store by SHA-256."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("human_task.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime())

    uploaded_by: Mapped[User] = relationship()
