"""资金支付: the payment request's operators, from recording it to posting its vouchers.

Money moves in the indicator ledger in two phases: a submitted request reserves (可执行 -> 在途),
the bank's "paid" posts (在途 -> 已支付), anything else voids (在途 -> 可执行). Each movement is
keyed by the reservation it belongs to, so a retried step, a second callback or a hook running twice
moves nothing more.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import ledger
from app.budget.common import CHINA, indicator_by_code, instance_of, money, session_of, township_of, undone_by
from app.controls.rules import matching_code
from app.controls.settings import settings_for, tier_for
from app.engine import ServiceCall, ServiceError
from app.models import LedgerTransfer, Payment, PaymentStatus, ProcessInstance, TransferKind

SETTLE_MODES = {"transfer", "cash", "card"}
LIVE = (PaymentStatus.DRAFT, PaymentStatus.RESERVED, PaymentStatus.SUBMITTED, PaymentStatus.PAID)


def payment_of(session: Session, instance_id: int) -> Payment:
    payment = session.scalar(select(Payment).where(Payment.instance_id == instance_id))
    if payment is None:
        raise ServiceError("NO_PAYMENT", "本申请还没有支付记录")
    return payment


def _month(moment: datetime) -> date:
    local = moment.astimezone(CHINA)
    return date(local.year, local.month, 1)


def record_payment(call: ServiceCall) -> dict:
    """payment.record: the payment row from the application (again after a return, with the new data)."""
    session, data, instance = session_of(call), call.data, instance_of(call)
    indicator = indicator_by_code(session, str(data.get("indicator_code", "")), for_org=instance.org_id)
    settle_mode = data.get("settle_mode", "transfer")
    if settle_mode not in SETTLE_MODES:
        raise ServiceError("BAD_SETTLE_MODE", "结算方式须为 transfer、cash 或 card")
    payment = session.scalar(select(Payment).where(Payment.instance_id == instance.id))
    if payment is None:
        # Added once complete: a query below would otherwise flush a half-filled row.
        payment = Payment(instance_id=instance.id, status=PaymentStatus.DRAFT, created_at=call.context.now)
    elif payment.status not in (PaymentStatus.DRAFT, PaymentStatus.VOID):
        raise ServiceError("PAYMENT_IN_PROGRESS", "支付已占用额度或已提交银行，不能重新登记")
    payment.org_id, payment.township_id = instance.org_id, township_of(session, instance.org_id).id
    payment.indicator_id, payment.fiscal_year = indicator.id, indicator.fiscal_year
    payment.amount = money(data.get("amount"), "支付金额")
    payment.purpose = str(data.get("purpose") or instance.title)[:200]
    payment.func_code = str(data.get("func_code") or indicator.func_code)
    payment.econ_dept_code = str(data.get("econ_dept_code") or indicator.econ_dept_code)
    # Payments for one project and economic code count together toward the tier: splitting one purchase
    # into several small payments does not dodge an approval level.
    payment.purpose_key = f"{indicator.project_id}:{payment.econ_dept_code}"
    payment.payee_name = str(data.get("payee_name", ""))[:200]
    payment.payee_account = str(data.get("payee_account", ""))[:64]
    payment.payee_bank = str(data.get("payee_bank", ""))[:200]
    payment.payee_is_person = bool(data.get("payee_is_person", False))
    payment.contract_no = (str(data["contract_no"]).strip() or None) if data.get("contract_no") else None
    payment.settle_mode, payment.expense_nature = settle_mode, data.get("expense_nature", "business")
    payment.status = PaymentStatus.DRAFT
    session.add(payment)
    session.flush()
    return {"payment_id": payment.id, "indicator_id": indicator.id}


def cumulative_amount(session: Session, payment: Payment, *, by_contract: bool = True) -> Decimal:
    """This payment plus the live ones before it for the same contract (or project and economic code).

    `by_contract=False` counts the purpose whatever the contract, as C18's large-sum test does.
    """
    # A contract number is the unit's own: another unit's contract of the same number is another contract.
    same = (Payment.org_id == payment.org_id) & (
        Payment.contract_no == payment.contract_no if payment.contract_no and by_contract else
        Payment.purpose_key == payment.purpose_key)
    before = session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(
        same, Payment.fiscal_year == payment.fiscal_year, Payment.id < payment.id, Payment.status.in_(LIVE)))
    return payment.amount + before


def route_payment(call: ServiceCall) -> dict:
    """payment.route: the amount tier (T0-T3) from the township's thresholds, on the cumulative amount.

    The diagram's gateways test `route['tier_rank']` and `route['three_public']`; a process owner changes
    the chain by editing them, an admin changes the thresholds in settings; neither touches Python. What
    C18 will ask for before payment (a large sum or contract, a 三重一大 item) routes to T3 here, so the
    collective decision is on the path and not discovered at the bank.
    """
    session = session_of(call)
    payment = payment_of(session, call.context.instance_id)
    settings = settings_for(session, payment.township_id)
    cumulative = cumulative_amount(session, payment)
    tier, rank = tier_for(settings, cumulative)
    collective = settings["collective_decision"]
    contract = call.data.get("contract_amount")
    large_contract = contract not in (None, "") and Decimal(str(contract)) >= Decimal(collective["contract_amount"])
    large_sum = cumulative_amount(session, payment, by_contract=False) >= Decimal(collective["amount"])
    if call.data.get("major_item") or large_sum or large_contract:
        tier, rank = "T3", 3
    # 公务接待 and the other 三公 items go to 分管财政领导 and 镇长 whatever the amount (domain.md §5).
    three_public = matching_code(payment.econ_dept_code, settings["three_public"]["econ_codes"]) is not None
    payment.tier = tier
    return {"tier": tier, "tier_rank": rank, "three_public": three_public, "cumulative": str(cumulative),
            "thresholds": dict(settings["tiers"])}


def _reservation(session: Session, payment: Payment) -> LedgerTransfer | None:
    """The payment's current reservation: its latest RESERVE transfer."""
    return session.scalar(select(LedgerTransfer).where(
        LedgerTransfer.payment_id == payment.id, LedgerTransfer.kind == TransferKind.RESERVE)
        .order_by(LedgerTransfer.id.desc()).limit(1))


