"""What the task and request pages show before any form: the request as a readable sheet, the control
rules' results, the indicator's balances, the tier and why, the payment, and the steps still ahead
(the parts are in presenters.py and ahead.py; this puts them together for one page)."""
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.budget.payments import cumulative_amount
from app.controls.settings import settings_for, tier_for
from app.inbox.detail import control_results
from app.models import HumanTask, InstanceStatus, Payment, ProcessInstance, TaskState
from app.processes.definitions import Deployed
from app.web.ahead import Ahead, steps_ahead
from app.web.forms import field_properties
from app.web.presenters import (
    ControlRow,
    Panel,
    code_names,
    control_rows,
    controls_summary,
    indicator_panel,
    payment_panel,
    request_indicator,
    service_panels,
    sheet,
    tier_reason,
)


@dataclass
class RequestView:
    sheet: list[tuple[str, str]] = field(default_factory=list)
    controls: list[ControlRow] = field(default_factory=list)
    controls_summary: str = ""
    panels: list[Panel] = field(default_factory=list)
    ahead: list[Ahead] | None = None  # None: not shown (the task is no longer open)


def _tier_preview(session: Session, payment: Payment) -> Panel:
    """Before payment.route has run (the unit head, the compliance review): the tier its amount points to."""
    settings = settings_for(session, payment.township_id)
    cumulative = cumulative_amount(session, payment)
    tier, rank = tier_for(settings, cumulative)
    why = tier_reason({"tier": tier, "tier_rank": rank, "cumulative": str(cumulative),
                       "thresholds": dict(settings["tiers"])})
    return Panel("审批档次", [("档次", f"预计 {tier}"), ("原因", f"{why}。审核通过后由系统按本镇标准最终确定")],
                 "route")


def request_view(session: Session, deployed: Deployed, instance: ProcessInstance, data: dict,
                 controls: list[dict]) -> RequestView:
    properties = field_properties(deployed)
    rows = control_rows(controls)
    panels = []
    payment = session.scalar(select(Payment).where(Payment.instance_id == instance.id))
    if (indicator := request_indicator(session, payment, instance.org_id, data)) is not None:
        panels.append(indicator_panel(session, indicator))
    services = service_panels(data)
    if payment is not None and not any(p.id == "route" for p in services) and payment.tier is None \
            and instance.status == InstanceStatus.RUNNING:
        services.insert(0, _tier_preview(session, payment))
    panels += services
    if (paid := payment_panel(session, payment)) is not None:
        panels.append(paid)
    return RequestView(sheet(data, properties, code_names(session, data, properties)), rows,
                       controls_summary(rows) if rows else "", panels)


def task_view(session: Session, deployed: Deployed, detail: dict) -> RequestView:
    instance = session.get(ProcessInstance, detail["instance_id"])  # in the session since the detail read
    view = request_view(session, deployed, instance, detail["data"], detail["controls"])
    if detail["state"] == TaskState.READY and instance.status == InstanceStatus.RUNNING:
        task = session.get(HumanTask, detail["parent_id"] or detail["id"])
        view.ahead = steps_ahead(deployed, task.bpmn_process_id, task.bpmn_id)
    return view


def instance_view(session: Session, deployed: Deployed, instance: ProcessInstance) -> RequestView:
    """The request page: its control results and payment; the content is in the timeline's first entry."""
    view = request_view(session, deployed, instance, {}, control_results(session, instance.id))
    view.panels = [p for p in view.panels if p.id != "route"]
    return view
