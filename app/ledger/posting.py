"""Movements: each one is a single transfer, debit one account and credit another by the same amount.

How a movement stays right under concurrency (PostgreSQL, READ COMMITTED):
- the transfer row is inserted first, so its unique idempotency key is claimed before any balance moves; a
  second transaction with the same key waits on the index, then fails with a unique violation, and we hand
  back the row the first one committed;
- money leaves an account by `UPDATE ... SET balance = balance - :a WHERE id = :id AND balance >= :a`; a
  concurrent update of the same row makes PostgreSQL re-check the condition against the committed balance,
  so no interleaving overdraws (the CHECK constraint on ledger_account is the backstop);
- both accounts are created and updated in one fixed order, so two movements never deadlock on each other.
Every movement runs in a SAVEPOINT: a refusal leaves nothing behind and the caller's transaction usable.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import savepoint
from app.ledger import accounts
from app.ledger.accounts import TABLE, AccountRef
from app.ledger.amounts import check_amount, check_key, check_memo, check_now, month_start
from app.ledger.errors import InsufficientBalance, KeyReused, LedgerError
from app.models import AccountKind, Indicator, LedgerTransfer, TransferKind

K = AccountKind

TRANSFER_NAMES = {
    TransferKind.REGISTER: "指标来源登记",
    TransferKind.ALLOCATE: "分配",
    TransferKind.FREEZE: "冻结",
    TransferKind.UNFREEZE: "解冻",
    TransferKind.REALLOCATE: "调剂",
    TransferKind.ADJUST: "调整",
    TransferKind.RESERVE: "支付占用",
    TransferKind.POST: "支付成功",
    TransferKind.VOID: "退回/作废",
    TransferKind.RETURN: "退票",
    TransferKind.CARRY_OVER: "年末结转",
    TransferKind.RECALL: "收回",
    TransferKind.PLAN_GRANT: "用款计划批复",
    TransferKind.PLAN_RESERVE: "用款计划占用",
    TransferKind.PLAN_POST: "用款计划支付成功",
    TransferKind.PLAN_VOID: "用款计划退回",
    TransferKind.PLAN_RETURN: "用款计划退票",
}


def _by_key(session: Session, key: str) -> LedgerTransfer | None:
    return session.scalar(select(LedgerTransfer).where(LedgerTransfer.idempotency_key == key))


def _replayed(session: Session, existing: LedgerTransfer, kind: TransferKind, debit: AccountRef, credit: AccountRef,
              amount: Decimal) -> LedgerTransfer:
    """The transfer already posted under this key, if it is this same movement; else KeyReused."""
    same = (existing.kind == kind and existing.amount == amount
            and existing.debit_account_id == accounts.find_id(session, debit)
            and existing.credit_account_id == accounts.find_id(session, credit))
    if not same:
        name = TRANSFER_NAMES.get(TransferKind(existing.kind), existing.kind)
        raise KeyReused(existing.idempotency_key, f"{name} {existing.amount:,.2f} 元")
    return existing


def _shift(session: Session, debit_id: int, credit_id: int, credit: AccountRef, amount: Decimal) -> None:
    """Add `amount` to the debit account and take it from the credit one, refusing to overdraw."""
    for account_id in sorted((debit_id, credit_id)):
        if account_id == debit_id:
            session.execute(update(TABLE).where(TABLE.c.id == debit_id).values(balance=TABLE.c.balance + amount))
        elif credit.may_go_negative:
            session.execute(update(TABLE).where(TABLE.c.id == credit_id).values(balance=TABLE.c.balance - amount))
        else:
            taken = session.execute(update(TABLE).where(TABLE.c.id == credit_id, TABLE.c.balance >= amount)
                                    .values(balance=TABLE.c.balance - amount))
            if taken.rowcount != 1:
                have = session.execute(select(TABLE.c.balance).where(TABLE.c.id == credit_id)).scalar_one()
                raise InsufficientBalance(indicator_code=credit.indicator_code, what=credit.describe(),
                                          available=have, requested=amount)


def _move(session: Session, kind: TransferKind, debit: AccountRef, credit: AccountRef, amount, *, key: str,
          now: datetime, instance_id: int | None = None, payment_id: int | None = None, actor_id: int | None = None,
          memo: str | None = None) -> LedgerTransfer:
    amount = check_amount(amount)
    key = check_key(key)
    check_now(now)
    check_memo(memo)
    if debit == credit:
        raise LedgerError("借贷不能是同一账户")
    try:
        with savepoint(session):
            existing = _by_key(session, key)
            if existing is not None:
                return _replayed(session, existing, kind, debit, credit, amount)
            ids = {ref: accounts.ensure_id(session, ref) for ref in sorted((debit, credit), key=lambda r: r.lock_order)}
            transfer = LedgerTransfer(idempotency_key=key, kind=kind.value, debit_account_id=ids[debit],
                                      credit_account_id=ids[credit], amount=amount, instance_id=instance_id,
                                      payment_id=payment_id, memo=memo, created_at=now, created_by_id=actor_id)
            session.add(transfer)
            session.flush()  # claims the key: a concurrent twin waits here, then fails on the unique index
            _shift(session, ids[debit], ids[credit], credit, amount)
            return transfer
    except IntegrityError:
        existing = _by_key(session, key)  # a new statement: sees the twin's committed row
        if existing is None:
            raise
        return _replayed(session, existing, kind, debit, credit, amount)


def _same_year(source: Indicator, target: Indicator, what: str) -> None:
    if source.id == target.id:
        raise LedgerError(f"{what}的调出和调入不能是同一指标（{source.code}）")
    if (source.township_id, source.fiscal_year) != (target.township_id, target.fiscal_year):
        raise LedgerError(f"{what}只能在同一乡镇、同一年度的指标之间进行：{source.code} → {target.code}")


def _amount_or_all(session: Session, key: str, ref: AccountRef, amount, what: str):
    """`amount` as given; None means the account's whole balance (or, on a replay, what the first call moved)."""
    if amount is not None:
        return amount
    existing = _by_key(session, check_key(key))
    if existing is not None:
        return existing.amount
    have = session.execute(select(TABLE.c.balance).where(*accounts.where_ref(ref)).with_for_update()).scalar()
    if not have:
        raise LedgerError(f"指标 {ref.indicator_code} 没有可{what}的可用额度", code="NOTHING_TO_MOVE")
    return have


