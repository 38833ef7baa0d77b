"""The control rules at work: read the facts from the database, run app.controls, keep the verdicts.

Each check stores its verdicts with the request (ControlResult, keyed by the service call so a retried
step stores them once), and every later task of the request shows the latest ones. Where a check runs
decides what a block does: on submission (`stage="submit"`) and before the bank (`stage="pay"`) it
refuses the step with the rules' messages; in review (`stage="review"`) it informs the reviewer.
"""
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app import ledger, refdata
from app.budget.common import CHINA, session_of
from app.budget.payments import LIVE, payment_of
from app.controls import rules
from app.controls.settings import settings_for
from app.engine import ServiceCall, ServiceError
from app.models import (
    Attachment,
    ControlOutcome,
    ControlResult,
    Decision,
    HumanTask,
    Indicator,
    Payment,
    PaymentStatus,
    ProcessInstance,
    Project,
    TaskKind,
    TaskState,
)

STAGES = {"submit", "review", "pay"}
REFUSING_STAGES = {"submit", "pay"}
# Rules the process itself satisfies on the way: the collective decision (C18) is a step after submission,
# so it refuses only before the bank; until then its block is shown to the approvers.
ENFORCED_BEFORE_PAYMENT = {"C18"}


def _month_of(moment: datetime) -> date:
    local = moment.astimezone(CHINA)
    return date(local.year, local.month, 1)


def _sum_payments(session: Session, payment: Payment, *conditions) -> Decimal:
    return session.scalar(select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.id != payment.id, Payment.fiscal_year == payment.fiscal_year, Payment.status.in_(LIVE), *conditions))


def indicator_facts(session: Session, payment: Payment, now: datetime) -> rules.IndicatorFacts:
    """The indicator as the rules see it, with what this payment already holds given back (it is the one checked)."""
    indicator = session.get(Indicator, payment.indicator_id)
    month = _month_of(now)
    balances = ledger.balances(session, indicator.id, month=month if indicator.plan_controlled else None)
    held = payment.amount if payment.status in (PaymentStatus.RESERVED, PaymentStatus.SUBMITTED) else Decimal(0)
    plan_available = None
    if indicator.plan_controlled:
        plan_available = (balances.plan_available or Decimal(0)) + held
    return rules.IndicatorFacts(
        code=indicator.code, available=balances.available + held, frozen=balances.frozen,
        executable=balances.allotted > 0, org_matches=indicator.org_id == payment.org_id,
        project_id=indicator.project_id, func_code=indicator.func_code, econ_dept_code=indicator.econ_dept_code,
        econ_gov_code=indicator.econ_gov_code, fund_nature_code=indicator.fund_nature_code,
        earmarked=indicator.earmarked,
        earmarked_scope=rules.EarmarkedScope(project_id=indicator.project_id) if indicator.earmarked else None,
        plan_controlled=indicator.plan_controlled, plan_available=plan_available, plan_month=f"{month:%Y-%m}",
        three_guarantees=indicator.three_guarantees, total=balances.allotted, used=balances.used - held,
        reserved=balances.in_flight - held)


def _approvers(session: Session, instance: ProcessInstance) -> frozenset[int]:
    """Who decided an approval step of the request, or holds one open now (C17).

    An open step on the applicant's own desk is not an approval: it is their 申请 (reopened by a 退回,
    still open while its resubmission runs this check) or a step the diagram hands back to them. No
    approval desk is ever theirs: candidates, transfers, signers and delegates leave the applicant out,
    and ensure_may_decide refuses them any step but their own. What they decide shows as a decision.
    """
    decided = session.scalars(select(HumanTask.completed_by_id).where(
        HumanTask.instance_id == instance.id, HumanTask.state == TaskState.COMPLETED,
        HumanTask.decision.in_((Decision.APPROVE, Decision.REJECT)))).all()
    own_desk = (HumanTask.kind == TaskKind.STEP) & (HumanTask.assignee_id == instance.initiator_id)
    open_ = session.scalars(select(HumanTask.assignee_id).where(
        HumanTask.instance_id == instance.id, HumanTask.state == TaskState.READY, ~own_desk)).all()
    return frozenset(i for i in (*decided, *open_) if i is not None)


