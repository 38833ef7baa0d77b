"""The ledger's pure rules: what counts as an amount, how balances derive from account kinds, its errors."""
from datetime import date, datetime
from decimal import Decimal

import pytest

from app.engine.errors import ServiceError
from app.ledger import (
    KIND_NAMES,
    TRANSFER_NAMES,
    Balances,
    InsufficientBalance,
    InvalidAmount,
    KeyReused,
    LedgerError,
    check_amount,
)
from app.ledger.accounts import AccountRef
from app.ledger.amounts import month_start
from app.models import AccountKind, TransferKind
from tests.test_architecture import imports_of, modules

D = Decimal


@pytest.mark.parametrize(("given", "expected"), [
    (D("1200.5"), D("1200.50")), (D("0.01"), D("0.01")), (D("1E+2"), D("100.00")), (7, D("7.00")),
    ("88.80", D("88.80")), (" 3 ", D("3.00")), (D("9999999999999999.99"), D("9999999999999999.99")),
    (D("12.340"), D("12.34")),  # a trailing zero is still two decimals
])
def test_an_exact_positive_amount_of_at_most_two_decimals_is_accepted_as_yuan_and_fen(given, expected):
    amount = check_amount(given)
    assert amount == expected and amount.as_tuple().exponent == -2


@pytest.mark.parametrize("given", [
    0, D("0.00"), D("-0.01"), -1, D("NaN"), D("-NaN"), D("sNaN"), D("Infinity"), float("nan"), float("inf"), 1.5,
    0.1, True, False, None, "", "1,000", "abc", D("0.001"), D("1.005"), D("1E+16"), D("1E+20"), D("-1E+20"),
    D("1E+1000"), [1], {"amount": 1},
])
def test_anything_else_is_refused_as_an_invalid_amount_in_chinese(given):
    with pytest.raises(InvalidAmount) as refused:
        check_amount(given)
    assert refused.value.code == "INVALID_AMOUNT" and "金额" in refused.value.message


def test_a_negative_amount_is_allowed_only_for_an_adjustment_and_never_zero():
    assert check_amount(D("-20.50"), allow_negative=True) == D("-20.50")
    with pytest.raises(InvalidAmount):
        check_amount(D("0"), allow_negative=True)
    with pytest.raises(InvalidAmount):
        check_amount(D("-1E+16"), allow_negative=True)


@pytest.mark.parametrize(("given", "expected"), [
    (date(2026, 3, 17), date(2026, 3, 1)), (date(2026, 12, 1), date(2026, 12, 1)),
    (datetime(2026, 2, 28, 23, 59), date(2026, 2, 1)),
])
def test_a_plan_month_is_the_first_day_of_its_month(given, expected):
    assert month_start(given) == expected and type(month_start(given)) is date


def test_a_plan_month_must_be_a_date():
    with pytest.raises(LedgerError):
        month_start("2026-03")


def test_balances_derive_allotted_and_used_from_the_account_kinds():
    b = Balances.from_kinds({"executable": D("500.00"), "frozen": D("100.00"), "in_flight": D("200.00"),
                             "paid": D("150.00"), "unallocated": D("70.00"), "carried": D("30.00"),
                             "source": D("-1050.00")})
    assert (b.allotted, b.available, b.used, b.frozen, b.unallocated, b.carried) == (
        D("950.00"), D("500.00"), D("350.00"), D("100.00"), D("70.00"), D("30.00"))
    assert b.available == b.allotted - b.used - b.frozen  # canuse_amt = avi_amt − use_amt − frozenamt
    assert b.plan_available is None
    assert Balances.from_kinds({}) == Balances(*[D("0.00")] * 8)


def test_ledger_errors_are_service_errors_a_bpmn_boundary_event_can_catch_by_code():
    assert issubclass(LedgerError, ServiceError)
    assert LedgerError("x").code == "LEDGER_ERROR"
    refused = InsufficientBalance(indicator_code="ZB2026-001", what="可用额度", available=D("9000"),
                                  requested=D("10000.5"))
    assert isinstance(refused, LedgerError) and refused.code == "INSUFFICIENT_BALANCE"
    assert refused.message == "指标 ZB2026-001 的可用额度不足：现有 9,000.00 元，本次需要 10,000.50 元"
    reused = KeyReused("pay-1/reserve", "支付占用 10.00 元")
    assert reused.code == "KEY_REUSED" and "pay-1/reserve" in reused.message


def test_a_refusal_names_a_plan_account_with_its_month():
    ref = AccountRef(1, 2026, AccountKind.PLAN_AVAILABLE.value, 5, date(2026, 3, 1), "ZB-1")
    assert ref.describe() == "2026年3月用款计划可用额度"
    assert not ref.may_go_negative
    assert AccountRef(1, 2026, AccountKind.PLAN_SOURCE.value, 5, date(2026, 3, 1)).may_go_negative
    assert AccountRef(1, 2026, AccountKind.SOURCE.value).may_go_negative


def test_every_account_kind_and_transfer_kind_has_a_chinese_name():
    assert set(KIND_NAMES) == set(AccountKind)
    assert set(TRANSFER_NAMES) == set(TransferKind)


def test_the_ledger_does_not_import_flask():
    offenders = [str(p) for p in modules("ledger")
                 if imports_of(p) & {"flask", "flask_sqlalchemy", "flask_smorest", "flask_wtf", "werkzeug"}]
    assert offenders == []