# --- indicator movements ------------------------------------------------------------------------------------

def register(session: Session, indicator: Indicator, amount, *, key: str, now: datetime, **ctx) -> LedgerTransfer:
    """指标来源登记: the township-year source pool -> this indicator's 待分."""
    return _move(session, TransferKind.REGISTER, accounts.of(indicator, K.UNALLOCATED), accounts.source_of(indicator),
                 amount, key=key, now=now, **ctx)


def allocate(session: Session, indicator: Indicator, amount, *, key: str, now: datetime, **ctx) -> LedgerTransfer:
    """分配/下达: 待分 -> 可执行 (C05: never more than the 待分 balance)."""
    return _move(session, TransferKind.ALLOCATE, accounts.of(indicator, K.EXECUTABLE),
                 accounts.of(indicator, K.UNALLOCATED), amount, key=key, now=now, **ctx)


def freeze(session: Session, indicator: Indicator, amount, *, key: str, now: datetime, **ctx) -> LedgerTransfer:
    """冻结: 可执行 -> 冻结 (C06: what is frozen cannot be spent)."""
    return _move(session, TransferKind.FREEZE, accounts.of(indicator, K.FROZEN), accounts.of(indicator, K.EXECUTABLE),
                 amount, key=key, now=now, **ctx)


def unfreeze(session: Session, indicator: Indicator, amount, *, key: str, now: datetime, **ctx) -> LedgerTransfer:
    """解冻: 冻结 -> 可执行."""
    return _move(session, TransferKind.UNFREEZE, accounts.of(indicator, K.EXECUTABLE),
                 accounts.of(indicator, K.FROZEN), amount, key=key, now=now, **ctx)


