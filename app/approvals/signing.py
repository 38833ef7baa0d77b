"""加签 add signers before or after oneself, 减签 remove one who has not signed, 委派 delegate for an opinion."""
from sqlalchemy import exists, select

from app.approvals.access import ensure_may_act, ensure_visible, lock_task
from app.approvals.deps import Deps, transaction
from app.approvals.errors import Conflict, Forbidden, InvalidInput
from app.approvals.notices import notify
from app.approvals.signers import (
    SIGNER_KINDS,
    new_sub_task,
    open_next,
    release_approver_decision,
    sub_tasks,
)
from app.approvals.steps import MAX_COMMENT, add_event, is_application_step
from app.approvals.targets import pick_users
from app.models import EventType, HumanTask, TaskCandidate, TaskKind, TaskState, User

POSITIONS = ("before", "after")
MODES = ("parallel", "sequential")


def _plain_step(deps: Deps, locked) -> None:
    """加签 and 委派 apply to one approver's step, not the applicant's, not a multi-approver step."""
    task = locked.task
    deployed = deps.catalog.get(deps.session, locked.instance.definition_id, locked.instance.called_definition_ids)
    if task.kind != TaskKind.STEP or task.multi:
        raise Conflict("多人审批环节和加签、委派任务本身不能再加签或委派")
    if is_application_step(deployed, task.bpmn_process_id, task.bpmn_id):
        raise Conflict("申请环节不能加签或委派")
    return deployed


def _allows_same_approver(deployed) -> bool:
    return deployed.bundle.model.properties.get("allow_same_approver") == "true"


def _check_comment(comment: str | None) -> None:
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidInput("说明过长", {"comment": [f"不能超过 {MAX_COMMENT} 个字符"]})


def add_signers(deps: Deps, user: User, task_id: int, usernames: list[str], *, position: str, mode: str,
                comment: str | None = None) -> list[HumanTask]:
    """Ask others to sign this step too: before me (they sign first) or after me (once I approve)."""
    if position not in POSITIONS or mode not in MODES:
        raise InvalidInput("加签方式有误", {"position" if position not in POSITIONS else "mode": ["取值不对"]})
    _check_comment(comment)
    session = deps.session
    with transaction(session):
        locked = lock_task(session, task_id, user.id)
        ensure_may_act(session, user, locked)
        deployed = _plain_step(deps, locked)
        step, instance = locked.task, locked.instance
        signers = pick_users(session, instance, usernames, field="signers", acting_user=user, bpmn_id=step.bpmn_id,
                             allow_same_approver=_allows_same_approver(deployed))
        already = {t.assignee_id for t in sub_tasks(session, step)}
        if clash := [s.username for s in signers if s.id in already]:
            raise InvalidInput("已在加签名单中", {"signers": [f"{name}：已是本环节的加签人" for name in clash]})
        step.assignee_id = step.assignee_id or user.id
        kind = TaskKind.SIGNER_BEFORE if position == "before" else TaskKind.SIGNER_AFTER
        start = len(already)
        rows = [new_sub_task(step, kind, s.id, seq=start + i, added_by=user.id, now=deps.now, note=comment,
                             ready=position == "before" and (mode == "parallel" or i == 0))
                for i, s in enumerate(signers)]
        session.add_all(rows)
        if position == "before":
            step.waiting_for = "signers"
        else:
            step.pending = {**(step.pending or {}), "after_signers": True, "after_mode": mode}
        add_event(session, instance, EventType.SIGNER_ADDED, deps.now, actor_id=user.id, task=step,
                  data={"position": position, "mode": mode, "signers": [s.username for s in signers],
                        "comment": comment})
        notify(session, [r.assignee_id for r in rows if r.state == TaskState.READY], kind="task", now=deps.now,
               instance_id=instance.id, title=f"请加签：{step.name}", body=comment or instance.title)
    return rows


def _stands_in_for_approver(session, user: User, step: HumanTask) -> bool:
    """The user is a candidate of the step as its approver's proxy (代理): they may do what the approver may."""
    return step.assignee_id is not None and session.scalar(select(exists().where(
        TaskCandidate.task_id == step.id, TaskCandidate.user_id == user.id,
        TaskCandidate.on_behalf_of_id == step.assignee_id))) is True


def remove_signer(deps: Deps, user: User, sub_task_id: int, comment: str | None = None) -> HumanTask:
    """减签: take off a signer who has not signed yet: whoever added them, the step's approver or their proxy."""
    _check_comment(comment)
    session = deps.session
    with transaction(session):
        locked = lock_task(session, sub_task_id, user.id)
        ensure_visible(session, user, locked)
        signer, instance = locked.task, locked.instance
        if signer.kind not in SIGNER_KINDS:
            raise Conflict("只能减去加签人")
        step = session.get(HumanTask, signer.parent_id)
        if user.id not in (signer.added_by_id, step.assignee_id) and not _stands_in_for_approver(session, user, step):
            raise Forbidden("只有加签的人或本环节审批人可以减签")
        if signer.state not in (TaskState.READY, TaskState.PENDING) or step.state != TaskState.READY:
            raise Conflict("该加签人已签署或环节已结束，不能减签")
        was_open = signer.state == TaskState.READY
        signer.state, signer.completed_at = TaskState.CANCELLED, deps.now
        add_event(session, instance, EventType.SIGNER_REMOVED, deps.now, actor_id=user.id, task=step,
                  data={"signer": signer.assignee.username, "comment": comment})
        _after_removal(deps, instance, step, signer.kind, was_open)
    return signer


def _after_removal(deps: Deps, instance, step: HumanTask, kind: str, was_open: bool) -> None:
    queued = sub_tasks(deps.session, step, kind)
    if any(t.state == TaskState.READY for t in queued):
        return
    if was_open and open_next(deps, instance, queued):
        return
    if kind == TaskKind.SIGNER_BEFORE and not queued:
        step.waiting_for = None
    elif kind == TaskKind.SIGNER_AFTER and not queued:
        if step.waiting_for == "signers":  # the approver already approved: nobody else is left to sign
            release_approver_decision(deps, instance, step)
        else:
            step.pending = None


def delegate_task(deps: Deps, user: User, task_id: int, username: str, comment: str | None = None) -> HumanTask:
    """委派: ask someone for their opinion; the step comes back to me to decide.

    An opinion is not a decision, yet it weighs on one: whoever decided another step of the request is
    not asked (C17), as for a signer or a transferee, unless the process allows one person several steps.
    """
    _check_comment(comment)
    session = deps.session
    with transaction(session):
        locked = lock_task(session, task_id, user.id)
        ensure_may_act(session, user, locked)
        deployed = _plain_step(deps, locked)
        step, instance = locked.task, locked.instance
        [delegate] = pick_users(session, instance, [username], field="to", acting_user=user, bpmn_id=step.bpmn_id,
                                allow_same_approver=_allows_same_approver(deployed), at_most=1)
        step.assignee_id, step.waiting_for = step.assignee_id or user.id, "delegate"
        row = new_sub_task(step, TaskKind.DELEGATE, delegate.id, seq=0, ready=True, added_by=user.id,
                           now=deps.now, note=comment)
        session.add(row)
        add_event(session, instance, EventType.TASK_DELEGATED, deps.now, actor_id=user.id, task=step,
                  data={"to": delegate.username, "comment": comment})
        notify(session, [delegate.id], kind="task", now=deps.now, instance_id=instance.id,
               title=f"{user.display_name}请你提出意见：{step.name}", body=comment or instance.title)
    return row
