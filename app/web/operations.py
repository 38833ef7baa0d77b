"""POST the approval operations on a task: 退回, 转办, 委派, 加签, 减签, 抄送, 撤回审批.

Each calls one use case. A refusal re-renders the task page with the message by the form's fields
(400 InvalidInput, 403, 409); NotFound shows the 404 page. Success redirects with a flash message.
"""
from flask import flash, redirect, request, url_for
from sqlalchemy import select

from app.approvals.copies import cc_from_task
from app.approvals.returns import return_task
from app.approvals.signing import add_signers, delegate_task, remove_signer
from app.approvals.transfer import transfer_task
from app.approvals.withdraw import withdraw_approval
from app.auth.request import load_user
from app.extensions import db
from app.models import HumanTask
from app.runtime import deps
from app.web import bp
from app.web.errors import REFUSALS, refusal_status, retry_after
from app.web.forms import refusal, usernames
from app.web.tasks import MODES, POSITIONS, task_page

# The fields of each operation form, as the use cases name them in InvalidInput details.
FIELDS = {
    "return": ("target", "comment"),
    "transfer": ("to", "comment"),
    "delegate": ("to", "comment"),
    "signers": ("signers", "position", "mode", "comment"),
    "remove_signer": ("comment",),
    "cc": ("to", "comment"),
    "withdraw": ("comment",),
    "note": ("comment",),
    "attach": ("file",),
}


def text(name: str) -> str | None:
    return (request.form.get(name) or "").strip() or None


def refused_task_page(task_id: int, op: str, error):
    return task_page(task_id, refused=refusal(op, error, FIELDS[op], request.form), status=refusal_status(error),
                     headers=retry_after(error))


def _names(users) -> str:
    return "、".join(u.display_name for u in users)


@bp.post("/tasks/<int:task_id>/return")
def return_(task_id):
    try:
        reopened = return_task(deps(), load_user(), task_id, request.form.get("target") or "", text("comment") or "")
    except REFUSALS as exc:
        return refused_task_page(task_id, "return", exc)
    flash(f"已退回到“{reopened.name}”", "success")
    return redirect(url_for("web.instance", instance_id=reopened.instance_id))


@bp.post("/tasks/<int:task_id>/transfer")
def transfer(task_id):
    try:
        task = transfer_task(deps(), load_user(), task_id, text("to") or "", text("comment"))
    except REFUSALS as exc:
        return refused_task_page(task_id, "transfer", exc)
    flash(f"已将“{task.name}”转办给 {task.assignee.display_name}", "success")
    # The task is no longer ours; its request may not be visible to us any more either.
    return redirect(url_for("web.inbox"))


@bp.post("/tasks/<int:task_id>/delegate")
def delegate(task_id):
    try:
        row = delegate_task(deps(), load_user(), task_id, text("to") or "", text("comment"))
    except REFUSALS as exc:
        return refused_task_page(task_id, "delegate", exc)
    flash(f"已委派 {row.assignee.display_name} 提出意见；回复后任务回到你的待办", "success")
    return redirect(url_for("web.task", task_id=task_id))


@bp.post("/tasks/<int:task_id>/signers")
def signers(task_id):
    position = request.form.get("position") or "before"
    mode = request.form.get("mode") or "sequential"
    try:
        rows = add_signers(deps(), load_user(), task_id, usernames(request.form.get("signers")), position=position,
                           mode=mode, comment=text("comment"))
    except REFUSALS as exc:
        return refused_task_page(task_id, "signers", exc)
    how = f"{dict(POSITIONS)[position].split('（')[0]}，{dict(MODES)[mode]}"
    flash(f"已加签：{_names(r.assignee for r in rows)}（{how}）", "success")
    return redirect(url_for("web.task", task_id=task_id))


@bp.post("/tasks/<int:task_id>/remove-signer")
def remove_signer_(task_id):
    """`task_id` is the signer's sub-task; the page shown is its step's."""
    step_id = db.session.scalar(select(HumanTask.parent_id).where(HumanTask.id == task_id))
    try:
        signer = remove_signer(deps(), load_user(), task_id, text("comment"))
    except REFUSALS as exc:
        return refused_task_page(step_id or task_id, "remove_signer", exc)
    flash(f"已减签：{signer.assignee.display_name}", "success")
    return redirect(url_for("web.task", task_id=signer.parent_id))


@bp.post("/tasks/<int:task_id>/cc")
def cc(task_id):
    try:
        result = cc_from_task(deps(), load_user(), task_id, usernames(request.form.get("to")), text("comment"))
    except REFUSALS as exc:
        return refused_task_page(task_id, "cc", exc)
    message = f"已抄送给 {_names(result.copied)}"
    if result.already:
        message += f"（{'、'.join(result.already)} 已收到过，未重复抄送）"
    flash(message, "success")
    return redirect(url_for("web.task", task_id=task_id))


@bp.post("/tasks/<int:task_id>/withdraw")
def withdraw(task_id):
    try:
        reopened = withdraw_approval(deps(), load_user(), task_id, text("comment"))
    except REFUSALS as exc:
        return refused_task_page(task_id, "withdraw", exc)
    flash(f"已撤回对“{reopened.name}”的审批，任务回到你的待办", "success")
    return redirect(url_for("web.task", task_id=reopened.id))
