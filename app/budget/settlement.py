"""The bank's answer for a payment: paid, or returned (before payment, or a 退票 after it).

For a payment waiting in its process the answer is delivered to the process, whose steps post or
release. For a paid payment, a return reverses its vouchers in red ink (红字冲销) and gives the
amount back to the indicator. An unknown reference, or an answer for a payment already settled,
changes nothing.
"""
from sqlalchemy import select
from sqlalchemy.orm import undefer

from app import accounting, ledger
from app.approvals import notices
from app.approvals.deciding import load_run
from app.approvals.deps import Deps, transaction
from app.approvals.errors import Conflict, InvalidInput, NotFound
from app.approvals.steps import add_event, save_step
from app.budget.payments import _plan_month
from app.engine import EngineError
from app.models import EventType, LedgerTransfer, Payment, PaymentStatus, ProcessInstance, TransferKind

STATUSES = ("paid", "returned")


def settle_payment(deps: Deps, bank_ref: str, status: str, reason: str | None = None) -> Payment:
    if status not in STATUSES:
        raise InvalidInput("银行回单状态有误", {"status": ["须为 paid 或 returned"]})
    session = deps.session
    with transaction(session):
        payment = session.scalar(select(Payment).where(Payment.bank_ref == bank_ref).with_for_update())
        if payment is None:
            raise NotFound(f"没有业务编号为 {bank_ref} 的支付")
        instance = session.scalar(select(ProcessInstance).options(undefer(ProcessInstance.state))
                                  .where(ProcessInstance.id == payment.instance_id).with_for_update()
                                  .execution_options(populate_existing=True))
        answer = {"bank_ref": bank_ref, "status": status, "reason": reason}
        if payment.status == PaymentStatus.SUBMITTED:
            _deliver(deps, instance, payment, answer)
        elif payment.status == PaymentStatus.PAID and status == "returned":
            _return_after_payment(deps, instance, payment, reason)
            _tell(deps, instance, payment, answer)
        else:
            raise Conflict(f"支付 {bank_ref} 已处理（{payment.status}），不能重复入账或退回")
    return payment


def _deliver(deps: Deps, instance: ProcessInstance, payment: Payment, answer: dict) -> None:
    deployed, run = load_run(deps, instance, None)
    before = run.ready_task_ids()
    try:
        run.deliver_message("bank_result", answer)
    except EngineError as exc:
        raise Conflict(f"流程没有在等待银行回单：{exc}") from exc
    add_event(deps.session, instance, EventType.BANK_RESULT, deps.now, data=answer)
    save_step(deps.session, instance, deployed, run, before=before, now=deps.now, actor_id=None, hooks=deps.hooks)
    _tell(deps, instance, payment, answer)


def _tell(deps: Deps, instance: ProcessInstance, payment: Payment, answer: dict) -> None:
    """The bank's answer, in words: 已支付 to the applicant, 退票 to the applicant and the treasury."""
    if answer["status"] == "paid":
        notices.payment_paid(deps.session, instance, amount=payment.amount, bank_ref=answer["bank_ref"],
                             now=deps.now)
    else:
        notices.payment_returned(deps.session, instance, bank_ref=answer["bank_ref"], reason=answer["reason"],
                                 now=deps.now)


def _return_after_payment(deps: Deps, instance: ProcessInstance, payment: Payment, reason: str | None) -> None:
    """退票: the money came back after it was paid: red-ink vouchers, and 已支付 -> 可执行."""
    session, now = deps.session, deps.now
    posted = session.scalar(select(LedgerTransfer).where(
        LedgerTransfer.payment_id == payment.id, LedgerTransfer.kind == TransferKind.POST)
        .order_by(LedgerTransfer.id.desc()).limit(1))
    extra = dict(instance_id=payment.instance_id, payment_id=payment.id)
    # The ledger first, then the vouchers: the order in which paying takes its locks (ledger.post, then
    # accounting.post_vouchers). The other way round, a 退票 and a payment of the same indicator settled
    # at the same moment deadlocked.
    ledger.return_paid(session, payment.indicator, posted.amount, key=f"return-of:{posted.id}", now=now, **extra)
    if (month := _plan_month(session, payment)) is not None:
        ledger.plan_return(session, payment.indicator, month, posted.amount, key=f"plan-return-of:{posted.id}",
                           now=now, **extra)
    accounting.reverse_payment(session, payment, now=now, reason=reason or "银行退票")
    payment.status, payment.returned_at, payment.return_reason = PaymentStatus.RETURNED, now, reason
    add_event(session, instance, EventType.PAYMENT_RETURNED, now,
              data={"bank_ref": payment.bank_ref, "reason": reason, "amount": str(posted.amount)})
