"""Government accounting for payments: vouchers of paid and returned payments, and the trial balance.

Orgs, projects, indicators and payments are built directly with the models (the payment use cases are
written elsewhere); the accounting package is called as those use cases will call it.
"""
import random
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from app.accounting import AccountingError, post_payment, reverse_payment, seed_chart, trial_balance
from app.accounting import posting as posting_module
from app.accounting.chart import CHART
from app.accounting.posting import Leg, check_balanced
from app.models import (
    GlAccount,
    Indicator,
    Org,
    OrgKind,
    Payment,
    PaymentStatus,
    ProcessDefinition,
    ProcessInstance,
    Project,
    UnitType,
    User,
    Voucher,
    VoucherKind,
    VoucherLine,
)

NOW = datetime(2026, 3, 31, 9, 0, tzinfo=UTC)
PAID = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)  # 10:30 in Beijing


class Books:
    """A county with two townships, their budget units, and a way to make paid payments for them."""

    def __init__(self, session):
        self.session = session
        self.county = self.org("ACC-XIAN", "示范县", OrgKind.COUNTY, None)
        self.township = self.org("ACC-ZHEN", "示范镇", OrgKind.TOWNSHIP, self.county)
        self.other_township = self.org("ACC-QS", "青山镇", OrgKind.TOWNSHIP, self.county)
        self.admin_unit = self.org("NYB", "农业农村办", OrgKind.UNIT, self.township, UnitType.ADMINISTRATIVE)
        self.untyped_unit = self.org("ZFB", "镇政府办", OrgKind.UNIT, self.township, None)
        self.institution = self.org("WSY", "卫生院", OrgKind.UNIT, self.township, UnitType.INSTITUTION)
        self.other_unit = self.org("QS-NYB", "青山镇农业办", OrgKind.UNIT, self.other_township,
                                   UnitType.ADMINISTRATIVE)
        self.user = User(username="acc_clerk", display_name="经办人", password_hash="x", created_at=NOW)
        session.add(self.user)
        self.definition = ProcessDefinition(
            process_id="payment", version=1, name="资金支付", sha256="0" * 64, filename="payment.bpmn",
            bpmn_xml="<definitions/>", forms={}, starter_role="clerk", called_process_ids=[], deployed_at=NOW)
        session.add(self.definition)
        session.flush()
        self.projects: dict[int, Project] = {}
        self.indicators: dict[tuple, Indicator] = {}
        self.count = 0

    def org(self, code, name, kind, parent, unit_type=None) -> Org:
        org = Org(code=code, name=name, kind=kind, parent_id=parent.id if parent else None, unit_type=unit_type)
        self.session.add(org)
        self.session.flush()
        org.path = f"{parent.path if parent else '/'}{org.id}/"
        return org

    def indicator(self, unit: Org, econ: str, fund_nature: str = "111") -> Indicator:
        key = (unit.id, econ, fund_nature)
        if key not in self.indicators:
            project = self.projects.get(unit.id)
            if project is None:
                project = Project(
                    code=f"P-{unit.code}", name=f"{unit.name}运转经费", org_id=unit.id,
                    township_id=unit.parent_id, category_code="1", start_year=2026, end_year=2026,
                    total_amount=Decimal("10000000.00"), created_by_id=self.user.id, created_at=NOW,
                    updated_at=NOW)
                self.session.add(project)
                self.session.flush()
                self.projects[unit.id] = project
            indicator = Indicator(
                code=f"BGT-{unit.code}-{econ}-{fund_nature}", fiscal_year=2026, township_id=unit.parent_id,
                org_id=unit.id, project_id=project.id, func_code="2130199", econ_dept_code=econ,
                econ_gov_code="50201", fund_nature_code=fund_nature, amount=Decimal("1000000.00"),
                created_at=NOW)
            self.session.add(indicator)
            self.session.flush()
            self.indicators[key] = indicator
        return self.indicators[key]

    def payment(self, unit: Org, amount: str | Decimal = "1000.00", *, econ: str = "30201",
                nature: str = "business", paid_at: datetime | None = PAID, fund_nature: str = "111",
                purpose: str = "购买办公用品", payee: str = "镇供销社", func_code: str = "2130199",
                status: str = PaymentStatus.PAID) -> Payment:
        indicator = self.indicator(unit, econ, fund_nature)
        self.count += 1
        instance = ProcessInstance(
            definition_id=self.definition.id, process_id="payment", org_id=unit.id, initiator_id=self.user.id,
            title=purpose, created_at=NOW, updated_at=NOW, state="{}")
        self.session.add(instance)
        self.session.flush()
        payment = Payment(
            instance_id=instance.id, org_id=unit.id, township_id=unit.parent_id, indicator_id=indicator.id,
            fiscal_year=2026, amount=Decimal(amount), purpose=purpose, purpose_key=purpose[:100], func_code=func_code,
            econ_dept_code=econ, payee_name=payee, payee_account=f"6222{self.count:012d}", payee_bank="农商银行",
            expense_nature=nature, status=status, created_at=NOW, submitted_at=paid_at, paid_at=paid_at)
        self.session.add(payment)
        self.session.flush()
        return payment

    def returned(self, payment: Payment, when: datetime, reason: str = "收款账号有误") -> None:
        payment.status = PaymentStatus.RETURNED
        payment.returned_at = when
        payment.return_reason = reason
        self.session.flush()