def payment_facts(session: Session, payment: Payment, data: dict, now: datetime, settings) -> rules.PaymentFacts:
    """The payment as the rules see it; totals that a rule cannot use for this payment are not summed."""
    instance = session.get(ProcessInstance, payment.instance_id)
    indicator = session.get(Indicator, payment.indicator_id)
    project_code = str(data.get("project_code") or "").strip()
    project_id = session.scalar(select(Project.id).where(Project.code == project_code)) if project_code else None
    three_public = rules.matching_code(payment.econ_dept_code, settings["three_public"]["econ_codes"])
    spent_three_public = {}
    if three_public:
        spent_three_public[three_public] = _sum_payments(session, payment, Payment.org_id == payment.org_id,
                                                         Payment.econ_dept_code.startswith(three_public))
    cash = (Payment.org_id == payment.org_id, Payment.settle_mode == "cash")
    paid_in_cash = payment.settle_mode == "cash"  # C14 looks at cash totals only for a cash payment
    month = _month_of(now)
    attachments = session.scalar(select(func.count(Attachment.id)).where(Attachment.instance_id == instance.id))
    contract_amount = data.get("contract_amount")
    return rules.PaymentFacts(
        amount=payment.amount, purpose=payment.purpose, payee_name=payment.payee_name,
        payee_account=payment.payee_account, func_code=payment.func_code, econ_dept_code=payment.econ_dept_code,
        econ_gov_code=str(data.get("econ_gov_code") or indicator.econ_gov_code),
        fund_nature_code=str(data.get("fund_nature_code") or indicator.fund_nature_code),
        applicant_id=instance.initiator_id, approver_ids=_approvers(session, instance),
        payee_is_person=payment.payee_is_person, settle_mode=payment.settle_mode,
        expected_econ_gov_code=refdata.gov_code_for(session, payment.econ_dept_code), project_id=project_id,
        to_own_account=bool(data.get("to_own_account")), contract_no=payment.contract_no,
        contract_amount=Decimal(str(contract_amount)) if contract_amount not in (None, "") else None,
        contract_paid_before=_sum_payments(session, payment, Payment.contract_no == payment.contract_no)
        if payment.contract_no else Decimal(0),
        purpose_paid_before=_sum_payments(session, payment, Payment.org_id == payment.org_id,
                                          Payment.purpose_key == payment.purpose_key),
        cash_this_month=_sum_payments(session, payment, *cash, Payment.created_at >= _start_of(month))
        if paid_in_cash else Decimal(0),
        cash_this_year=_sum_payments(session, payment, *cash) if paid_in_cash else Decimal(0),
        invoice_count=int(data.get("invoice_count") or 0), attachments=attachments,
        collective_decision={"meeting_date": data.get("meeting_date"), "minutes_no": data.get("minutes_no")},
        major_item=bool(data.get("major_item")), three_public_spent_this_year=spent_three_public,
        is_procurement_item=bool(data.get("is_procurement_item")),
        procurement_kind=data.get("procurement_kind") or "goods", card_unavailable=bool(data.get("card_unavailable")))


def _start_of(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=CHINA)


SEVERITY = {ControlOutcome.PASS: 0, ControlOutcome.WARN: 1, ControlOutcome.BLOCK: 2}


def merge_by_rule(verdicts: list[rules.Verdict]) -> list[rules.Verdict]:
    """One verdict per rule (a request's lines are checked one by one): the worst outcome, its messages."""
    by_rule: dict[str, list[rules.Verdict]] = {}
    for verdict in verdicts:
        by_rule.setdefault(verdict.rule, []).append(verdict)
    merged = []
    for rule, found in by_rule.items():
        if len(found) == 1:
            merged.append(found[0])
            continue
        worst = max(found, key=lambda v: SEVERITY[v.outcome]).outcome
        messages = list(dict.fromkeys(v.message for v in found if v.outcome == worst))
        merged.append(rules.Verdict(rule, worst, "；".join(messages), {"items": [v.evidence for v in found]},
                                    found[0].source))
    return merged


def store(session: Session, call: ServiceCall, verdicts: list[rules.Verdict]) -> None:
    """Keep the verdicts with the request (replacing what a retried run of this same call stored)."""
    session.execute(delete(ControlResult).where(ControlResult.instance_id == call.context.instance_id,
                                                ControlResult.check_key == call.idempotency_key))
    session.add_all(ControlResult(instance_id=call.context.instance_id, check_key=call.idempotency_key,
                                  rule=v.rule, outcome=str(v.outcome), message=v.message, evidence=v.evidence,
                                  source=v.source, checked_at=call.context.now) for v in verdicts)


