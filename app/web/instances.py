"""GET /instances/<id>: summary, where the request is now, attachments and the whole history;
POST withdraw (撤回申请, the applicant) and urge (催办, the applicant or an oversight role)."""
from flask import current_app, flash, redirect, request, url_for
from sqlalchemy import select

from app.approvals.attachments import attachments_of
from app.approvals.urge import may_urge, urge_instance
from app.approvals.withdraw import withdraw_instance
from app.auth.request import load_user
from app.extensions import db
from app.inbox.detail import instance_detail
from app.models import EventType, InstanceStatus, ProcessInstance, User
from app.runtime import deps, runtime
from app.web import bp
from app.web.errors import REFUSALS, refusal_status, retry_after
from app.web.filters import DECISION_NAMES, FALLBACK_NAMES, KIND_NAMES, role_name, yuan
from app.web.forms import Refusal, field_properties, refusal
from app.web.presenters import code_names, sheet
from app.web.render import page
from app.web.sheet import instance_view
from app.web.system_steps import system_sentences

POSITION_NAMES = {"before": "在前", "after": "在后"}
MODE_NAMES = {"sequential": "依次", "parallel": "同时"}
# Events whose data carries the actor's own words.
WITH_COMMENT = {EventType.TASK_COMPLETED, EventType.TASK_RETURNED, EventType.TASK_TRANSFERRED,
                EventType.TASK_DELEGATED, EventType.DELEGATE_ANSWERED, EventType.SIGNER_ADDED,
                EventType.SIGNER_REMOVED, EventType.CC_SENT, EventType.INSTANCE_WITHDRAWN,
                EventType.APPROVAL_WITHDRAWN, EventType.INSTANCE_URGED, EventType.COMMENT_ADDED}
FIELDS = {"withdraw": ("comment",), "urge": ("comment",)}


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


def _usernames_in(history: list[dict]) -> set[str]:
    found: set[str] = set()
    for event in history:
        data = event["data"] or {}
        for key in ("to", "signers", "signer"):
            value = data.get(key)
            values = value if isinstance(value, list) else [value]
            found |= {v for v in values if isinstance(v, str)}
    return found


def _people(history: list[dict]) -> dict[str, str]:
    """username -> display name for everyone the history names by username (转办给, 加签, 抄送…)."""
    wanted = _usernames_in(history)
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all())


def event_detail(event: dict, people: dict[str, str]) -> str | None:
    """What an operation did, in one line: to whom, where to, how."""
    data = event["data"] or {}

    def who(value) -> str:
        values = value if isinstance(value, list) else [value]
        return "、".join(people.get(v, v) for v in values if isinstance(v, str))

    kind = event["type"]
    if kind == EventType.TASK_RETURNED:
        return f"退回到“{data.get('to_name') or data.get('to_bpmn_id')}”"
    if kind == EventType.TASK_TRANSFERRED:
        return f"转办给 {who(data.get('to'))}"
    if kind == EventType.TASK_DELEGATED:
        return f"请 {who(data.get('to'))} 提出意见"
    if kind == EventType.SIGNER_ADDED:
        how = f"{POSITION_NAMES.get(data.get('position'), '')}，{MODE_NAMES.get(data.get('mode'), '')}"
        return f"加签 {who(data.get('signers'))}（{how}）"
    if kind == EventType.SIGNER_REMOVED:
        return f"减去加签人 {who(data.get('signer'))}"
    if kind == EventType.CC_SENT:
        return f"抄送给 {who(data.get('to'))}"
    if kind in (EventType.STEP_DECIDED, EventType.DELEGATE_ANSWERED) and data.get("decision"):
        return f"意见：{DECISION_NAMES.get(data['decision'], data['decision'])}"
    if kind == EventType.TASK_COMPLETED and data.get("kind") in KIND_NAMES and data.get("kind") != "step":
        return KIND_NAMES[data["kind"]]
    if kind == EventType.INSTANCE_URGED:
        return f"已通知 {len(data.get('notified') or [])} 人"
    if kind == EventType.ATTACHMENT_ADDED:
        return data.get("filename")
    if kind == EventType.BANK_RESULT:
        said = "已支付" if data.get("status") == "paid" else f"退回：{data.get('reason') or '未说明原因'}"
        return f"银行回单（流水号 {data.get('bank_ref')}）：{said}"
    if kind == EventType.PAYMENT_RETURNED:
        return f"退票 {yuan(data.get('amount'))}，原因：{data.get('reason') or '未说明'}，额度已恢复"
    if kind == EventType.TASK_FALLBACK:
        return f"{role_name(data.get('role'))}：{FALLBACK_NAMES.get(data.get('reason'), data.get('reason') or '')}"
    return None


