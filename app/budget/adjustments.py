"""预算调剂 and 预算调整: moving budget between indicators, or changing the total.

- 调剂 (reallocation, total unchanged): from an indicator to another one, or to a new indicator for
  another subject of the unit's projects. The amount is held on the source (冻结) while the request is
  reviewed, so it cannot be spent twice; it moves when the request is approved.
- 调整 (adjustment, the total changes): an increase of an indicator, a new indicator (追加), or a
  decrease (追减). Only after 镇人大 approved it (C08, 预算法 第六十七、六十九条): `adjustment.execute`
  refuses otherwise, whatever the diagram says.
"""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import ledger
from app.budget import checks
from app.budget.common import (
    indicator_by_code,
    instance_of,
    local_year,
    money,
    refuse,
    session_of,
    township_of,
    undone_by,
)
from app.budget.declarations import MAX_LINES, _codes, _project_for, new_indicator
from app.controls import rules
from app.controls.settings import settings_for
from app.engine import ServiceCall, ServiceError
from app.models import (
    AdjustmentKind,
    AdjustmentLine,
    BudgetLine,
    HumanTask,
    Indicator,
    IndicatorSource,
    LedgerTransfer,
    LineStatus,
    ProcessInstance,
    Role,
    TaskState,
    TransferKind,
)

DIRECTIONS = {"increase", "decrease"}


def _new_line(session: Session, instance: ProcessInstance, year: int, line: dict, n: int,
              amount: Decimal) -> BudgetLine:
    """A line for a new indicator (a 调剂 to another subject, or a 追加 for a project)."""
    project = _project_for(session, str(line.get("project_code", "")).strip(), instance.org_id, year,
                           f"lines.{n - 1}.project_code")
    budget_line = BudgetLine(instance_id=instance.id, project_id=project.id, org_id=instance.org_id, fiscal_year=year,
                             amount=amount, status=LineStatus.DECLARED, earmarked=bool(line.get("earmarked")),
                             plan_controlled=bool(line.get("plan_controlled")), **_codes(session, line, n))
    session.add(budget_line)
    session.flush()
    return budget_line


def _read_line(session: Session, instance: ProcessInstance, kind: str, line: dict, n: int) -> AdjustmentLine:
    field = f"lines.{n - 1}"
    amount = money(line.get("amount"), f"第 {n} 行金额", f"{field}.amount")
    source = target = budget_line = None
    if kind == AdjustmentKind.REALLOCATION or line.get("direction") == "decrease":
        source = indicator_by_code(session, str(line.get("from_indicator", "")).strip(), for_org=instance.org_id,
                                   field=f"{field}.from_indicator")
    if kind == AdjustmentKind.ADJUSTMENT and line.get("direction") not in DIRECTIONS:
        raise refuse("BAD_DIRECTION", f"{field}.direction",
                     f"第 {n} 行：调整方向须为 increase（追加）或 decrease（追减）")
    if kind == AdjustmentKind.REALLOCATION or line.get("direction") == "increase":
        year = source.fiscal_year if source is not None else int(line.get("fiscal_year") or 0)
        if line.get("to_indicator"):
            target = indicator_by_code(session, str(line["to_indicator"]).strip(), for_org=instance.org_id,
                                       field=f"{field}.to_indicator")
        elif line.get("project_code"):
            if not year:
                raise refuse("NO_YEAR", f"{field}.fiscal_year", f"第 {n} 行：追加新指标须填写预算年度")
            budget_line = _new_line(session, instance, year, line, n, amount)
        else:
            raise refuse("NO_TARGET", f"{field}.to_indicator", f"第 {n} 行：请填写调入指标，或新指标的项目和科目")
    if source is not None and target is not None and source.id == target.id:
        raise refuse("SAME_INDICATOR", f"{field}.to_indicator", f"第 {n} 行：调出和调入不能是同一指标")
    return AdjustmentLine(instance_id=instance.id, kind=kind, amount=amount, status="declared",
                          from_indicator_id=source.id if source else None,
                          to_indicator_id=target.id if target else None,
                          budget_line_id=budget_line.id if budget_line else None)


