"""催办: remind whoever holds a request's open steps that someone is waiting for them.

Who may urge: the applicant, and anyone with an oversight role (督办 first of all) at the request's
org or above. Others who may see the request are refused (403); those who may not see it get 404.
An urge is a notification to every person who can act now, plus a history row; one urger may urge
one request once per interval (429 with the time left), so a tap-happy phone cannot spam an approver.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.approvals.deps import Deps, transaction
from app.approvals.errors import Conflict, Forbidden, InvalidInput, NotFound, TooSoon
from app.approvals.notices import notify
from app.approvals.steps import MAX_COMMENT, add_event
from app.inbox.visibility import can_see_instance
from app.models import (
    OVERSIGHT_ROLES,
    EventType,
    HumanTask,
    InstanceEvent,
    Org,
    ProcessInstance,
    TaskCandidate,
    TaskState,
    User,
)


@dataclass(frozen=True)
class Urged:
    instance: ProcessInstance
    notified: list[User]
    at: datetime


def lock_instance(session: Session, instance_id: int) -> ProcessInstance:
    """SELECT ... FOR UPDATE the instance, read as it is now (a completion that committed meanwhile is seen)."""
    instance = session.scalar(
        select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if instance is None:
        raise NotFound("申请不存在")
    return instance


def may_urge(session: Session, user: User, instance: ProcessInstance) -> bool:
    """The applicant, or an oversight role granted at the instance's org or an org above it."""
    if instance.initiator_id == user.id:
        return True
    paths = [g.org.path for g in user.grants if g.role in OVERSIGHT_ROLES]
    if not paths:
        return False
    org_path = session.scalar(select(Org.path).where(Org.id == instance.org_id))
    return any(org_path.startswith(path) for path in paths)


def _check_interval(session: Session, user: User, instance: ProcessInstance, now: datetime,
                    interval: timedelta) -> None:
    last = session.scalar(
        select(func.max(InstanceEvent.at)).where(InstanceEvent.instance_id == instance.id,
                                                 InstanceEvent.type == EventType.INSTANCE_URGED,
                                                 InstanceEvent.actor_id == user.id)
    )
    if last is not None and now - last < interval:
        wait = last + interval - now
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        raise TooSoon(f"你刚催办过，请 {minutes} 分钟后再催办", wait)


def people_to_urge(session: Session, instance_id: int) -> dict[int, int]:
    """user id -> the task they are urged about, for every READY task not waiting for sub-tasks (sub-tasks
    included): its assignee and whoever stands in for them (a proxy candidate), or every candidate
    while it is unclaimed."""
    tasks = dict(session.execute(
        select(HumanTask.id, HumanTask.assignee_id)
        .where(HumanTask.instance_id == instance_id, HumanTask.state == TaskState.READY,
               HumanTask.waiting_for.is_(None))
        .order_by(HumanTask.id)
    ).all())
    candidates = session.execute(
        select(TaskCandidate.task_id, TaskCandidate.user_id, TaskCandidate.on_behalf_of_id)
        .where(TaskCandidate.task_id.in_(list(tasks)))
        .order_by(TaskCandidate.task_id, TaskCandidate.user_id)
    ).all() if tasks else []
    people: dict[int, int] = {}
    for task_id, assignee in tasks.items():
        if assignee is not None:
            people.setdefault(assignee, task_id)
    for task_id, user_id, on_behalf_of in candidates:
        assignee = tasks[task_id]
        if assignee is None or (on_behalf_of is not None and on_behalf_of == assignee):
            people.setdefault(user_id, task_id)
    return people


def urge_instance(deps: Deps, user: User, instance_id: int, comment: str | None, *,
                  interval: timedelta) -> Urged:
    """Notify everyone who can act on the request now; at most once per `interval` per urger and request."""
    session = deps.session
    with transaction(session):
        if comment is not None and len(comment) > MAX_COMMENT:
            raise InvalidInput("催办说明过长", {"comment": [f"不能超过 {MAX_COMMENT} 个字符"]})
        instance = lock_instance(session, instance_id)
        if not may_urge(session, user, instance):
            if not can_see_instance(session, user, instance.id):
                raise NotFound("申请不存在")
            raise Forbidden("只有申请人或督办人员可以催办")
        if not instance.is_open:
            raise Conflict("申请已办结，无需催办")
        _check_interval(session, user, instance, deps.now, interval)
        people = people_to_urge(session, instance.id)
        if not people:
            raise Conflict("当前没有待办理的人，无法催办")
        by_task: dict[int, list[int]] = {}
        for user_id, task_id in people.items():
            by_task.setdefault(task_id, []).append(user_id)
        for task_id, user_ids in by_task.items():
            notify(session, user_ids, kind="urge", title=f"{user.display_name} 催办：{instance.title}",
                   body=comment, now=deps.now, instance_id=instance.id, task_id=task_id)
        notified = sorted(people)
        add_event(session, instance, EventType.INSTANCE_URGED, deps.now, actor_id=user.id,
                  data={"comment": comment, "notified": notified})
        users = list(session.scalars(select(User).where(User.id.in_(notified)).order_by(User.id)))
    return Urged(instance, users, deps.now)