@pytest.fixture
def books(db_session):
    seed_chart(db_session)
    return Books(db_session)


def legs(voucher: Voucher) -> list[tuple[str, str, Decimal, Decimal]]:
    return sorted((line.side, line.account_code, line.debit, line.credit) for line in voucher.lines)


def pair(expense: str, budget: str, amount: str) -> list[tuple[str, str, Decimal, Decimal]]:
    a, zero = Decimal(amount), Decimal("0.00")
    return sorted([("financial", expense, a, zero), ("financial", "4001", zero, a),
                   ("budget", budget, a, zero), ("budget", "6001", zero, a)])


def fresh(session, voucher_id: int) -> Voucher:
    """The voucher as stored, read back from the database (not the objects the call built)."""
    session.expire_all()
    return session.get(Voucher, voucher_id)


def voucher_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Voucher))


# --- the chart ----------------------------------------------------------------------------------------

def test_the_chart_seeds_the_subset_once_and_puts_back_what_was_changed(db_session):
    seed_chart(db_session)
    seed_chart(db_session)
    accounts = {a.code: a for a in db_session.scalars(select(GlAccount))}
    assert len(accounts) == len(CHART) == 22
    assert (accounts["5101"].name, accounts["5101"].side, accounts["5101"].normal_balance) == \
        ("单位管理费用", "financial", "debit")
    assert (accounts["6001"].side, accounts["6001"].category, accounts["6001"].normal_balance) == \
        ("budget", "budget_revenue", "credit")
    assert accounts["1602"].normal_balance == "credit"  # accumulated depreciation is a contra-asset
    accounts["4001"].name = "改坏了"
    seed_chart(db_session)
    db_session.expire_all()
    assert db_session.get(GlAccount, "4001").name == "财政拨款收入"
    assert db_session.scalar(select(func.count()).select_from(GlAccount)) == 22


def test_posting_before_the_chart_is_seeded_is_refused_and_writes_nothing(db_session):
    books = Books(db_session)
    payment = books.payment(books.admin_unit)
    with pytest.raises(AccountingError, match="seed_chart"):
        post_payment(db_session, payment, now=NOW)
    assert voucher_count(db_session) == 0


# --- the voucher pairs --------------------------------------------------------------------------------

def test_an_administrative_units_payment_debits_5001_and_7101_against_4001_and_6001(books, db_session):
    payment = books.payment(books.admin_unit, "1000.00")
    [voucher] = post_payment(db_session, payment, now=NOW)
    voucher = fresh(db_session, voucher.id)
    assert voucher.kind == VoucherKind.PAYMENT and voucher.payment_id == payment.id
    assert voucher.org_id == books.admin_unit.id and voucher.fiscal_year == 2026
    assert legs(voucher) == pair("5001", "7101", "1000.00")