def record_adjustment(call: ServiceCall) -> dict:
    """adjustment.record: the request's lines, checked; for a 调剂 or 追减 the amount is held on the source."""
    session, data, instance = session_of(call), call.data, instance_of(call)
    kind = data.get("kind")
    if kind not in set(AdjustmentKind):
        raise refuse("BAD_KIND", "kind", "类型须为 reallocation（调剂）或 adjustment（调整）")
    lines = data.get("lines")
    if not isinstance(lines, list) or not 1 <= len(lines) <= MAX_LINES:
        raise refuse("NO_LINES", "lines", f"请填写 1–{MAX_LINES} 行")
    # A resubmission after a return starts afresh; a retried run of this same call keeps its own holds.
    release_holds(session, instance, call.context.now, keep_key=call.idempotency_key)
    session.execute(delete(AdjustmentLine).where(AdjustmentLine.instance_id == instance.id))
    session.execute(delete(BudgetLine).where(BudgetLine.instance_id == instance.id,
                                             BudgetLine.status == LineStatus.DECLARED))
    rows = [_read_line(session, instance, kind, line, n) for n, line in enumerate(lines, 1)]
    session.add_all(rows)
    session.flush()
    settings = settings_for(session, township_of(session, instance.org_id).id)
    new_lines = session.scalars(select(BudgetLine).where(BudgetLine.instance_id == instance.id,
                                                         BudgetLine.status == LineStatus.DECLARED)).all()
    verdicts = checks.line_verdicts(session, new_lines, instance.org_id, settings)
    for row in rows:
        if row.kind == AdjustmentKind.REALLOCATION:
            source = session.get(Indicator, row.from_indicator_id)
            target = session.get(Indicator, row.to_indicator_id) if row.to_indicator_id else None
            line = session.get(BudgetLine, row.budget_line_id) if row.budget_line_id else None
            verdicts += checks.reallocation_verdicts(
                session, source, target.project_id if target else line.project_id, row.amount,
                target.code if target else None, settings)
    verdicts = checks.merge_by_rule(verdicts)
    checks.store(session, call, verdicts)
    checks.outcome_of(verdicts, "submit")
    for n, row in enumerate(rows, 1):
        if row.from_indicator_id is not None:
            source = session.get(Indicator, row.from_indicator_id)
            ledger.freeze(session, source, row.amount, key=f"{call.idempotency_key}:hold:{n}", now=call.context.now,
                          instance_id=instance.id, actor_id=call.context.actor_id, memo="调剂/调减审批中，暂扣额度")
    total = sum((r.amount for r in rows), Decimal(0))
    return {"kind": kind, "total": str(total), "lines": len(rows)}


def _holds(session: Session, instance_id: int) -> list[LedgerTransfer]:
    """The freezes this request holds that are not yet given back."""
    freezes = session.scalars(select(LedgerTransfer).where(
        LedgerTransfer.instance_id == instance_id, LedgerTransfer.kind == TransferKind.FREEZE)).all()
    released = set(session.scalars(select(LedgerTransfer.idempotency_key).where(
        LedgerTransfer.instance_id == instance_id, LedgerTransfer.kind == TransferKind.UNFREEZE)).all())
    return [f for f in freezes if f"unhold-of:{f.id}" not in released]


def release_holds(session: Session, instance: ProcessInstance, now: datetime, *,
                  only_undone_by: list[str] | None = None, keep_key: str | None = None) -> None:
    """Give back what the request holds (keyed per hold: running twice releases once)."""
    for hold in _holds(session, instance.id):
        if only_undone_by is not None and not undone_by(hold.idempotency_key, only_undone_by):
            continue
        if keep_key is not None and hold.idempotency_key.startswith(f"{keep_key}:"):
            continue
        indicator = session.get(Indicator, _indicator_of_hold(session, hold))
        ledger.unfreeze(session, indicator, hold.amount, key=f"unhold-of:{hold.id}", now=now, instance_id=instance.id)


def _indicator_of_hold(session: Session, hold: LedgerTransfer) -> int:
    from app.models import LedgerAccount

    return session.get(LedgerAccount, hold.debit_account_id).indicator_id


def _congress_on_path(session: Session, instance_id: int, data: dict) -> bool:
    """镇人大 decided on this request: its step was opened here (and is being, or was, approved now — a
    rejection ends the request) and recorded its resolution number."""
    opened = session.scalar(select(HumanTask.id).where(
        HumanTask.instance_id == instance_id, HumanTask.role == Role.CONGRESS,
        HumanTask.state.in_((TaskState.READY, TaskState.COMPLETED))).limit(1))
    return opened is not None and bool(str(data.get("resolution_no") or "").strip())


