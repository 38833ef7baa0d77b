"""Act on one task: claim it, hand it back, or complete it with a decision.

Each is one transaction: lock the task and its instance, check, run the engine, save, commit once.
A step with signers added after its approver (加签) keeps the approver's decision until they sign;
a sub-task (a multi-approver member, a signer, a delegate) is completed in app/approvals/signers.py.
"""
from app.approvals.access import Locked, ensure_may_act, ensure_may_decide, lock_task
from app.approvals.deciding import decide_step, load_run
from app.approvals.deps import Deps, transaction
from app.approvals.errors import Conflict, InvalidInput
from app.approvals.signers import complete_sub_task, open_signers_after
from app.approvals.steps import MAX_COMMENT, add_event, is_application_step
from app.models import Decision, EventType, HumanTask, TaskKind, User
from app.processes.forms import check_field_permissions, normalize_form_data, unconfirmed_fields, validate_form_data

__all__ = ["Locked", "lock_task", "claim_task", "unclaim_task", "complete_task"]


def claim_task(deps: Deps, user: User, task_id: int) -> HumanTask:
    """Take a group task for oneself, so other candidates see it is being handled."""
    with transaction(deps.session):
        locked = lock_task(deps.session, task_id, user.id)
        ensure_may_act(deps.session, user, locked)
        task = locked.task
        if task.assignee_id != user.id:
            task.assignee_id, task.claimed_at = user.id, deps.now
            add_event(deps.session, locked.instance, EventType.TASK_CLAIMED, deps.now, actor_id=user.id, task=task)
    return task


def unclaim_task(deps: Deps, user: User, task_id: int) -> HumanTask:
    """Give a claimed group task back to its candidates."""
    with transaction(deps.session):
        locked = lock_task(deps.session, task_id, user.id)
        ensure_may_act(deps.session, user, locked)
        task = locked.task
        if task.assignee_id != user.id:
            raise Conflict("该任务没有被你认领")
        if not locked.is_candidate:
            raise Conflict("该任务是指定给你的，不能退回任务池")
        task.assignee_id, task.claimed_at = None, None
        add_event(deps.session, locked.instance, EventType.TASK_UNCLAIMED, deps.now, actor_id=user.id, task=task)
    return task


def check_decision(decision: str | None, application: bool) -> Decision:
    if application:
        if decision not in (None, Decision.SUBMIT, Decision.APPROVE):
            raise InvalidInput("申请环节只能提交", {"decision": ["申请环节不需要审批意见，请留空"]})
        return Decision.SUBMIT
    if decision not in (Decision.APPROVE, Decision.REJECT):
        raise InvalidInput("请选择审批意见", {"decision": ["须为 approve（同意）或 reject（不同意）"]})
    return Decision(decision)


def checked_form_data(deployed, task: HumanTask, run, data: dict, decision=None) -> dict:
    """The step's form data, validated; read-only fields must keep the values they have, and a box the
    step must tick (票据齐全、合规) is ticked unless the step rejects."""
    form = deployed.form(task.bpmn_process_id, task.bpmn_id)
    current = run.task_data(task.spiff_task_id) if task.spiff_task_id else {}
    errors = validate_form_data(form, data) or check_field_permissions(form, data, current) \
        or (unconfirmed_fields(form, data) if decision != Decision.REJECT else {})
    if errors:
        raise InvalidInput("表单填写有误", {f"data.{k}": v for k, v in errors.items()})
    return normalize_form_data(form, data)


def complete_task(deps: Deps, user: User, task_id: int, *, decision: str | None, comment: str | None,
                  data: dict) -> HumanTask:
    """Complete a READY task with a decision, a comment and its form data; advance the process."""
    session = deps.session
    with transaction(session):
        locked = lock_task(session, task_id, user.id, with_state=True)
        acting_for = ensure_may_act(session, user, locked)
        if comment is not None and len(comment) > MAX_COMMENT:
            raise InvalidInput("意见过长", {"comment": [f"不能超过 {MAX_COMMENT} 个字符"]})
        if locked.task.kind != TaskKind.STEP:
            return complete_sub_task(deps, user, locked, decision=decision, comment=comment, data=data,
                                     acting_for=acting_for)
        return _complete_step(deps, user, locked, decision, comment, data, acting_for)


def _complete_step(deps: Deps, user: User, locked: Locked, decision, comment, data, acting_for) -> HumanTask:
    instance, task = locked.instance, locked.task
    deployed, run = load_run(deps, instance, user.id)
    application = is_application_step(deployed, task.bpmn_process_id, task.bpmn_id)
    decision = check_decision(decision, application)
    if not application:
        ensure_may_decide(user, locked, allow_same_approver=deployed.bundle.model.properties.get(
            "allow_same_approver") == "true")
    data = checked_form_data(deployed, task, run, data, decision)
    if task.spiff_task_id not in run.ready_task_ids():
        raise Conflict("任务状态与流程不一致，请刷新后重试")
    add_event(deps.session, instance, EventType.TASK_COMPLETED, deps.now, actor_id=user.id, task=task,
              on_behalf_of_id=acting_for,
              data={"bpmn_id": task.bpmn_id, "decision": decision, "comment": comment, "data": data})
    if decision == Decision.APPROVE and (task.pending or {}).get("after_signers"):
        open_signers_after(deps, instance, task, decision=decision, comment=comment, data=data, by=user.id,
                           acting_for=acting_for)
        return task
    decide_step(deps, instance, task, deployed, run, decision=decision, comment=comment, data=data, by=user.id,
                on_behalf_of=acting_for, has_sub_tasks=bool((task.pending or {}).get("after_signers")))
    return task