def test_a_unit_without_a_recorded_type_is_booked_as_an_administrative_unit(books, db_session):
    [voucher] = post_payment(db_session, books.payment(books.untyped_unit, "88.80", nature="management"), now=NOW)
    assert legs(fresh(db_session, voucher.id)) == pair("5001", "7101", "88.80")


@pytest.mark.parametrize(("nature", "expense"), [("business", "5001"), ("management", "5101")])
def test_an_institutions_payment_debits_its_expense_by_nature_and_7201(books, db_session, nature, expense):
    payment = books.payment(books.institution, "2345.67", nature=nature)
    [voucher] = post_payment(db_session, payment, now=NOW)
    assert legs(fresh(db_session, voucher.id)) == pair(expense, "7201", "2345.67")


@pytest.mark.parametrize(("unit", "nature", "budget"), [("admin_unit", "business", "7101"),
                                                        ("institution", "management", "7201"),
                                                        ("institution", "business", "7201")])
def test_buying_office_equipment_debits_fixed_assets_instead_of_an_expense(books, db_session, unit, nature, budget):
    payment = books.payment(getattr(books, unit), "5600.00", econ="31002", nature=nature, purpose="购置打印机")
    [voucher] = post_payment(db_session, payment, now=NOW)
    assert legs(fresh(db_session, voucher.id)) == pair("1601", budget, "5600.00")


def test_an_institution_payment_of_unknown_nature_is_refused(books, db_session):
    payment = books.payment(books.institution, nature="other")
    with pytest.raises(AccountingError, match="费用性质"):
        post_payment(db_session, payment, now=NOW)
    assert voucher_count(db_session) == 0


def test_every_line_carries_the_unit_codes_project_fund_nature_and_indicator(books, db_session):
    payment = books.payment(books.institution, "300.00", econ="30211", nature="management", fund_nature="122",
                            func_code="2100717", purpose="差旅费")
    [voucher] = post_payment(db_session, payment, now=NOW)
    indicator = db_session.get(Indicator, payment.indicator_id)
    voucher = fresh(db_session, voucher.id)
    assert len(voucher.lines) == 4
    for line in voucher.lines:
        assert (line.org_id, line.func_code, line.econ_code, line.project_id, line.fund_nature_code,
                line.indicator_id) == (books.institution.id, "2100717", "30211", indicator.project_id, "122",
                                       indicator.id)


def test_the_voucher_is_dated_the_beijing_day_of_payment_and_summarises_purpose_and_payee(books, db_session):
    late_evening_utc = datetime(2026, 3, 31, 17, 30, tzinfo=UTC)  # 1 April, 01:30 in Beijing
    payment = books.payment(books.admin_unit, paid_at=late_evening_utc, purpose="三月电费", payee="国网供电所")
    [voucher] = post_payment(db_session, payment, now=NOW)
    voucher = fresh(db_session, voucher.id)
    assert voucher.voucher_date == date(2026, 4, 1)
    assert voucher.summary == "三月电费（付国网供电所）"
    assert voucher.created_at == NOW


def test_a_long_purpose_is_cut_to_fit_the_summary(books, db_session):
    payment = books.payment(books.admin_unit, purpose="购" * 200)
    [voucher] = post_payment(db_session, payment, now=NOW)
    summary = fresh(db_session, voucher.id).summary
    assert len(summary) == 200 and summary.endswith("…")


@pytest.mark.parametrize("status", [PaymentStatus.RESERVED, PaymentStatus.SUBMITTED, PaymentStatus.VOID])
def test_a_payment_not_confirmed_paid_is_not_posted(books, db_session, status):
    payment = books.payment(books.admin_unit, status=status)
    with pytest.raises(AccountingError, match="尚未支付成功"):
        post_payment(db_session, payment, now=NOW)
    assert voucher_count(db_session) == 0


