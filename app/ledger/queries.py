"""What the ledger holds: balances per indicator, unit or township, the journal, the trial balance.

Balances are one SQL statement each (sums of account balances grouped by kind); nothing replays transfers.
"""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.ledger.accounts import TABLE
from app.ledger.amounts import month_start
from app.models import AccountKind, Indicator, LedgerTransfer

ZERO = Decimal("0.00")
K = AccountKind


@dataclass(frozen=True)
class Balances:
    """One indicator's balances (or the sum over a unit's or a township's indicators), in yuan.

    allotted = available + frozen + in_flight + paid: what the indicator was given, less what moved away
    (reallocated out, recalled, carried over). used = paid + in_flight, so available = allotted − used − frozen
    (the 一体化 invariant canuse_amt = avi_amt − use_amt − frozenamt).
    """

    allotted: Decimal
    available: Decimal
    frozen: Decimal
    in_flight: Decimal
    paid: Decimal
    used: Decimal
    unallocated: Decimal
    carried: Decimal
    plan_available: Decimal | None = None

    @classmethod
    def from_kinds(cls, sums: dict[str, Decimal], plan_available: Decimal | None = None) -> "Balances":
        def get(kind):
            return sums.get(kind) or ZERO

        available, frozen, in_flight, paid = get(K.EXECUTABLE), get(K.FROZEN), get(K.IN_FLIGHT), get(K.PAID)
        return cls(allotted=available + frozen + in_flight + paid, available=available, frozen=frozen,
                   in_flight=in_flight, paid=paid, used=paid + in_flight, unallocated=get(K.UNALLOCATED),
                   carried=get(K.CARRIED), plan_available=plan_available)


def _id(indicator) -> int:
    return indicator.id if isinstance(indicator, Indicator) else indicator


def balances(session: Session, indicator_id: int, *, month: date | None = None) -> Balances:
    """One indicator; with `month`, also what its fund-use plan for that month has left (plan_available)."""
    where = and_(TABLE.c.indicator_id == _id(indicator_id), TABLE.c.month.is_(None))
    if month is not None:
        m = month_start(month)
        where = and_(TABLE.c.indicator_id == _id(indicator_id),
                     or_(TABLE.c.month.is_(None), and_(TABLE.c.kind == K.PLAN_AVAILABLE.value, TABLE.c.month == m)))
    rows = session.execute(select(TABLE.c.kind, func.sum(TABLE.c.balance)).where(where).group_by(TABLE.c.kind))
    sums = dict(rows.all())
    return Balances.from_kinds(sums, (sums.get(K.PLAN_AVAILABLE) or ZERO) if month is not None else None)


def balances_many(session: Session, indicator_ids: Iterable[int]) -> dict[int, Balances]:
    """Several indicators in one statement; an indicator with no movements yet gets all zeros."""
    ids = sorted({_id(i) for i in indicator_ids})
    if not ids:
        return {}
    rows = session.execute(select(TABLE.c.indicator_id, TABLE.c.kind, func.sum(TABLE.c.balance))
                           .where(TABLE.c.indicator_id.in_(ids), TABLE.c.month.is_(None))
                           .group_by(TABLE.c.indicator_id, TABLE.c.kind))
    sums: dict[int, dict[str, Decimal]] = {i: {} for i in ids}
    for indicator_id, kind, total in rows:
        sums[indicator_id][kind] = total
    return {i: Balances.from_kinds(s) for i, s in sums.items()}


def _kinds(session: Session, statement) -> Balances:
    return Balances.from_kinds(dict(session.execute(statement).all()))


def unit_balances(session: Session, org_id: int, fiscal_year: int) -> Balances:
    """Every indicator of one budget unit in one year, summed."""
    return _kinds(session, select(TABLE.c.kind, func.sum(TABLE.c.balance))
                  .join(Indicator.__table__, Indicator.__table__.c.id == TABLE.c.indicator_id)
                  .where(Indicator.__table__.c.org_id == org_id, TABLE.c.fiscal_year == fiscal_year,
                         TABLE.c.month.is_(None))
                  .group_by(TABLE.c.kind))


def township_balances(session: Session, township_id: int, fiscal_year: int) -> Balances:
    """Every indicator of one township in one year, summed (the source pool is not an indicator's)."""
    return _kinds(session, select(TABLE.c.kind, func.sum(TABLE.c.balance))
                  .where(TABLE.c.township_id == township_id, TABLE.c.fiscal_year == fiscal_year,
                         TABLE.c.indicator_id.is_not(None), TABLE.c.month.is_(None))
                  .group_by(TABLE.c.kind))


def movements(session: Session, *, indicator_id: int | None = None, township_id: int | None = None,
              fiscal_year: int | None = None) -> list[LedgerTransfer]:
    """The journal, oldest first: transfers touching an account of the indicator / township / year given."""
    conditions = []
    if indicator_id is not None:
        conditions.append(TABLE.c.indicator_id == _id(indicator_id))
    if township_id is not None:
        conditions.append(TABLE.c.township_id == township_id)
    if fiscal_year is not None:
        conditions.append(TABLE.c.fiscal_year == fiscal_year)
    statement = select(LedgerTransfer).order_by(LedgerTransfer.id)
    if conditions:
        touched = select(TABLE.c.id).where(*conditions)
        statement = statement.where(or_(LedgerTransfer.debit_account_id.in_(touched),
                                        LedgerTransfer.credit_account_id.in_(touched)))
    return list(session.scalars(statement))


class TrialBalanceRow(NamedTuple):
    """One account kind (or "total"): what was debited, what was credited, and the balance the accounts hold."""

    kind: str
    debits: Decimal
    credits: Decimal
    balance: Decimal


TOTAL = "total"


def trial_balance(session: Session, township_id: int, fiscal_year: int) -> list[TrialBalanceRow]:
    """试算平衡 of one township-year: a row per account kind in use, then a "total" row.

    Each row's balance is the sum of the stored account balances, so debits − credits == balance checks the
    stored balances against the journal; the total balance is 0 and total debits == total credits.
    """
    mine = and_(TABLE.c.township_id == township_id, TABLE.c.fiscal_year == fiscal_year)

    def side(column):
        return dict(session.execute(select(TABLE.c.kind, func.sum(LedgerTransfer.amount))
                                    .join(LedgerTransfer, column == TABLE.c.id).where(mine)
                                    .group_by(TABLE.c.kind)).all())

    debits, credits = side(LedgerTransfer.debit_account_id), side(LedgerTransfer.credit_account_id)
    held = dict(session.execute(select(TABLE.c.kind, func.sum(TABLE.c.balance)).where(mine)
                                .group_by(TABLE.c.kind)).all())
    rows = [TrialBalanceRow(kind.value, debits.get(kind) or ZERO, credits.get(kind) or ZERO, held.get(kind) or ZERO)
            for kind in AccountKind if kind in debits or kind in credits or kind in held]
    total = TrialBalanceRow(TOTAL, sum((r.debits for r in rows), ZERO), sum((r.credits for r in rows), ZERO),
                            sum((r.balance for r in rows), ZERO))
    return [*rows, total]
