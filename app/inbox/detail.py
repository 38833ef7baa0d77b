"""One instance or one task as its viewer may see it: 404 for anything outside their scope."""
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, joinedload, undefer

from app.approvals.errors import NotFound
from app.engine import Engine, EngineError
from app.inbox.present import event_dict, instance_summary, task_brief
from app.inbox.queries import open_tasks_of
from app.inbox.visibility import can_see_instance, visible_instances
from app.models import (
    HumanTask,
    InstanceEvent,
    InstanceStatus,
    ProcessInstance,
    TaskCandidate,
    TaskState,
    User,
)
from app.processes.definitions import DefinitionCatalog
from app.processes.forms import RESERVED_FIELDS


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


def _shown_data(data: dict) -> dict:
    """Process data without engine bookkeeping and the previous step's decision and comment."""
    return {k: v for k, v in data.items() if not k.startswith(("spiff__", "_")) and k not in RESERVED_FIELDS}


def task_detail(session: Session, engine: Engine, catalog: DefinitionCatalog, user: User, task_id: int) -> dict:
    row = session.execute(
        select(HumanTask, exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.user_id == user.id))
        .options(joinedload(HumanTask.assignee), joinedload(HumanTask.completed_by))
        .where(HumanTask.id == task_id)
    ).one_or_none()
    if row is None:
        raise NotFound("任务不存在")
    task, is_candidate = row
    related = is_candidate or user.id in (task.assignee_id, task.completed_by_id)
    if not related and not can_see_instance(session, user, task.instance_id):
        raise NotFound("任务不存在")
    instance = session.scalar(select(ProcessInstance).options(
        undefer(ProcessInstance.state), joinedload(ProcessInstance.org), joinedload(ProcessInstance.initiator),
        joinedload(ProcessInstance.definition)).where(ProcessInstance.id == task.instance_id))
    deployed = catalog.get(session, instance.definition_id, instance.called_definition_ids)
    try:
        data = engine.load(deployed.bundle, instance.state, instance_key=str(instance.id)).task_data(task.spiff_task_id)
    except EngineError:
        data = {}
    open_ = task.state == TaskState.READY and instance.status == InstanceStatus.RUNNING
    model = deployed.bundle.model
    return {
        **task_brief(task),
        "instance": instance_summary(instance),
        "can_act": open_ and (task.assignee_id == user.id or (task.assignee_id is None and is_candidate)),
        "can_claim": open_ and task.assignee_id is None and is_candidate,
        "can_unclaim": open_ and task.assignee_id == user.id and is_candidate,
        "is_application": task.bpmn_process_id == deployed.process_id and task.bpmn_id == model.application_task_id,
        "form": deployed.form(task.bpmn_process_id, task.bpmn_id),
        "data": _shown_data(data),
    }


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
