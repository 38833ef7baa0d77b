"""预算申报 and 批复: a unit declares budget lines from its projects; once approved they become indicators.

一上: the unit declares; 一下: the finance office may set a control figure (控制数); 二上: the unit
revises within it; then the review chain (budget_review) and 批复: each approved line becomes an
indicator registered in the ledger (→ 待分) and released to the unit (→ 可执行).
"""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app import ledger, refdata
from app.budget import checks
from app.budget.common import instance_of, local_year, money, refuse, session_of, township_of
from app.controls.settings import settings_for
from app.engine import ServiceCall, ServiceError
from app.models import (
    BudgetLine,
    Indicator,
    IndicatorSource,
    LineStatus,
    ProcessInstance,
    Project,
    ProjectStatus,
)

MAX_LINES = 200
FLAGS = ("earmarked", "plan_controlled")
# 三保 (wages, running costs, basic livelihood) follows the project category: 人员类 and 运转类 (C16).
THREE_GUARANTEES_CATEGORIES = ("1", "2")


def _project_for(session: Session, code: str, org_id: int, year: int, field: str) -> Project:
    project = session.scalar(select(Project).where(Project.code == code))
    # Another unit's project is answered as a missing one (its status included): codes reveal nothing.
    if project is None or project.org_id != org_id:
        raise refuse("NO_PROJECT", field,
                     f"项目 {code or '（空）'} 不在项目库中或不属于本单位：先有项目，再有预算（C02）")
    if project.status != ProjectStatus.IN_LIBRARY:
        raise refuse("PROJECT_NOT_IN_LIBRARY", field, f"项目 {code} 尚未入库（{project.status}），不能编列预算（C02）")
    if not project.start_year <= year <= project.end_year:
        raise refuse("PROJECT_OUT_OF_TERM", field,
                     f"项目 {code} 的期限是 {project.start_year}–{project.end_year} 年，不含 {year} 年")
    return project


def _codes(session: Session, line: dict, n: int) -> dict:
    """The line's codes, checked against the code tables; the government code follows the mapping (C15)."""
    dept = str(line.get("econ_dept_code", "")).strip()
    gov = refdata.gov_code_for(session, dept)
    codes = {"func_code": str(line.get("func_code", "")).strip(), "econ_dept_code": dept,
             "econ_gov_code": gov, "fund_nature_code": str(line.get("fund_nature_code", "")).strip()}
    problems = refdata.check_codes(session, **codes)
    if problems:
        details = {f"data.lines.{n - 1}.{f}": msgs for f, msgs in problems.items()}
        first = next(iter(problems.values()))[0]
        raise ServiceError("BAD_CODE", f"第 {n} 行：{first}", details)
    if gov is None:
        raise refuse("NO_C15_MAPPING", f"lines.{n - 1}.econ_dept_code",
                     f"第 {n} 行：部门预算经济分类 {dept} 没有对应的政府预算经济分类（C15）")
    return codes


def declared_before(session: Session, project_id: int, instance_id: int) -> Decimal:
    """What other requests already declared or got approved for the project (all years)."""
    return session.scalar(select(func.coalesce(func.sum(BudgetLine.amount), 0)).where(
        BudgetLine.project_id == project_id, BudgetLine.instance_id != instance_id,
        BudgetLine.status.in_((LineStatus.DECLARED, LineStatus.APPROVED))))


def record_lines(call: ServiceCall) -> dict:
    """budget.record_lines: the declaration's lines, checked; again after a revision or a return."""
    session, data, instance = session_of(call), call.data, instance_of(call)
    year = int(data.get("fiscal_year") or local_year(call.context.now) + 1)
    lines = data.get("lines")
    if not isinstance(lines, list) or not 1 <= len(lines) <= MAX_LINES:
        raise refuse("NO_LINES", "lines", f"请填写 1–{MAX_LINES} 行预算")
    session.execute(delete(BudgetLine).where(BudgetLine.instance_id == instance.id,
                                             BudgetLine.status == LineStatus.DECLARED))
    per_project: dict[int, Decimal] = {}
    total = Decimal(0)
    for n, line in enumerate(lines, 1):
        project = _project_for(session, str(line.get("project_code", "")).strip(), instance.org_id, year,
                               f"lines.{n - 1}.project_code")
        amount = money(line.get("amount"), f"第 {n} 行金额", f"lines.{n - 1}.amount")
        per_project[project.id] = per_project.get(project.id, Decimal(0)) + amount
        session.add(BudgetLine(instance_id=instance.id, project_id=project.id, org_id=instance.org_id,
                               fiscal_year=year, amount=amount, status=LineStatus.DECLARED,
                               **_codes(session, line, n), **{f: bool(line.get(f)) for f in FLAGS}))
        total += amount
    for project_id, amount in per_project.items():
        project = session.get(Project, project_id)
        if declared_before(session, project_id, instance.id) + amount > project.total_amount:
            raise refuse("OVER_PROJECT", "lines", f"项目 {project.code} 的申报合计超过项目总金额 "
                                                  f"{project.total_amount:,.2f} 元")
    session.flush()
    rows = session.scalars(select(BudgetLine).where(BudgetLine.instance_id == instance.id,
                                                    BudgetLine.status == LineStatus.DECLARED)).all()
    verdicts = checks.line_verdicts(session, rows, instance.org_id,
                                    settings_for(session, township_of(session, instance.org_id).id))
    verdicts = checks.merge_by_rule(verdicts)
    checks.store(session, call, verdicts)
    checks.outcome_of(verdicts, "submit")
    return {"fiscal_year": year, "total": str(total), "lines": len(lines)}


