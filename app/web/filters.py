"""Jinja filters: times in Beijing time, money in yuan, Chinese names for statuses and events."""
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask import g
from jinja2 import pass_context

from app import clock
from app.extensions import db
from app.models import ROLE_NAMES, Decision, EventType, Fallback, InstanceStatus, MultiMode, TaskKind, TaskState
from app.web import bp
from app.web.statuses import RequestStatus, status_in_words, statuses_of

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

STATUS_NAMES = {
    InstanceStatus.RUNNING: "审批中",
    InstanceStatus.APPROVED: "已通过",
    InstanceStatus.REJECTED: "已驳回",
    InstanceStatus.WITHDRAWN: "已撤回",
    InstanceStatus.CANCELLED: "已取消",
}
TASK_STATE_NAMES = {TaskState.READY: "待办理", TaskState.PENDING: "排队中", TaskState.COMPLETED: "已办理",
                    TaskState.CANCELLED: "已取消"}
DECISION_NAMES = {Decision.APPROVE: "同意", Decision.REJECT: "不同意", Decision.SUBMIT: "提交",
                  Decision.RETURN: "退回"}
KIND_NAMES = {TaskKind.STEP: "审批环节", TaskKind.COUNTERSIGN: "会签成员", TaskKind.SIGNER_BEFORE: "加签（在前）",
              TaskKind.SIGNER_AFTER: "加签（在后）", TaskKind.DELEGATE: "委派"}
MULTI_NAMES = {MultiMode.ALL: "会签", MultiMode.ANY: "或签", MultiMode.SEQUENTIAL: "依次审批"}
FALLBACK_NAMES = {Fallback.HIGHER_HOLDER: "本级无人，由上级岗位办理", Fallback.ADMIN: "无人可办，已转管理员",
                  Fallback.NONE: "无人可办，等待督办转办"}
WAITING_NAMES = {"signers": "正在等待加签人（或会签成员）处理", "delegate": "正在等待被委派人回复意见"}
PROXY_STATUS_NAMES = {"active": "生效中", "scheduled": "未开始", "ended": "已结束", "revoked": "已撤销"}
NOTIFICATION_KIND_NAMES = {"task": "待办", "urge": "催办", "cc": "抄送", "empty_approver": "无人可办",
                           "remind": "办理提醒", "escalate": "超时升级", "returned": "退回", "approved": "已通过",
                           "rejected": "未通过", "paid": "已支付", "bank_returned": "银行退票"}
EVENT_NAMES = {
    EventType.INSTANCE_STARTED: "发起",
    EventType.INSTANCE_APPROVED: "通过",
    EventType.INSTANCE_REJECTED: "驳回",
    EventType.TASK_CREATED: "待办生成",
    EventType.TASK_CLAIMED: "认领",
    EventType.TASK_UNCLAIMED: "放弃认领",
    EventType.TASK_COMPLETED: "办理",
    EventType.TASK_CANCELLED: "取消",
    EventType.SERVICE_CALLED: "系统",
    EventType.SERVICE_FAILED: "系统处理失败",
    EventType.TASK_RETURNED: "退回",
    EventType.TASK_TRANSFERRED: "转办",
    EventType.TASK_DELEGATED: "委派",
    EventType.DELEGATE_ANSWERED: "委派回复",
    EventType.SIGNER_ADDED: "加签",
    EventType.SIGNER_REMOVED: "减签",
    EventType.STEP_DECIDED: "环节结论",
    EventType.CC_SENT: "抄送",
    EventType.INSTANCE_WITHDRAWN: "撤回申请",
    EventType.APPROVAL_WITHDRAWN: "撤回审批",
    EventType.INSTANCE_URGED: "催办",
    EventType.COMMENT_ADDED: "意见",
    EventType.ATTACHMENT_ADDED: "附件",
    EventType.TASK_FALLBACK: "无人可办",
    EventType.BANK_RESULT: "银行回单",
    EventType.PAYMENT_RETURNED: "退票",
    EventType.TIMER_FIRED: "定时触发",
    EventType.TASK_REMINDED: "办理提醒",
    EventType.TASK_ESCALATED: "超时升级",
}


