"""用款计划: a unit's monthly fund-use plan, approved by the finance office.

For an indicator under plan control (C04) the approved amount becomes that month's plan quota in the
ledger, and its payments may not exceed it; for the others the plan is recorded for cash planning.
The finance office may approve less than applied for (`approved_amounts` on its review form).
"""
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, select

from app import ledger
from app.budget.common import CHINA, indicator_by_code, instance_of, money, refuse, session_of
from app.engine import ServiceCall, ServiceError
from app.models import FundPlanLine, Indicator

MAX_LINES = 200


def _month(value, now) -> date:
    """'2026-12' (or a date in it); not a month already past."""
    text = str(value or "").strip()
    try:
        year, month = int(text[:4]), int(text[5:7])
        first = date(year, month, 1)
    except (ValueError, IndexError):
        raise refuse("BAD_MONTH", "month", f"计划月份须写成 YYYY-MM：{text or '（空）'}") from None
    local = now.astimezone(CHINA)
    if first < date(local.year, local.month, 1):
        raise refuse("PAST_MONTH", "month", f"不能为已过去的月份 {text} 编报用款计划")
    return first


def record_plan(call: ServiceCall) -> dict:
    """fund_plan.record: the month's lines, one per indicator, each within what the indicator has left."""
    session, data, instance = session_of(call), call.data, instance_of(call)
    month = _month(data.get("month"), call.context.now)
    lines = data.get("lines")
    if not isinstance(lines, list) or not 1 <= len(lines) <= MAX_LINES:
        raise refuse("NO_LINES", "lines", f"请填写 1–{MAX_LINES} 行")
    session.execute(delete(FundPlanLine).where(FundPlanLine.instance_id == instance.id))
    seen, total = set(), Decimal(0)
    for n, line in enumerate(lines, 1):
        field = f"lines.{n - 1}"
        indicator = indicator_by_code(session, str(line.get("indicator_code", "")).strip(), for_org=instance.org_id,
                                      field=f"{field}.indicator_code")
        if indicator.id in seen:
            raise refuse("DUPLICATE_LINE", f"{field}.indicator_code", f"第 {n} 行：指标 {indicator.code} 重复")
        seen.add(indicator.id)
        if indicator.fiscal_year != month.year:
            raise refuse("WRONG_YEAR", f"{field}.indicator_code",
                         f"第 {n} 行：指标 {indicator.code} 属于 {indicator.fiscal_year} 年度，不能用于 {month:%Y-%m}")
        amount = money(line.get("amount"), f"第 {n} 行金额", f"{field}.amount")
        available = ledger.balances(session, indicator.id).available
        if amount > available:
            raise refuse("OVER_AVAILABLE", f"{field}.amount",
                         f"第 {n} 行：计划 {amount:,.2f} 元超过指标 {indicator.code} 的可用额度 {available:,.2f} 元")
        session.add(FundPlanLine(instance_id=instance.id, org_id=instance.org_id, indicator_id=indicator.id,
                                 month=month, applied_amount=amount, status="applied"))
        total += amount
    return {"month": f"{month:%Y-%m}", "total": str(total), "lines": len(lines)}


def approve_plan(call: ServiceCall) -> dict:
    """fund_plan.reserve: the approved amounts become the month's plan quota (for plan-controlled indicators)."""
    session = session_of(call)
    cuts = call.data.get("approved_amounts") or {}
    if not isinstance(cuts, dict):
        raise ServiceError("BAD_APPROVED", "核定金额须按指标编码填写")
    lines = session.scalars(select(FundPlanLine).where(FundPlanLine.instance_id == call.context.instance_id)
                            .order_by(FundPlanLine.id)).all()
    granted = Decimal(0)
    for line in lines:
        indicator = session.get(Indicator, line.indicator_id)
        approved = line.applied_amount
        if indicator.code in cuts:
            approved = money(cuts[indicator.code], f"指标 {indicator.code} 的核定金额", "approved_amounts")
            if approved > line.applied_amount:
                raise refuse("OVER_APPLIED", "approved_amounts",
                             f"指标 {indicator.code} 的核定金额不能超过申请金额 {line.applied_amount:,.2f} 元")
        line.approved_amount, line.status = approved, "approved"
        if indicator.plan_controlled:
            ledger.plan_grant(session, indicator, line.month, approved, key=f"{call.idempotency_key}:{line.id}",
                              now=call.context.now, instance_id=line.instance_id, actor_id=call.context.actor_id)
        granted += approved
    return {"approved": str(granted), "lines": len(lines)}


def on_closed(session, instance, status, now) -> None:
    """A rejected or withdrawn plan's lines are rejected."""
    for line in session.scalars(select(FundPlanLine).where(FundPlanLine.instance_id == instance.id,
                                                           FundPlanLine.status == "applied")):
        line.status = "rejected"