def _plan_month(session: Session, payment: Payment) -> date | None:
    from app.models import LedgerAccount

    return session.scalar(select(LedgerAccount.month).join(
        LedgerTransfer, LedgerTransfer.debit_account_id == LedgerAccount.id).where(
        LedgerTransfer.payment_id == payment.id, LedgerTransfer.kind == TransferKind.PLAN_RESERVE)
        .order_by(LedgerTransfer.id.desc()).limit(1))


def reserve_payment(call: ServiceCall) -> dict:
    """ledger.reserve: hold the amount (可执行 -> 在途), and the month's plan quota if plan-controlled."""
    session, now = session_of(call), call.context.now
    payment = payment_of(session, call.context.instance_id)
    if payment.status != PaymentStatus.DRAFT:
        done = session.scalar(select(LedgerTransfer).where(
            LedgerTransfer.idempotency_key == f"{call.idempotency_key}:reserve"))
        if done is None:
            raise ServiceError("PAYMENT_IN_PROGRESS", "支付已占用额度或已提交银行，不能再次占用")
        return {"reserved": str(done.amount), "transfer_id": done.id}  # a retried step: reserved already
    indicator = payment.indicator
    extra = dict(instance_id=payment.instance_id, payment_id=payment.id, actor_id=call.context.actor_id)
    transfer = ledger.reserve(session, indicator, payment.amount, key=f"{call.idempotency_key}:reserve", now=now,
                              **extra)
    if indicator.plan_controlled:
        ledger.plan_reserve(session, indicator, _month(now), payment.amount, key=f"{call.idempotency_key}:plan",
                            now=now, **extra)
    payment.status = PaymentStatus.RESERVED
    return {"reserved": str(payment.amount), "transfer_id": transfer.id}


def release(session: Session, payment: Payment, now: datetime, *, returned: bool = False) -> bool:
    """Give back what the payment holds (void its reservation); False when it holds nothing.

    Keyed by the reservation, so running it twice (a hook and a step, a retry) releases once.
    """
    if payment.status not in (PaymentStatus.RESERVED, PaymentStatus.SUBMITTED):
        return False
    reservation = _reservation(session, payment)
    extra = dict(instance_id=payment.instance_id, payment_id=payment.id)
    ledger.void(session, payment.indicator, reservation.amount, key=f"void-of:{reservation.id}", now=now, **extra)
    if (month := _plan_month(session, payment)) is not None:
        ledger.plan_void(session, payment.indicator, month, reservation.amount, key=f"plan-void-of:{reservation.id}",
                         now=now, **extra)
    payment.status = PaymentStatus.RETURNED if returned else PaymentStatus.VOID
    if returned:
        payment.returned_at = now
    return True