def test_posting_a_payment_twice_returns_the_first_voucher_and_posts_nothing(books, db_session):
    payment = books.payment(books.admin_unit)
    first = post_payment(db_session, payment, now=NOW)
    again = post_payment(db_session, payment, now=NOW + timedelta(hours=1))
    assert [v.id for v in again] == [v.id for v in first]
    assert voucher_count(db_session) == 1
    assert db_session.scalar(select(func.count()).select_from(VoucherLine)) == 4


def test_posting_leaves_the_transaction_to_the_caller(books, db_session):
    payment_id = books.payment(books.admin_unit).id
    db_session.commit()
    post_payment(db_session, db_session.get(Payment, payment_id), now=NOW)
    assert voucher_count(db_session) == 1
    db_session.rollback()
    assert voucher_count(db_session) == 0


# --- red-ink reversal ---------------------------------------------------------------------------------

def test_a_bank_return_reverses_every_line_in_red_ink_on_the_same_side(books, db_session):
    payment = books.payment(books.institution, "1234.50", econ="31002", nature="management")
    [original] = post_payment(db_session, payment, now=NOW)
    books.returned(payment, datetime(2026, 3, 12, 8, 0, tzinfo=UTC))
    [reversal] = reverse_payment(db_session, payment, now=NOW, reason="收款账号有误")
    original, reversal = fresh(db_session, original.id), fresh(db_session, reversal.id)
    assert reversal.kind == VoucherKind.REVERSAL and reversal.reverses_id == original.id
    assert reversal.payment_id == payment.id and reversal.org_id == original.org_id
    assert reversal.number != original.number
    assert reversal.voucher_date == date(2026, 3, 12)
    assert reversal.summary == f"冲销 {original.number} {original.summary}（收款账号有误）"
    assert legs(reversal) == sorted((side, code, -debit, -credit) for side, code, debit, credit in legs(original))
    assert all(line.debit <= 0 and line.credit <= 0 for line in reversal.lines)
    assert legs(reversal) == sorted([("financial", "1601", Decimal("-1234.50"), Decimal("0.00")),
                                     ("financial", "4001", Decimal("0.00"), Decimal("-1234.50")),
                                     ("budget", "7201", Decimal("-1234.50"), Decimal("0.00")),
                                     ("budget", "6001", Decimal("0.00"), Decimal("-1234.50"))])
    dims = {(line.org_id, line.func_code, line.econ_code, line.project_id, line.fund_nature_code,
             line.indicator_id) for line in original.lines + reversal.lines}
    assert len(dims) == 1
    for side in ("financial", "budget"):
        tb = trial_balance(db_session, org_id=books.institution.id, fiscal_year=2026, side=side)
        assert all(row.debit == 0 and row.credit == 0 and row.balance == 0 for row in tb.rows)


def test_reversing_twice_returns_the_first_reversal(books, db_session):
    payment = books.payment(books.admin_unit)
    [original] = post_payment(db_session, payment, now=NOW)
    books.returned(payment, NOW)
    first = reverse_payment(db_session, payment, now=NOW, reason="户名不符")
    again = reverse_payment(db_session, payment, now=NOW + timedelta(days=1), reason="户名不符")
    assert [v.id for v in again] == [v.id for v in first]
    assert voucher_count(db_session) == 2
    # posting the returned payment again answers the original voucher and posts nothing either
    assert [v.id for v in post_payment(db_session, payment, now=NOW)] == [original.id]
    assert voucher_count(db_session) == 2


def test_reversing_a_payment_that_was_never_posted_is_refused(books, db_session):
    payment = books.payment(books.admin_unit)
    with pytest.raises(AccountingError, match="无可冲销"):
        reverse_payment(db_session, payment, now=NOW, reason="退票")
    assert voucher_count(db_session) == 0


def test_a_reversal_needs_a_reason(books, db_session):
    payment = books.payment(books.admin_unit)
    post_payment(db_session, payment, now=NOW)
    with pytest.raises(AccountingError, match="原因"):
        reverse_payment(db_session, payment, now=NOW, reason="  ")
    assert voucher_count(db_session) == 1


