"""Pickers of the form widgets: small HTML lists a search box fetches (htmx), one button per choice.

GET /pick/indicators?q=&org=   the indicators the user sees (the same scope as GET /api/v1/indicators),
                               with project, codes and 可用 balance;
GET /pick/projects?q=&org=     the 项目库's projects in the library the user sees (as GET /api/v1/projects);
GET /pick/codes/<kind>?q=      active codes of one table at the level a budget line uses; an 部门预算经济分类
                               shows the 政府预算经济分类 it maps to (C15);
GET /pick/people?task=&op=&q=  the people a task's 转办/委派/加签/抄送 may name (app/approvals/targets.py),
                               by Chinese name, pinyin initials or login name; the refused with the reason.
The choice buttons carry the code in data-value; static/pickers.js puts it into the field.
"""
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from flask import abort, render_template, request
from pypinyin import Style, lazy_pinyin
from sqlalchemy import func, or_, select

from app import ledger
from app.api.budget import indicators_seen, org_code_is, projects_seen
from app.approvals import targets
from app.auth.request import load_user
from app.extensions import db
from app.inbox.visibility import can_see_instance
from app.models import (
    ROLE_NAMES,
    HumanTask,
    Indicator,
    Org,
    ProcessInstance,
    Project,
    ProjectStatus,
    RefCode,
    RefKind,
    RoleGrant,
    User,
)
from app.models.refdata import REF_KIND_NAMES
from app.refdata.rules import LEAF_LENGTH
from app.runtime import runtime
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


# --- people ------------------------------------------------------------------------------------------

PERSON_OPS = {"transfer", "delegate", "signers", "cc"}


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    where: str  # roles and orgs, to tell two 王经办 apart
    refused: str | None  # why the operation does not offer them (C17, the applicant, oneself)


@bp.get("/pick/people")
def pick_people():
    """The people a task's operation may name (转办, 委派, 加签, 抄送), searched by Chinese name, pinyin
    initials (zzr for 周主任) or login name; those the rules refuse are listed with the reason."""
    session, user = db.session, load_user()
    op = request.args.get("op", "")
    task = session.get(HumanTask, request.args.get("task", type=int) or 0)
    if op not in PERSON_OPS or task is None or not can_see_instance(session, user, task.instance_id):
        abort(404)
    instance = session.get(ProcessInstance, task.instance_id)
    # Rows, not entities: a township has hundreds of people and the search runs on each keystroke.
    people = session.execute(select(User.id, User.username, User.display_name)
                             .where(User.active.is_(True), targets.in_scope(session, instance))).all()
    text = _query_text().lower()
    matching = sorted((p for p in people if not text or _matches(p, text)),
                      key=lambda p: _pinyin(p.display_name)[1])[:LIMIT]  # in pinyin order, as a phone book
    deciders = set() if op == "cc" or _same_approver_allowed(session, instance) \
        else targets.deciders_of(session, instance, task.bpmn_id)
    where = _where(session, [p.id for p in matching])
    found = [Person(p.username, p.display_name, where.get(p.id, ""), _refusal(op, p, user, instance, deciders))
             for p in matching]
    return render_template("_pick_people.html", people=found, query=_query_text(), multi=op in ("signers", "cc"))


def _refusal(op: str, person, user: User, instance, deciders: set[int]) -> str | None:
    if op == "cc":
        return "不能抄送给自己" if person.id == user.id else None
    return targets.why_not(person, user, instance, deciders)


def _same_approver_allowed(session, instance) -> bool:
    deployed = runtime().catalog.get(session, instance.definition_id, instance.called_definition_ids)
    return deployed.bundle.model.properties.get("allow_same_approver") == "true"


@lru_cache(maxsize=4096)
def _pinyin(name: str) -> tuple[str, str]:
    """(initials, full pinyin) of a Chinese name: 周主任 -> ("zzr", "zhouzhuren")."""
    return ("".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower(), "".join(lazy_pinyin(name)).lower())


def _matches(person, text: str) -> bool:
    initials, full = _pinyin(person.display_name)
    return (text in person.display_name.lower() or person.username.lower().startswith(text)
            or initials.startswith(text) or full.startswith(text))


def _where(session, user_ids: list[int]) -> dict[int, str]:
    """Each person's roles and orgs ("经办人（农业农村办）"), to tell two 王经办 apart."""
    found: dict[int, list[str]] = {}
    for user_id, role, org in session.execute(select(RoleGrant.user_id, RoleGrant.role, Org.name)
                                              .join(Org, Org.id == RoleGrant.org_id)
                                              .where(RoleGrant.user_id.in_(user_ids)).order_by(RoleGrant.id)):
        found.setdefault(user_id, []).append(f"{ROLE_NAMES.get(role, role)}（{org}）")
    return {user_id: "、".join(names) for user_id, names in found.items()}
