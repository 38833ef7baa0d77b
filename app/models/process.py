"""Deployed process versions and the instances running on them."""
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.db import Base
from app.models.org import Org, User
from app.models.types import BigId, Money, UtcDateTime


class ProcessDefinition(Base):
    """One deployed version of one BPMN process, with the forms of its user tasks.

    A running instance keeps pointing at the meaning and forms it started on. The one update a row gets:
    a deploy of the same meaning with another layout replaces `bpmn_xml` (app/approvals/deploy.py), which
    changes nothing that runs, since the engine never sees the diagram.
    """

    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    # sha256 over the BPMN's semantic form (app/engine/canonical.py) and the canonical JSON of its forms:
    # a form edit is a new version too; a re-save or new layout of the same process is not. Rows deployed
    # before held the hash of the bytes; they are compared by meaning and take the new hash then.
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    bpmn_xml: Mapped[str] = deferred(mapped_column(Text, nullable=False))
    forms: Mapped[dict] = deferred(mapped_column(JSON, nullable=False))
    # The role of the applicant's lane: who may start this process.
    starter_role: Mapped[str] = mapped_column(String(32))
    # Process ids this one calls (call activities); bound to their latest version when an instance starts.
    called_process_ids: Mapped[list] = mapped_column(JSON, default=list)
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    deployed_by: Mapped[User | None] = relationship()


class InstanceStatus(StrEnum):
    RUNNING = "running"
    APPROVED = "approved"  # ran to a normal end
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_process_instance_initiator_created", "initiator_id", "created_at"),
        Index("ix_process_instance_org_status", "org_id", "status"),
        Index("ix_process_instance_process_status", "process_id", "status"),
        # The deadline sweep's queue: running instances with an engine timer, by when it is due.
        Index("ix_process_instance_next_timer", "next_timer_at",
              postgresql_where=text("next_timer_at IS NOT NULL"), sqlite_where=text("next_timer_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    # Definition ids of the called processes this instance was started with (call activities).
    called_definition_ids: Mapped[list] = mapped_column(JSON, default=list)
    process_id: Mapped[str] = mapped_column(String(64))  # copied from the definition for filtering
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    initiator_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[str] = mapped_column(String(16), default=InstanceStatus.RUNNING)
    business_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal | None] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # SpiffWorkflow state without the spec (the spec comes from the definition, see app/engine).
    state: Mapped[str] = deferred(mapped_column(Text, nullable=False))
    # Next number for this instance's history rows, kept here because the row is locked anyway.
    event_seq: Mapped[int] = mapped_column(Integer, default=0)
    # When the earliest engine timer (deadline, reminder, escalation) falls due; None: no timer waits.
    # Kept on the row every step updates anyway, so it costs no extra statement (app/deadlines/sweep.py).
    next_timer_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # A sweep's claim on the due timers: another sweep leaves the row alone until this passes (a lease,
    # so a sweep that died or a job Redis lost is picked up again).
    timer_claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Optimistic check on top of SELECT ... FOR UPDATE: SQLite ignores the lock, this still catches a race.
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    definition: Mapped[ProcessDefinition] = relationship()
    org: Mapped[Org] = relationship()
    initiator: Mapped[User] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status == InstanceStatus.RUNNING