# --- balance and numbers ------------------------------------------------------------------------------

def test_a_voucher_whose_sides_do_not_balance_is_refused():
    one, two = Decimal("1.00"), Decimal("2.00")
    check_balanced([Leg("financial", "5001", debit=one), Leg("financial", "4001", credit=one)])
    with pytest.raises(AccountingError, match="借方合计"):
        check_balanced([Leg("financial", "5001", debit=two), Leg("financial", "4001", credit=one)])
    with pytest.raises(AccountingError, match="借方合计"):  # balanced overall, not per side
        check_balanced([Leg("financial", "5001", debit=one), Leg("budget", "6001", credit=one)])
    with pytest.raises(AccountingError, match="只有借方或只有贷方"):
        check_balanced([Leg("financial", "5001", debit=one, credit=one)])
    with pytest.raises(AccountingError, match="两位小数"):
        check_balanced([Leg("financial", "5001", debit=Decimal("1.005")), Leg("financial", "4001", credit=one)])


def test_an_unbalanced_voucher_is_refused_before_anything_is_written(books, db_session, monkeypatch):
    payment = books.payment(books.admin_unit)
    real_leg = posting_module.Leg

    def lopsided(side, code, debit=Decimal("0.00"), credit=Decimal("0.00")):
        return real_leg(side, code, debit=debit * 2 if code == "7101" else debit, credit=credit)

    monkeypatch.setattr(posting_module, "Leg", lopsided)
    with pytest.raises(AccountingError, match="借方合计"):
        post_payment(db_session, payment, now=NOW)
    assert voucher_count(db_session) == 0


def test_voucher_numbers_run_per_unit_and_year(books, db_session):
    numbers = []
    for unit, paid_at in [(books.admin_unit, PAID), (books.admin_unit, PAID), (books.institution, PAID),
                          (books.admin_unit, datetime(2027, 1, 5, 3, 0, tzinfo=UTC))]:
        numbers += [v.number for v in post_payment(db_session, books.payment(unit, paid_at=paid_at), now=NOW)]
    assert numbers == ["记-2026-NYB-000001", "记-2026-NYB-000002", "记-2026-WSY-000001", "记-2027-NYB-000001"]
    payment = db_session.scalar(select(Payment).where(Payment.org_id == books.admin_unit.id).order_by(Payment.id))
    books.returned(payment, NOW)
    [reversal] = reverse_payment(db_session, payment, now=NOW, reason="退票")
    assert reversal.number == "记-2026-NYB-000003"


def test_a_unit_whose_code_cannot_go_into_a_number_is_numbered_by_its_id(books, db_session):
    unit = books.org("单位-" + "X" * 20, "长代码单位", OrgKind.UNIT, books.township, UnitType.ADMINISTRATIVE)
    [voucher] = post_payment(db_session, books.payment(unit), now=NOW)
    assert voucher.number == f"记-2026-ORG{unit.id}-000001"


def test_a_number_taken_meanwhile_by_another_posting_is_skipped(books, db_session, monkeypatch):
    post_payment(db_session, books.payment(books.admin_unit), now=NOW)
    # Another transaction's voucher is invisible to the sequence read: it always answers "none yet".
    monkeypatch.setattr(posting_module, "last_sequence", lambda session, prefix: 0)
    [voucher] = post_payment(db_session, books.payment(books.admin_unit), now=NOW)
    assert voucher.number == "记-2026-NYB-000002"
    assert len(fresh(db_session, voucher.id).lines) == 4
    assert voucher_count(db_session) == 2
    assert db_session.scalar(select(func.count()).select_from(VoucherLine)) == 8


# --- the trial balance --------------------------------------------------------------------------------

ECON_CODES = ["30201", "30211", "30215", "30226", "31002", "30213", "31007"]


