"""One instance or one task as its viewer may see it: 404 for anything outside their scope."""
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, joinedload, undefer

from app.approvals.errors import NotFound
from app.engine import Engine, EngineError
from app.inbox.present import event_dict, instance_summary, task_brief, user_ref
from app.inbox.queries import open_tasks_of
from app.inbox.visibility import can_see_instance, may_reassign, visible_instances
from app.models import (
    ControlResult,
    HumanTask,
    InstanceEvent,
    InstanceStatus,
    ProcessInstance,
    TaskCandidate,
    TaskKind,
    TaskState,
    User,
)
from app.processes.definitions import DefinitionCatalog
from app.processes.forms import RESERVED_FIELDS, hidden_fields


def _visible_instance(session: Session, user: User, instance_id: int, *, with_state: bool = False):
    query = (select(ProcessInstance)
             .options(joinedload(ProcessInstance.org), joinedload(ProcessInstance.initiator),
                      joinedload(ProcessInstance.definition))
             .where(ProcessInstance.id == instance_id, visible_instances(session, user)))
    if with_state:
        query = query.options(undefer(ProcessInstance.state))
    instance = session.scalar(query)
    if instance is None:
        raise NotFound("申请不存在")
    return instance


def instance_detail(session: Session, user: User, instance_id: int) -> dict:
    instance = _visible_instance(session, user, instance_id)
    events = session.scalars(
        select(InstanceEvent).options(joinedload(InstanceEvent.actor), joinedload(InstanceEvent.on_behalf_of))
        .where(InstanceEvent.instance_id == instance.id).order_by(InstanceEvent.seq)
    )
    current = open_tasks_of(session, [instance.id])[instance.id]
    return {**instance_summary(instance), "current_tasks": [task_brief(t) for t in current],
            "history": [event_dict(e) for e in events]}


def _shown_data(data: dict, hidden: set[str] = frozenset()) -> dict:
    """Process data without engine bookkeeping, the previous step's decision and comment, and what this
    step's form hides from its viewers."""
    return {k: v for k, v in data.items()
            if not k.startswith(("spiff__", "_")) and k not in RESERVED_FIELDS and k not in hidden}


def task_detail(session: Session, engine: Engine, catalog: DefinitionCatalog, user: User, task_id: int) -> dict:
    row = session.execute(
        select(HumanTask, exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.user_id == user.id))
        .options(joinedload(HumanTask.assignee), joinedload(HumanTask.completed_by), joinedload(HumanTask.added_by))
        .where(HumanTask.id == task_id)
    ).one_or_none()
    if row is None:
        raise NotFound("任务不存在")
    task, is_candidate = row
    # A proxy stands in for the assignee (代理): the candidate row names whom they act for.
    acting_for = session.scalar(select(TaskCandidate.on_behalf_of_id).where(
        TaskCandidate.task_id == task.id, TaskCandidate.user_id == user.id)) if is_candidate else None
    related = is_candidate or user.id in (task.assignee_id, task.completed_by_id)
    if not related and not can_see_instance(session, user, task.instance_id):
        raise NotFound("任务不存在")
    instance = session.scalar(select(ProcessInstance).options(
        undefer(ProcessInstance.state), joinedload(ProcessInstance.org), joinedload(ProcessInstance.initiator),
        joinedload(ProcessInstance.definition)).where(ProcessInstance.id == task.instance_id))
    deployed = catalog.get(session, instance.definition_id, instance.called_definition_ids)
    step = task if task.parent_id is None else session.get(HumanTask, task.parent_id)
    try:
        run = engine.load(deployed.bundle, instance.state, instance_key=str(instance.id))
        data = run.task_data(step.spiff_task_id)
    except EngineError:
        data = {}
    open_ = task.state == TaskState.READY and instance.status == InstanceStatus.RUNNING and not task.waiting_for
    mine = task.assignee_id == user.id or (is_candidate and task.assignee_id in (None, acting_for))
    application = deployed.is_applicant_step(task.bpmn_process_id, task.bpmn_id)
    form = deployed.form(task.bpmn_process_id, task.bpmn_id) if task.kind in (TaskKind.STEP, TaskKind.COUNTERSIGN) \
        else {"type": "object", "properties": {}}
    plain_step = task.kind == TaskKind.STEP and not task.multi and not application
    # 转办: the task's approver, or a supervisor/admin over the request (the rules of app/approvals/transfer.py).
    transferable = open_ and task.kind in (TaskKind.STEP, TaskKind.COUNTERSIGN) and not task.multi
    return {
        **task_brief(task),
        "instance": instance_summary(instance),
        "can_act": open_ and mine,
        "can_claim": open_ and task.assignee_id is None and is_candidate,
        "can_unclaim": open_ and task.assignee_id == user.id and is_candidate,
        "can_return": open_ and mine and task.kind in (TaskKind.STEP, TaskKind.COUNTERSIGN) and not application,
        "can_delegate": open_ and mine and plain_step,
        "can_add_signer": open_ and mine and plain_step,
        "can_transfer": transferable and (mine or may_reassign(session, user, instance.org_id)),
        "acting_for": user_ref(session.get(User, acting_for)) if acting_for else None,
        "is_application": application,
        "form": form,
        "data": _shown_data(data, hidden_fields(form)),
        "sub_tasks": [task_brief(t) for t in _sub_tasks(session, task)],
        "controls": control_results(session, instance.id),
    }


def control_results(session: Session, instance_id: int) -> list[dict]:
    """What the control rules found on the request: for each rule, the verdicts of the latest check that ran it."""
    rows = session.scalars(select(ControlResult).where(ControlResult.instance_id == instance_id)
                           .order_by(ControlResult.checked_at, ControlResult.id)).all()
    last_key = {row.rule: row.check_key for row in rows}
    latest = sorted((row for row in rows if last_key[row.rule] == row.check_key), key=lambda row: (row.rule, row.id))
    return [{"rule": r.rule, "outcome": r.outcome, "message": r.message, "evidence": r.evidence, "source": r.source,
             "checked_at": r.checked_at} for r in latest]


def _sub_tasks(session: Session, task: HumanTask) -> list[HumanTask]:
    if task.kind != TaskKind.STEP:
        return []
    return list(session.scalars(select(HumanTask).options(joinedload(HumanTask.assignee),
                                                          joinedload(HumanTask.completed_by),
                                                          joinedload(HumanTask.added_by))
                                .where(HumanTask.parent_id == task.id).order_by(HumanTask.seq, HumanTask.id)))


def task_form(session: Session, catalog: DefinitionCatalog, task_id: int) -> dict:
    """The form a task's version declares (to type an HTML form's strings); access is checked by the use case.

    Reads columns only: an instance object loaded here would sit in the session ahead of the use case.
    """
    row = session.execute(
        select(ProcessInstance.definition_id, ProcessInstance.called_definition_ids,
               HumanTask.bpmn_process_id, HumanTask.bpmn_id)
        .join(HumanTask, HumanTask.instance_id == ProcessInstance.id).where(HumanTask.id == task_id)
    ).one_or_none()
    if row is None:
        raise NotFound("任务不存在")
    deployed = catalog.get(session, row.definition_id, row.called_definition_ids)
    return deployed.form(row.bpmn_process_id, row.bpmn_id)
