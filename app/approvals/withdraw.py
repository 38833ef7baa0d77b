"""撤回 withdraw: the applicant takes back a request nobody has acted on yet, or one an approver sent
back to them (退回后放弃); an approver takes back their approval while the next step is still untouched.

"Acted on" means a person did something with it: completed, claimed, returned, transferred,
delegated, added or removed a signer, copied it on, took back an approval. What the system did on its
own (opening tasks, service steps) does not count.
"""
from sqlalchemy import exists, select
from sqlalchemy.orm import undefer

from app.approvals.access import ensure_visible, lock_task
from app.approvals.deciding import load_run
from app.approvals.deps import Deps, transaction
from app.approvals.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.approvals.steps import MAX_COMMENT, add_event, is_application_step, save_step
from app.inbox.visibility import can_see_instance
from app.models import (
    Decision,
    EventType,
    HumanTask,
    InstanceEvent,
    InstanceStatus,
    ProcessInstance,
    TaskKind,
    TaskState,
    User,
)
from app.processes.forms import RESERVED_FIELDS

ACTS = (EventType.TASK_COMPLETED, EventType.TASK_CLAIMED, EventType.TASK_RETURNED, EventType.TASK_TRANSFERRED,
        EventType.TASK_DELEGATED, EventType.DELEGATE_ANSWERED, EventType.SIGNER_ADDED, EventType.SIGNER_REMOVED,
        EventType.STEP_DECIDED, EventType.APPROVAL_WITHDRAWN, EventType.CC_SENT)


def _acted_on_by_others(session, instance: ProcessInstance, user_id: int, after_seq: int = 0) -> bool:
    return session.scalar(select(exists().where(
        InstanceEvent.instance_id == instance.id, InstanceEvent.seq > after_seq, InstanceEvent.type.in_(ACTS),
        InstanceEvent.actor_id.is_not(None), InstanceEvent.actor_id != user_id))) is True


def _back_with_applicant(session, instance: ProcessInstance, deployed) -> bool:
    """The request waits at the applicant's own step (sent back to them): they may abandon it."""
    ready = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                    HumanTask.state == TaskState.READY)).all()
    return bool(ready) and all(is_application_step(deployed, t.bpmn_process_id, t.bpmn_id) for t in ready)


def _check_comment(comment: str | None) -> None:
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidInput("说明过长", {"comment": [f"不能超过 {MAX_COMMENT} 个字符"]})


def withdraw_instance(deps: Deps, user: User, instance_id: int, comment: str | None = None) -> ProcessInstance:
    """The applicant withdraws the whole request; it ends as withdrawn and releases what it reserved."""
    _check_comment(comment)
    session = deps.session
    with transaction(session):
        instance = session.scalar(select(ProcessInstance).options(undefer(ProcessInstance.state))
                                  .where(ProcessInstance.id == instance_id).with_for_update()
                                  .execution_options(populate_existing=True))
        if instance is None or not can_see_instance(session, user, instance_id):
            raise NotFound("申请不存在")
        if instance.initiator_id != user.id:
            raise Forbidden("只有申请人可以撤回申请")
        if instance.status != InstanceStatus.RUNNING:
            raise Conflict("申请已结束，不能撤回")
        deployed, run = load_run(deps, instance, user.id)
        if _acted_on_by_others(session, instance, user.id) and not _back_with_applicant(session, instance, deployed):
            raise Conflict("已有审批人处理，不能撤回；可请审批人退回")
        before = run.ready_task_ids()
        run.cancel()
        save_step(session, instance, deployed, run, before=before, now=deps.now, actor_id=user.id, hooks=deps.hooks,
                  cancelled_as=InstanceStatus.WITHDRAWN, closing_note={"comment": comment})
    return instance


def withdraw_approval(deps: Deps, user: User, task_id: int, comment: str | None = None):
    """An approver takes back their approval: the step is theirs again, what came after is cancelled."""
    _check_comment(comment)
    session = deps.session
    with transaction(session):
        locked = lock_task(session, task_id, user.id, with_state=True)
        ensure_visible(session, user, locked)
        task, instance = locked.task, locked.instance
        if task.completed_by_id != user.id or task.kind != TaskKind.STEP or \
                task.decision not in (Decision.APPROVE, Decision.SUBMIT):
            raise Forbidden("只能撤回自己同意过的审批")
        if instance.status != InstanceStatus.RUNNING:
            raise Conflict("申请已结束，不能撤回")
        deployed, run = load_run(deps, instance, user.id)
        if is_application_step(deployed, task.bpmn_process_id, task.bpmn_id):
            raise Conflict("申请人请使用“撤回申请”")
        done = session.scalar(select(InstanceEvent.seq).where(
            InstanceEvent.instance_id == instance.id, InstanceEvent.task_id == task.id,
            InstanceEvent.type == EventType.TASK_COMPLETED).order_by(InstanceEvent.seq.desc()).limit(1))
        if done is None or _acted_on_by_others(session, instance, user.id, after_seq=done) or \
                _acted_since(session, instance, user.id, done):
            raise Conflict("下一环节已有人处理，不能撤回")
        data = {k: v for k, v in run.task_data(task.spiff_task_id).items() if k not in RESERVED_FIELDS}
        before = run.ready_task_ids()
        removed = run.reset_to(task.spiff_task_id, data)
        add_event(session, instance, EventType.APPROVAL_WITHDRAWN, deps.now, actor_id=user.id, task=task,
                  data={"bpmn_id": task.bpmn_id, "comment": comment})
        opened = save_step(session, instance, deployed, run, before=before, now=deps.now, actor_id=user.id,
                           hooks=deps.hooks, assign={task.spiff_task_id: user.id})
        reopened = next(t for t in opened if t.spiff_task_id == task.spiff_task_id)
        reopened.note = "已撤回，重新办理"
        deps.hooks.rewound(session, instance, removed, deps.now)
    return reopened


def _acted_since(session, instance: ProcessInstance, user_id: int, seq: int) -> bool:
    """The user themself did something later on (completed a later step): taking back is no longer simple."""
    return session.scalar(select(exists().where(
        InstanceEvent.instance_id == instance.id, InstanceEvent.seq > seq, InstanceEvent.type.in_(ACTS),
        InstanceEvent.actor_id == user_id))) is True
