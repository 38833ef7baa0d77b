"""转办 transfer: hand a task to someone else for good.

The new owner must be able to hold it: a holder of the task's role for this request (at its org or
above), unless the process widens that (process property transfer_scope=township: anyone in the
township). The task's approver may transfer it; so may a supervisor or admin over the request, which
is how a task nobody could take (empty approver) gets an owner.
"""
from sqlalchemy import delete, exists, select

from app.approvals.access import ensure_may_act, ensure_visible, lock_task
from app.approvals.deps import Deps, transaction
from app.approvals.errors import Conflict, InvalidInput
from app.approvals.notices import notify
from app.approvals.steps import MAX_COMMENT, add_event, is_application_step
from app.approvals.targets import pick_users
from app.inbox.visibility import may_reassign
from app.models import EventType, HumanTask, Org, RoleGrant, TaskCandidate, TaskKind, TaskState, User


def _holds_role_for(session, user: User, role: str, org_id: int) -> bool:
    """The user holds `role` at the request's org or above it: someone who could have been given the task."""
    org_path = select(Org.path).where(Org.id == org_id).scalar_subquery()
    return session.scalar(select(exists().where(
        RoleGrant.user_id == user.id, RoleGrant.role == role, RoleGrant.org_id == Org.id,
        org_path.like(Org.path + "%")))) is True


def transfer_task(deps: Deps, user: User, task_id: int, username: str, comment: str | None = None) -> HumanTask:
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidInput("说明过长", {"comment": [f"不能超过 {MAX_COMMENT} 个字符"]})
    session = deps.session
    with transaction(session):
        locked = lock_task(session, task_id, user.id)
        task, instance = locked.task, locked.instance
        if may_reassign(session, user, instance.org_id):
            ensure_visible(session, user, locked)
            if task.state != TaskState.READY or task.waiting_for:
                raise Conflict("该任务当前不能转办")
        else:
            ensure_may_act(session, user, locked)
        if task.kind not in (TaskKind.STEP, TaskKind.COUNTERSIGN) or task.multi:
            raise Conflict("只能转办审批环节或多人审批中的本人任务")
        deployed = deps.catalog.get(session, instance.definition_id, instance.called_definition_ids)
        if is_application_step(deployed, task.bpmn_process_id, task.bpmn_id):
            raise Conflict("申请人本人的环节不能转办：请修改后提交，或撤回申请")
        properties = deployed.bundle.model.properties
        [target] = pick_users(session, instance, [username], field="to", acting_user=user, bpmn_id=task.bpmn_id,
                              allow_same_approver=properties.get("allow_same_approver") == "true", at_most=1)
        if properties.get("transfer_scope") != "township" and task.role and \
                not _holds_role_for(session, target, task.role, instance.org_id):
            raise InvalidInput("不能转办给此人", {"to": [f"{target.username}：没有本申请所在单位的“{task.role}”角色"]})
        previous = task.assignee_id
        session.execute(delete(TaskCandidate).where(TaskCandidate.task_id == task.id))
        session.add(TaskCandidate(task_id=task.id, user_id=target.id))
        task.assignee_id, task.claimed_at, task.fallback = target.id, None, None
        task.note = f"{user.display_name}转办：{comment}" if comment else f"由{user.display_name}转办"
        add_event(session, instance, EventType.TASK_TRANSFERRED, deps.now, actor_id=user.id, task=task,
                  data={"from": previous, "to": target.username, "comment": comment})
        notify(session, [target.id], kind="task", now=deps.now, instance_id=instance.id, task_id=task.id,
               title=f"转办给你：{task.name}", body=comment or instance.title)
    return task
