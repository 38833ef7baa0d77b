"""GET /tasks/<id> (the task, its form, its sub-tasks and the operations the viewer may use) and POST
complete / claim / unclaim. The operations' own POSTs live in operations.py and attachments.py; on a
refusal they re-render this page through `task_page(..., refused=...)`."""
from flask import flash, redirect, request, url_for

from app.approvals.attachments import attachments_of
from app.approvals.errors import ApprovalError, InvalidInput
from app.approvals.returns import return_targets
from app.approvals.tasks import claim_task, complete_task, unclaim_task
from app.auth.request import load_user
from app.extensions import db
from app.inbox.detail import task_detail, task_form
from app.models import Decision, HumanTask, InstanceStatus, ProcessInstance, TaskKind, TaskState, User
from app.processes.forms import coerce_form_strings
from app.runtime import deps, runtime
from app.web import bp
from app.web.filters import DECISION_NAMES
from app.web.forms import (
    Refusal,
    build_fields,
    editing_only,
    posted_values,
    split_errors,
)
from app.web.render import page
from app.web.sheet import task_view

DECISIONS = [(Decision.APPROVE.value, "同意"), (Decision.REJECT.value, "不同意")]
# Where the page was opened from (?from=done), for the breadcrumb.
CRUMBS = {"todo": "待办", "done": "已办", "started": "我发起的", "cc": "抄送我的"}
SIGNER_KINDS = (TaskKind.SIGNER_BEFORE, TaskKind.SIGNER_AFTER)
POSITIONS = [("before", "在我之前（先签，再回到我）"), ("after", "在我之后（我同意后再签）")]
MODES = [("sequential", "依次"), ("parallel", "同时")]


def _deployed_of(instance_id: int):
    instance = db.session.get(ProcessInstance, instance_id)  # already in the session after a detail read
    return runtime().catalog.get(db.session, instance.definition_id, instance.called_definition_ids)


def decisions_of(form: dict) -> list[tuple[str, str]]:
    """同意 / 不同意, or what the step's form calls them ("x-decision-labels": {"approve": "提交银行"})."""
    labels = form.get("x-decision-labels") if isinstance(form.get("x-decision-labels"), dict) else {}
    return [(value, str(labels.get(value) or label)) for value, label in DECISIONS]


def _return_targets(user: User, detail: dict) -> list:
    """Where the task may go back to; none when the use case refuses now (the state moved on meanwhile)."""
    if not detail["can_return"]:
        return []
    try:
        return return_targets(deps(), user, detail["id"])
    except ApprovalError:
        return []


def _removable(detail: dict, user: User) -> set[int]:
    """Signer sub-tasks not yet signed that the viewer may take off: who added them, the step's approver or
    the approver's proxy, as app/approvals/signing.py remove_signer decides (it has the last word)."""
    if detail["state"] != TaskState.READY:
        return set()
    approver = (detail["assignee"] or {}).get("id")
    is_approver = approver is not None and approver in (user.id, (detail["acting_for"] or {}).get("id"))
    return {t["id"] for t in detail["sub_tasks"]
            if t["kind"] in SIGNER_KINDS and t["state"] in (TaskState.READY, TaskState.PENDING)
            and (is_approver or (t.get("added_by") or {}).get("id") == user.id)}


def _done_by(detail: dict, user: User) -> bool:
    return detail["state"] == TaskState.COMPLETED and (detail["completed_by"] or {}).get("id") == user.id


def _panels(detail: dict, user: User, targets: list) -> dict[str, bool]:
    """Which operation forms the page offers; the use cases decide again on every POST."""
    running = detail["instance"]["status"] == InstanceStatus.RUNNING
    ready = detail["state"] == TaskState.READY
    assignee = (detail["assignee"] or {}).get("id")
    done_by_me = _done_by(detail, user)
    # The applicant's own step is theirs alone: nobody to hand it to, no group to give it back to.
    return {
        "return": bool(targets),
        "transfer": detail["can_transfer"] and not detail["is_application"],
        "delegate": detail["can_delegate"],
        "signers": detail["can_add_signer"],
        "cc": (running and ready and (detail["can_act"] or assignee == user.id)) or done_by_me,
        "note": running,
        "attach": running,
        "withdraw": running and done_by_me and detail["kind"] == TaskKind.STEP
        and detail["decision"] == Decision.APPROVE and not detail["is_application"],
    }


