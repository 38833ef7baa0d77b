"""Jinja filters: times in Beijing time, money in yuan, Chinese names for statuses and events."""
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from app.models import ROLE_NAMES, Decision, EventType, InstanceStatus, TaskState
from app.web import bp

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

STATUS_NAMES = {
    InstanceStatus.RUNNING: "审批中",
    InstanceStatus.APPROVED: "已通过",
    InstanceStatus.REJECTED: "已驳回",
    InstanceStatus.WITHDRAWN: "已撤回",
    InstanceStatus.CANCELLED: "已取消",
}
TASK_STATE_NAMES = {TaskState.READY: "待办理", TaskState.COMPLETED: "已办理", TaskState.CANCELLED: "已取消"}
DECISION_NAMES = {Decision.APPROVE: "同意", Decision.REJECT: "不同意", Decision.SUBMIT: "提交"}
EVENT_NAMES = {
    EventType.INSTANCE_STARTED: "发起",
    EventType.INSTANCE_APPROVED: "通过",
    EventType.INSTANCE_REJECTED: "驳回",
    EventType.TASK_CREATED: "待办生成",
    EventType.TASK_CLAIMED: "认领",
    EventType.TASK_UNCLAIMED: "放弃认领",
    EventType.TASK_COMPLETED: "办理",
    EventType.TASK_CANCELLED: "取消",
    EventType.SERVICE_CALLED: "系统处理",
    EventType.SERVICE_FAILED: "系统处理失败",
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


@bp.app_template_filter("task_state_name")
def task_state_name(state: str | None) -> str:
    return TASK_STATE_NAMES.get(state, state or "—")


@bp.app_template_filter("decision_name")
def decision_name(decision: str | None) -> str:
    return DECISION_NAMES.get(decision, decision or "—")


@bp.app_template_filter("role_name")
def role_name(role: str | None) -> str:
    return ROLE_NAMES.get(role, role or "—")


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
