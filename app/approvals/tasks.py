"""Act on one task: claim it, hand it back, or complete it with a decision.

Each is one transaction: lock the instance row, read the task fresh under that lock (every write to
an instance's tasks holds it, so what we read is current), check, run the engine, save, commit.
"""
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, undefer

from app.approvals.deps import Deps, StepContext, transaction
from app.approvals.errors import Conflict, Forbidden, InvalidInput, NotFound, StepFailed
from app.approvals.steps import MAX_COMMENT, add_event, is_application_step, save_step
from app.engine import EngineError
from app.inbox.visibility import can_see_instance
from app.models import (
    Decision,
    EventType,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    TaskCandidate,
    TaskState,
    User,
)
from app.processes.forms import normalize_form_data, validate_form_data


@dataclass
class Locked:
    instance: ProcessInstance
    task: HumanTask
    is_candidate: bool


def lock_task(session: Session, task_id: int, user_id: int, *, with_state: bool = False) -> Locked:
    """Lock the task and its instance (SELECT ... FOR UPDATE) and read both as they are now.

    Both rows are locked, not only the instance's: after waiting for a lock PostgreSQL re-reads only
    the locked rows, so a task completed meanwhile is seen as completed. Every write to an instance's
    tasks holds its instance lock.
    """
    is_candidate = exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.user_id == user_id)
    query = (
        select(ProcessInstance, HumanTask, is_candidate)
        .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
        .where(HumanTask.id == task_id)
        .with_for_update()
        # The rows may already sit in the session's identity map: take what the lock just read.
        .execution_options(populate_existing=True)
    )
    if with_state:
        query = query.options(undefer(ProcessInstance.state))
    row = session.execute(query).one_or_none()
    if row is None:
        raise NotFound("任务不存在")
    instance, task, candidate = row
    return Locked(instance, task, bool(candidate))


def _ensure_may_act(session: Session, user: User, locked: Locked) -> None:
    task, instance = locked.task, locked.instance
    related = locked.is_candidate or user.id in (task.assignee_id, task.completed_by_id)
    if not related and not can_see_instance(session, user, instance.id):
        raise NotFound("任务不存在")
    if instance.status != InstanceStatus.RUNNING:
        raise Conflict("流程已结束，不能再办理")
    if task.state != TaskState.READY:
        raise Conflict("该任务已办理" if task.state == TaskState.COMPLETED else "该任务已取消")
    if task.assignee_id != user.id and not locked.is_candidate:
        raise Forbidden("这不是你的任务")
    if task.assignee_id not in (None, user.id):
        raise Conflict(f"该任务已被 {task.assignee.display_name} 认领")


def claim_task(deps: Deps, user: User, task_id: int) -> HumanTask:
    """Take a group task for oneself, so other candidates see it is being handled."""
    with transaction(deps.session):
        locked = lock_task(deps.session, task_id, user.id)
        _ensure_may_act(deps.session, user, locked)
        task = locked.task
        if task.assignee_id != user.id:
            task.assignee_id, task.claimed_at = user.id, deps.now
            add_event(deps.session, locked.instance, EventType.TASK_CLAIMED, deps.now, actor_id=user.id, task=task)
    return task


def unclaim_task(deps: Deps, user: User, task_id: int) -> HumanTask:
    """Give a claimed group task back to its candidates."""
    with transaction(deps.session):
        locked = lock_task(deps.session, task_id, user.id)
        _ensure_may_act(deps.session, user, locked)
        task = locked.task
        if task.assignee_id != user.id:
            raise Conflict("该任务没有被你认领")
        if not locked.is_candidate:
            raise Conflict("该任务是指定给你的，不能退回任务池")
        task.assignee_id, task.claimed_at = None, None
        add_event(deps.session, locked.instance, EventType.TASK_UNCLAIMED, deps.now, actor_id=user.id, task=task)
    return task


def _check_decision(decision: str | None, application: bool) -> Decision:
    if application:
        if decision not in (None, Decision.SUBMIT, Decision.APPROVE):
            raise InvalidInput("申请环节只能提交", {"decision": ["申请环节不需要审批意见，请留空"]})
        return Decision.SUBMIT
    if decision not in (Decision.APPROVE, Decision.REJECT):
        raise InvalidInput("请选择审批意见", {"decision": ["须为 approve（同意）或 reject（不同意）"]})
    return Decision(decision)


def complete_task(deps: Deps, user: User, task_id: int, *, decision: str | None, comment: str | None,
                  data: dict) -> HumanTask:
    """Complete a READY task with a decision, a comment and its form data; advance the process."""
    session = deps.session
    with transaction(session):
        locked = lock_task(session, task_id, user.id, with_state=True)
        _ensure_may_act(session, user, locked)
        instance, task = locked.instance, locked.task
        deployed = deps.catalog.get(session, instance.definition_id, instance.called_definition_ids)
        decision = _check_decision(decision, is_application_step(deployed, task.bpmn_process_id, task.bpmn_id))
        if comment is not None and len(comment) > MAX_COMMENT:
            raise InvalidInput("意见过长", {"comment": [f"不能超过 {MAX_COMMENT} 个字符"]})
        form = deployed.form(task.bpmn_process_id, task.bpmn_id)
        errors = validate_form_data(form, data)
        if errors:
            raise InvalidInput("表单填写有误", {f"data.{k}": v for k, v in errors.items()})
        data = normalize_form_data(form, data)
        run = deps.engine.load(deployed.bundle, instance.state, instance_key=str(instance.id),
                               context=StepContext(session, deps.now, instance.id, user.id))
        before = run.ready_task_ids()
        if task.spiff_task_id not in before:
            raise Conflict("任务状态与流程不一致，请刷新后重试")
        _apply_decision(run, task, decision, comment, data)
        task.state, task.completed_at, task.completed_by_id = TaskState.COMPLETED, deps.now, user.id
        task.assignee_id = task.assignee_id or user.id
        task.decision, task.comment = decision, comment
        add_event(session, instance, EventType.TASK_COMPLETED, deps.now, actor_id=user.id, task=task,
                  data={"bpmn_id": task.bpmn_id, "decision": decision, "comment": comment, "data": data})
        save_step(session, instance, deployed, run, before=before - {task.spiff_task_id}, now=deps.now,
                  actor_id=user.id)
    return task


def _apply_decision(run, task: HumanTask, decision: Decision, comment: str | None, data: dict) -> None:
    """Approve: run the step. Reject: end the request, unless the diagram routes rejections itself."""
    properties = run.task_properties(task.spiff_task_id)
    try:
        if decision == Decision.REJECT and properties.get("on_reject", "end") == "end":
            run.cancel()
        else:
            run.complete(task.spiff_task_id, {**data, "decision": decision, "comment": comment})
    except EngineError as exc:
        raise StepFailed.from_engine(exc) from exc
