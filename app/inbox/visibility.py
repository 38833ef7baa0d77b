"""What a user may see. Anything outside it answers 404, so ids reveal nothing.

A user sees an instance they started, one they have or had a task on, one copied to them (抄送), and
every instance under an org where they hold an oversight role (unit head, finance head, supervisor,
auditor, admin). Supervisors and admins over a request's org may also reassign its tasks (转办).
"""
from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from app.models import OVERSIGHT_ROLES, CarbonCopy, HumanTask, Org, ProcessInstance, Role, TaskCandidate, User

# Who may reassign any open task of a request under their org (how a task nobody could take gets an owner).
REASSIGNERS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def overseen_org_ids(session: Session, user: User) -> list[int]:
    """Every org in the subtree of the orgs where the user holds an oversight role."""
    paths = {g.org.path for g in user.grants if g.role in OVERSIGHT_ROLES}
    if not paths:
        return []
    return list(session.scalars(select(Org.id).where(or_(*(Org.path.like(p + "%") for p in paths)))))


def takes_part(user_id: int) -> ColumnElement[bool]:
    """SQL: the user has, had or may take a task of the instance."""
    return exists().where(
        HumanTask.instance_id == ProcessInstance.id,
        or_(
            HumanTask.assignee_id == user_id,
            HumanTask.completed_by_id == user_id,
            exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.user_id == user_id),
        ),
    )


def copied_to(user_id: int) -> ColumnElement[bool]:
    """SQL: the instance was copied to the user (抄送)."""
    return exists().where(CarbonCopy.instance_id == ProcessInstance.id, CarbonCopy.user_id == user_id)


def visible_instances(session: Session, user: User) -> ColumnElement[bool]:
    """SQL condition on ProcessInstance: the user may see it."""
    conditions = [ProcessInstance.initiator_id == user.id, takes_part(user.id), copied_to(user.id)]
    org_ids = overseen_org_ids(session, user)
    if org_ids:
        conditions.append(ProcessInstance.org_id.in_(org_ids))
    return or_(*conditions)


def can_see_instance(session: Session, user: User, instance_id: int) -> bool:
    return bool(session.scalar(
        select(exists().where(ProcessInstance.id == instance_id, visible_instances(session, user)))
    ))


def may_reassign(session: Session, user: User, org_id: int) -> bool:
    """The user is a supervisor or admin at the org or above it: they may reassign its requests' tasks."""
    path = session.scalar(select(Org.path).where(Org.id == org_id))
    return path is not None and any(g.role in REASSIGNERS and path.startswith(g.org.path) for g in user.grants)