def reallocate(session: Session, source: Indicator, target: Indicator, amount, *, key: str, now: datetime,
               **ctx) -> LedgerTransfer:
    """调剂: 可执行[source] -> 可执行[target], same township and year (C05: never more than the source's 可用)."""
    _same_year(source, target, "调剂")
    return _move(session, TransferKind.REALLOCATE, accounts.of(target, K.EXECUTABLE),
                 accounts.of(source, K.EXECUTABLE), amount, key=key, now=now, **ctx)


def adjust(session: Session, indicator: Indicator, delta, *, key: str, now: datetime, **ctx) -> LedgerTransfer:
    """调整 (total changes): delta > 0 source pool -> 可执行; delta < 0 可执行 -> source pool."""
    delta = check_amount(delta, allow_negative=True)
    executable, source = accounts.of(indicator, K.EXECUTABLE), accounts.source_of(indicator)
    if delta > 0:
        return _move(session, TransferKind.ADJUST, executable, source, delta, key=key, now=now, **ctx)
    return _move(session, TransferKind.ADJUST, source, executable, -delta, key=key, now=now, **ctx)


def reserve(session: Session, indicator: Indicator, amount, *, key: str, now: datetime, **ctx) -> LedgerTransfer:
    """支付占用 on submit: 可执行 -> 在途 (C03: never more than 可用)."""
    return _move(session, TransferKind.RESERVE, accounts.of(indicator, K.IN_FLIGHT),
                 accounts.of(indicator, K.EXECUTABLE), amount, key=key, now=now, **ctx)


def post(session: Session, indicator: Indicator, amount, *, key: str, now: datetime, **ctx) -> LedgerTransfer:
    """支付成功: 在途 -> 已支付."""
    return _move(session, TransferKind.POST, accounts.of(indicator, K.PAID), accounts.of(indicator, K.IN_FLIGHT),
                 amount, key=key, now=now, **ctx)


def void(session: Session, indicator: Indicator, amount, *, key: str, now: datetime, **ctx) -> LedgerTransfer:
    """退回/作废 before payment: 在途 -> 可执行."""
    return _move(session, TransferKind.VOID, accounts.of(indicator, K.EXECUTABLE),
                 accounts.of(indicator, K.IN_FLIGHT), amount, key=key, now=now, **ctx)


def return_paid(session: Session, indicator: Indicator, amount, *, key: str, now: datetime, **ctx) -> LedgerTransfer:
    """退票 after payment: 已支付 -> 可执行."""
    return _move(session, TransferKind.RETURN, accounts.of(indicator, K.EXECUTABLE), accounts.of(indicator, K.PAID),
                 amount, key=key, now=now, **ctx)


SUFFIX_REGISTER, SUFFIX_ALLOCATE = "/register", "/allocate"


