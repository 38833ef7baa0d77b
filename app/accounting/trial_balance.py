"""The trial balance (科目余额表) of one unit, one township (its units summed) or everything, for a year.

Rows are the accounts with activity in the year, by code. Opening balances are 0 for now: nothing carries
the previous year's balances forward yet (年初余额 would come from a year-end closing step). A row's
balance follows the account's normal side: debit-normal accounts show opening + debits - credits,
credit-normal ones opening + credits - debits. Red-ink reversals are negative debits or credits, so they
reduce the activity columns instead of adding to the opposite one.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounting.chart import CHART_BY_CODE, DEBIT
from app.accounting.errors import AccountingError
from app.models import GlAccount, LedgerSide, Org, Voucher, VoucherLine

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class TrialBalanceRow:
    code: str
    name: str
    side: str
    category: str
    normal_balance: str
    opening: Decimal = ZERO
    debit: Decimal = ZERO
    credit: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        if self.normal_balance == DEBIT:
            return self.opening + self.debit - self.credit
        return self.opening + self.credit - self.debit


@dataclass(frozen=True)
class SideTotals:
    debit: Decimal = ZERO
    credit: Decimal = ZERO

    @property
    def balanced(self) -> bool:
        return self.debit == self.credit


@dataclass(frozen=True)
class TrialBalance:
    fiscal_year: int
    org_id: int | None
    township_id: int | None
    side: str | None
    rows: tuple[TrialBalanceRow, ...]
    # Per ledger side (financial, budget): both unless the balance was asked for one side.
    totals: dict[str, SideTotals] = field(default_factory=dict)

    @property
    def total_debit(self) -> Decimal:
        return sum((t.debit for t in self.totals.values()), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((t.credit for t in self.totals.values()), ZERO)

    @property
    def balanced(self) -> bool:
        """Debits equal credits on every side and overall."""
        return all(t.balanced for t in self.totals.values()) and self.total_debit == self.total_credit

    def row(self, code: str) -> TrialBalanceRow:
        """The row of an account; a zero row when it had no activity."""
        for row in self.rows:
            if row.code == code:
                return row
        entry = CHART_BY_CODE.get(code)
        if entry is None:
            return TrialBalanceRow(code, "", "", "", DEBIT)
        return TrialBalanceRow(code, entry.name, entry.side, entry.category, entry.normal_balance)


def trial_balance(session: Session, *, org_id: int | None = None, township_id: int | None = None,
                  fiscal_year: int, side: str | None = None) -> TrialBalance:
    """Debits, credits and balances per account for a unit (org_id), a township's units (township_id) or all.

    The township balance sums every line whose unit sits under the township (org path), the township's
    own org included.
    """
    sides = [s.value for s in LedgerSide]
    if side is not None and side not in sides:
        raise AccountingError(f"账套 {side!r} 无效（financial 或 budget）")
    if org_id is not None and township_id is not None:
        raise AccountingError("只能按单位或按乡镇出余额表，不能同时指定")
    stmt = (
        select(VoucherLine.account_code, func.sum(VoucherLine.debit), func.sum(VoucherLine.credit))
        .join(Voucher, Voucher.id == VoucherLine.voucher_id)
        .where(Voucher.fiscal_year == fiscal_year)
        .group_by(VoucherLine.account_code)
    )
    if org_id is not None:
        stmt = stmt.where(VoucherLine.org_id == org_id)
    if township_id is not None:
        township = session.get(Org, township_id)
        if township is None or not township.path:
            raise AccountingError(f"乡镇 {township_id} 不存在")
        stmt = stmt.join(Org, Org.id == VoucherLine.org_id).where(Org.path.startswith(township.path, autoescape=True))
    if side is not None:
        stmt = stmt.where(VoucherLine.side == side)
    activity = {code: (debit or ZERO, credit or ZERO) for code, debit, credit in session.execute(stmt)}
    accounts = {a.code: a for a in session.scalars(select(GlAccount).where(GlAccount.code.in_(activity)))}
    rows = tuple(
        TrialBalanceRow(code, accounts[code].name, accounts[code].side, accounts[code].category,
                        accounts[code].normal_balance, ZERO, debit, credit)
        for code, (debit, credit) in sorted(activity.items())
    )
    totals = {}
    for s in ([side] if side else sides):
        on_side = [r for r in rows if r.side == s]
        totals[s] = SideTotals(sum((r.debit for r in on_side), ZERO), sum((r.credit for r in on_side), ZERO))
    return TrialBalance(fiscal_year, org_id, township_id, side, rows, totals)
