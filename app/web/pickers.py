"""Pickers of the form widgets: small HTML lists a search box fetches (htmx), one button per choice.

GET /pick/indicators?q=&org=   the indicators the user sees (the same scope as GET /api/v1/indicators),
                               with project, codes and 可用 balance;
GET /pick/projects?q=&org=     the 项目库's projects in the library the user sees (as GET /api/v1/projects);
GET /pick/codes/<kind>?q=      active codes of one table at the level a budget line uses; an 部门预算经济分类
                               shows the 政府预算经济分类 it maps to (C15).
The choice buttons carry the code in data-value; static/pickers.js puts it into the field.
"""
from dataclasses import dataclass
from decimal import Decimal

from flask import abort, render_template, request
from sqlalchemy import func, or_, select

from app import ledger
from app.api.budget import indicators_seen, org_code_is, projects_seen
from app.auth.request import load_user
from app.extensions import db
from app.models import Indicator, Project, ProjectStatus, RefCode, RefKind
from app.models.refdata import REF_KIND_NAMES
from app.refdata.rules import LEAF_LENGTH
from app.web import bp

LIMIT = 20
MAX_QUERY = 60


@dataclass(frozen=True)
class Choice:
    value: str  # what goes into the field
    label: str  # what the user reads first
    detail: str = ""  # project, codes, the C15 mapping…
    available: Decimal | None = None  # an indicator's 可用 balance


def _query_text() -> str:
    return (request.args.get("q") or "").strip()[:MAX_QUERY]


def _fragment(choices: list[Choice], what: str):
    return render_template("_pick_options.html", choices=choices, what=what, query=_query_text())


@bp.get("/pick/indicators")
def pick_indicators():
    session, user = db.session, load_user()
    query = indicators_seen(session, user)
    if org := (request.args.get("org") or "").strip():
        query = query.where(org_code_is(Indicator.org_id, org))
    if text := _query_text():
        project_ids = select(Project.id).where(or_(Project.name.icontains(text, autoescape=True),
                                                   Project.code.icontains(text, autoescape=True)))
        query = query.where(or_(Indicator.code.icontains(text, autoescape=True),
                                Indicator.func_code.startswith(text, autoescape=True),
                                Indicator.econ_dept_code.startswith(text, autoescape=True),
                                Indicator.project_id.in_(project_ids)))
    indicators = session.scalars(query.order_by(Indicator.fiscal_year.desc(), Indicator.code, Indicator.id)
                                 .limit(LIMIT)).all()
    balances = ledger.balances_many(session, [i.id for i in indicators])
    return _fragment([_indicator_choice(i, balances[i.id].available) for i in indicators], "指标")


def _indicator_choice(indicator: Indicator, available) -> Choice:
    project = indicator.project
    return Choice(
        value=indicator.code, label=f"{project.name if project else '（无项目）'}",
        detail=(f"{indicator.code} · {indicator.fiscal_year} 年 · 功能 {indicator.func_code} · "
                f"经济 {indicator.econ_dept_code} · 资金 {indicator.fund_nature_code}"),
        available=available)


@bp.get("/pick/projects")
def pick_projects():
    session, user = db.session, load_user()
    query = projects_seen(session, user).where(Project.status == ProjectStatus.IN_LIBRARY)
    if org := (request.args.get("org") or "").strip():
        query = query.where(org_code_is(Project.org_id, org))
    if text := _query_text():
        query = query.where(or_(Project.name.icontains(text, autoescape=True),
                                Project.code.icontains(text, autoescape=True)))
    projects = session.scalars(query.order_by(Project.code, Project.id).limit(LIMIT)).all()
    return _fragment([Choice(p.code, p.name, f"{p.code} · {p.start_year}–{p.end_year} 年") for p in projects],
                     "项目")


@bp.get("/pick/codes/<kind>")
def pick_codes(kind):
    if kind not in {k.value for k in RefKind}:
        abort(404)
    session = db.session
    query = select(RefCode).where(RefCode.kind == kind, RefCode.active.is_(True))
    if kind in LEAF_LENGTH:  # a budget line is coded at 项 (功能分类) or 款 (经济分类) level
        query = query.where(func.length(RefCode.code) == LEAF_LENGTH[kind])
    else:
        parents = select(RefCode.parent_code).where(RefCode.kind == kind, RefCode.active.is_(True),
                                                    RefCode.parent_code.is_not(None))
        query = query.where(RefCode.code.not_in(parents))
    if text := _query_text():
        query = query.where(or_(RefCode.code.startswith(text, autoescape=True),
                                RefCode.name.icontains(text, autoescape=True)))
    rows = session.scalars(query.order_by(RefCode.code).limit(LIMIT)).all()
    return _fragment([Choice(r.code, f"{r.code} {r.name}", _mapping(session, r)) for r in rows],
                     REF_KIND_NAMES.get(kind, "代码"))


def _mapping(session, row: RefCode) -> str:
    """An 部门预算经济分类 款 with its 政府预算经济分类 (C15): the line is coded with both."""
    if row.kind != RefKind.ECON_DEPT:
        return ""
    if not row.gov_code:
        return "对照表中没有对应的政府预算经济分类"
    name = session.scalar(select(RefCode.name).where(RefCode.kind == RefKind.ECON_GOV,
                                                     RefCode.code == row.gov_code))
    return f"对应政府预算经济分类 {row.gov_code} {name or ''}".rstrip()
