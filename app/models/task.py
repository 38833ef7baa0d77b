"""Human tasks: the inbox rows kept in step with the engine's READY user tasks."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.org import User
from app.models.process import ProcessInstance
from app.models.types import BigId, UtcDateTime


class TaskState(StrEnum):
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # closed by the engine or an operation, not by a decision


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SUBMIT = "submit"  # the applicant's own step (申请/重新提交)


class HumanTask(Base):
    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_instance_state", "instance_id", "state"),
        Index("ix_human_task_assignee_state", "assignee_id", "state"),
        Index("ix_human_task_completed_by", "completed_by_id", "completed_at"),
        Index(
            "uq_human_task_ready_spiff_task_id",
            "spiff_task_id",
            unique=True,
            postgresql_where=text("state = 'ready'"),
            sqlite_where=text("state = 'ready'"),
        ),
        Index(
            "ix_human_task_due_ready",
            "due_at",
            postgresql_where=text("state = 'ready'"),
            sqlite_where=text("state = 'ready'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"))
    # Not unique: a loop is rewound to its first pass (app/engine/runner.py), so later passes reuse the
    # engine's task id; only one READY row per engine task (partial unique index below).
    spiff_task_id: Mapped[str] = mapped_column(String(36), index=True)
    # The process the task belongs to (a called one for tasks inside a call activity) and its element id:
    # together they name the form, forms/<bpmn_process_id>/<bpmn_id>.json of the instance's version.
    bpmn_process_id: Mapped[str] = mapped_column(String(64))
    bpmn_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(32))
    lane: Mapped[str | None] = mapped_column(String(64))
    # The org whose role holders were found: the instance's org or the nearest ancestor with a holder.
    scope_org_id: Mapped[int | None] = mapped_column(ForeignKey("org.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    state: Mapped[str] = mapped_column(String(16), default=TaskState.READY)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decision: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)

    instance: Mapped[ProcessInstance] = relationship()
    candidates: Mapped[list["TaskCandidate"]] = relationship(cascade="all, delete-orphan", lazy="raise_on_sql")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])

    @property
    def is_ready(self) -> bool:
        return self.state == TaskState.READY


class TaskCandidate(Base):
    """A user who may claim or complete a task (resolved from its lane when the task opened)."""

    __tablename__ = "task_candidate"
    __table_args__ = (Index("ix_task_candidate_user", "user_id", "task_id"),)

    task_id: Mapped[int] = mapped_column(BigId, ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
