"""Human tasks: the inbox rows kept in step with the engine's READY user tasks, and their sub-tasks.

A *step* row mirrors one READY user task of the engine. A step may have sub-tasks of its own, rows
with `parent_id` and no engine task: the members of a multi-approver step (会签/或签/依次), signers
added before or after the approver (加签), and a delegate asked for an opinion (委派). While a step
waits for them (`waiting_for`), nobody acts on the step itself.
"""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.org import User
from app.models.process import ProcessInstance
from app.models.types import BigId, UtcDateTime


class TaskState(StrEnum):
    PENDING = "pending"  # a queued sub-task: a later signer in sequence, or signers after the approver
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # closed by the engine or an operation, not by a decision


class TaskKind(StrEnum):
    STEP = "step"  # mirrors an engine user task
    COUNTERSIGN = "countersign"  # one member of a multi-approver step
    SIGNER_BEFORE = "signer_before"  # 加签 (before): signs first, then the step comes back
    SIGNER_AFTER = "signer_after"  # 加签 (after): signs after the approver has approved
    DELEGATE = "delegate"  # 委派: gives an opinion; the step comes back to whoever delegated


class MultiMode(StrEnum):
    ALL = "all"  # 会签: every member must approve
    ANY = "any"  # 或签: the first member to decide decides
    SEQUENTIAL = "sequential"  # 依次: one after another, each must approve


class Fallback(StrEnum):
    """Why a task went to someone other than a holder of its role at the expected level (empty approver)."""

    HIGHER_HOLDER = "higher_holder"  # found above the instance's unit/township
    ADMIN = "admin"  # nobody holds the role on the path: the township's admin
    NONE = "none"  # not even an admin: it waits for a supervisor to transfer it


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SUBMIT = "submit"  # the applicant's own step (申请/重新提交)
    RETURN = "return"  # 退回: sent back to an earlier step


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
    kind: Mapped[str] = mapped_column(String(16), default=TaskKind.STEP, server_default=TaskKind.STEP.value)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("human_task.id"), index=True)
    seq: Mapped[int | None] = mapped_column(Integer)  # order among a step's sub-tasks
    # None: actionable; "signers" / "delegate": the step waits for its sub-tasks.
    waiting_for: Mapped[str | None] = mapped_column(String(16))
    multi: Mapped[str | None] = mapped_column(String(16))  # a multi-approver step's MultiMode
    # The approver's decision waiting for signers added after them: {"decision", "comment", "data", "by"}.
    pending: Mapped[dict | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)  # shown to the assignee: why it came (back) to them
    fallback: Mapped[str | None] = mapped_column(String(16))  # Fallback: flagged for supervisors
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))  # who added this sub-task
    # Not unique: a loop is rewound to its first pass (app/engine/runner.py), so later passes reuse the
    # engine's task id; only one READY row per engine task (partial unique index below).
    spiff_task_id: Mapped[str | None] = mapped_column(String(36), index=True)  # None for sub-tasks
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
    # Whom the completer acted for (a proxy for the principal, 代理).
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decision: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    # Deadlines: reminders sent, and how far up the escalation ladder the task has gone (0 = not escalated).
    remind_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    escalated_to_role: Mapped[str | None] = mapped_column(String(32))

    instance: Mapped[ProcessInstance] = relationship()
    parent: Mapped["HumanTask | None"] = relationship(remote_side=[id])
    candidates: Mapped[list["TaskCandidate"]] = relationship(cascade="all, delete-orphan", lazy="raise_on_sql")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    on_behalf_of: Mapped[User | None] = relationship(foreign_keys=[on_behalf_of_id])
    added_by: Mapped[User | None] = relationship(foreign_keys=[added_by_id])

    @property
    def is_ready(self) -> bool:
        return self.state == TaskState.READY

    @property
    def is_step(self) -> bool:
        return self.kind == TaskKind.STEP


class TaskCandidate(Base):
    """A user who may claim or complete a task (resolved from its lane when the task opened)."""

    __tablename__ = "task_candidate"
    __table_args__ = (Index("ix_task_candidate_user", "user_id", "task_id"),)

    task_id: Mapped[int] = mapped_column(BigId, ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    # Set when the user is a candidate as someone's proxy (代理): they act on that person's behalf.
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
