"""After the engine moved: bring inbox rows, history and saved state in line with it.

Shared by every use case that runs the engine. The engine's READY user tasks are the truth; a task
that appeared gets an inbox row with its candidates, one that vanished (a cancelled branch, a
cancelled instance) is closed, and the run is saved once.
"""
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.engine import ReadyTask, Run
from app.inbox.assignment import resolve_candidates
from app.models import (
    EventType,
    HumanTask,
    InstanceEvent,
    InstanceStatus,
    ProcessInstance,
    TaskCandidate,
    TaskState,
    role_from_label,
)
from app.processes.definitions import Deployed

MAX_COMMENT = 2000

OUTCOME_STATUS = {
    "approved": (InstanceStatus.APPROVED, EventType.INSTANCE_APPROVED),
    "rejected": (InstanceStatus.REJECTED, EventType.INSTANCE_REJECTED),
    "cancelled": (InstanceStatus.REJECTED, EventType.INSTANCE_REJECTED),
}


def add_event(session: Session, instance: ProcessInstance, type_: EventType, now: datetime, *,
              actor_id: int | None = None, task: HumanTask | None = None, data: dict | None = None,
              on_behalf_of_id: int | None = None) -> InstanceEvent:
    """Append one history row; `seq` numbers an instance's events without a gap."""
    instance.event_seq += 1
    event = InstanceEvent(instance_id=instance.id, seq=instance.event_seq, type=type_, at=now,
                          actor_id=actor_id, on_behalf_of_id=on_behalf_of_id, data=data or {})
    event.task = task
    session.add(event)
    return event


def is_application_step(deployed: Deployed, process_id: str, bpmn_id: str) -> bool:
    """The applicant's own step (申请): the user task the main process's start event leads to."""
    return process_id == deployed.process_id and bpmn_id == deployed.bundle.model.application_task_id


def _open_task(session: Session, instance: ProcessInstance, deployed: Deployed, ready: ReadyTask,
               now: datetime) -> HumanTask:
    role = role_from_label(ready.lane or "")
    task = HumanTask(
        instance_id=instance.id, spiff_task_id=ready.spiff_id, bpmn_process_id=ready.process_id,
        bpmn_id=ready.bpmn_id, name=ready.name, role=role, lane=ready.lane, state=TaskState.READY,
        created_at=now, due_at=ready.due_at,
    )
    if is_application_step(deployed, ready.process_id, ready.bpmn_id):
        # Back on the applicant's desk (a return, a resubmission): it is theirs, not the role's.
        task.assignee_id, task.scope_org_id, candidates = instance.initiator_id, instance.org_id, ()
    else:
        with session.no_autoflush:  # a read: flushing half a step here would cost extra statements
            found = resolve_candidates(session, role, instance.org_id) if role else None
        candidates = found.user_ids if found else ()
        task.scope_org_id = found.scope_org_id if found else None
        if len(candidates) == 1:
            task.assignee_id = candidates[0]
    session.add(task)
    task.candidates = [TaskCandidate(user_id=u) for u in candidates]
    add_event(session, instance, EventType.TASK_CREATED, now, task=task,
              data={"bpmn_id": ready.bpmn_id, "name": ready.name, "role": role, "candidates": list(candidates),
                    **({"no_candidates": True} if not candidates and not task.assignee_id else {})})
    return task


def _close_vanished(session: Session, instance: ProcessInstance, spiff_ids: set[str], now: datetime) -> None:
    if not spiff_ids:
        return
    closed = session.execute(
        update(HumanTask)
        .where(HumanTask.instance_id == instance.id, HumanTask.spiff_task_id.in_(spiff_ids),
               HumanTask.state == TaskState.READY)
        .values(state=TaskState.CANCELLED, completed_at=now)
        .returning(HumanTask.id, HumanTask.bpmn_id),
        execution_options={"synchronize_session": False},
    ).all()
    for task_id, bpmn_id in closed:
        add_event(session, instance, EventType.TASK_CANCELLED, now, data={"task_id": task_id, "bpmn_id": bpmn_id})


def save_step(session: Session, instance: ProcessInstance, deployed: Deployed, run: Run, *,
              before: set[str], now: datetime, actor_id: int | None) -> list[HumanTask]:
    """Record what the engine did since `before` (the READY ids when the action began); return new tasks."""
    for record in run.service_records:
        add_event(session, instance, EventType.SERVICE_FAILED if record.error_code else EventType.SERVICE_CALLED,
                  now, actor_id=actor_id,
                  data={"bpmn_id": record.bpmn_id, "operator": record.operator,
                        **({"error_code": record.error_code, "message": record.message} if record.error_code else {})})
    ready = run.ready_tasks() if not run.finished else []
    after = {r.spiff_id for r in ready}
    _close_vanished(session, instance, before - after, now)
    opened = [_open_task(session, instance, deployed, r, now) for r in ready if r.spiff_id not in before]
    if run.finished:
        status, event = OUTCOME_STATUS[run.outcome()]
        instance.status, instance.completed_at = status, now
        add_event(session, instance, event, now, actor_id=actor_id)
    instance.state = run.dumps()
    instance.updated_at = now
    return opened