@bp.app_template_filter("local_time")
def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An aware (or UTC-naive) datetime shown in Asia/Shanghai; a dash when missing."""
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ).strftime(fmt)


def to_decimal(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


@bp.app_template_test("past")
def is_past(value: datetime | None) -> bool:
    """`t.due_at is past`: the moment has gone by (a task shown as 已超时)."""
    return value is not None and value <= clock.now()


@bp.app_template_filter("money")
def money(value) -> str:
    """1234.5 -> '1,234.50'; a dash when missing. Never through float."""
    amount = to_decimal(value)
    return "—" if amount is None else f"{amount.quantize(Decimal('0.01')):,}"


@bp.app_template_filter("yuan")
def yuan(value) -> str:
    """'1,234.50 元', or a dash when there is no amount."""
    text = money(value)
    return text if text == "—" else f"{text} 元"


@bp.app_template_filter("status_name")
def status_name(status: str | None) -> str:
    return STATUS_NAMES.get(status, status or "—")


@bp.app_template_filter("request_status")
@pass_context
def request_status(context, instance) -> RequestStatus:
    """An instance summary's status in words (app/web/statuses.py). A list's rows are all read at its first
    row, from the template's `items`: two queries for the page, not two a row."""
    if not isinstance(instance, dict):
        return status_in_words(instance)
    known = g.setdefault("request_statuses", {})
    if instance["id"] not in known:
        rows = [item.get("instance") for item in context.get("items") or () if isinstance(item, dict)]
        wanted = [instance, *(r for r in rows if isinstance(r, dict) and r.get("id") not in known)]
        known.update(statuses_of(db.session, list({r["id"]: r for r in wanted}.values())))
    return known[instance["id"]]


@bp.app_template_filter("task_state_name")
def task_state_name(state: str | None) -> str:
    return TASK_STATE_NAMES.get(state, state or "—")


@bp.app_template_filter("decision_name")
def decision_name(decision: str | None) -> str:
    return DECISION_NAMES.get(decision, decision or "—")


@bp.app_template_filter("role_name")
def role_name(role: str | None) -> str:
    return ROLE_NAMES.get(role, role or "—")


@bp.app_template_filter("kind_name")
def kind_name(kind: str | None) -> str:
    return KIND_NAMES.get(kind, kind or "—")


@bp.app_template_filter("multi_name")
def multi_name(multi: str | None) -> str:
    return MULTI_NAMES.get(multi, multi or "")


@bp.app_template_filter("fallback_name")
def fallback_name(fallback: str | None) -> str:
    return FALLBACK_NAMES.get(fallback, fallback or "")


@bp.app_template_filter("waiting_name")
def waiting_name(waiting_for: str | None) -> str:
    return WAITING_NAMES.get(waiting_for, "正在等待他人处理")


@bp.app_template_filter("proxy_status_name")
def proxy_status_name(status: str | None) -> str:
    return PROXY_STATUS_NAMES.get(status, status or "—")


@bp.app_template_filter("notification_kind_name")
def notification_kind_name(kind: str | None) -> str:
    return NOTIFICATION_KIND_NAMES.get(kind, "通知")


@bp.app_template_filter("file_size")
def file_size(size: int | None) -> str:
    if size is None:
        return "—"
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size} 字节"


@bp.app_template_filter("event_name")
def event_name(event: dict) -> str:
    """A history row's type in Chinese; a completed task reads as its decision (提交、同意、不同意)."""
    data = event.get("data") or {}
    if event["type"] == EventType.TASK_COMPLETED and data.get("decision") in DECISION_NAMES:
        return DECISION_NAMES[data["decision"]]
    return EVENT_NAMES.get(event["type"], event["type"])


def display_value(value, prop: dict | None = None) -> str:
    """A form value as read-only text, using its field's schema when known."""
    prop = prop if isinstance(prop, dict) else {}
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if prop.get("format") == "money" or (prop.get("type") == "number" and to_decimal(value) is not None):
        amount = to_decimal(value)
        if amount is not None:
            return yuan(amount) if prop.get("format") == "money" else str(amount)
    if isinstance(value, list):
        return "、".join(display_value(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
