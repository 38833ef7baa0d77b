"""The budget's read side: the project library, indicators with their balances, payments.

Who sees what (anything else answers 404, as for requests):
- the oversight roles (app/inbox/visibility.py), the finance office (审核, 国库支付), the township's leaders,
  its party committee and congress see the budget of everything under the org they hold the role at: the
  whole township, or the whole county for a county role such as 审计;
- anyone else (经办人, 流程管理员) sees the budget of the unit they work in, and nothing from a grant above it;
- a payment is also visible to whoever may see its request (they took part in it, or it was copied to them).
Balances come from the ledger (app/ledger) in one statement per page, never one per indicator.
"""
from collections import defaultdict

from flask import request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from app import clock, ledger
from app.api import Blueprint
from app.api.budget_schemas import (
    IndicatorDetail,
    IndicatorListArgs,
    IndicatorPage,
    PaymentOut,
    ProjectDetail,
    ProjectListArgs,
    ProjectPage,
)
from app.approvals.errors import NotFound
from app.auth.request import load_user
from app.budget.common import local_year
from app.extensions import db
from app.inbox.present import org_ref
from app.inbox.visibility import can_see_instance
from app.ledger import KIND_NAMES, TRANSFER_NAMES, Balances
from app.ledger.queries import ZERO
from app.models import (
    OVERSIGHT_ROLES,
    AccountKind,
    BankBatch,
    BudgetLine,
    Indicator,
    LedgerAccount,
    Org,
    OrgKind,
    Payment,
    Project,
    Role,
    TransferKind,
    User,
    Voucher,
)

bp = Blueprint("budget", __name__, url_prefix="/api/v1", description="项目库、预算指标与余额、支付")

# Who reads the budget of everything under the org where they hold the role (besides the oversight roles).
BUDGET_READERS = OVERSIGHT_ROLES | {
    Role.FINANCE_REVIEWER, Role.TREASURY, Role.DEPUTY_HEAD, Role.FINANCE_DEPUTY, Role.TOWNSHIP_HEAD,
    Role.PARTY_SECRETARY, Role.PARTY_COMMITTEE, Role.CONGRESS,
}
BALANCE_FIELDS = ("allotted", "used", "paid", "in_flight", "frozen", "available", "unallocated", "carried")
PLAN_KINDS = {AccountKind.PLAN_AVAILABLE: "available", AccountKind.PLAN_IN_FLIGHT: "in_flight",
              AccountKind.PLAN_USED: "used"}


# --- scope -------------------------------------------------------------------------------------------------

def scope_paths(session: Session, user: User) -> set[str]:
    """The org subtrees (paths) whose budget the user reads."""
    paths = set()
    for grant in user.grants:
        org = grant.org
        if grant.role in BUDGET_READERS or org.kind == OrgKind.UNIT:
            paths.add(org.path)
        elif org.kind == OrgKind.OFFICE:  # someone in a 科室 works for the unit around it
            parent = session.get(Org, org.parent_id)
            paths.add(parent.path if parent is not None and parent.kind == OrgKind.UNIT else org.path)
    return paths


def visible_org_ids(session: Session, user: User) -> frozenset[int]:
    """Ids of the orgs whose projects, indicators and payments the user sees (once per request)."""
    cached = getattr(request, "township_budget_orgs", None)
    if cached is not None and cached[0] == user.id:
        return cached[1]
    paths = scope_paths(session, user)
    ids = frozenset(session.scalars(select(Org.id).where(or_(*(Org.path.like(p + "%") for p in paths))))) \
        if paths else frozenset()
    request.township_budget_orgs = (user.id, ids)
    return ids


def user_townships(session: Session, user: User) -> list[Org]:
    """The townships the user's grants sit in (a county grant sits in none)."""
    ancestors = {i for grant in user.grants for i in grant.org.ancestor_ids()}
    if not ancestors:
        return []
    return list(session.scalars(select(Org).where(Org.id.in_(ancestors), Org.kind == OrgKind.TOWNSHIP)
                                .order_by(Org.id)))