def outcome_of(verdicts: list[rules.Verdict], stage: str) -> dict:
    """What the step returns to the diagram; raises at a refusing stage when a rule blocks."""
    outcome = rules.overall(verdicts)
    blocks = [v for v in verdicts if v.outcome == ControlOutcome.BLOCK]
    warnings = [f"{v.rule} {v.message}" for v in verdicts if v.outcome == ControlOutcome.WARN]
    refusing = [v for v in blocks if stage == "pay" or v.rule not in ENFORCED_BEFORE_PAYMENT]
    if refusing and stage in REFUSING_STAGES:
        raise ServiceError("CONTROL_BLOCKED", "；".join(f"{v.rule} {v.message}" for v in refusing),
                           {f"controls.{v.rule}": [v.message] for v in refusing})
    return {"outcome": str(outcome), "blocks": [f"{v.rule} {v.message}" for v in blocks], "warnings": warnings}


def check_payment(call: ServiceCall, stage: str = "review") -> dict:
    """controls.check_payment: C01-C19 on the payment request."""
    if stage not in STAGES:
        raise ServiceError("BAD_STAGE", f"检查阶段须为 {'、'.join(sorted(STAGES))}")
    session = session_of(call)
    payment = payment_of(session, call.context.instance_id)
    settings = settings_for(session, payment.township_id)
    facts = payment_facts(session, payment, call.data, call.context.now, settings)
    verdicts = rules.check_payment(facts, indicator_facts(session, payment, call.context.now), settings)
    store(session, call, verdicts)
    return outcome_of(verdicts, stage)


def recheck_invoices(session: Session, instance_id: int, now: datetime, check_key: str) -> None:
    """C19 again when a file is attached to a payment already checked, so every later page shows the latest.

    Only C19 reads attachments, so only it is recomputed, with the 发票 count of its last check; a request
    not yet checked (or not a payment) has nothing to refresh: its first check counts the files itself.
    """
    last = session.scalar(select(ControlResult).where(ControlResult.instance_id == instance_id,
                                                      ControlResult.rule == "C19")
                          .order_by(ControlResult.checked_at.desc(), ControlResult.id.desc()).limit(1))
    payment = session.scalar(select(Payment).where(Payment.instance_id == instance_id))
    if last is None or payment is None:
        return
    attachments = session.scalar(select(func.count(Attachment.id)).where(Attachment.instance_id == instance_id))
    facts = SimpleNamespace(invoice_count=int((last.evidence or {}).get("invoice_count") or 0),
                            attachments=attachments)  # all that C19 reads
    verdict = rules.c19_invoices(facts, settings_for(session, payment.township_id))
    if verdict is not None:
        session.add(ControlResult(instance_id=instance_id, check_key=check_key, rule=verdict.rule,
                                  outcome=str(verdict.outcome), message=verdict.message, evidence=verdict.evidence,
                                  source=verdict.source, checked_at=now))


def line_verdicts(session: Session, lines, org_id: int, settings) -> list[rules.Verdict]:
    """C02 and C15 on budget lines (of a declaration, or the new indicators of an adjustment)."""
    verdicts = []
    for line in lines:
        project = session.get(Project, line.project_id)
        verdicts += rules.check_line(rules.LineFacts(
            project_id=project.id, project_status=project.status, econ_dept_code=line.econ_dept_code,
            econ_gov_code=line.econ_gov_code, expected_econ_gov_code=refdata.gov_code_for(session, line.econ_dept_code),
            project_org_matches=project.org_id == org_id, amount=line.amount), settings)
    return verdicts


def reallocation_verdicts(session: Session, source: Indicator, target_project_id: int | None, amount: Decimal,
                          target_code: str | None, settings) -> list[rules.Verdict]:
    """C05 and C09 on one 调剂 line, before its amount is held."""
    balances = ledger.balances(session, source.id)
    return rules.check_reallocation(rules.ReallocationFacts(
        amount=amount, source_available=balances.available, source_frozen=balances.frozen, source_code=source.code,
        target_code=target_code, source_earmarked=source.earmarked,
        same_project=target_project_id == source.project_id), settings)

