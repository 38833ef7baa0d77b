"""The chart-of-accounts subset (会计科目, domain.md §7.1) that payments post to, and its seeding.

Financial accounting (财务会计) is accrual-based; budget accounting (预算会计) is cash-based and runs in
parallel (平行记账). The normal balance decides how a trial-balance row turns debits and credits into a
balance: debit-normal accounts show debits minus credits, credit-normal ones credits minus debits.
"""
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.models import GlAccount, LedgerSide

FIN, BUD = LedgerSide.FINANCIAL.value, LedgerSide.BUDGET.value
DEBIT, CREDIT = "debit", "credit"


@dataclass(frozen=True)
class ChartEntry:
    code: str
    name: str
    side: str
    category: str
    normal_balance: str


CHART: tuple[ChartEntry, ...] = (
    # 财务会计
    ChartEntry("1001", "库存现金", FIN, "asset", DEBIT),
    ChartEntry("1002", "银行存款", FIN, "asset", DEBIT),
    ChartEntry("1011", "零余额账户用款额度", FIN, "asset", DEBIT),
    ChartEntry("1201", "财政应返还额度", FIN, "asset", DEBIT),
    ChartEntry("1302", "库存物品", FIN, "asset", DEBIT),
    ChartEntry("1601", "固定资产", FIN, "asset", DEBIT),
    ChartEntry("1602", "固定资产累计折旧", FIN, "asset", CREDIT),  # contra-asset
    ChartEntry("2201", "应付职工薪酬", FIN, "liability", CREDIT),
    ChartEntry("2302", "应付账款", FIN, "liability", CREDIT),
    ChartEntry("3001", "累计盈余", FIN, "net_assets", CREDIT),
    ChartEntry("4001", "财政拨款收入", FIN, "revenue", CREDIT),
    ChartEntry("5001", "业务活动费用", FIN, "expense", DEBIT),
    ChartEntry("5101", "单位管理费用", FIN, "expense", DEBIT),
    # 预算会计
    ChartEntry("6001", "财政拨款预算收入", BUD, "budget_revenue", CREDIT),
    ChartEntry("7101", "行政支出", BUD, "budget_expenditure", DEBIT),
    ChartEntry("7201", "事业支出", BUD, "budget_expenditure", DEBIT),
    ChartEntry("7601", "投资支出", BUD, "budget_expenditure", DEBIT),
    ChartEntry("7701", "债务还本支出", BUD, "budget_expenditure", DEBIT),
    ChartEntry("7901", "其他支出", BUD, "budget_expenditure", DEBIT),
    ChartEntry("8001", "资金结存", BUD, "budget_surplus", DEBIT),
    ChartEntry("8101", "财政拨款结转", BUD, "budget_surplus", CREDIT),
    ChartEntry("8102", "财政拨款结余", BUD, "budget_surplus", CREDIT),
)

CHART_BY_CODE = {entry.code: entry for entry in CHART}


def seed_chart(session: Session) -> None:
    """Put the chart subset into gl_account: missing accounts are added, changed ones corrected. Flushes.

    Idempotent: a second run changes nothing. Accounts not in the subset (a province's additions) are
    left alone.
    """
    for entry in CHART:
        account = session.get(GlAccount, entry.code)
        if account is None:
            session.add(GlAccount(code=entry.code, name=entry.name, side=entry.side, category=entry.category,
                                  normal_balance=entry.normal_balance))
            continue
        for field in ("name", "side", "category", "normal_balance"):
            if getattr(account, field) != getattr(entry, field):
                setattr(account, field, getattr(entry, field))
    session.flush()
