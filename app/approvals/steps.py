"""After the engine moved: bring inbox rows, history and saved state in line with it.

Shared by every use case that runs the engine. The engine's READY user tasks are the truth; a task
that appeared gets an inbox row (with its members, for a multi-approver step) and its candidates, one
that vanished (a cancelled branch, a return, a cancelled instance) is closed with its sub-tasks, and
the run is saved once.
"""
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.approvals import notices
from app.approvals.hooks import Hooks
from app.deadlines.due import DUE_PROPERTY, due_from_property
from app.engine import ReadyTask, Run
from app.inbox.assignment import Candidates, Exclusion, resolve_candidates
from app.models import (
    EventType,
    Fallback,
    HumanTask,
    InstanceEvent,
    InstanceStatus,
    MultiMode,
    ProcessInstance,
    Role,
    TaskCandidate,
    TaskKind,
    TaskState,
    role_from_label,
)
from app.processes.definitions import Deployed

MAX_COMMENT = 2000
OPEN_STATES = (TaskState.READY, TaskState.PENDING)

OUTCOME_STATUS = {
    "approved": (InstanceStatus.APPROVED, EventType.INSTANCE_APPROVED),
    "rejected": (InstanceStatus.REJECTED, EventType.INSTANCE_REJECTED),
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
    """The applicant's own step: 申请, or one the diagram hands back to them (Deployed.is_applicant_step)."""
    return deployed.is_applicant_step(process_id, bpmn_id)


def separation_of_duties(instance: ProcessInstance, deployed: Deployed, bpmn_id: str,
                         just_decided: tuple[str, int] | None = None) -> Exclusion:
    """C17: the applicant never approves; who decided another step of this request does not decide this one.

    `just_decided` is (step, person) of the decision this very action made, not yet in the database.
    A process may allow one person to decide several steps (process property allow_same_approver=true).
    """
    if deployed.bundle.model.properties.get("allow_same_approver") == "true":
        return Exclusion(frozenset({instance.initiator_id}))
    users = {instance.initiator_id}
    if just_decided is not None and just_decided[0] != bpmn_id:
        users.add(just_decided[1])
    return Exclusion(frozenset(users), deciders_of=(instance.id, bpmn_id))


def _add_candidates(task: HumanTask, found: Candidates, user_ids) -> None:
    rows = [TaskCandidate(user_id=u) for u in user_ids]
    rows += [TaskCandidate(user_id=found.proxies[u], on_behalf_of_id=u) for u in user_ids if u in found.proxies]
    task.candidates = rows
    # One person, nobody standing in for them: the task is theirs without a claim.
    if len(rows) == 1:
        task.assignee_id = rows[0].user_id


def _members(task: HumanTask, mode: str, found: Candidates, now: datetime) -> list[HumanTask]:
    """One sub-task per approver of a multi-approver step; in sequence only the first is open."""
    members = []
    for seq, user_id in enumerate(found.user_ids):
        open_now = mode != MultiMode.SEQUENTIAL or seq == 0
        member = HumanTask(
            instance_id=task.instance_id, kind=TaskKind.COUNTERSIGN, parent=task, seq=seq,
            bpmn_process_id=task.bpmn_process_id, bpmn_id=task.bpmn_id, name=task.name, role=task.role,
            lane=task.lane, scope_org_id=task.scope_org_id, state=TaskState.READY if open_now else TaskState.PENDING,
            created_at=now, due_at=task.due_at, assignee_id=user_id,
        )
        member.candidates = [TaskCandidate(user_id=user_id)] + (
            [TaskCandidate(user_id=found.proxies[user_id], on_behalf_of_id=user_id)]
            if user_id in found.proxies else [])
        members.append(member)
    return members


def _due_at(run: Run, ready: ReadyTask, now: datetime) -> datetime | None:
    """The earlier of the diagram's deadlines: an interrupting timer on the task, its due_working_days.

    The calendar is the step's own (StepContext reads it once per action), not read again per task.
    """
    if DUE_PROPERTY not in ready.properties:
        return ready.due_at
    by_property = due_from_property(ready.properties, run.work_calendar(), now)
    return min(d for d in (ready.due_at, by_property) if d is not None)


def _open_task(session: Session, instance: ProcessInstance, deployed: Deployed, run: Run, ready: ReadyTask,
               now: datetime, assign_to: int | None, just_decided: tuple[str, int] | None) -> HumanTask:
    role = role_from_label(ready.lane or "")
    task = HumanTask(
        instance_id=instance.id, spiff_task_id=ready.spiff_id, bpmn_process_id=ready.process_id,
        bpmn_id=ready.bpmn_id, name=ready.name, role=role, lane=ready.lane, state=TaskState.READY,
        created_at=now, due_at=_due_at(run, ready, now),
    )
    session.add(task)
    if is_application_step(deployed, ready.process_id, ready.bpmn_id) or assign_to is not None:
        # Back on a known desk (a return to the applicant or to who did it before): theirs, not the role's.
        task.assignee_id = assign_to or instance.initiator_id
        task.scope_org_id = instance.org_id
        task.candidates = [TaskCandidate(user_id=task.assignee_id)]
        add_event(session, instance, EventType.TASK_CREATED, now, task=task,
                  data={"bpmn_id": ready.bpmn_id, "name": ready.name, "role": role, "candidates": [task.assignee_id]})
        return task
    with session.no_autoflush:  # a read: flushing half a step here would cost extra statements
        found = resolve_candidates(session, role, instance.org_id, process_id=instance.process_id, now=now,
                                   exclude=separation_of_duties(instance, deployed, ready.bpmn_id, just_decided)) \
            if role else Candidates(None, (), Fallback.NONE)
    task.scope_org_id, task.fallback = found.scope_org_id, found.fallback
    mode = deployed.bundle.models[ready.process_id].multi_steps.get(ready.bpmn_id)
    if mode and found.user_ids:
        task.multi, task.waiting_for = mode, "signers"
        session.add_all(_members(task, mode, found, now))
    else:
        _add_candidates(task, found, found.user_ids)
    add_event(session, instance, EventType.TASK_CREATED, now, task=task,
              data={"bpmn_id": ready.bpmn_id, "name": ready.name, "role": role, "candidates": list(found.user_ids),
                    **({"multi": mode} if mode else {}),
                    **({"proxies": {str(k): v for k, v in found.proxies.items()}} if found.proxies else {})})
    if found.fallback:
        _flag_fallback(session, instance, task, role, found, now)
    return task


def _flag_fallback(session: Session, instance: ProcessInstance, task: HumanTask, role: str | None,
                   found: Candidates, now: datetime) -> None:
    """Empty approver: record it, and when nobody at all can act, tell the supervisors (never auto-approve)."""
    add_event(session, instance, EventType.TASK_FALLBACK, now, task=task,
              data={"reason": found.fallback, "role": role, "to": list(found.user_ids)})
    if found.fallback == Fallback.NONE:
        supervisors = resolve_candidates(session, Role.SUPERVISOR, instance.org_id)
        notices.notify(session, supervisors.user_ids, kind="empty_approver", now=now, instance_id=instance.id,
                       title=f"无人可办理：{instance.title}", body=f"环节“{task.name}”找不到办理人，请转办。")


def close_vanished(session: Session, instance: ProcessInstance, spiff_ids: set[str], now: datetime) -> None:
    """Close the rows of engine tasks that are gone, and every open sub-task under them."""
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
    if closed:
        session.execute(
            update(HumanTask)
            .where(HumanTask.parent_id.in_([task_id for task_id, _ in closed]), HumanTask.state.in_(OPEN_STATES))
            .values(state=TaskState.CANCELLED, completed_at=now),
            execution_options={"synchronize_session": False},
        )
    for task_id, bpmn_id in closed:
        add_event(session, instance, EventType.TASK_CANCELLED, now, data={"task_id": task_id, "bpmn_id": bpmn_id})


def save_step(session: Session, instance: ProcessInstance, deployed: Deployed, run: Run, *,
              before: set[str], now: datetime, actor_id: int | None, hooks: Hooks | None = None,
              cancelled_as: InstanceStatus = InstanceStatus.REJECTED,
              assign: dict[str, int] | None = None, closing_note: dict | None = None,
              just_decided: tuple[str, int] | None = None) -> list[HumanTask]:
    """Record what the engine did since `before` (the READY ids when the action began); return new tasks.

    `assign` puts a reopened task on a known desk (spiff id -> user); `cancelled_as` is the status a
    cancelled workflow ends in (a rejection, a withdrawal).
    """
    for record in run.service_records:
        add_event(session, instance, EventType.SERVICE_FAILED if record.error_code else EventType.SERVICE_CALLED,
                  now, actor_id=actor_id,
                  data={"bpmn_id": record.bpmn_id, "operator": record.operator,
                        **({"error_code": record.error_code, "message": record.message} if record.error_code else {})})
    ready = run.ready_tasks() if not run.finished else []
    after = {r.spiff_id for r in ready}
    close_vanished(session, instance, before - after, now)
    opened = [_open_task(session, instance, deployed, run, r, now, (assign or {}).get(r.spiff_id), just_decided)
              for r in ready if r.spiff_id not in before]
    notices.tasks_arrived(session, instance, opened, now=now, actor_id=actor_id)
    if run.finished:
        _finish(session, instance, run.outcome(), now, actor_id, hooks, cancelled_as, closing_note)
    instance.state = run.dumps()
    instance.updated_at = now
    # The deadline sweep's queue (app/deadlines/sweep.py): when this instance next needs the engine.
    instance.next_timer_at = None if run.finished else min((t.due_at for t in run.waiting_timers()), default=None)
    instance.timer_claimed_until = None
    return opened


def _finish(session: Session, instance: ProcessInstance, outcome: str, now: datetime, actor_id: int | None,
            hooks: Hooks | None, cancelled_as: InstanceStatus, note: dict | None) -> None:
    if outcome == "cancelled":
        status = cancelled_as
        event = EventType.INSTANCE_WITHDRAWN if status == InstanceStatus.WITHDRAWN else EventType.INSTANCE_REJECTED
    else:
        status, event = OUTCOME_STATUS[outcome]
    instance.status, instance.completed_at = status, now
    add_event(session, instance, event, now, actor_id=actor_id, data=note)
    notices.request_finished(session, instance, status, now=now, actor_id=actor_id)
    if hooks is not None and status != InstanceStatus.APPROVED:
        hooks.closed(session, instance, status, now)
