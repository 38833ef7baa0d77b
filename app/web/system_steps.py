"""What each system step of a request did, in one sentence for the timeline ("控制规则检查通过（2 项提醒）",
"占用指标额度 800.00 元（在途）", "提交银行，流水号 …，批次 …").

A 系统 event records only which service task ran; what it did is read back from what it left: the
control results stored at that moment, the ledger movements made at that moment, the payment's bank
reference, batch and vouchers. A step with nothing more to say is named by its service task's name in
the diagram, so no row is ever an empty "系统处理".
"""
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import BankBatch, ControlOutcome, ControlResult, EventType, LedgerTransfer, Payment, TransferKind
from app.models.accounting import Voucher
from app.processes.definitions import Deployed
from app.web.filters import yuan


@dataclass
class Traces:
    """What the request's system steps left behind, keyed by the moment they ran."""

    checks: dict = field(default_factory=lambda: defaultdict(list))  # at -> [outcome]
    moved: dict = field(default_factory=lambda: defaultdict(list))  # (at, kind) -> [amount]
    payment: Payment | None = None
    batch: str | None = None
    vouchers: list[str] = field(default_factory=list)


def _traces(session: Session, instance_id: int) -> Traces:
    traces = Traces()
    for at, outcome in session.execute(select(ControlResult.checked_at, ControlResult.outcome)
                                       .where(ControlResult.instance_id == instance_id)):
        traces.checks[at].append(outcome)
    for at, kind, amount in session.execute(select(LedgerTransfer.created_at, LedgerTransfer.kind,
                                                   LedgerTransfer.amount)
                                            .where(LedgerTransfer.instance_id == instance_id)):
        traces.moved[(at, kind)].append(amount)
    traces.payment = session.scalar(select(Payment).where(Payment.instance_id == instance_id))
    if traces.payment is not None:
        if traces.payment.batch_id:
            traces.batch = session.scalar(select(BankBatch.number).where(BankBatch.id == traces.payment.batch_id))
        traces.vouchers = list(session.scalars(select(Voucher.number).where(Voucher.payment_id == traces.payment.id)
                                               .order_by(Voucher.id)))
    return traces


def _checked(at, traces: Traces) -> str | None:
    outcomes = traces.checks.get(at)
    if not outcomes:
        return None
    blocks = outcomes.count(ControlOutcome.BLOCK)
    warns = outcomes.count(ControlOutcome.WARN)
    text = f"控制规则检查：{blocks} 项不通过" if blocks else "控制规则检查通过"
    return text + (f"（{warns} 项提醒）" if warns else "")


def _moved(at, traces: Traces, kind: str, words: str) -> str | None:
    amounts = traces.moved.get((at, kind))
    return f"{words} {yuan(sum(amounts))}" if amounts else None


def _sentence(operator: str, at, traces: Traces, latest: bool) -> str | None:
    payment = traces.payment
    if operator == "controls.check_payment":
        return _checked(at, traces)
    if operator == "ledger.reserve":
        return (text := _moved(at, traces, TransferKind.RESERVE, "占用指标额度")) and f"{text}（在途）"
    if operator == "ledger.void":
        return _moved(at, traces, TransferKind.VOID, "释放指标额度")
    if operator == "ledger.post":
        return _moved(at, traces, TransferKind.POST, "指标记账：已支付")
    # The payment row holds the latest tier and bank hand-over only: said on the latest such step.
    if operator == "payment.route" and latest and payment is not None and payment.tier:
        return f"确定审批档次：{payment.tier}"
    if operator == "bank.submit" and latest and payment is not None and payment.bank_ref:
        return f"提交银行，流水号 {payment.bank_ref}" + (f"，批次 {traces.batch}" if traces.batch else "")
    if operator == "accounting.post_vouchers" and traces.vouchers:
        return f"生成会计凭证 {'、'.join(traces.vouchers)}"
    return None


def _step_names(deployed: Deployed) -> dict[str, str]:
    return {bpmn_id: node.name for model in deployed.bundle.models.values()
            for bpmn_id, (node, _) in model.service_tasks.items() if node.name}


def system_sentences(session: Session, deployed: Deployed, instance_id: int, history: list[dict]) -> dict[int, str]:
    """Event seq -> what the system step did, for every 系统 event of the history."""
    calls = [e for e in history if e["type"] == EventType.SERVICE_CALLED]
    if not calls:
        return {}
    traces, names = _traces(session, instance_id), _step_names(deployed)
    last = {(e["data"] or {}).get("operator"): e["seq"] for e in calls}
    sentences = {}
    for event in calls:
        data = event["data"] or {}
        operator = data.get("operator") or ""
        said = _sentence(operator, event["at"], traces, last.get(operator) == event["seq"])
        sentences[event["seq"]] = said or names.get(data.get("bpmn_id")) or "系统自动处理"
    return sentences
