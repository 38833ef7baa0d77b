"""A step's sub-tasks: multi-approver members, signers added before or after the approver, a delegate.

Outcomes, whatever the kind: a rejection by anyone who signs ends the step as a rejection. A
multi-approver step is decided by all members (会签), the first member (或签) or each in turn (依次).
Signers before the approver (加签·前) sign first and hand the step back; signers after (加签·后)
sign once the approver has approved, then the approver's decision goes through. A delegate (委派)
only gives an opinion; the step returns to whoever delegated.
"""
from sqlalchemy import select

from app.approvals.access import Locked, ensure_may_decide
from app.approvals.deciding import decide_step, load_run
from app.approvals.deps import Deps
from app.approvals.errors import InvalidInput
from app.approvals.notices import notify
from app.approvals.steps import OPEN_STATES, add_event
from app.models import (
    Decision,
    EventType,
    HumanTask,
    MultiMode,
    ProcessInstance,
    TaskCandidate,
    TaskKind,
    TaskState,
    User,
)
from app.processes.forms import normalize_form_data, restore_form_data, validate_form_data

SIGNER_KINDS = (TaskKind.SIGNER_BEFORE, TaskKind.SIGNER_AFTER)
NO_FORM = {"type": "object", "properties": {}}


def sub_tasks(session, step: HumanTask, kind: str | None = None) -> list[HumanTask]:
    """The step's open (READY or PENDING) sub-tasks, in order."""
    query = select(HumanTask).where(HumanTask.parent_id == step.id, HumanTask.state.in_(OPEN_STATES))
    if kind is not None:
        query = query.where(HumanTask.kind == kind)
    return list(session.scalars(query.order_by(HumanTask.seq, HumanTask.id)))


def new_sub_task(step: HumanTask, kind: str, user_id: int, *, seq: int, ready: bool, added_by: int | None,
                 now, note: str | None = None) -> HumanTask:
    sub = HumanTask(
        instance_id=step.instance_id, kind=kind, parent=step, seq=seq, bpmn_process_id=step.bpmn_process_id,
        bpmn_id=step.bpmn_id, name=step.name, role=step.role, lane=step.lane, scope_org_id=step.scope_org_id,
        state=TaskState.READY if ready else TaskState.PENDING, created_at=now, due_at=step.due_at,
        assignee_id=user_id, added_by_id=added_by, note=note,
    )
    sub.candidates = [TaskCandidate(user_id=user_id)]
    return sub


def open_next(deps: Deps, instance: ProcessInstance, queued: list[HumanTask]) -> HumanTask | None:
    """Open the first PENDING sub-task of a sequence; None when none is left."""
    following = next((t for t in queued if t.state == TaskState.PENDING), None)
    if following is not None:
        following.state, following.created_at = TaskState.READY, deps.now
        notify(deps.session, [following.assignee_id], kind="task", now=deps.now, instance_id=instance.id,
               task_id=following.id, title=f"待办：{following.name}", body=instance.title)
    return following


def _decide(deps: Deps, instance: ProcessInstance, step: HumanTask, *, decision, comment, data, by, acting_for):
    deployed, run = load_run(deps, instance, by)
    add_event(deps.session, instance, EventType.STEP_DECIDED, deps.now, actor_id=by, task=step,
              on_behalf_of_id=acting_for, data={"bpmn_id": step.bpmn_id, "decision": decision})
    decide_step(deps, instance, step, deployed, run, decision=decision, comment=comment, data=data, by=by,
                on_behalf_of=acting_for, has_sub_tasks=True)


