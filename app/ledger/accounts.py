"""Ledger accounts: named by (township, year, kind) for the pool, (indicator, kind) or (indicator, kind, month).

Accounts are made on first use. Two transactions making the same account at once must end with one row:
INSERT ... ON CONFLICT DO NOTHING against the partial unique index that names it, then SELECT. The loser
of the race waits for the winner's commit on the unique index and then finds its row.
"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import AccountKind, Indicator, LedgerAccount

TABLE = LedgerAccount.__table__

KIND_NAMES = {
    AccountKind.SOURCE: "指标来源",
    AccountKind.UNALLOCATED: "待分指标",
    AccountKind.EXECUTABLE: "可执行指标",
    AccountKind.FROZEN: "冻结指标",
    AccountKind.IN_FLIGHT: "在途支付",
    AccountKind.PAID: "已支付指标",
    AccountKind.CARRIED: "结转指标",
    AccountKind.PLAN_SOURCE: "计划来源",
    AccountKind.PLAN_AVAILABLE: "用款计划可用",
    AccountKind.PLAN_IN_FLIGHT: "用款计划在途",
    AccountKind.PLAN_USED: "用款计划已用",
}

# What an account holds, as a refusal message says it.
HOLDS = {
    AccountKind.UNALLOCATED: "待分指标额度",
    AccountKind.EXECUTABLE: "可用额度",
    AccountKind.FROZEN: "冻结额度",
    AccountKind.IN_FLIGHT: "在途支付额度",
    AccountKind.PAID: "已支付额度",
    AccountKind.CARRIED: "结转额度",
    AccountKind.PLAN_AVAILABLE: "用款计划可用额度",
    AccountKind.PLAN_IN_FLIGHT: "用款计划在途额度",
    AccountKind.PLAN_USED: "用款计划已用额度",
}


@dataclass(frozen=True)
class AccountRef:
    """Which account, before we know (or make) its row."""

    township_id: int
    fiscal_year: int
    kind: str
    indicator_id: int | None = None
    month: date | None = None
    indicator_code: str = ""  # for messages only

    @property
    def may_go_negative(self) -> bool:
        return self.kind in (AccountKind.SOURCE, AccountKind.PLAN_SOURCE)

    @property
    def lock_order(self) -> tuple:
        """Accounts are made and updated in this order, so two movements never wait on each other in a circle."""
        return self.indicator_id or 0, self.kind, self.month or date.min

    def describe(self) -> str:
        """What this account holds, for a refusal message: "可用额度", "2026年3月用款计划可用额度"."""
        name = HOLDS.get(self.kind, self.kind)
        return f"{self.month.year}年{self.month.month}月{name}" if self.month is not None else name


def of(indicator: Indicator, kind: AccountKind, month: date | None = None) -> AccountRef:
    if indicator.id is None:
        raise ValueError("the indicator has no id yet: add it to the session and flush first")
    return AccountRef(indicator.township_id, indicator.fiscal_year, kind.value, indicator.id, month, indicator.code)


def source_of(indicator: Indicator) -> AccountRef:
    """The township-year pool every registration is credited from (indicator_id NULL)."""
    return AccountRef(indicator.township_id, indicator.fiscal_year, AccountKind.SOURCE.value,
                      indicator_code=indicator.code)


def where_ref(ref: AccountRef):
    if ref.indicator_id is None:
        return (TABLE.c.indicator_id.is_(None), TABLE.c.township_id == ref.township_id,
                TABLE.c.fiscal_year == ref.fiscal_year, TABLE.c.kind == ref.kind)
    month = TABLE.c.month.is_(None) if ref.month is None else TABLE.c.month == ref.month
    return TABLE.c.indicator_id == ref.indicator_id, TABLE.c.kind == ref.kind, month


def find_id(session: Session, ref: AccountRef) -> int | None:
    return session.execute(select(TABLE.c.id).where(*where_ref(ref))).scalar_one_or_none()


def _conflict_target(ref: AccountRef) -> dict:
    """The partial unique index this account falls under, as ON CONFLICT wants it."""
    if ref.indicator_id is None:
        return {"index_elements": ["township_id", "fiscal_year", "kind"], "index_where": text("indicator_id IS NULL")}
    if ref.month is None:
        return {"index_elements": ["indicator_id", "kind"],
                "index_where": text("indicator_id IS NOT NULL AND month IS NULL")}
    return {"index_elements": ["indicator_id", "kind", "month"], "index_where": text("month IS NOT NULL")}


def ensure_id(session: Session, ref: AccountRef) -> int:
    """The account's id, making the row (balance 0) if there is none yet."""
    found = find_id(session, ref)
    if found is not None:
        return found
    values = {"township_id": ref.township_id, "fiscal_year": ref.fiscal_year, "indicator_id": ref.indicator_id,
              "kind": ref.kind, "month": ref.month, "balance": Decimal("0")}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(insert(TABLE).values(**values).on_conflict_do_nothing(**_conflict_target(ref)))
    else:  # no upsert: insert in a savepoint, and a unique violation means someone else made it
        try:
            with session.begin_nested():
                session.execute(TABLE.insert().values(**values))
        except IntegrityError:
            pass
    found = find_id(session, ref)
    if found is None:  # pragma: no cover - only if the unique indexes and this code disagree
        raise RuntimeError(f"ledger account {ref} could not be created")
    return found