def this_year() -> int:
    return local_year(clock.now())


def page_of(session: Session, query, page: int, per_page: int) -> dict:
    """One page and the total in one statement (a window count), as the inbox does."""
    rows = session.execute(query.add_columns(func.count().over().label("total"))
                           .limit(per_page).offset((page - 1) * per_page)).all()
    total = rows[0].total if rows else 0
    if not rows and page > 1:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return {"items": [row[0] for row in rows], "total": total, "page": page, "per_page": per_page}


def org_code_is(column, code: str):
    return column == select(Org.id).where(Org.code == code).scalar_subquery()


def indicators_seen(session: Session, user: User):
    """The indicators the user sees, org and project loaded: GET /indicators and the pages' picker."""
    return (select(Indicator)
            .options(joinedload(Indicator.org).load_only(Org.id, Org.code, Org.name),
                     joinedload(Indicator.project).load_only(Project.id, Project.code, Project.name))
            .where(Indicator.org_id.in_(visible_org_ids(session, user))))


def projects_seen(session: Session, user: User):
    """The projects of the 项目库 the user sees: GET /projects and the pages' picker."""
    return select(Project).options(ORG_NAMES).where(Project.org_id.in_(visible_org_ids(session, user)))


# --- presenting --------------------------------------------------------------------------------------------

def balances_dict(balances: Balances) -> dict:
    return {name: getattr(balances, name) for name in BALANCE_FIELDS}


def project_ref(project: Project) -> dict:
    return {"id": project.id, "code": project.code, "name": project.name}


def project_dict(project: Project) -> dict:
    return {**project_ref(project), "org": org_ref(project.org), "category_code": project.category_code,
            "start_year": project.start_year, "end_year": project.end_year, "total_amount": project.total_amount,
            "status": project.status, "instance_id": project.instance_id, "created_at": project.created_at,
            "updated_at": project.updated_at}


def indicator_dict(indicator: Indicator, balances: Balances) -> dict:
    return {
        "id": indicator.id, "code": indicator.code, "fiscal_year": indicator.fiscal_year,
        "org": org_ref(indicator.org), "project": project_ref(indicator.project),
        "func_code": indicator.func_code, "econ_dept_code": indicator.econ_dept_code,
        "econ_gov_code": indicator.econ_gov_code, "fund_nature_code": indicator.fund_nature_code,
        "source": indicator.source, "doc_no": indicator.doc_no, "amount": indicator.amount,
        "earmarked": indicator.earmarked, "plan_controlled": indicator.plan_controlled,
        "three_guarantees": indicator.three_guarantees, "carried_from_id": indicator.carried_from_id,
        "created_at": indicator.created_at, "balances": balances_dict(balances),
    }


def line_dict(line: BudgetLine) -> dict:
    return {"id": line.id, "instance_id": line.instance_id, "fiscal_year": line.fiscal_year,
            "func_code": line.func_code, "econ_dept_code": line.econ_dept_code, "econ_gov_code": line.econ_gov_code,
            "fund_nature_code": line.fund_nature_code, "amount": line.amount, "earmarked": line.earmarked,
            "plan_controlled": line.plan_controlled, "status": line.status, "indicator_id": line.indicator_id}


def _month(value) -> str | None:
    return f"{value:%Y-%m}" if value is not None else None


def monthly_plans(session: Session, indicator_id: int) -> list[dict]:
    """用款计划 per month: granted (what 计划来源 gave), available, in flight, used."""
    rows = session.execute(select(LedgerAccount.month, LedgerAccount.kind, LedgerAccount.balance).where(
        LedgerAccount.indicator_id == indicator_id, LedgerAccount.month.is_not(None)))
    months: dict = defaultdict(lambda: {"granted": ZERO, "available": ZERO, "in_flight": ZERO, "used": ZERO})
    for month, kind, balance in rows:
        if kind == AccountKind.PLAN_SOURCE:
            months[month]["granted"] = -balance
        elif kind in PLAN_KINDS:
            months[month][PLAN_KINDS[AccountKind(kind)]] = balance
    return [{"month": _month(m), **values} for m, values in sorted(months.items())]