def task_page(task_id: int, *, submitted=None, details=None, message: str | None = None, status: int = 200,
              refused: Refusal | None = None, headers: dict | None = None):
    """The task page; after a refused submission, with what was typed and the messages by the fields."""
    rt = runtime()
    user = load_user()
    detail = task_detail(db.session, rt.engine, rt.catalog, user, task_id)
    targets = _return_targets(user, detail)
    form = detail["form"]
    names = set((form.get("properties") or {}).keys())
    by_field, other = split_errors(details or {}, names | {"decision", "comment"})
    if submitted is None:
        fields = build_fields(form, detail["data"])
    else:
        fields = build_fields(form, submitted, by_field, submitted=True)
    panels = _panels(detail, user, targets)
    refused = refused or Refusal("", "")
    # From ?from=, else where such a task is listed: one the viewer has done is in their 已办.
    came_from = request.args.get("from") or ("done" if _done_by(detail, user) else "todo")
    return page(
        "task.html", status, headers, task=detail, fields=fields,
        view=task_view(db.session, _deployed_of(detail["instance_id"]), detail),
        crumb=(came_from if came_from in CRUMBS else "todo", CRUMBS.get(came_from, "待办")),
        may_unclaim=detail["can_unclaim"] and not detail["is_application"],
        decisions=decisions_of(form), errors=by_field, other_errors=other, message=message,
        decision=(submitted or {}).get("decision"), comment=(submitted or {}).get("comment", ""),
        parent=_parent_of(detail), targets=targets, panels=panels, refused=refused,
        # A refusal of a form the page no longer offers (the task moved on) is shown at the top.
        top_refusal=bool(refused.op) and not (panels.get(refused.op, False)
                                              or (refused.op == "remove_signer" and detail["sub_tasks"])),
        removable=_removable(detail, user), positions=POSITIONS, modes=MODES,
        attachments=attachments_of(db.session, user, detail["instance_id"]),
    )


def _parent_of(detail: dict) -> dict | None:
    if detail["parent_id"] is None:
        return None
    parent = db.session.get(HumanTask, detail["parent_id"])
    return {"id": parent.id, "name": parent.name, "multi": parent.multi} if parent else None


@bp.get("/tasks/<int:task_id>")
def task(task_id):
    return task_page(task_id)


@bp.post("/tasks/<int:task_id>/complete")
def complete(task_id):
    form = task_form(db.session, runtime().catalog, task_id)
    posted = posted_values(form, request.form)  # a line editor's cells gathered into rows
    if editing_only(request.form):  # 添加一行 / 删除 without script: the page again, nothing completed
        return task_page(task_id, submitted=posted)
    data = coerce_form_strings(form, posted)
    comment = (request.form.get("comment") or "").strip() or None
    try:
        done = complete_task(deps(), load_user(), task_id, decision=request.form.get("decision") or None,
                             comment=comment, data=data)
    except InvalidInput as exc:
        return task_page(task_id, submitted=posted, details=exc.details, message=exc.message,
                         status=400)
    said = dict(decisions_of(form)).get(done.decision)
    flash(f"已办理“{done.name}”：{said or DECISION_NAMES.get(done.decision, done.decision)}", "success")
    return redirect(url_for("web.instance", instance_id=done.instance_id))


@bp.post("/tasks/<int:task_id>/claim")
def claim(task_id):
    claim_task(deps(), load_user(), task_id)
    flash("已认领，其他候选人将不再看到此待办", "success")
    return redirect(url_for("web.task", task_id=task_id))


@bp.post("/tasks/<int:task_id>/unclaim")
def unclaim(task_id):
    unclaim_task(deps(), load_user(), task_id)
    flash("已放弃认领，任务回到候选人的待办中", "info")
    return redirect(url_for("web.task", task_id=task_id))