def _check_congress(session: Session, call: ServiceCall, rows: list[AdjustmentLine]) -> None:
    """C08 before an adjustment changes the total, stored with the request like every control result."""
    instance = instance_of(call)
    township = township_of(session, instance.org_id)
    known = session.get(Indicator, rows[0].from_indicator_id or rows[0].to_indicator_id or 0)
    year = known.fiscal_year if known is not None else local_year(call.context.now)
    before = ledger.township_balances(session, township.id, year)
    decrease = [r for r in rows if r.from_indicator_id and not (r.to_indicator_id or r.budget_line_id)]
    change = sum((-r.amount if r in decrease else r.amount for r in rows), Decimal(0))
    verdicts = rules.check_adjustment(rules.AdjustmentFacts(
        total_before=before.allotted, total_after=before.allotted + change,
        path_has_congress=_congress_on_path(session, instance.id, call.data)), settings_for(session, township.id))
    checks.store(session, call, verdicts)
    checks.outcome_of(verdicts, "pay")


def execute_adjustment(call: ServiceCall) -> dict:
    """adjustment.execute: approved: give back the holds and move the money (调剂) or change the total (调整)."""
    session, now, instance_id = session_of(call), call.context.now, call.context.instance_id
    rows = session.scalars(select(AdjustmentLine).where(AdjustmentLine.instance_id == instance_id)
                           .order_by(AdjustmentLine.id)).all()
    if not rows:
        raise ServiceError("NO_LINES", "本申请没有调剂/调整明细")
    if rows[0].kind == AdjustmentKind.ADJUSTMENT:
        _check_congress(session, call, rows)
    release_holds(session, instance_of(call), now)
    extra = dict(instance_id=instance_id, actor_id=call.context.actor_id)
    done = []
    for row in rows:
        if row.status == "executed":
            continue
        key = f"{call.idempotency_key}:{row.id}"
        source = session.get(Indicator, row.from_indicator_id) if row.from_indicator_id else None
        target = session.get(Indicator, row.to_indicator_id) if row.to_indicator_id else None
        if row.budget_line_id is not None:
            line = session.get(BudgetLine, row.budget_line_id)
            origin = (IndicatorSource.REALLOCATION if row.kind == AdjustmentKind.REALLOCATION
                      else IndicatorSource.ADDITION)
            target = new_indicator(session, line, source=origin, doc_no=call.data.get("doc_no"), now=now,
                                   instance_id=instance_id)
            row.to_indicator_id = target.id
            if source is None:  # 追加 a new indicator: registered and released like an approved line
                ledger.register(session, target, row.amount, key=f"{key}:register", now=now, **extra)
                ledger.allocate(session, target, row.amount, key=f"{key}:allocate", now=now, **extra)
        if source is not None and target is not None:
            ledger.reallocate(session, source, target, row.amount, key=key, now=now, **extra)
        elif target is not None and row.budget_line_id is None:
            ledger.adjust(session, target, row.amount, key=key, now=now, **extra)
        elif source is not None:
            ledger.adjust(session, source, -row.amount, key=key, now=now, **extra)
        row.status = "executed"
        done.append(row.id)
    return {"executed": len(done)}


def route_adjustment(call: ServiceCall) -> dict:
    """adjustment.route: does this 调剂 need the Party committee (三重一大)? From the township's threshold."""
    session = session_of(call)
    instance = instance_of(call)
    rows = session.scalars(select(AdjustmentLine).where(AdjustmentLine.instance_id == instance.id)).all()
    total = sum((r.amount for r in rows), Decimal(0))
    settings = settings_for(session, township_of(session, instance.org_id).id)
    threshold = Decimal(str(settings["collective_decision"]["amount"]))
    return {"collective": total >= threshold, "total": str(total), "threshold": str(threshold)}


def on_closed(session: Session, instance: ProcessInstance, status: str, now: datetime) -> None:
    """Rejected or withdrawn: the held amounts go back; the lines are marked rejected."""
    release_holds(session, instance, now)
    for row in session.scalars(select(AdjustmentLine).where(AdjustmentLine.instance_id == instance.id,
                                                            AdjustmentLine.status == "declared")):
        row.status = "rejected"


def on_rewound(session: Session, instance: ProcessInstance, removed: list[str], now: datetime) -> None:
    """Sent back to before the holds were taken: give them back; resubmitting takes them again."""
    release_holds(session, instance, now, only_undone_by=removed)
