"""What a deadline timer does when it fires, as service operators a diagram draws after a boundary timer.

    review ──(non-interrupting timer, timeCycle "R/P1D")──▶ [deadline.remind  task='review'] ──▶ end
    review ──(non-interrupting timer, timeDate workdays(3))─▶ [deadline.escalate task='review'] ──▶ end

A reminder notifies whoever holds the task now, at most once a day and never on a day off (nobody is
at work to read it);
an escalation takes the task one rung up the township's ladder (settings `escalation.ladder`),
notifies that rung's holders and the 督办, and flags the task for the supervisors' board. Neither
decides anything: money is never approved by a clock. A diagram that wants the task returned or
reassigned on timeout draws an interrupting timer to that step instead.
"""
from sqlalchemy import select

from app.approvals.notices import notify
from app.approvals.steps import add_event
from app.controls.settings import settings_for
from app.deadlines.calendar import CHINA
from app.deadlines.due import township_id_of
from app.engine import ServiceCall, ServiceError
from app.inbox.assignment import resolve_candidates
from app.models import ROLE_NAMES, EventType, HumanTask, ProcessInstance, Role, TaskCandidate, TaskState
from app.models.task import TaskKind


def _open_tasks(call: ServiceCall, task: str) -> list[HumanTask]:
    """The open rows of user task `task` in this request: the step and any open members of it."""
    if not task:
        raise ServiceError("NO_TASK", "提醒/升级须用参数 task 指明所针对的用户任务")
    return list(call.context.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == call.context.instance_id, HumanTask.bpmn_id == task,
        HumanTask.state == TaskState.READY)))


def _holders(session, rows: list[HumanTask]) -> list[int]:
    """Who should act: assignees, or every candidate of an unclaimed task."""
    unclaimed = [t.id for t in rows if t.assignee_id is None]
    candidates = session.scalars(select(TaskCandidate.user_id).where(TaskCandidate.task_id.in_(unclaimed))).all() \
        if unclaimed else []
    return list(dict.fromkeys([t.assignee_id for t in rows if t.assignee_id is not None] + list(candidates)))


def remind(call: ServiceCall, task: str = "") -> dict:
    """deadline.remind: tell the task's holders it is waiting for them (not on a day off)."""
    session, now = call.context.session, call.context.now
    rows = _open_tasks(call, task)
    if not rows:
        return {"reminded": 0}
    today = now.astimezone(CHINA).date()
    if any(t.reminded_at is not None and t.reminded_at.astimezone(CHINA).date() == today for t in rows):
        # A sweep catching up after an outage fires a daily timer once per missed day: one reminder a day.
        return {"reminded": 0, "skipped": "今日已提醒"}
    if not call.context.work_calendar().is_workday(today):  # the step's calendar, read once per step
        return {"reminded": 0, "skipped": "非工作日"}
    instance = session.get(ProcessInstance, call.context.instance_id)
    step = next((t for t in rows if t.kind == TaskKind.STEP), rows[0])
    users = _holders(session, rows)
    due = f"，应于 {step.due_at.astimezone(CHINA):%m-%d %H:%M} 前办理" if step.due_at else ""
    notify(session, users, kind="remind", title=f"提醒：{instance.title}（{step.name}）待您办理{due}",
           now=now, instance_id=instance.id, task_id=step.id)
    for row in rows:
        row.remind_count, row.reminded_at = row.remind_count + 1, now
    add_event(session, instance, EventType.TASK_REMINDED, now, task=step,
              data={"bpmn_id": task, "count": step.remind_count, "to": users})
    return {"reminded": len(users)}


def escalate(call: ServiceCall, task: str = "") -> dict:
    """deadline.escalate: one rung up the ladder; the next rung and the 督办 are told, the board flags it."""
    session, now = call.context.session, call.context.now
    rows = _open_tasks(call, task)
    steps = [t for t in rows if t.kind == TaskKind.STEP] or rows
    if not steps:
        return {"escalated": 0}
    instance = session.get(ProcessInstance, call.context.instance_id)
    step = steps[0]
    township_id = township_id_of(session, instance.org_id)
    ladder = settings_for(session, township_id)["escalation"]["ladder"] if township_id else {}
    from_role = step.escalated_to_role or step.role
    to_role = ladder.get(from_role or "")
    to = list(resolve_candidates(session, to_role, instance.org_id).user_ids) if to_role else []
    supervisors = list(resolve_candidates(session, Role.SUPERVISOR, instance.org_id).user_ids)
    level = step.escalation_level + 1
    for row in rows:
        row.escalation_level, row.escalated_at = level, now
        row.escalated_to_role = to_role or from_role
    rung = ROLE_NAMES.get(to_role, "督办") if to_role else "督办"
    notify(session, [*to, *supervisors], kind="escalate",
           title=f"超时升级（第 {level} 级，至{rung}）：{instance.title}（{step.name}）", now=now,
           instance_id=instance.id, task_id=step.id)
    add_event(session, instance, EventType.TASK_ESCALATED, now, task=step,
              data={"bpmn_id": task, "level": level, "from_role": from_role, "to_role": to_role,
                    "to": [*to, *supervisors]})
    return {"escalated": level, "to_role": to_role}
