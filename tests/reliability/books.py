"""The invariants a crash must not break, read with SQL and the engine after everything restarted."""
from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from app import accounting, ledger
from app.approvals.deciding import load_run
from app.approvals.steps import OPEN_STATES
from app.models import (
    HumanTask,
    Indicator,
    InstanceStatus,
    LedgerTransfer,
    Payment,
    PaymentStatus,
    ProcessInstance,
    TaskKind,
    TransferKind,
    Voucher,
)


def engine_disagreements(deps) -> dict[int, tuple[set, set]]:
    """Instances whose engine state and inbox rows disagree: {id: (engine's ready tasks, open step rows)}."""
    session, found = deps.session, {}
    for instance in session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)):
        _, run = load_run(deps, instance, None)
        engine = {t.spiff_id for t in run.ready_tasks()}
        rows = set(session.scalars(select(HumanTask.spiff_task_id).where(
            HumanTask.instance_id == instance.id, HumanTask.kind == TaskKind.STEP,
            HumanTask.state.in_(OPEN_STATES))))
        running = instance.status == InstanceStatus.RUNNING
        if engine != rows or running == run.finished:
            found[instance.id] = (engine, rows)
    return found


def transfers_per_payment(session) -> dict[int, Counter]:
    counts: dict[int, Counter] = {}
    for payment_id, kind in session.execute(select(LedgerTransfer.payment_id, LedgerTransfer.kind)
                                            .where(LedgerTransfer.payment_id.is_not(None))):
        counts.setdefault(payment_id, Counter())[kind] += 1
    return counts


def _settled(payment: Payment) -> tuple[dict | None, int]:
    """The ledger transfers and vouchers a payment has by its status; (None, 0) for one left half-way (at the bank)."""
    if payment.status == PaymentStatus.RESERVED:  # still in review: held once
        return {TransferKind.RESERVE: 1}, 0
    if payment.status == PaymentStatus.PAID:
        return {TransferKind.RESERVE: 1, TransferKind.POST: 1}, 1
    if payment.status == PaymentStatus.RETURNED and payment.paid_at is not None:  # 退票: paid, then reversed
        return {TransferKind.RESERVE: 1, TransferKind.POST: 1, TransferKind.RETURN: 1}, 2
    if payment.status == PaymentStatus.RETURNED:  # refused by the bank: the reservation released
        return {TransferKind.RESERVE: 1, TransferKind.VOID: 1}, 0
    return None, 0


def payment_problems(session) -> list[str]:
    """Each payment settled once: reserved once, then posted (one voucher) or released, or posted and reversed."""
    problems = []
    transfers = transfers_per_payment(session)
    vouchers = dict(session.execute(select(Voucher.payment_id, func.count()).group_by(Voucher.payment_id)).all())
    for payment in session.scalars(select(Payment).order_by(Payment.id)):
        want, wanted_vouchers = _settled(payment)
        got = dict(transfers.get(payment.id, Counter()))
        if want is None:
            problems.append(f"payment {payment.id} left {payment.status}")
        elif got != want:
            problems.append(f"payment {payment.id} ({payment.status}) moved {got}, expected {want}")
        if vouchers.get(payment.id, 0) != wanted_vouchers:
            problems.append(f"payment {payment.id} ({payment.status}) has {vouchers.get(payment.id, 0)} vouchers")
    return problems


def indicator_problems(session, indicator: Indicator) -> list[str]:
    balances = ledger.balances(session, indicator.id)
    paid = session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.indicator_id == indicator.id, Payment.status == PaymentStatus.PAID))
    held = session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.indicator_id == indicator.id, Payment.status.in_((PaymentStatus.RESERVED, PaymentStatus.SUBMITTED))))
    problems = []
    if (balances.paid, balances.in_flight) != (Decimal(paid), Decimal(held)):
        problems.append(f"indicator {indicator.code}: paid {balances.paid} / in flight {balances.in_flight}, "
                        f"payments say {paid} / {held}")
    parts = balances.available + balances.frozen + balances.in_flight + balances.paid
    if parts != balances.allotted or balances.allotted != indicator.amount:
        problems.append(f"indicator {indicator.code}: {balances} does not add up to {indicator.amount}")
    return problems


def trial_balance_problems(session, township_id: int, fiscal_year: int) -> list[str]:
    balance = accounting.trial_balance(session, township_id=township_id, fiscal_year=fiscal_year)
    return [] if balance.balanced else [f"trial balance off: {balance.totals}"]