def movement_dicts(session: Session, indicator_id: int) -> list[dict]:
    transfers = ledger.movements(session, indicator_id=indicator_id)
    ids = {t.debit_account_id for t in transfers} | {t.credit_account_id for t in transfers}
    accounts = {a.id: a for a in session.scalars(select(LedgerAccount).where(LedgerAccount.id.in_(ids)))} \
        if ids else {}

    def account(account_id: int) -> dict:
        a = accounts[account_id]
        return {"kind": a.kind, "kind_name": KIND_NAMES.get(AccountKind(a.kind), a.kind),
                "indicator_id": a.indicator_id, "month": _month(a.month)}

    return [{"id": t.id, "kind": t.kind, "kind_name": TRANSFER_NAMES.get(TransferKind(t.kind), t.kind),
             "amount": t.amount, "debit": account(t.debit_account_id), "credit": account(t.credit_account_id),
             "instance_id": t.instance_id, "payment_id": t.payment_id, "memo": t.memo, "created_at": t.created_at}
            for t in transfers]


def payment_dict(session: Session, payment: Payment) -> dict:
    vouchers = session.execute(select(Voucher.number, Voucher.kind, Voucher.voucher_date)
                               .where(Voucher.payment_id == payment.id).order_by(Voucher.id)).all()
    batch = session.get(BankBatch, payment.batch_id) if payment.batch_id else None
    return {
        "id": payment.id, "instance_id": payment.instance_id, "status": payment.status, "amount": payment.amount,
        "tier": payment.tier, "bank_ref": payment.bank_ref,
        "batch": {"id": batch.id, "number": batch.number, "file_name": batch.file_name} if batch else None,
        "vouchers": [{"number": n, "kind": k, "voucher_date": d} for n, k, d in vouchers],
        "org": org_ref(session.get(Org, payment.org_id)),
        "indicator": {"id": payment.indicator.id, "code": payment.indicator.code},
        "fiscal_year": payment.fiscal_year, "purpose": payment.purpose, "payee_name": payment.payee_name,
        "payee_account": payment.payee_account, "payee_bank": payment.payee_bank,
        "payee_is_person": payment.payee_is_person, "contract_no": payment.contract_no,
        "settle_mode": payment.settle_mode, "created_at": payment.created_at, "submitted_at": payment.submitted_at,
        "paid_at": payment.paid_at, "returned_at": payment.returned_at, "return_reason": payment.return_reason,
    }


# --- projects ----------------------------------------------------------------------------------------------

ORG_NAMES = joinedload(Project.org).load_only(Org.id, Org.code, Org.name)


@bp.get("/projects")
@bp.arguments(ProjectListArgs, location="query")
@bp.response(200, ProjectPage)
@bp.errors(400, 401)
def list_projects(args):
    """项目库：你能看到的项目（本单位的；财政所、镇领导等看全镇的）。可按状态、单位、年度、名称筛选。"""
    session, user = db.session, load_user()
    query = projects_seen(session, user)
    if args.get("status"):
        query = query.where(Project.status == args["status"])
    if args.get("org"):
        query = query.where(org_code_is(Project.org_id, args["org"]))
    if args.get("year"):
        query = query.where(Project.start_year <= args["year"], Project.end_year >= args["year"])
    if text := (args.get("q") or "").strip():
        query = query.where(or_(Project.name.icontains(text, autoescape=True),
                                Project.code.icontains(text, autoescape=True)))
    page = page_of(session, query.order_by(Project.code, Project.id), args["page"], args["per_page"])
    return {**page, "items": [project_dict(p) for p in page["items"]]}