def _submitted(history: list[dict], properties: dict):
    """What each completion filled in, as a sheet; the codes of them all named in one look-up."""
    filled = [(e["seq"], (e["data"] or {}).get("data")) for e in history if e["type"] == EventType.TASK_COMPLETED]
    filled = [(seq, data) for seq, data in filled if isinstance(data, dict) and data]
    names = code_names(db.session, [data for _, data in filled], properties) if filled else None
    return {seq: sheet(data, properties, names) for seq, data in filled}


def _decision_word(event: dict, deployed) -> str | None:
    """A decision as its step's form names it ("x-decision-labels": the treasury's 同意 reads 提交银行)."""
    data = event["data"] or {}
    if event["type"] != EventType.TASK_COMPLETED or not data.get("decision"):
        return None
    for forms in deployed.forms.values():
        labels = (forms.get(data.get("bpmn_id")) or {}).get("x-decision-labels")
        if isinstance(labels, dict) and labels.get(data["decision"]):
            return str(labels[data["decision"]])
    return None


def timeline(history: list[dict], deployed, instance_id: int) -> list[dict]:
    properties = field_properties(deployed)
    names = _step_names(history, deployed)
    people = _people(history)
    submitted = _submitted(history, properties)
    system = system_sentences(db.session, deployed, instance_id, history)
    rows = []
    for event in history:
        data = event["data"] or {}
        rows.append({**event, "data": data, "step": names.get(event["task_id"]) or data.get("name"),
                     "said": _decision_word(event, deployed),
                     "detail": system.get(event["seq"]) or event_detail(event, people),
                     "comment": data.get("comment") if event["type"] in WITH_COMMENT else None,
                     "submitted": submitted.get(event["seq"], [])})
    return rows


def instance_page(instance_id: int, *, refused: Refusal | None = None, status: int = 200,
                  headers: dict | None = None):
    user = load_user()
    detail = instance_detail(db.session, user, instance_id)
    row = db.session.get(ProcessInstance, detail["id"])  # in the session since the detail read
    deployed = runtime().catalog.get(db.session, row.definition_id, row.called_definition_ids)
    running = detail["status"] == InstanceStatus.RUNNING
    panels = {"withdraw": running and row.initiator_id == user.id,
              "urge": running and may_urge(db.session, user, row)}
    refused = refused or Refusal("", "")
    return page("instance.html", status, headers, instance=detail,
                history=timeline(detail["history"], deployed, instance_id),
                view=instance_view(db.session, deployed, row),
                attachments=attachments_of(db.session, user, instance_id), panels=panels, refused=refused,
                top_refusal=bool(refused.op) and not panels.get(refused.op, False))


def _refused(instance_id: int, op: str, error):
    return instance_page(instance_id, refused=refusal(op, error, FIELDS[op], request.form),
                         status=refusal_status(error), headers=retry_after(error))


def _comment() -> str | None:
    return (request.form.get("comment") or "").strip() or None


@bp.get("/instances/<int:instance_id>")
def instance(instance_id):
    return instance_page(instance_id)


@bp.post("/instances/<int:instance_id>/withdraw")
def withdraw_request(instance_id):
    try:
        withdraw_instance(deps(), load_user(), instance_id, _comment())
    except REFUSALS as exc:
        return _refused(instance_id, "withdraw", exc)
    flash("申请已撤回", "success")
    return redirect(url_for("web.instance", instance_id=instance_id))


@bp.post("/instances/<int:instance_id>/urge")
def urge(instance_id):
    try:
        result = urge_instance(deps(), load_user(), instance_id, _comment(),
                               interval=current_app.config["URGE_INTERVAL"])
    except REFUSALS as exc:
        return _refused(instance_id, "urge", exc)
    flash(f"已催办，已通知 {'、'.join(u.display_name for u in result.notified)}", "success")
    return redirect(url_for("web.instance", instance_id=instance_id))