def carry_over(session: Session, indicator: Indicator, next_indicator: Indicator, amount=None, *, key: str,
               now: datetime, **ctx) -> LedgerTransfer:
    """年末结转: 可执行 -> 结转 here; the same amount is registered on `next_indicator` and allocated there.

    `next_indicator` is the next-year indicator the caller made for it (same township, later year). amount None
    carries everything available. Three transfers, keys `key`, `key/register`, `key/allocate`, all or none.
    Returns the carry-over transfer (on this year's indicator).
    """
    key = check_key(key)
    if len(key) > 120 - len(SUFFIX_REGISTER):
        raise LedgerError("结转的幂等键过长（最多 111 个字符）")
    if next_indicator.township_id != indicator.township_id or next_indicator.fiscal_year <= indicator.fiscal_year:
        raise LedgerError(f"结转只能转入同一乡镇以后年度的指标：{indicator.code}（{indicator.fiscal_year}）→ "
                          f"{next_indicator.code}（{next_indicator.fiscal_year}）")
    with savepoint(session):
        executable = accounts.of(indicator, K.EXECUTABLE)
        amount = _amount_or_all(session, key, executable, amount, "结转")
        moved = _move(session, TransferKind.CARRY_OVER, accounts.of(indicator, K.CARRIED), executable, amount,
                      key=key, now=now, **ctx)
        register(session, next_indicator, moved.amount, key=key + SUFFIX_REGISTER, now=now, **ctx)
        allocate(session, next_indicator, moved.amount, key=key + SUFFIX_ALLOCATE, now=now, **ctx)
    return moved


def recall(session: Session, indicator: Indicator, amount=None, *, key: str, now: datetime, **ctx) -> LedgerTransfer:
    """收回: 可执行 -> the source pool. amount None recalls everything available."""
    with savepoint(session):
        executable = accounts.of(indicator, K.EXECUTABLE)
        amount = _amount_or_all(session, key, executable, amount, "收回")
        return _move(session, TransferKind.RECALL, accounts.source_of(indicator), executable, amount, key=key,
                     now=now, **ctx)


# --- fund-use plan (用款计划, C04), per indicator and month ------------------------------------------------------

def plan_grant(session: Session, indicator: Indicator, month: date, amount, *, key: str, now: datetime,
               **ctx) -> LedgerTransfer:
    """用款计划批复: 计划来源[month] -> 计划可用[month]."""
    m = month_start(month)
    return _move(session, TransferKind.PLAN_GRANT, accounts.of(indicator, K.PLAN_AVAILABLE, m),
                 accounts.of(indicator, K.PLAN_SOURCE, m), amount, key=key, now=now, **ctx)


def plan_reserve(session: Session, indicator: Indicator, month: date, amount, *, key: str, now: datetime,
                 **ctx) -> LedgerTransfer:
    """A payment under plan control takes its month's plan: 计划可用 -> 计划在途 (C04)."""
    m = month_start(month)
    return _move(session, TransferKind.PLAN_RESERVE, accounts.of(indicator, K.PLAN_IN_FLIGHT, m),
                 accounts.of(indicator, K.PLAN_AVAILABLE, m), amount, key=key, now=now, **ctx)


def plan_post(session: Session, indicator: Indicator, month: date, amount, *, key: str, now: datetime,
              **ctx) -> LedgerTransfer:
    """The payment went through: 计划在途 -> 计划已用."""
    m = month_start(month)
    return _move(session, TransferKind.PLAN_POST, accounts.of(indicator, K.PLAN_USED, m),
                 accounts.of(indicator, K.PLAN_IN_FLIGHT, m), amount, key=key, now=now, **ctx)


def plan_void(session: Session, indicator: Indicator, month: date, amount, *, key: str, now: datetime,
              **ctx) -> LedgerTransfer:
    """The payment was returned or voided before paying: 计划在途 -> 计划可用."""
    m = month_start(month)
    return _move(session, TransferKind.PLAN_VOID, accounts.of(indicator, K.PLAN_AVAILABLE, m),
                 accounts.of(indicator, K.PLAN_IN_FLIGHT, m), amount, key=key, now=now, **ctx)


def plan_return(session: Session, indicator: Indicator, month: date, amount, *, key: str, now: datetime,
                **ctx) -> LedgerTransfer:
    """退票 after payment, plan side: 计划已用 -> 计划可用."""
    m = month_start(month)
    return _move(session, TransferKind.PLAN_RETURN, accounts.of(indicator, K.PLAN_AVAILABLE, m),
                 accounts.of(indicator, K.PLAN_USED, m), amount, key=key, now=now, **ctx)
