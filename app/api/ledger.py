"""Totals: a unit's or a township's indicator balances, and the finance office's trial balances.

The trial balance shows both books of the township-year side by side: the accounting vouchers (科目余额表,
debits equal credits on each of the financial and budget sides) and the indicator ledger (指标账试算平衡,
debits equal credits, the balances sum to zero and each kind's balance matches its movements).
"""
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import accounting, ledger
from app.api import Blueprint
from app.api.budget import balances_dict, scope_paths, this_year, user_townships, visible_org_ids
from app.api.budget_schemas import BalanceArgs, BalanceSummary, TrialBalanceArgs, TrialBalanceOut
from app.approvals.errors import Forbidden, InvalidInput, NotFound
from app.auth.request import load_user
from app.extensions import db
from app.inbox.present import org_ref
from app.ledger import KIND_NAMES, TOTAL
from app.models import AccountKind, Org, OrgKind, Role, User

bp = Blueprint("ledger", __name__, url_prefix="/api/v1", description="余额合计与试算平衡")

# The finance office (and the county's audit) read the township's books.
FINANCE_OFFICE = frozenset({Role.FINANCE_REVIEWER, Role.FINANCE_HEAD, Role.TREASURY, Role.AUDITOR})
KIND_OF_LEVEL = {"unit": OrgKind.UNIT, "township": OrgKind.TOWNSHIP}


def _own_units(session: Session, user: User) -> list[Org]:
    """The budget units the user works in (the unit around a 科室)."""
    paths = scope_paths(session, user)
    return list(session.scalars(select(Org).where(Org.path.in_(paths), Org.kind == OrgKind.UNIT)
                                .order_by(Org.id))) if paths else []


def _only(candidates: list[Org], field: str, what: str) -> Org:
    if len(candidates) != 1:
        raise InvalidInput(f"请指定{what}", {field: [f"须填写{what}代码"]})
    return candidates[0]


def _visible_org(session: Session, user: User, code: str | None, level: str) -> Org:
    """The unit or township asked for (by default the user's own); 404 outside the user's scope."""
    what = "单位" if level == "unit" else "乡镇"
    if code is None:
        org = _only(_own_units(session, user) if level == "unit" else user_townships(session, user), "org", what)
    else:
        org = session.scalar(select(Org).where(Org.code == code))
    if org is None or org.id not in visible_org_ids(session, user):
        if org is not None and level == "township" and org in user_townships(session, user):
            raise Forbidden("全镇合计只有财政所、镇领导和监督角色可以查看")
        raise NotFound(f"没有这个{what}，或你无权查看")
    if org.kind != KIND_OF_LEVEL[level]:
        raise InvalidInput(f"{org.name} 不是{what}", {"org": [f"level={level} 须填写{what}代码"]})
    return org


@bp.get("/balances")
@bp.arguments(BalanceArgs, location="query")
@bp.response(200, BalanceSummary)
@bp.errors(400, 401, 403, 404)
def get_balances(args):
    """余额合计：一个单位（level=unit）或全镇（level=township）一个年度全部指标的额度、已用、在途、冻结、可用。

    不填 org 为你所在的单位（乡镇）；不填 year 为今年。全镇合计只有财政所、镇领导和监督角色可以查看。
    """
    session, user = db.session, load_user()
    level, year = args["level"], args.get("year") or this_year()
    org = _visible_org(session, user, args.get("org"), level)
    totals = (ledger.unit_balances if level == "unit" else ledger.township_balances)(session, org.id, year)
    return {"level": level, "org": org_ref(org), "fiscal_year": year, "balances": balances_dict(totals)}


def _finance_township(session: Session, user: User, code: str | None) -> Org:
    """The township whose books the user reads as finance office; 403 for others in it, 404 outside."""
    if code is None:
        mine = [t for t in user_townships(session, user) if _keeps_books(user, t)]
        township = _only(mine, "township", "乡镇")
    else:
        township = session.scalar(select(Org).where(Org.code == code, Org.kind == OrgKind.TOWNSHIP))
    if township is None or township.id not in visible_org_ids(session, user):
        raise NotFound("没有这个乡镇，或你无权查看")
    if not _keeps_books(user, township):
        raise Forbidden("试算平衡表只有财政所（审核、所长、国库支付）和审计可以查看")
    return township


def _keeps_books(user: User, township: Org) -> bool:
    return any(g.role in FINANCE_OFFICE and township.path.startswith(g.org.path) for g in user.grants)


def _accounting(balance: accounting.TrialBalance) -> dict:
    rows = [{"code": r.code, "name": r.name, "side": r.side, "category": r.category,
             "normal_balance": r.normal_balance, "opening": r.opening, "debit": r.debit, "credit": r.credit,
             "balance": r.balance} for r in balance.rows]
    totals = {side: {"debit": t.debit, "credit": t.credit, "balanced": t.balanced}
              for side, t in balance.totals.items()}
    return {"rows": rows, "totals": totals, "total_debit": balance.total_debit,
            "total_credit": balance.total_credit, "balanced": balance.balanced}


def _ledger(rows: list[ledger.TrialBalanceRow]) -> dict:
    def row(r):
        name = "合计" if r.kind == TOTAL else KIND_NAMES.get(AccountKind(r.kind), r.kind)
        return {"kind": r.kind, "kind_name": name, "debits": r.debits, "credits": r.credits, "balance": r.balance}

    *kinds, total = rows
    balanced = (total.debits == total.credits and total.balance == 0
                and all(r.debits - r.credits == r.balance for r in kinds))
    return {"rows": [row(r) for r in kinds], "total": row(total), "balanced": balanced}


@bp.get("/trial-balance")
@bp.arguments(TrialBalanceArgs, location="query")
@bp.response(200, TrialBalanceOut)
@bp.errors(400, 401, 403, 404)
def get_trial_balance(args):
    """试算平衡（财政所）：全镇一个年度的会计科目余额表（财务会计、预算会计借贷相等）与指标账试算平衡。

    不填 township 为你任职的乡镇；不填 year 为今年。只有财政所（审核、所长、国库支付）和审计可以查看。
    """
    session, user = db.session, load_user()
    township, year = _finance_township(session, user, args.get("township")), args.get("year") or this_year()
    books = accounting.trial_balance(session, township_id=township.id, fiscal_year=year)
    return {"township": org_ref(township), "fiscal_year": year, "accounting": _accounting(books),
            "ledger": _ledger(ledger.trial_balance(session, township.id, year))}