def void_payment(call: ServiceCall) -> dict:
    """ledger.void: the bank refused the payment: release the reservation."""
    session = session_of(call)
    payment = payment_of(session, call.context.instance_id)
    bank = call.data.get("bank") or {}
    payment.return_reason = str(bank.get("reason") or "")[:200] or None
    release(session, payment, call.context.now, returned=bool(bank))
    return {"status": payment.status}


def post_payment(call: ServiceCall) -> dict:
    """ledger.post: the bank paid: 在途 -> 已支付 (and the plan quota becomes used)."""
    session, now = session_of(call), call.context.now
    payment = payment_of(session, call.context.instance_id)
    if payment.status == PaymentStatus.PAID:
        return {"status": payment.status}  # a retried step: posted already
    if payment.status != PaymentStatus.SUBMITTED:
        raise ServiceError("PAYMENT_NOT_SUBMITTED", "支付未提交银行，不能入账")
    reservation = _reservation(session, payment)
    extra = dict(instance_id=payment.instance_id, payment_id=payment.id)
    ledger.post(session, payment.indicator, reservation.amount, key=f"post-of:{reservation.id}", now=now, **extra)
    if (month := _plan_month(session, payment)) is not None:
        ledger.plan_post(session, payment.indicator, month, reservation.amount, key=f"plan-post-of:{reservation.id}",
                         now=now, **extra)
    payment.status, payment.paid_at = PaymentStatus.PAID, now
    return {"status": payment.status}


def post_vouchers(call: ServiceCall) -> dict:
    """accounting.post_vouchers: the financial and budget accounting legs of the paid payment (平行记账)."""
    from app import accounting

    session = session_of(call)
    payment = payment_of(session, call.context.instance_id)
    vouchers = accounting.post_payment(session, payment, now=call.context.now)
    return {"vouchers": [v.number for v in vouchers]}


def on_closed(session: Session, instance: ProcessInstance, status: str, now: datetime) -> None:
    """A rejected or withdrawn payment request releases what it reserved."""
    payment = session.scalar(select(Payment).where(Payment.instance_id == instance.id))
    if payment is not None:
        release(session, payment, now)


def on_rewound(session: Session, instance: ProcessInstance, removed: list[str], now: datetime) -> None:
    """Sent back to before the reservation: release it; the resubmission reserves again (with new data).

    A return to a step after the reservation keeps it: the request comes this way again without reserving.
    """
    payment = session.scalar(select(Payment).where(Payment.instance_id == instance.id))
    if payment is not None and payment.status == PaymentStatus.RESERVED:
        reservation = _reservation(session, payment)
        if reservation is not None and undone_by(reservation.idempotency_key, removed):
            release(session, payment, now)


def submit_to_bank(call: ServiceCall, *, bank) -> dict:
    """bank.submit: put the reserved payment in a batch for the agent bank; the bank answers later."""
    from app.bank import batch_file
    from app.models import BankBatch, Org

    session, now = session_of(call), call.context.now
    payment = payment_of(session, call.context.instance_id)
    if payment.bank_ref is not None and payment.status in (PaymentStatus.SUBMITTED, PaymentStatus.PAID,
                                                           PaymentStatus.RETURNED):
        return {"bank_ref": payment.bank_ref}  # a retried step: already handed over
    if payment.status != PaymentStatus.RESERVED:
        raise ServiceError("PAYMENT_NOT_RESERVED", "支付没有占用额度，不能提交银行")
    local = now.astimezone(CHINA)
    payment.bank_ref = f"ZF{local:%Y%m%d}{payment.id:010d}"
    batch = BankBatch(number=f"PL{local:%Y%m%d}-{payment.id:08d}", bank=bank.name, created_at=now,
                      file_name=f"支付批次_{local:%Y%m%d}_{payment.id:08d}.csv", content="")
    session.add(batch)
    session.flush()
    payer = session.get(Org, payment.org_id)
    batch.content = batch_file(batch, [payment], {payment.org_id: payer.name})
    payment.batch_id, payment.status, payment.submitted_at = batch.id, PaymentStatus.SUBMITTED, now
    bank.submit(session, batch, [payment])
    return {"bank_ref": payment.bank_ref, "batch": batch.number}
