"""Who an approver may hand work to: a signer, a delegate, a transfer's new owner.

Someone active, in the request's township (or above it), not the approver themselves, never the
applicant, and (C17) not someone who decided another step of the request: a delegate's opinion weighs
on the step like a signature, so it is refused alike. Only a process with allow_same_approver=true lifts
that last rule. Whoever is refused for being unknown, disabled or elsewhere reads one message.
"""
from sqlalchemy import exists, literal, or_, select
from sqlalchemy.orm import Session

from app.approvals.errors import InvalidInput
from app.models import Decision, HumanTask, Org, OrgKind, ProcessInstance, RoleGrant, TaskKind, TaskState, User


def township_path(session: Session, instance: ProcessInstance) -> str:
    """The path of the township the request belongs to (or of its own org when it is above one)."""
    org = session.get(Org, instance.org_id)
    ancestors = [int(x) for x in org.path.strip("/").split("/")]
    township = session.scalar(select(Org).where(Org.id.in_(ancestors), Org.kind == OrgKind.TOWNSHIP))
    return (township or org).path


def in_scope(session: Session, instance: ProcessInstance):
    """SQL on User: holds some role inside the request's township, or at an org above it (the county)."""
    path = township_path(session, instance)
    return exists().where(RoleGrant.user_id == User.id, RoleGrant.org_id == Org.id,
                          or_(Org.path.like(path + "%"), literal(path).like(Org.path + "%")))


def deciders_of(session: Session, instance: ProcessInstance, bpmn_id: str) -> set[int]:
    """Who decided another step of the request (C17: they may not take part in this one)."""
    return set(session.scalars(select(HumanTask.completed_by_id).where(
        HumanTask.instance_id == instance.id, HumanTask.state == TaskState.COMPLETED, HumanTask.bpmn_id != bpmn_id,
        HumanTask.kind != TaskKind.DELEGATE, HumanTask.decision.in_([Decision.APPROVE, Decision.REJECT]))))


def why_not(user: User, acting_user: User, instance: ProcessInstance, deciders: set[int]) -> str | None:
    """Why an active person of the township may not be handed this work, or None (also the pages' picker)."""
    if user.id == acting_user.id:
        return "不能指定自己"
    if user.id == instance.initiator_id:
        return "是申请人，不能参与审批（不相容岗位分离）"
    if user.id in deciders:
        return "已审批过本申请的其他环节（不相容岗位分离）"
    return None


def pick_users(session: Session, instance: ProcessInstance, usernames, *, field: str, acting_user: User,
               allow_same_approver: bool, bpmn_id: str, at_most: int = 10) -> list[User]:
    """The users named, checked one by one; InvalidInput listing every problem under `field`."""
    names = list(dict.fromkeys(n.strip() for n in usernames or [] if n and n.strip()))
    if not names:
        raise InvalidInput("请指定人员", {field: ["至少指定一人"]})
    if len(names) > at_most:
        raise InvalidInput("人数过多", {field: [f"最多 {at_most} 人"]})
    found = {u.username: u for u in session.scalars(
        select(User).where(User.username.in_(names), User.active.is_(True), in_scope(session, instance)))}
    deciders = set() if allow_same_approver else deciders_of(session, instance, bpmn_id)
    problems = []
    for name in names:
        user = found.get(name)
        if user is None:
            problems.append(f"{name}：不存在、已停用，或不在本申请所属乡镇")
        elif reason := why_not(user, acting_user, instance, deciders):
            problems.append(f"{name}：{reason}")
    if problems:
        raise InvalidInput("人员不符合要求", {field: problems})
    return [found[n] for n in names]
