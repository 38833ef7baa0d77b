"""A month of payments in 示范镇 with the simulated bank returning some of them, and some refunds after payment:
at the end the vouchers' trial balance balances and says what the indicator ledger says."""
import random
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app import accounting, ledger
from app.models import Org, Payment, PaymentStatus
from tests.integration.conftest import project_in_library, released_indicators
from tests.integration.office import line, money, payment_data

pytestmark = pytest.mark.usefixtures("march")

LEADERS = {"deputy_approve": "deputy", "finance_deputy_approve": "finance_deputy",
           "township_head_approve": "zhenzhang", "party_secretary_approve": "shuji"}
# 农业农村办 is a 行政单位 (7101), 中心小学 a 事业单位 (7201).
UNITS = [("nyb_clerk", "nyb_head", "SFZ-NYB"), ("xx_clerk", "xx_head", "SFZ-ZXXX")]


@pytest.fixture
def app(make_app):
    """The simulated bank answers every batch as soon as it is submitted, returning a quarter of them."""
    app = make_app(BANK_ADAPTER="simulated", BANK_RETURN_SHARE=0.25)
    with app.app_context():
        yield app


def pay(office, clerk, head, code, amount, econ) -> int:
    iid = office.start(clerk, "payment", payment_data(code, amount, econ_dept_code=econ,
                                                       purpose=f"维修材料 {amount}"))["id"]
    office.act(head, iid)
    office.act("cz_reviewer", iid, data={"documents_complete": True})
    while (step := office.where(iid)[0]) != "treasury_submit":
        office.act(LEADERS[step], iid)
    office.act("guoku", iid)  # the simulated bank answers at once (jobs run inline in tests)
    return iid


def test_a_month_of_payments_and_returns_leaves_balanced_books_that_match_the_ledger(office):
    rng = random.Random(20260302)
    indicators = []
    for clerk, head, _ in UNITS:
        project = project_in_library(office, f"{clerk} 维修项目", "40000.00", clerk=clerk, head=head)
        [code] = released_indicators(office, [line(project, "40000.00")], clerk=clerk, head=head)
        indicators.append((clerk, head, code))
    paid_ids = []
    for n in range(24):
        clerk, head, code = indicators[n % 2]
        amount = money(Decimal(rng.randint(5000, 90000)) / 100)
        iid = pay(office, clerk, head, code, amount, "30213")
        payment = office.payment(iid)
        assert payment.status in (PaymentStatus.PAID, PaymentStatus.RETURNED)
        if payment.status == PaymentStatus.PAID:
            paid_ids.append(iid)
    statuses = [office.payment(i).status for i in paid_ids]
    assert statuses and all(s == PaymentStatus.PAID for s in statuses)
    for iid in paid_ids[:3]:  # 退票 after payment: the bank sends three back days later
        office.bank_says(office.payment(iid).bank_ref, "returned", "收款账户已销户")

    session = office.session
    session.expire_all()
    township = session.scalar(select(Org).where(Org.code == "SFZ"))
    books = accounting.trial_balance(session, township_id=township.id, fiscal_year=2026)
    assert books.balanced
    paid_in_ledger = sum((ledger.balances(session, office.indicator(code).id).paid for _, _, code in indicators),
                         Decimal(0))
    paid_payments = session.scalar(select(func.sum(Payment.amount)).where(Payment.status == PaymentStatus.PAID))
    returned = session.scalar(select(func.count()).select_from(Payment).where(
        Payment.status == PaymentStatus.RETURNED))
    assert returned >= 3 + 1  # some returned by the bank before payment, three refunded after
    budget_spent = books.row("7101").balance + books.row("7201").balance
    expense = books.row("5001").balance + books.row("5101").balance + books.row("1601").balance
    assert paid_in_ledger == paid_payments == budget_spent == expense == books.row("4001").balance
    assert books.row("7101").balance > 0 and books.row("7201").balance > 0  # both kinds of unit paid
    journal = ledger.trial_balance(session, township.id, 2026)
    total = journal[-1]
    assert total.debits == total.credits and total.balance == 0
    for _, _, code in indicators:
        b = ledger.balances(session, office.indicator(code).id)
        assert b.in_flight == 0 and b.allotted == money(40000) == b.available + b.paid