def complete_sub_task(deps: Deps, user: User, locked: Locked, *, decision, comment, data, acting_for) -> HumanTask:
    """A member, signer or delegate completes their sub-task; the step moves on when its rule says so."""
    sub, instance = locked.task, locked.instance
    step = deps.session.get(HumanTask, sub.parent_id)
    if decision not in (Decision.APPROVE, Decision.REJECT):
        raise InvalidInput("请选择意见", {"decision": ["须为 approve（同意）或 reject（不同意）"]})
    deployed = deps.catalog.get(deps.session, instance.definition_id, instance.called_definition_ids)
    if sub.kind != TaskKind.DELEGATE:
        ensure_may_decide(user, locked, allow_same_approver=deployed.bundle.model.properties.get(
            "allow_same_approver") == "true")
    form = deployed.form(sub.bpmn_process_id, sub.bpmn_id) if sub.kind == TaskKind.COUNTERSIGN else NO_FORM
    errors = validate_form_data(form, data)
    if errors:
        raise InvalidInput("表单填写有误", {f"data.{k}": v for k, v in errors.items()})
    data = normalize_form_data(form, data)
    sub.state, sub.completed_at, sub.completed_by_id = TaskState.COMPLETED, deps.now, user.id
    sub.on_behalf_of_id, sub.decision, sub.comment = acting_for, Decision(decision), comment
    answered = EventType.DELEGATE_ANSWERED if sub.kind == TaskKind.DELEGATE else EventType.TASK_COMPLETED
    add_event(deps.session, instance, answered, deps.now, actor_id=user.id, task=sub, on_behalf_of_id=acting_for,
              data={"bpmn_id": sub.bpmn_id, "kind": sub.kind, "decision": decision, "comment": comment,
                    "data": data})
    outcome = {TaskKind.COUNTERSIGN: _after_member, TaskKind.SIGNER_BEFORE: _after_signer_before,
               TaskKind.SIGNER_AFTER: _after_signer_after, TaskKind.DELEGATE: _after_delegate}[sub.kind]
    outcome(deps, instance, step, sub, user, acting_for, data)
    return sub


def _after_member(deps, instance, step, sub, user, acting_for, data):
    still_open = sub_tasks(deps.session, step)
    done = sub.decision == Decision.REJECT or step.multi == MultiMode.ANY or not still_open
    if step.multi == MultiMode.SEQUENTIAL and not done:
        open_next(deps, instance, still_open)
        return
    if done:
        _decide(deps, instance, step, decision=sub.decision, comment=sub.comment, data=data, by=user.id,
                acting_for=acting_for)


def _after_signer_before(deps, instance, step, sub, user, acting_for, data):
    if sub.decision == Decision.REJECT:
        _decide(deps, instance, step, decision=Decision.REJECT, comment=sub.comment, data={}, by=user.id,
                acting_for=acting_for)
        return
    queued = sub_tasks(deps.session, step, TaskKind.SIGNER_BEFORE)
    if any(t.state == TaskState.READY for t in queued) or open_next(deps, instance, queued):
        return
    step.waiting_for = None  # every signer before has signed: back to the approver
    notify(deps.session, [step.assignee_id], kind="task", now=deps.now, instance_id=instance.id, task_id=step.id,
           title=f"加签人已签，请办理：{step.name}", body=instance.title)


def _after_signer_after(deps, instance, step, sub, user, acting_for, data):
    if sub.decision == Decision.REJECT:
        _decide(deps, instance, step, decision=Decision.REJECT, comment=sub.comment, data={}, by=user.id,
                acting_for=acting_for)
        return
    queued = sub_tasks(deps.session, step, TaskKind.SIGNER_AFTER)
    if not any(t.state == TaskState.READY for t in queued) and not open_next(deps, instance, queued):
        release_approver_decision(deps, instance, step)


def release_approver_decision(deps: Deps, instance: ProcessInstance, step: HumanTask) -> None:
    """Every signer after the approver has signed: the approver's own decision now goes through."""
    pending = step.pending or {}
    deployed = deps.catalog.get(deps.session, instance.definition_id, instance.called_definition_ids)
    data = restore_form_data(deployed.form(step.bpmn_process_id, step.bpmn_id), pending.get("data") or {})
    _decide(deps, instance, step, decision=pending["decision"], comment=pending.get("comment"), data=data,
            by=pending["by"], acting_for=pending.get("on_behalf_of"))


def _after_delegate(deps, instance, step, sub, user, acting_for, data):
    step.waiting_for = None
    notify(deps.session, [step.assignee_id], kind="task", now=deps.now, instance_id=instance.id, task_id=step.id,
           title=f"被委派人已回复意见：{step.name}", body=sub.comment or instance.title)


def open_signers_after(deps: Deps, instance: ProcessInstance, step: HumanTask, *, decision, comment, data, by,
                       acting_for) -> None:
    """The approver approved a step with signers after them: keep the decision, open the signers."""
    step.pending = {**(step.pending or {}), "decision": decision, "comment": comment, "data": data, "by": by,
                    "on_behalf_of": acting_for}
    step.waiting_for = "signers"
    queued = sub_tasks(deps.session, step, TaskKind.SIGNER_AFTER)
    to_open = queued if step.pending.get("after_mode") == "parallel" else queued[:1]
    for signer in to_open:
        signer.state, signer.created_at = TaskState.READY, deps.now
    notify(deps.session, [t.assignee_id for t in to_open], kind="task", now=deps.now, instance_id=instance.id,
           title=f"请加签：{step.name}", body=instance.title)
