"""The typed history of an instance: one row per event, numbered per instance, never updated.

Later the e-signature work chains these rows by hash; `seq` gives that chain its order.
"""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.org import User
from app.models.types import BigId, UtcDateTime


class EventType(StrEnum):
    INSTANCE_STARTED = "instance_started"
    INSTANCE_APPROVED = "instance_approved"
    INSTANCE_REJECTED = "instance_rejected"
    TASK_CREATED = "task_created"
    TASK_CLAIMED = "task_claimed"
    TASK_UNCLAIMED = "task_unclaimed"
    TASK_COMPLETED = "task_completed"
    TASK_CANCELLED = "task_cancelled"
    SERVICE_CALLED = "service_called"
    SERVICE_FAILED = "service_failed"  # a service error caught by a boundary error event
    TASK_RETURNED = "task_returned"  # 退回: data {to_bpmn_id, to_name, comment}
    TASK_TRANSFERRED = "task_transferred"  # 转办: data {to, comment}
    TASK_DELEGATED = "task_delegated"  # 委派: data {to, comment}
    DELEGATE_ANSWERED = "delegate_answered"  # the delegate's opinion, back to whoever delegated
    SIGNER_ADDED = "signer_added"  # 加签: data {position, mode, signers}
    SIGNER_REMOVED = "signer_removed"  # 减签
    STEP_DECIDED = "step_decided"  # a multi-approver step's outcome: data {decision, by}
    CC_SENT = "cc_sent"  # 抄送: data {to, comment}
    INSTANCE_WITHDRAWN = "instance_withdrawn"  # 撤回 by the applicant
    APPROVAL_WITHDRAWN = "approval_withdrawn"  # an approver took back their approval
    INSTANCE_URGED = "instance_urged"  # 催办
    COMMENT_ADDED = "comment_added"
    ATTACHMENT_ADDED = "attachment_added"  # data {attachment_id, filename, sha256, size, content_type}
    TASK_FALLBACK = "task_fallback"  # empty approver: data {reason, role}
    BANK_RESULT = "bank_result"  # the bank's answer: data {bank_ref, status, reason}
    PAYMENT_RETURNED = "payment_returned"  # 退票 after payment: vouchers reversed, indicator released
    TIMER_FIRED = "timer_fired"  # a deadline timer fired: data {bpmn_id, action, task_bpmn_id}
    TASK_REMINDED = "task_reminded"  # a reminder went to the task's holders: data {count, to}
    TASK_ESCALATED = "task_escalated"  # up the ladder: data {level, from_role, to_role, to}


class InstanceEvent(Base):
    __tablename__ = "instance_event"
    __table_args__ = (UniqueConstraint("instance_id", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # Who the actor acted for (proxy/delegation, coming with the approval operations).
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    task_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("human_task.id"))
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    task: Mapped["HumanTask | None"] = relationship()  # noqa: F821 - resolved by name at mapper setup
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    on_behalf_of: Mapped[User | None] = relationship(foreign_keys=[on_behalf_of_id])