def month_of_payments(books, seed=20260301):
    """40 paid payments of random amounts in March 2026 across three units of both types; 5 come back."""
    rng = random.Random(seed)
    units = [books.admin_unit, books.untyped_unit, books.institution]
    payments = []
    for _ in range(40):
        unit = rng.choice(units)
        amount = Decimal(rng.randint(100, 5_000_000)) / 100
        paid_at = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 30 * 24 * 60 - 600))
        payment = books.payment(unit, amount, econ=rng.choice(ECON_CODES), paid_at=paid_at,
                                nature=rng.choice(["business", "management"]),
                                fund_nature=rng.choice(["111", "121"]))
        post_payment(books.session, payment, now=paid_at)
        payments.append(payment)
    for payment in rng.sample(payments, 5):
        books.returned(payment, payment.paid_at + timedelta(days=1))
        reverse_payment(books.session, payment, now=payment.returned_at, reason="退票")
    return payments


def test_a_month_of_payments_and_returns_keeps_the_books_balanced_per_side_and_overall(books, db_session):
    payments = month_of_payments(books)
    assert voucher_count(db_session) == 45
    for voucher in db_session.scalars(select(Voucher)):
        for side in ("financial", "budget"):
            lines = [line for line in voucher.lines if line.side == side]
            assert sum(line.debit for line in lines) == sum(line.credit for line in lines) != 0
    tb = trial_balance(db_session, township_id=books.township.id, fiscal_year=2026)
    assert tb.balanced
    assert set(tb.totals) == {"financial", "budget"}
    assert tb.totals["financial"].debit == tb.totals["financial"].credit
    assert tb.totals["budget"].debit == tb.totals["budget"].credit
    assert tb.total_debit == tb.total_credit
    kept = sum(p.amount for p in payments if p.status == PaymentStatus.PAID)
    assert tb.totals["financial"].debit == tb.totals["budget"].debit == kept
    assert tb.row("4001").balance == tb.row("6001").balance == kept  # credit-normal: credits - debits
    assert tb.row("4001").credit == kept and tb.row("4001").debit == 0
    capital = sum(p.amount for p in payments if p.status == PaymentStatus.PAID and p.econ_dept_code.startswith("310"))
    assert tb.row("1601").balance == capital and capital > 0
    per_side = {side: trial_balance(db_session, township_id=books.township.id, fiscal_year=2026, side=side)
                for side in ("financial", "budget")}
    assert {row.side for row in per_side["budget"].rows} == {"budget"}
    assert per_side["budget"].balanced and per_side["financial"].balanced
    assert set(per_side["budget"].totals) == {"budget"}
    assert per_side["budget"].rows == tuple(r for r in tb.rows if r.side == "budget")


def test_budget_expenditure_debits_equal_what_was_paid_less_what_came_back(books, db_session):
    payments = month_of_payments(books)
    returned = [p for p in payments if p.status == PaymentStatus.RETURNED]
    assert len(returned) == 5
    paid = sum(p.amount for p in payments)
    back = sum(p.amount for p in returned)
    tb = trial_balance(db_session, township_id=books.township.id, fiscal_year=2026)
    assert tb.row("7101").debit + tb.row("7201").debit == paid - back
    assert tb.row("6001").credit == paid - back
    administrative = {books.admin_unit.id, books.untyped_unit.id}
    assert tb.row("7101").debit == sum(p.amount for p in payments
                                       if p.org_id in administrative and p.status == PaymentStatus.PAID)
    assert tb.row("7201").debit == sum(p.amount for p in payments
                                       if p.org_id == books.institution.id and p.status == PaymentStatus.PAID)
    expenses = tb.row("5001").balance + tb.row("5101").balance + tb.row("1601").balance
    assert expenses == paid - back


