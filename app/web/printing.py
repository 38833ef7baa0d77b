"""GET /instances/<id>/print: the printable 审批单 of a request (A4, static/print.css).

The request's content (as the request page's sheet reads it), the payment where money moved, every step
someone handled (who, 代X, when, decision, comment), the control rules' latest results and the attachments
with their SHA-256. Seen by exactly who may see the request page: the
same read (instance_detail) answers 404 to anyone else. The signed PDF will be made from this view.
"""
from sqlalchemy import select

from app import clock
from app.approvals.attachments import attachments_of
from app.auth.request import load_user
from app.extensions import db
from app.inbox.detail import control_results, instance_detail
from app.models import Decision, EventType, Payment, ProcessInstance
from app.runtime import runtime
from app.web import bp
from app.web.filters import DECISION_NAMES, KIND_NAMES
from app.web.forms import data_rows, field_properties
from app.web.presenters import code_names, control_rows, payment_panel, sheet
from app.web.render import page

# The history rows that are a person's decision on the request, and how the sheet words each.
STEP_EVENTS = {EventType.TASK_COMPLETED, EventType.DELEGATE_ANSWERED, EventType.TASK_RETURNED,
               EventType.INSTANCE_WITHDRAWN, EventType.APPROVAL_WITHDRAWN}


def _step_names(history: list[dict], deployed) -> dict[int, str]:
    """Task id -> step name, from the 待办生成 rows; a step without one (the applicant's) by its form's title."""
    names = {e["task_id"]: e["data"].get("name") for e in history
             if e["type"] == EventType.TASK_CREATED and e["task_id"] and e["data"].get("name")}
    for e in history:
        if e["task_id"] and e["task_id"] not in names and e["data"].get("bpmn_id"):
            names[e["task_id"]] = deployed.form(deployed.process_id, e["data"]["bpmn_id"]).get("title") \
                or e["data"]["bpmn_id"]
    return names


def _conclusion(event: dict) -> str:
    data, kind = event["data"], event["type"]
    if kind == EventType.TASK_RETURNED:
        return f"退回到“{data.get('to_name') or data.get('to_bpmn_id') or ''}”"
    if kind == EventType.INSTANCE_WITHDRAWN:
        return "撤回申请"
    if kind == EventType.APPROVAL_WITHDRAWN:
        return "撤回审批"
    words = DECISION_NAMES.get(data.get("decision"), "办理")
    if kind == EventType.DELEGATE_ANSWERED:
        return f"委派回复：{words}"
    if data.get("kind") in KIND_NAMES and data.get("kind") != "step":
        return f"{words}（{KIND_NAMES[data['kind']]}）"
    return words


def approval_steps(history: list[dict], deployed) -> list[dict]:
    """Each decision on the request in order: 环节, 办理人 (with 代X), 结论, 意见, 时间, and what the step filled in."""
    names, properties = _step_names(history, deployed), field_properties(deployed)
    return [{"step": names.get(e["task_id"]) or e["data"].get("name") or "—", "person": e["actor_name"] or "—",
             "conclusion": _conclusion(e), "comment": e["data"].get("comment"), "at": e["at"],
             "filled": data_rows(e["data"].get("data"), properties)
             if e["data"].get("decision") != Decision.SUBMIT else []}
            for e in history if e["type"] in STEP_EVENTS]


def application_rows(history: list[dict], deployed) -> list[tuple[str, str]]:
    """What the applicant last submitted (a resubmission replaces the first), as the request page's sheet
    reads it: labels from the forms, codes with their names."""
    submitted = [e["data"].get("data") for e in history
                 if e["type"] == EventType.TASK_COMPLETED and e["data"].get("decision") == Decision.SUBMIT]
    data, properties = (submitted[-1] if submitted else None) or {}, field_properties(deployed)
    return sheet(data, properties, code_names(db.session, data, properties))


def rule_rows(instance_id: int) -> list[dict]:
    """Each rule's latest verdict (blocks first), with when it was checked."""
    results = control_results(db.session, instance_id)
    checked = {r["rule"]: r["checked_at"] for r in results}
    return [{"rule": r.rule, "name": r.name, "outcome": r.outcome, "word": r.word, "message": r.message,
             "checked_at": checked.get(r.rule)} for r in control_rows(results)]


@bp.get("/instances/<int:instance_id>/print")
def print_instance(instance_id):
    user = load_user()
    detail = instance_detail(db.session, user, instance_id)  # 404 for whoever may not see the request
    row = db.session.get(ProcessInstance, detail["id"])
    deployed = runtime().catalog.get(db.session, row.definition_id, row.called_definition_ids)
    history = [{**e, "data": e["data"] or {}} for e in detail["history"]]
    return page("print.html", instance=detail, application=application_rows(history, deployed),
                steps=approval_steps(history, deployed), rules=rule_rows(instance_id),
                payment=payment_panel(db.session, db.session.scalar(
                    select(Payment).where(Payment.instance_id == instance_id))),
                attachments=attachments_of(db.session, user, instance_id), printed_at=clock.now())
