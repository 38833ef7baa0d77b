"""Deadlines and what they send: local holidays for the working-day calendar, the notification outbox."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import BigId, UtcDateTime


class LocalHoliday(Base):
    """A township's own day off (or make-up workday) on top of the national calendar (chinese-calendar)."""

    __tablename__ = "local_holiday"
    __table_args__ = (UniqueConstraint("township_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    day: Mapped[date] = mapped_column(Date)
    is_workday: Mapped[bool] = mapped_column(Boolean)  # True: 调休上班 on a day otherwise off
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt


class OutboxMessage(Base):
    """A notice to send outside the app (email, SMS…), written with its in-app notification, sent after commit."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_pending", "next_attempt_at",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("notification.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # a sender's name: log, email, sms
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