@bp.get("/projects/<int:project_id>")
@bp.response(200, ProjectDetail)
@bp.errors(401, 404)
def get_project(project_id):
    """一个项目：绩效目标、预算申报明细、形成的指标及其余额。看不到的项目 404。"""
    session, user = db.session, load_user()
    project = session.get(Project, project_id)
    if project is None or project.org_id not in visible_org_ids(session, user):
        raise NotFound("没有这个项目，或你无权查看")
    lines = session.scalars(select(BudgetLine).where(BudgetLine.project_id == project.id)
                            .order_by(BudgetLine.fiscal_year, BudgetLine.id)).all()
    indicators = session.scalars(select(Indicator).options(joinedload(Indicator.org))
                                 .where(Indicator.project_id == project.id)
                                 .order_by(Indicator.fiscal_year, Indicator.code)).all()
    balances = ledger.balances_many(session, [i.id for i in indicators])
    return {**project_dict(project), "description": project.description, "goals": project.goals or [],
            "lines": [line_dict(line) for line in lines],
            "indicators": [indicator_dict(i, balances[i.id]) for i in indicators]}


# --- indicators --------------------------------------------------------------------------------------------

@bp.get("/indicators")
@bp.arguments(IndicatorListArgs, location="query")
@bp.response(200, IndicatorPage)
@bp.errors(400, 401)
def list_indicators(args):
    """预算指标：你能看到的指标，每个带余额（额度、已用、在途、冻结、可用）与专项、计划控制、三保标志。

    可按年度、单位代码、项目编码、指标编码前缀筛选；分页同收件箱（page、per_page、total）。
    """
    session, user = db.session, load_user()
    query = indicators_seen(session, user)
    if args.get("year"):
        query = query.where(Indicator.fiscal_year == args["year"])
    if args.get("org"):
        query = query.where(org_code_is(Indicator.org_id, args["org"]))
    if args.get("project"):
        query = query.where(Indicator.project_id == select(Project.id).where(Project.code == args["project"])
                            .scalar_subquery())
    if args.get("code"):
        query = query.where(Indicator.code.startswith(args["code"], autoescape=True))
    query = query.order_by(Indicator.fiscal_year.desc(), Indicator.code, Indicator.id)
    page = page_of(session, query, args["page"], args["per_page"])
    balances = ledger.balances_many(session, [i.id for i in page["items"]])
    return {**page, "items": [indicator_dict(i, balances[i.id]) for i in page["items"]]}


@bp.get("/indicators/<int:indicator_id>")
@bp.response(200, IndicatorDetail)
@bp.errors(401, 404)
def get_indicator(indicator_id):
    """一个指标：余额、各月用款计划余额，以及指标账流水（登记、分配、占用、支付、退回……按先后）。"""
    session, user = db.session, load_user()
    indicator = session.get(Indicator, indicator_id)
    if indicator is None or indicator.org_id not in visible_org_ids(session, user):
        raise NotFound("没有这个指标，或你无权查看")
    return {**indicator_dict(indicator, ledger.balances(session, indicator.id)),
            "plans": monthly_plans(session, indicator.id), "movements": movement_dicts(session, indicator.id)}


# --- payments ----------------------------------------------------------------------------------------------

def visible_payment(session: Session, user: User, payment: Payment | None) -> Payment:
    if payment is None or not (payment.org_id in visible_org_ids(session, user)
                               or can_see_instance(session, user, payment.instance_id)):
        raise NotFound("没有这笔支付，或你无权查看")
    return payment


@bp.get("/payments/<int:payment_id>")
@bp.response(200, PaymentOut)
@bp.errors(401, 404)
def get_payment(payment_id):
    """一笔支付：状态、金额、审批档次、银行业务编号、批次与记账凭证号。"""
    session = db.session
    payment = visible_payment(session, load_user(), session.get(Payment, payment_id))
    return payment_dict(session, payment)


@bp.get("/instances/<int:instance_id>/payment")
@bp.response(200, PaymentOut)
@bp.errors(401, 404)
def get_instance_payment(instance_id):
    """一个支付申请的支付记录（同 GET /payments/{id}）。申请还没有支付记录，或看不到，404。"""
    session = db.session
    payment = session.scalar(select(Payment).where(Payment.instance_id == instance_id))
    return payment_dict(session, visible_payment(session, load_user(), payment))
