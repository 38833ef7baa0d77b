"""退回 return: send the request back to the applicant or to any step it has passed through.

The step returned to gets a fresh task with the data it had when it was done, on the desk of whoever
did it; everything after it is cancelled, sub-tasks, timers and any multi-approver step included.
History keeps every round. What the undone steps posted elsewhere is handed to the rewound hooks.
"""
from dataclasses import dataclass

from sqlalchemy import select

from app.approvals import notices
from app.approvals.access import ensure_may_act, lock_task, read_task
from app.approvals.deciding import cancel_sub_tasks, load_run
from app.approvals.deps import Deps, transaction
from app.approvals.errors import Conflict, InvalidInput
from app.approvals.steps import MAX_COMMENT, add_event, is_application_step, save_step
from app.engine import EngineError, Run
from app.models import Decision, EventType, HumanTask, TaskKind, TaskState, User
from app.processes.forms import RESERVED_FIELDS

RETURNERS = (TaskKind.STEP, TaskKind.COUNTERSIGN)


@dataclass(frozen=True)
class ReturnTarget:
    bpmn_id: str
    name: str
    spiff_task_id: str
    done_by_id: int | None
    done_by_name: str | None
    done_at: object
    is_application: bool


def _step_of(session, task: HumanTask) -> HumanTask:
    return task if task.kind == TaskKind.STEP else session.get(HumanTask, task.parent_id)


def _targets(session, deployed, run: Run, step: HumanTask) -> list[ReturnTarget]:
    """The steps on the path that led here, each once (its latest round), earliest first."""
    path = [entry for entry in run.path_behind(step.spiff_task_id) if entry[2] != step.bpmn_id]
    latest = {}
    for spiff_id, process_id, bpmn_id in path:  # nearest first: keep the latest round of each step
        latest.setdefault((process_id, bpmn_id), spiff_id)
    rows = {r.spiff_task_id: r for r in session.scalars(
        select(HumanTask).where(HumanTask.instance_id == step.instance_id, HumanTask.kind == TaskKind.STEP,
                                HumanTask.state == TaskState.COMPLETED,
                                HumanTask.spiff_task_id.in_(list(latest.values())))
        .order_by(HumanTask.id))}
    targets = []
    for (process_id, bpmn_id), spiff_id in reversed(list(latest.items())):
        row = rows.get(spiff_id)
        if row is None:
            continue
        targets.append(ReturnTarget(bpmn_id, row.name, spiff_id, row.completed_by_id,
                                    row.completed_by.display_name if row.completed_by else None, row.completed_at,
                                    is_application_step(deployed, process_id, bpmn_id)))
    return targets


def return_targets(deps: Deps, user: User, task_id: int) -> list[ReturnTarget]:
    """Where this task may be returned to, for display (the task page, GET .../return-targets).

    A read: no row is locked and nothing is written or committed, so showing a task never waits on an
    action in progress. `return_task` works the targets out again under its lock.
    """
    session = deps.session
    found = read_task(session, task_id, user.id, with_state=True)
    ensure_may_act(session, user, found)
    if found.task.kind not in RETURNERS:
        raise Conflict("加签、委派任务不能退回")
    deployed, run = load_run(deps, found.instance, user.id)
    return _targets(session, deployed, run, _step_of(session, found.task))


def _check_input(target_bpmn_id: str | None, comment: str | None) -> None:
    """Both fields at once, each problem by its own field: the target chosen, the reason given."""
    problems, message = {}, ""
    if not (comment or "").strip():
        problems["comment"], message = ["退回须说明原因"], "请填写退回原因"
    elif len(comment) > MAX_COMMENT:
        problems["comment"], message = [f"不能超过 {MAX_COMMENT} 个字符"], "原因过长"
    if not (target_bpmn_id or "").strip():
        problems["target"], message = ["请选择退回到的环节"], "请选择退回到的环节"
    if problems:
        raise InvalidInput(message, problems)


def return_task(deps: Deps, user: User, task_id: int, target_bpmn_id: str, comment: str) -> HumanTask:
    """Return the request to `target_bpmn_id` with a reason; return the reopened task."""
    _check_input(target_bpmn_id, comment)
    session = deps.session
    with transaction(session):
        locked = lock_task(session, task_id, user.id, with_state=True)
        acting_for = ensure_may_act(session, user, locked)
        task, instance = locked.task, locked.instance
        if task.kind not in RETURNERS:
            raise Conflict("加签、委派任务不能退回")
        deployed, run = load_run(deps, instance, user.id)
        step = _step_of(session, task)
        target = next((t for t in _targets(session, deployed, run, step) if t.bpmn_id == target_bpmn_id), None)
        if target is None:
            raise InvalidInput("不能退回到该环节", {"target": [f"{target_bpmn_id}：不是本申请已经过的环节"]})
        data = {k: v for k, v in run.task_data(target.spiff_task_id).items() if k not in RESERVED_FIELDS}
        before = run.ready_task_ids()
        try:
            removed = run.reset_to(target.spiff_task_id, data)
        except EngineError as exc:
            raise Conflict(str(exc)) from exc
        task.state, task.completed_at, task.completed_by_id = TaskState.COMPLETED, deps.now, user.id
        task.on_behalf_of_id, task.decision, task.comment = acting_for, Decision.RETURN, comment
        if task.kind == TaskKind.STEP:
            cancel_sub_tasks(session, task, deps.now)  # signers still queued after the approver
        add_event(session, instance, EventType.TASK_RETURNED, deps.now, actor_id=user.id, task=task,
                  on_behalf_of_id=acting_for, data={"bpmn_id": task.bpmn_id, "to_bpmn_id": target.bpmn_id,
                                                    "to_name": target.name, "comment": comment})
        desk = instance.initiator_id if target.is_application else target.done_by_id
        opened = save_step(session, instance, deployed, run, before=before, now=deps.now, actor_id=user.id,
                           hooks=deps.hooks, assign={target.spiff_task_id: desk} if desk else None)
        reopened = next(t for t in opened if t.spiff_task_id == target.spiff_task_id)
        reopened.note = f"{user.display_name}退回：{comment}"
        notices.request_returned(session, instance, reopened, by_id=user.id, by_name=user.display_name,
                                 comment=comment, now=deps.now)
        deps.hooks.rewound(session, instance, removed, deps.now)
    return reopened