def compare_control(call: ServiceCall) -> dict:
    """budget.compare_control (一下): is the declaration over the finance office's control figure?"""
    session = session_of(call)
    total = session.scalar(select(func.coalesce(func.sum(BudgetLine.amount), 0)).where(
        BudgetLine.instance_id == call.context.instance_id, BudgetLine.status == LineStatus.DECLARED))
    control = call.data.get("control_amount")
    if control in (None, ""):
        return {"over": False, "total": str(total), "control": None}
    control = money(control, "控制数", "control_amount")
    return {"over": total > control, "total": str(total), "control": str(control)}


def new_indicator(session: Session, line: BudgetLine, *, source: str, doc_no: str | None, now: datetime,
                  instance_id: int) -> Indicator:
    """The indicator an approved line becomes (registered and allocated by the caller)."""
    township = township_of(session, line.org_id)
    indicator = Indicator(
        code=f"NEW-{line.id}", fiscal_year=line.fiscal_year, township_id=township.id, org_id=line.org_id,
        project_id=line.project_id, func_code=line.func_code, econ_dept_code=line.econ_dept_code,
        econ_gov_code=line.econ_gov_code, fund_nature_code=line.fund_nature_code, source=source,
        doc_no=doc_no, amount=line.amount, earmarked=line.earmarked, plan_controlled=line.plan_controlled,
        three_guarantees=line.project.category_code.startswith(THREE_GUARANTEES_CATEGORIES),
        instance_id=instance_id, created_at=now)
    session.add(indicator)
    session.flush()
    indicator.code = f"{township.code}{line.fiscal_year}ZB{indicator.id:08d}"  # BGT_ID
    line.indicator_id, line.status = indicator.id, LineStatus.APPROVED
    return indicator


def release_line(session: Session, line: BudgetLine, call: ServiceCall, *, source: str,
                 doc_no: str | None) -> Indicator:
    """批复下达: the line becomes an indicator: registered (→ 待分) and allocated to the unit (→ 可执行)."""
    if line.indicator_id is not None:
        return session.get(Indicator, line.indicator_id)  # a retried step: released already
    indicator = new_indicator(session, line, source=source, doc_no=doc_no, now=call.context.now,
                              instance_id=call.context.instance_id)
    extra = dict(instance_id=call.context.instance_id, actor_id=call.context.actor_id)
    key = f"{call.idempotency_key}:{line.id}"
    ledger.register(session, indicator, line.amount, key=f"{key}:register", now=call.context.now, **extra)
    ledger.allocate(session, indicator, line.amount, key=f"{key}:allocate", now=call.context.now, **extra)
    return indicator


def approve_lines(call: ServiceCall) -> dict:
    """budget.approve_lines (批复): every declared line of the request becomes an executable indicator."""
    session = session_of(call)
    doc_no = str(call.data.get("doc_no") or "").strip()[:100] or None
    lines = session.scalars(select(BudgetLine).where(BudgetLine.instance_id == call.context.instance_id)
                            .order_by(BudgetLine.id)).all()
    if not lines:
        raise ServiceError("NO_LINES", "本申请没有预算行")
    indicators = [release_line(session, line, call, source=IndicatorSource.ANNUAL, doc_no=doc_no)
                  for line in lines if line.status != LineStatus.REJECTED]
    return {"indicators": [i.code for i in indicators], "doc_no": doc_no}


def on_closed(session: Session, instance: ProcessInstance, status: str, now: datetime) -> None:
    """A rejected or withdrawn declaration's lines are rejected (the project may be declared again)."""
    lines = session.scalars(select(BudgetLine).where(BudgetLine.instance_id == instance.id,
                                                     BudgetLine.status == LineStatus.DECLARED)).all()
    for line in lines:
        line.status = LineStatus.REJECTED
