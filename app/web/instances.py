"""GET /instances/<id>: summary, where the request is now, and its whole history."""
from app.auth.request import load_user
from app.extensions import db
from app.inbox.detail import instance_detail
from app.models import EventType, ProcessInstance
from app.runtime import runtime
from app.web import bp
from app.web.forms import data_rows, field_properties
from app.web.render import page


def _step_names(history: list[dict], deployed) -> dict[int, str]:
    """Task id -> step name, from the 待办生成 rows; the applicant's step is named by its form."""
    names = {e["task_id"]: e["data"].get("name") for e in history
             if e["type"] == EventType.TASK_CREATED and e["task_id"] and (e["data"] or {}).get("name")}
    for e in history:
        data = e["data"] or {}
        if e["task_id"] and e["task_id"] not in names and data.get("bpmn_id"):
            form = deployed.form(deployed.process_id, data["bpmn_id"])
            names[e["task_id"]] = form.get("title") or data["bpmn_id"]
    return names


def timeline(history: list[dict], deployed) -> list[dict]:
    properties = field_properties(deployed)
    names = _step_names(history, deployed)
    rows = []
    for event in history:
        data = event["data"] or {}
        rows.append({**event, "step": names.get(event["task_id"]) or data.get("name"),
                     "comment": data.get("comment") if event["type"] == EventType.TASK_COMPLETED else None,
                     "submitted": data_rows(data.get("data"), properties)
                     if event["type"] == EventType.TASK_COMPLETED else []})
    return rows


@bp.get("/instances/<int:instance_id>")
def instance(instance_id):
    detail = instance_detail(db.session, load_user(), instance_id)
    row = db.session.get(ProcessInstance, detail["id"])  # in the session since the detail read
    deployed = runtime().catalog.get(db.session, row.definition_id, row.called_definition_ids)
    return page("instance.html", instance=detail, history=timeline(detail["history"], deployed))
