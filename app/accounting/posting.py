"""Vouchers for paid and returned payments (domain.md §7.2-7.5).

Posting rules
- A payment confirmed paid posts one voucher with both legs of the 国库集中支付 pattern A (§7.2, §7.3):
  财务会计 借 费用 / 贷 4001 财政拨款收入, and 预算会计 借 7101 or 7201 / 贷 6001 财政拨款预算收入.
- The unit type picks the accounts. 行政单位 (or no type recorded): 5001 业务活动费用 and 7101 行政支出.
  事业单位: 5001 for business spending, 5101 单位管理费用 for its management departments, and 7201 事业支出.
- Capital items (departmental economic class 310, e.g. 31002 办公设备购置) debit 1601 固定资产 on the
  financial side instead of the expense (§7.4); the budget side is the same as for an expense.
- A bank return (退票) after payment is a red-ink reversal (红字冲销): a REVERSAL voucher pointing at the
  original, with the same accounts on the same sides and negative amounts, so every total nets to zero.
- Every line carries the dimensions (辅助核算): the paying unit, function code, departmental economic code,
  project and fund nature (from the indicator) and the indicator. A reversal copies the original's lines.
- A voucher is dated the day of the event in China time (paid_at; for a reversal returned_at, else `now`,
  never before the original); its fiscal year is that date's year (the books' year, which may differ from
  the payment's budget year for a payment that crosses New Year).

Idempotency and races
- Both calls lock the payment row (SELECT ... FOR UPDATE on PostgreSQL; on SQLite, which has no row locks,
  a no-op UPDATE of the row that takes the database write lock) before looking for vouchers, so two
  concurrent calls for one payment post once: the second waits, then finds the first one's voucher.
  Callers that already hold the lock lose nothing.
- A payment posts at most one PAYMENT voucher and one REVERSAL: a second call returns what is there.
  Paying a returned payment again must be a new payment (a new Payment row), not the same one.

Voucher numbers: 记-{year}-{unit}-{seq:06d}, e.g. 记-2026-NYB-000123, a sequence per unit and year.
`unit` is the org code (or ORG{id} when the code is too long or odd for a number). The next sequence is
the highest number with that prefix plus one; the voucher is inserted inside a SAVEPOINT, and when a
concurrent transaction took the number first (unique constraint on voucher.number) the savepoint is rolled
back and the next number is tried. Numbers stay dense and human-readable; a rolled-back transaction can
leave a gap, as in any sequence.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounting.chart import BUD, FIN
from app.accounting.errors import AccountingError
from app.db import savepoint
from app.models import (
    GlAccount,
    Indicator,
    Org,
    Payment,
    PaymentStatus,
    UnitType,
    Voucher,
    VoucherKind,
    VoucherLine,
)
from app.models.types import CENT

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
ZERO = Decimal("0.00")
CAPITAL_ECON_CLASS = "310"  # 资本性支出
NUMBER_ATTEMPTS = 20
SUMMARY_LENGTH = 200  # voucher.summary
NUMBER_LENGTH = 40  # voucher.number
_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,24}$")


@dataclass(frozen=True)
class Leg:
    """One line to post: an account on a side, a debit or a credit (negative in red ink)."""

    side: str
    account_code: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO


def post_payment(session: Session, payment: Payment, *, now: datetime) -> list[Voucher]:
    """Post the voucher of a payment confirmed paid; return it. Idempotent: a second call returns it again."""
    _require_aware(now)
    _lock(session, payment)
    existing = _vouchers(session, payment.id, VoucherKind.PAYMENT)
    if existing:
        return existing
    if payment.status != PaymentStatus.PAID or payment.paid_at is None:
        raise AccountingError(f"支付 {payment.id} 尚未支付成功（状态 {payment.status}），不能记账")
    amount = _amount(payment)
    org = session.get(Org, payment.org_id)
    debit_account, budget_account = accounts_for(org, payment)
    indicator = session.get(Indicator, payment.indicator_id)
    if indicator is None:
        raise AccountingError(f"支付 {payment.id} 的指标 {payment.indicator_id} 不存在")
    dimensions = {
        "org_id": payment.org_id,
        "func_code": payment.func_code,
        "econ_code": payment.econ_dept_code,
        "project_id": indicator.project_id,
        "fund_nature_code": indicator.fund_nature_code,
        "indicator_id": indicator.id,
    }
    legs = [
        Leg(FIN, debit_account, debit=amount),
        Leg(FIN, "4001", credit=amount),
        Leg(BUD, budget_account, debit=amount),
        Leg(BUD, "6001", credit=amount),
    ]
    voucher = _add_voucher(
        session, org=org, kind=VoucherKind.PAYMENT, voucher_date=local_date(payment.paid_at),
        payment_id=payment.id, reverses_id=None, summary=_fit(payment_summary(payment)),
        lines=[(leg, dimensions) for leg in legs], now=now,
    )
    return [voucher]


def reverse_payment(session: Session, payment: Payment, *, now: datetime, reason: str) -> list[Voucher]:
    """Red-ink reversal of a returned payment's voucher(s); return the reversal(s). Idempotent.

    AccountingError when the payment has no posted voucher to reverse.
    """
    _require_aware(now)
    reason = (reason or "").strip()
    if not reason:
        raise AccountingError("冲销须写明原因")
    _lock(session, payment)
    existing = _vouchers(session, payment.id, VoucherKind.REVERSAL)
    if existing:
        return existing
    originals = _vouchers(session, payment.id, VoucherKind.PAYMENT)
    if not originals:
        raise AccountingError(f"支付 {payment.id} 没有已记账的凭证，无可冲销")
    voucher_date = local_date(payment.returned_at or now)
    reversals = []
    for original in originals:
        lines = [(Leg(line.side, line.account_code, debit=_negate(line.debit), credit=_negate(line.credit)), {
            "org_id": line.org_id, "func_code": line.func_code, "econ_code": line.econ_code,
            "project_id": line.project_id, "fund_nature_code": line.fund_nature_code,
            "indicator_id": line.indicator_id,
        }) for line in original.lines]
        org = session.get(Org, original.org_id)
        reversals.append(_add_voucher(
            session, org=org, kind=VoucherKind.REVERSAL, voucher_date=max(voucher_date, original.voucher_date),
            payment_id=payment.id, reverses_id=original.id,
            summary=_fit(f"冲销 {original.number} {original.summary}", suffix=f"（{_fit(reason, length=60)}）"),
            lines=lines, now=now,
        ))
    return reversals


def accounts_for(org: Org | None, payment: Payment) -> tuple[str, str]:
    """(financial debit account, budget debit account) for a payment by this unit."""
    if org is None:
        raise AccountingError(f"支付 {payment.id} 的付款单位 {payment.org_id} 不存在")
    unit_type = org.unit_type or UnitType.ADMINISTRATIVE
    if unit_type == UnitType.ADMINISTRATIVE:
        expense, budget = "5001", "7101"
    elif unit_type == UnitType.INSTITUTION:
        budget = "7201"
        if payment.expense_nature == "business":
            expense = "5001"
        elif payment.expense_nature == "management":
            expense = "5101"
        else:
            raise AccountingError(f"支付 {payment.id} 的费用性质 {payment.expense_nature!r} 无法确定科目"
                                  "（须为 business 业务活动 或 management 单位管理）")
    else:
        raise AccountingError(f"单位 {org.name} 的单位类型 {unit_type!r} 无法确定科目")
    if (payment.econ_dept_code or "").startswith(CAPITAL_ECON_CLASS):
        expense = "1601"
    return expense, budget


def payment_summary(payment: Payment) -> str:
    """摘要: the purpose and who was paid."""
    return f"{payment.purpose.strip()}（付{payment.payee_name.strip()}）"


def local_date(moment: datetime) -> date:
    """The China date of an aware instant."""
    _require_aware(moment)
    return moment.astimezone(LOCAL_TZ).date()


def check_balanced(legs: list[Leg]) -> None:
    """Refuse a voucher whose lines are not one-sided, not in cents, or whose debits and credits differ per side."""
    if not legs:
        raise AccountingError("凭证没有分录")
    totals: dict[str, list[Decimal]] = {}
    for leg in legs:
        if leg.side not in (FIN, BUD):
            raise AccountingError(f"分录的账套 {leg.side!r} 无效")
        for value in (leg.debit, leg.credit):
            if not isinstance(value, Decimal) or not value.is_finite() or value != value.quantize(CENT):
                raise AccountingError(f"科目 {leg.account_code} 的金额 {value!r} 须为两位小数的 Decimal")
        if (leg.debit == 0) == (leg.credit == 0):
            raise AccountingError(f"科目 {leg.account_code} 的分录须只有借方或只有贷方金额")
        side = totals.setdefault(leg.side, [ZERO, ZERO])
        side[0] += leg.debit
        side[1] += leg.credit
    for side, (debit, credit) in totals.items():
        if debit != credit:
            raise AccountingError(f"{side} 借方合计 {debit} 不等于贷方合计 {credit}")


def _add_voucher(session: Session, *, org: Org, kind: VoucherKind, voucher_date: date, payment_id: int | None,
                 reverses_id: int | None, summary: str, lines: list[tuple[Leg, dict]], now: datetime) -> Voucher:
    check_balanced([leg for leg, _ in lines])
    _require_accounts(session, {leg.account_code: leg.side for leg, _ in lines})
    fiscal_year = voucher_date.year
    prefix = f"记-{fiscal_year}-{_unit_label(org)}-"
    seq = last_sequence(session, prefix) + 1
    for _ in range(NUMBER_ATTEMPTS):
        number = f"{prefix}{seq:06d}"
        if len(number) > NUMBER_LENGTH:
            raise AccountingError(f"凭证号 {number} 超长")
        voucher = Voucher(
            number=number, org_id=org.id, fiscal_year=fiscal_year, voucher_date=voucher_date, kind=kind,
            payment_id=payment_id, reverses_id=reverses_id, summary=summary, created_at=now,
            lines=[VoucherLine(side=leg.side, account_code=leg.account_code, debit=leg.debit, credit=leg.credit,
                               **dimensions) for leg, dimensions in lines],
        )
        try:
            with savepoint(session):
                session.add(voucher)
                session.flush()
        except IntegrityError:
            if session.scalar(select(Voucher.id).where(Voucher.number == number)) is None:
                raise  # not the number: a real fault, not a race
            seq = max(seq, last_sequence(session, prefix)) + 1
            continue
        return voucher
    raise AccountingError(f"凭证号冲突 {NUMBER_ATTEMPTS} 次，请重试")


def last_sequence(session: Session, prefix: str) -> int:
    """The highest sequence already used under a number prefix, 0 when none (longer numbers sort higher)."""
    number = session.scalar(
        select(Voucher.number).where(Voucher.number.startswith(prefix, autoescape=True))
        .order_by(func.length(Voucher.number).desc(), Voucher.number.desc()).limit(1)
    )
    if number is None:
        return 0
    tail = number[len(prefix):]
    return int(tail) if tail.isdigit() else 0


def _unit_label(org: Org) -> str:
    return org.code if _LABEL.match(org.code or "") else f"ORG{org.id}"


def _require_accounts(session: Session, sides: dict[str, str]) -> None:
    for code, side in sides.items():
        account = session.get(GlAccount, code)
        if account is None:
            raise AccountingError(f"会计科目 {code} 未设置（先运行 seed_chart）")
        if account.side != side:
            raise AccountingError(f"会计科目 {code} 属于 {account.side}，不能记入 {side}")


def _lock(session: Session, payment: Payment) -> None:
    if payment.id is None:
        session.flush()
    if session.connection().dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE. A no-op write takes the database write lock now instead, so postings
        # are serialised before the voucher number is read. (It also opens pysqlite's transaction, should
        # the app's BEGIN hook ever be missing: a SAVEPOINT first would commit on RELEASE.)
        table = Payment.__table__
        found = session.execute(
            update(table).where(table.c.id == payment.id).values(status=table.c.status)).rowcount or None
    else:
        found = session.execute(select(Payment.id).where(Payment.id == payment.id).with_for_update()).first()
    if found is None:
        raise AccountingError(f"支付 {payment.id} 不存在")


def _vouchers(session: Session, payment_id: int, kind: VoucherKind) -> list[Voucher]:
    return list(session.scalars(
        select(Voucher).where(Voucher.payment_id == payment_id, Voucher.kind == kind).order_by(Voucher.id)
    ))


def _amount(payment: Payment) -> Decimal:
    amount = payment.amount
    if isinstance(amount, int | str) and not isinstance(amount, bool):
        try:
            amount = Decimal(amount)
        except ArithmeticError:
            pass
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount != amount.quantize(CENT):
        raise AccountingError(f"支付 {payment.id} 的金额 {amount!r} 须为两位小数的 Decimal")
    if amount <= 0:
        raise AccountingError(f"支付 {payment.id} 的金额须大于零")
    return amount.quantize(CENT)


def _negate(value: Decimal) -> Decimal:
    return -value if value else ZERO


def _fit(text: str, suffix: str = "", length: int = SUMMARY_LENGTH) -> str:
    room = length - len(suffix)
    if len(text) > room:
        text = text[: room - 1] + "…"
    return text + suffix


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: pass an aware one (app.clock.now())")
