"""抄送: copy a request to colleagues so they can follow it (and read it), without giving them a step.

Two ways in: an approver copies from their task (`cc_from_task`), or the diagram has a service step
`cc.send` that copies to the holders of some roles (`cc_send`). Either way one CarbonCopy row per
recipient (their 抄送 inbox, and read access to the request), a notification, and a CC_SENT event.
Recipients stay inside the request's township: a copy never carries a request across the line.
"""
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.approvals.access import Locked, lock_task
from app.approvals.deps import Deps, StepContext, transaction
from app.approvals.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.approvals.notices import notify
from app.approvals.steps import MAX_COMMENT, add_event
from app.engine import ServiceCall, ServiceError
from app.inbox.assignment import resolve_candidates
from app.inbox.visibility import can_see_instance
from app.models import (
    CarbonCopy,
    EventType,
    Fallback,
    HumanTask,
    InstanceStatus,
    Org,
    OrgKind,
    ProcessInstance,
    RoleGrant,
    TaskState,
    User,
    role_from_label,
)

MAX_CC = 20  # recipients per copy


@dataclass(frozen=True)
class Copied:
    instance: ProcessInstance
    task: HumanTask | None
    copied: list[User]  # new recipients, in the order asked
    already: list[str]  # usernames that had a copy of this request already


def township_path(session: Session, org_id: int) -> str:
    """The path of the org's township (its subtree is where copies may go); the org's own path above one."""
    org = session.get(Org, org_id)
    township = session.scalar(
        select(Org.path).where(Org.id.in_(org.ancestor_ids()), Org.kind == OrgKind.TOWNSHIP)
    )
    return township or org.path


def already_copied(session: Session, instance_id: int, user_ids) -> set[int]:
    return set(session.scalars(select(CarbonCopy.user_id).where(CarbonCopy.instance_id == instance_id,
                                                                CarbonCopy.user_id.in_(list(user_ids)))))


STATE_MESSAGES = {TaskState.COMPLETED: "该任务已办理", TaskState.PENDING: "还没有轮到这一步",
                  TaskState.CANCELLED: "该任务已取消"}


def _ensure_may_copy(session: Session, user: User, locked: Locked) -> None:
    """Whoever may act on the task now, or has completed it (even after the request ended).

    A step waiting for its sub-tasks (加签, 委派) may still be copied by its assignee.
    """
    task, instance = locked.task, locked.instance
    if task.completed_by_id == user.id and task.state == TaskState.COMPLETED:
        return
    if not (locked.is_candidate or task.assignee_id == user.id):
        if not can_see_instance(session, user, instance.id):
            raise NotFound("任务不存在")
        raise Forbidden("只有本环节的办理人可以抄送")
    if instance.status != InstanceStatus.RUNNING:
        raise Conflict("流程已结束，不能再从此环节抄送")
    if task.state != TaskState.READY:
        raise Conflict(STATE_MESSAGES.get(task.state, "该任务不能办理"))
    # A proxy's candidate row stands in for the assignee (代理); anyone else meets a claimed task.
    standing_in = locked.is_candidate and locked.candidate_for == task.assignee_id
    if task.assignee_id not in (None, user.id) and not standing_in:
        raise Conflict("该任务已被他人认领")


def _clean_usernames(usernames, user: User) -> list[str]:
    if not isinstance(usernames, list) or not all(isinstance(u, str) for u in usernames):
        raise InvalidInput("抄送对象有误", {"to": ["须为用户名列表"]})
    names = list(dict.fromkeys(u.strip() for u in usernames if u.strip()))
    if not names:
        raise InvalidInput("请选择抄送对象", {"to": ["至少选择一人"]})
    if len(names) > MAX_CC:
        raise InvalidInput("抄送对象过多", {"to": [f"一次最多抄送 {MAX_CC} 人"]})
    if user.username in names:
        raise InvalidInput("不能抄送给自己", {"to": ["不能抄送给自己"]})
    return names


def _recipients(session: Session, instance: ProcessInstance, names: list[str]) -> list[User]:
    """Active users who hold a role somewhere in the instance's township; InvalidInput names the rest."""
    prefix = township_path(session, instance.org_id)
    in_township = exists().where(RoleGrant.user_id == User.id, RoleGrant.org_id == Org.id,
                                 Org.path.like(prefix + "%"))
    found = {u.username: u for u in session.scalars(
        select(User).where(User.username.in_(names), User.active.is_(True), in_township))}
    missing = [n for n in names if n not in found]
    if missing:
        raise InvalidInput("抄送对象有误", {"to": [f"{n}：用户不存在、已停用或不在本镇" for n in missing]})
    return [found[n] for n in names]


