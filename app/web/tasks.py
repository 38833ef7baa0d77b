"""GET /tasks/<id> (the task and its form) and POST complete / claim / unclaim."""
from flask import flash, redirect, request, url_for

from app.approvals.errors import InvalidInput
from app.approvals.tasks import claim_task, complete_task, unclaim_task
from app.auth.request import load_user
from app.extensions import db
from app.inbox.detail import task_detail, task_form
from app.models import Decision, ProcessInstance
from app.processes.forms import coerce_form_strings
from app.runtime import deps, runtime
from app.web import bp
from app.web.filters import DECISION_NAMES
from app.web.forms import build_fields, data_rows, field_properties, split_errors
from app.web.render import page

DECISIONS = [(Decision.APPROVE.value, "同意"), (Decision.REJECT.value, "不同意")]


def _deployed_of(instance_id: int):
    instance = db.session.get(ProcessInstance, instance_id)  # already in the session after a detail read
    return runtime().catalog.get(db.session, instance.definition_id, instance.called_definition_ids)


def task_page(task_id: int, *, submitted=None, details=None, message: str | None = None, status: int = 200):
    """The task page; after a refused submission, with what was typed and the messages by the fields."""
    rt = runtime()
    detail = task_detail(db.session, rt.engine, rt.catalog, load_user(), task_id)
    form = detail["form"]
    names = set((form.get("properties") or {}).keys())
    by_field, other = split_errors(details or {}, names | {"decision", "comment"})
    if submitted is None:
        fields = build_fields(form, detail["data"])
    else:
        fields = build_fields(form, submitted, by_field, submitted=True)
    return page(
        "task.html", status, task=detail, fields=fields,
        data_rows=data_rows(detail["data"], field_properties(_deployed_of(detail["instance_id"]), form)),
        decisions=DECISIONS, errors=by_field, other_errors=other, message=message,
        decision=(submitted or {}).get("decision"), comment=(submitted or {}).get("comment", ""),
    )


@bp.get("/tasks/<int:task_id>")
def task(task_id):
    return task_page(task_id)


@bp.post("/tasks/<int:task_id>/complete")
def complete(task_id):
    data = coerce_form_strings(task_form(db.session, runtime().catalog, task_id), request.form)
    comment = (request.form.get("comment") or "").strip() or None
    try:
        done = complete_task(deps(), load_user(), task_id, decision=request.form.get("decision") or None,
                             comment=comment, data=data)
    except InvalidInput as exc:
        return task_page(task_id, submitted=request.form, details=exc.details, message=exc.message,
                         status=400)
    flash(f"已办理“{done.name}”：{DECISION_NAMES.get(done.decision, done.decision)}", "success")
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
