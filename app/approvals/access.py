"""Locking a task for an action, and who may act on it.

Every action on a task locks the task and its instance (SELECT ... FOR UPDATE) and reads both fresh.
Every write to an instance's tasks holds its instance lock, so what the checks see is current.
"""
from dataclasses import dataclass
from functools import cache

from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.orm import Session, undefer

from app.approvals.errors import Conflict, Forbidden, NotFound
from app.inbox.visibility import can_see_instance
from app.models import (
    Decision,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    TaskCandidate,
    TaskKind,
    TaskState,
    User,
)

WAITING_MESSAGES = {"signers": "正在等待加签人处理", "delegate": "正在等待被委派人回复意见"}


@dataclass
class Locked:
    instance: ProcessInstance
    task: HumanTask
    is_candidate: bool
    candidate_for: int | None  # the candidate row says: acting as this user's proxy (代理)
    decided_other_step: bool  # the user already decided another step of this request (C17)


@cache
def _standing(*, lock: bool, with_state: bool):
    """The task, its instance and the user's standing on the task (candidate, for whom, C17), in one statement.

    Built once per shape with bind parameters: constructing this statement costs more Python than
    running it, and every action on a task starts here.
    """
    task_id, user_id = bindparam("task_id"), bindparam("user_id")
    mine = and_(TaskCandidate.task_id == HumanTask.id, TaskCandidate.user_id == user_id)
    other = HumanTask.__table__.alias("other_step")
    decided_other = exists().where(
        other.c.instance_id == HumanTask.instance_id, other.c.completed_by_id == user_id,
        other.c.bpmn_id != HumanTask.bpmn_id, other.c.kind != TaskKind.DELEGATE,
        other.c.decision.in_([Decision.APPROVE, Decision.REJECT]))
    query = (
        select(ProcessInstance, HumanTask, exists().where(mine),
               select(TaskCandidate.on_behalf_of_id).where(mine).limit(1).scalar_subquery(), decided_other)
        .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
        .where(HumanTask.id == task_id)
    )
    if with_state:
        query = query.options(undefer(ProcessInstance.state))
    if lock:
        # Both rows are locked, not only the instance's: after waiting for a lock PostgreSQL re-reads
        # only the locked rows, so a task completed meanwhile is seen as completed. The rows may already
        # sit in the session's identity map: take what the lock just read.
        query = query.with_for_update(of=[ProcessInstance, HumanTask]).execution_options(populate_existing=True)
    return query


def _locked(session: Session, task_id: int, user_id: int, *, lock: bool, with_state: bool) -> Locked:
    row = session.execute(_standing(lock=lock, with_state=with_state),
                          {"task_id": task_id, "user_id": user_id}).one_or_none()
    if row is None:
        raise NotFound("任务不存在")
    instance, task, candidate, candidate_for, decided = row
    return Locked(instance, task, bool(candidate), candidate_for, bool(decided))


def lock_task(session: Session, task_id: int, user_id: int, *, with_state: bool = False) -> Locked:
    """Lock the task and its instance and read both as they are now, with the user's standing on the task."""
    return _locked(session, task_id, user_id, lock=True, with_state=with_state)


def read_task(session: Session, task_id: int, user_id: int, *, with_state: bool = False) -> Locked:
    """What lock_task reads, without locking anything: for what a page or a GET shows (never for a write).

    Nothing waits on an action in progress and nothing is written; the action that follows checks again
    under its lock.
    """
    return _locked(session, task_id, user_id, lock=False, with_state=with_state)


def ensure_visible(session: Session, user: User, locked: Locked) -> None:
    task = locked.task
    related = locked.is_candidate or user.id in (task.assignee_id, task.completed_by_id)
    if not related and not can_see_instance(session, user, locked.instance.id):
        raise NotFound("任务不存在")


def ensure_may_act(session: Session, user: User, locked: Locked) -> int | None:
    """Refuse unless the user may act on this task now; return whom they act for (a proxy's principal)."""
    task, instance = locked.task, locked.instance
    ensure_visible(session, user, locked)
    if instance.status != InstanceStatus.RUNNING:
        raise Conflict("流程已结束，不能再办理")
    if task.state != TaskState.READY:
        raise Conflict({TaskState.COMPLETED: "该任务已办理", TaskState.PENDING: "还没有轮到这一步"}
                       .get(task.state, "该任务已取消"))
    if task.waiting_for:
        raise Conflict(WAITING_MESSAGES.get(task.waiting_for, "该任务正在等待他人处理"))
    if task.assignee_id != user.id and not locked.is_candidate:
        raise Forbidden("这不是你的任务")
    acting_for = locked.candidate_for if locked.is_candidate else None
    if task.assignee_id not in (None, user.id) and acting_for != task.assignee_id:
        raise Conflict(f"该任务已被 {task.assignee.display_name} 认领")
    return acting_for


def ensure_may_decide(user: User, locked: Locked, *, allow_same_approver: bool) -> None:
    """Separation of duties (C17) at the moment of deciding, whatever the candidate list said."""
    if user.id == locked.instance.initiator_id:
        raise Forbidden("申请人不能审批自己的申请（不相容岗位分离）")
    if locked.decided_other_step and not allow_same_approver:
        raise Forbidden("你已审批过本申请的其他环节，不能再审批此环节（不相容岗位分离）")