def _write_copies(session: Session, instance: ProcessInstance, users: list[User], *, now, sent_by: User | None,
                  task: HumanTask | None, comment: str | None) -> None:
    session.add_all(CarbonCopy(instance_id=instance.id, user_id=u.id, sent_by_id=sent_by.id if sent_by else None,
                               task_id=task.id if task else None, comment=comment, created_at=now) for u in users)
    title = f"{sent_by.display_name} 抄送：{instance.title}" if sent_by else f"抄送：{instance.title}"
    notify(session, [u.id for u in users], kind="cc", title=title, body=comment, now=now,
           instance_id=instance.id, task_id=task.id if task else None)
    add_event(session, instance, EventType.CC_SENT, now, actor_id=sent_by.id if sent_by else None, task=task,
              data={"to": [u.username for u in users], "comment": comment})


def cc_from_task(deps: Deps, user: User, task_id: int, usernames, comment: str | None) -> Copied:
    """Copy the task's request to colleagues in its township; those copied before are left out."""
    session = deps.session
    with transaction(session):
        names = _clean_usernames(usernames, user)
        if comment is not None and len(comment) > MAX_COMMENT:
            raise InvalidInput("抄送说明过长", {"comment": [f"不能超过 {MAX_COMMENT} 个字符"]})
        locked = lock_task(session, task_id, user.id)
        _ensure_may_copy(session, user, locked)
        instance, task = locked.instance, locked.task
        users = _recipients(session, instance, names)
        before = already_copied(session, instance.id, [u.id for u in users])
        new = [u for u in users if u.id not in before]
        if not new:
            raise InvalidInput("这些人都已收到过本申请的抄送", {"to": ["都已抄送过"]})
        _write_copies(session, instance, new, now=deps.now, sent_by=user, task=task, comment=comment)
    return Copied(instance, task, new, [u.username for u in users if u.id in before])


def mark_copy_read(deps: Deps, user: User, copy_id: int) -> CarbonCopy:
    """已阅: mark one of the user's own copies read; reading it again changes nothing."""
    session = deps.session
    with transaction(session):
        copy = session.scalar(select(CarbonCopy).where(CarbonCopy.id == copy_id, CarbonCopy.user_id == user.id)
                              .with_for_update())
        if copy is None:
            raise NotFound("抄送不存在")
        if copy.read_at is None:
            copy.read_at = deps.now
    return copy


def _role_list(roles) -> list[str]:
    labels = roles.split(",") if isinstance(roles, str) else None
    if not labels or not all(isinstance(r, str) for r in labels):
        raise ServiceError("cc_bad_roles", "cc.send 的 roles 须为逗号分隔的角色代码")
    found = [role_from_label(label) for label in labels]
    unknown = [label.strip() for label, role in zip(labels, found, strict=True) if role is None]
    if unknown:
        raise ServiceError("cc_bad_roles", f"cc.send：不认识的角色 {'、'.join(unknown)}")
    return list(dict.fromkeys(found))


def cc_send(call: ServiceCall, roles: str) -> dict:
    """Service operator `cc.send`: copy the request to the nearest holders of each role in `roles`.

    Runs in the step's transaction (the instance is locked by the use case that reached it). People
    already copied on this request are not copied again (a loop passing here twice copies once).
    """
    context: StepContext = call.context
    if context is None:
        raise ServiceError("cc_no_context", "cc.send 只能在审批步骤中运行")
    session = context.session
    instance = session.get(ProcessInstance, context.instance_id)
    user_ids: list[int] = []
    for role in _role_list(roles):
        found = resolve_candidates(session, role, instance.org_id)
        # A copy goes to the role's holders only, never to whoever an empty approver falls back to.
        if found.fallback not in (Fallback.ADMIN, Fallback.NONE):
            user_ids += found.user_ids
    user_ids = list(dict.fromkeys(user_ids))
    before = already_copied(session, instance.id, user_ids) if user_ids else set()
    new = [u for u in user_ids if u not in before]
    users = list(session.scalars(select(User).where(User.id.in_(new)).order_by(User.id))) if new else []
    if users:
        _write_copies(session, instance, users, now=context.now, sent_by=None, task=None, comment=None)
    return {"copied": [u.username for u in users]}