def test_a_townships_trial_balance_sums_its_units_and_leaves_other_townships_out(books, db_session):
    month_of_payments(books)
    elsewhere = books.payment(books.other_unit, "777.77")
    post_payment(db_session, elsewhere, now=NOW)
    township = trial_balance(db_session, township_id=books.township.id, fiscal_year=2026)
    units = [trial_balance(db_session, org_id=unit.id, fiscal_year=2026)
             for unit in (books.admin_unit, books.untyped_unit, books.institution)]
    assert all(unit.balanced and unit.rows for unit in units)
    codes = {row.code for row in township.rows}
    assert codes == {row.code for unit in units for row in unit.rows}
    for code in codes:
        assert township.row(code).debit == sum(unit.row(code).debit for unit in units)
        assert township.row(code).credit == sum(unit.row(code).credit for unit in units)
    assert township.total_debit == sum(unit.total_debit for unit in units)
    other = trial_balance(db_session, township_id=books.other_township.id, fiscal_year=2026)
    assert other.total_debit == Decimal("1555.54") and other.balanced
    county = trial_balance(db_session, township_id=books.county.id, fiscal_year=2026)
    assert county.total_debit == township.total_debit + other.total_debit
    assert trial_balance(db_session, township_id=books.township.id, fiscal_year=2025).rows == ()


def test_the_trial_balance_refuses_an_unknown_side_or_both_scopes(books, db_session):
    with pytest.raises(AccountingError):
        trial_balance(db_session, fiscal_year=2026, side="cash")
    with pytest.raises(AccountingError):
        trial_balance(db_session, org_id=books.admin_unit.id, township_id=books.township.id, fiscal_year=2026)


# --- PostgreSQL races ---------------------------------------------------------------------------------

def _someone_waits_on_a_lock(session, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = session.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )).scalar()
        session.commit()
        if waiting:
            return True
        time.sleep(0.02)
    return False


def _race(app, db_session, first_id, second_id):
    """Post `first_id` in one transaction and, while it is open, `second_id` in another; return both numbers.

    The first transaction commits only once the second is seen waiting on a lock it holds.
    """
    from app.extensions import db

    first_posted, release, results, errors = threading.Event(), threading.Event(), {}, []

    def post(key, payment_id, hold):
        try:
            with app.app_context():
                session = db.session
                try:
                    vouchers = post_payment(session, session.get(Payment, payment_id), now=NOW)
                    results[key] = [v.number for v in vouchers]
                    if hold:
                        first_posted.set()
                        release.wait(15)
                    session.commit()
                finally:
                    db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
            first_posted.set()

    one = threading.Thread(target=post, args=("first", first_id, True))
    one.start()
    assert first_posted.wait(15)
    two = threading.Thread(target=post, args=("second", second_id, False))
    two.start()
    waited = _someone_waits_on_a_lock(db_session)
    release.set()
    one.join(15)
    two.join(15)
    assert errors == []
    assert waited, "the second posting never waited for the first"
    return results


def count_sequence_reads(monkeypatch) -> list[str]:
    reads, real = [], posting_module.last_sequence

    def counted(session, prefix):
        reads.append(prefix)
        return real(session, prefix)

    monkeypatch.setattr(posting_module, "last_sequence", counted)
    return reads


@pytest.mark.postgres
def test_two_clerks_of_a_unit_posting_at_once_get_consecutive_numbers(app, books, db_session, monkeypatch):
    first, second = books.payment(books.admin_unit).id, books.payment(books.admin_unit).id
    db_session.commit()
    reads = count_sequence_reads(monkeypatch)
    results = _race(app, db_session, first, second)
    assert results == {"first": ["记-2026-NYB-000001"], "second": ["记-2026-NYB-000002"]}
    # the second one waited on the first's uncommitted 000001, lost on the unique number, read again
    assert len(reads) == 3
    db_session.expire_all()
    assert voucher_count(db_session) == 2


@pytest.mark.postgres
def test_the_same_payment_posted_twice_at_once_is_posted_once(app, books, db_session, monkeypatch):
    payment_id = books.payment(books.institution).id
    db_session.commit()
    reads = count_sequence_reads(monkeypatch)
    results = _race(app, db_session, payment_id, payment_id)
    assert results == {"first": ["记-2026-WSY-000001"], "second": ["记-2026-WSY-000001"]}
    assert len(reads) == 1  # the second one waited on the payment's lock, then found the voucher
    db_session.expire_all()
    assert voucher_count(db_session) == 1
