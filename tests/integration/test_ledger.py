"""The indicator ledger (指标账) against a real database: each movement, refusals, idempotency, trial balance,
and (PostgreSQL only) races: real threads, each with its own session and connection, released by a barrier.
"""
import random
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import ledger
from app.admin.people import add_org, add_user, parse_grant
from app.ledger import Balances, InsufficientBalance, InvalidAmount, KeyReused, LedgerError
from app.models import AccountKind, Indicator, LedgerAccount, LedgerTransfer, Project, TransferKind

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
D = Decimal
ZERO = D("0.00")


@dataclass
class World:
    session: object
    township: object
    other_township: object
    unit: object
    other_unit: object
    user: object
    project: object
    count: int = 0

    def indicator(self, *, year: int = 2026, unit=None, township=None, amount: str = "0") -> Indicator:
        self.count += 1
        unit = unit or self.unit
        ind = Indicator(code=f"ZB{year}-{self.count:03d}", fiscal_year=year, township_id=(township or self.township).id,
                        org_id=unit.id, project_id=self.project.id, func_code="2130101", econ_dept_code="30201",
                        econ_gov_code="50201", fund_nature_code="1", amount=D(amount), created_at=NOW)
        self.session.add(ind)
        self.session.flush()
        return ind

    def funded(self, amount: str, **kw) -> Indicator:
        """An indicator with `amount` registered and allocated: all of it available."""
        ind = self.indicator(amount=amount, **kw)
        ledger.register(self.session, ind, D(amount), key=f"{ind.code}/reg", now=NOW)
        ledger.allocate(self.session, ind, D(amount), key=f"{ind.code}/alloc", now=NOW)
        self.session.commit()
        return ind


@pytest.fixture
def world(app, db_session) -> World:
    add_org(db_session, "LXX", "临溪县", "county")
    township = add_org(db_session, "LXZ", "临溪镇", "township", "LXX")
    other_township = add_org(db_session, "BSZ", "白沙镇", "township", "LXX")
    unit = add_org(db_session, "LXZ-NYB", "农业农村办", "unit", "LXZ")
    other_unit = add_org(db_session, "LXZ-SWB", "社会事务办", "unit", "LXZ")
    user = add_user(db_session, "lx_clerk", "password-123", [parse_grant("clerk@LXZ-NYB")], display_name="李经办",
                    now=NOW, hash_profile="CHEAPEST")
    project = Project(code="XM-001", name="高标准农田建设", org_id=unit.id, township_id=township.id,
                      category_code="01", start_year=2026, end_year=2027, total_amount=D("500000"),
                      created_by_id=user.id, created_at=NOW, updated_at=NOW)
    db_session.add(project)
    db_session.commit()
    return World(db_session, township, other_township, unit, other_unit, user, project)


def bal(world, ind, **kw) -> Balances:
    return ledger.balances(world.session, ind.id, **kw)


def snapshot(session):
    """Everything the ledger holds, to show a refused movement changed nothing."""
    session.expire_all()
    accounts = session.execute(select(LedgerAccount.id, LedgerAccount.kind, LedgerAccount.indicator_id,
                                      LedgerAccount.month, LedgerAccount.balance).order_by(LedgerAccount.id)).all()
    transfers = session.execute(select(LedgerTransfer.id, LedgerTransfer.idempotency_key, LedgerTransfer.amount)
                                .order_by(LedgerTransfer.id)).all()
    return accounts, transfers


def transfer_count(session) -> int:
    return session.scalar(select(func.count()).select_from(LedgerTransfer))


def source_pool(session, township_id, year) -> Decimal:
    return session.scalar(select(LedgerAccount.balance).where(
        LedgerAccount.township_id == township_id, LedgerAccount.fiscal_year == year,
        LedgerAccount.kind == AccountKind.SOURCE, LedgerAccount.indicator_id.is_(None)))


# --- each movement's effect ------------------------------------------------------------------------------------

def test_registering_puts_the_amount_in_unallocated_and_credits_the_townships_source_pool(world):
    ind = world.indicator()
    transfer = ledger.register(world.session, ind, D("8000.00"), key="r1", now=NOW, actor_id=world.user.id,
                               memo="年初预算")
    world.session.commit()
    assert bal(world, ind) == Balances(allotted=ZERO, available=ZERO, frozen=ZERO, in_flight=ZERO, paid=ZERO,
                                       used=ZERO, unallocated=D("8000.00"), carried=ZERO, plan_available=None)
    assert source_pool(world.session, world.township.id, 2026) == D("-8000.00")
    assert (transfer.kind, transfer.amount, transfer.created_by_id, transfer.memo) == (
        TransferKind.REGISTER, D("8000.00"), world.user.id, "年初预算")
    pool = world.session.get(LedgerAccount, transfer.credit_account_id)
    assert (pool.indicator_id, pool.township_id, pool.fiscal_year) == (None, world.township.id, 2026)


def test_two_indicators_of_one_township_year_share_one_source_pool_account(world):
    a, b = world.indicator(), world.indicator()
    ta = ledger.register(world.session, a, D("1.00"), key="ra", now=NOW)
    tb = ledger.register(world.session, b, D("2.00"), key="rb", now=NOW)
    assert ta.credit_account_id == tb.credit_account_id
    assert source_pool(world.session, world.township.id, 2026) == D("-3.00")


def test_allocating_moves_unallocated_into_available(world):
    ind = world.indicator()
    ledger.register(world.session, ind, D("8000.00"), key="r", now=NOW)
    ledger.allocate(world.session, ind, D("4999.99"), key="a", now=NOW)
    b = bal(world, ind)
    assert (b.unallocated, b.available, b.allotted) == (D("3000.01"), D("4999.99"), D("4999.99"))


def test_freezing_moves_available_to_frozen_and_unfreezing_moves_it_back(world):
    ind = world.funded("1000.00")
    ledger.freeze(world.session, ind, D("300.00"), key="f", now=NOW)
    b = bal(world, ind)
    assert (b.available, b.frozen, b.allotted, b.used) == (D("700.00"), D("300.00"), D("1000.00"), ZERO)
    ledger.unfreeze(world.session, ind, D("120.50"), key="u", now=NOW)
    b = bal(world, ind)
    assert (b.available, b.frozen, b.allotted) == (D("820.50"), D("179.50"), D("1000.00"))


def test_a_payment_reserves_then_posts_and_used_counts_both_in_flight_and_paid(world):
    ind = world.funded("1000.00")
    ledger.reserve(world.session, ind, D("250.00"), key="p1/reserve", now=NOW)
    b = bal(world, ind)
    assert (b.available, b.in_flight, b.paid, b.used, b.allotted) == (
        D("750.00"), D("250.00"), ZERO, D("250.00"), D("1000.00"))
    ledger.post(world.session, ind, D("250.00"), key="p1/post", now=NOW)
    b = bal(world, ind)
    assert (b.available, b.in_flight, b.paid, b.used, b.allotted) == (
        D("750.00"), ZERO, D("250.00"), D("250.00"), D("1000.00"))


def test_available_is_allotted_less_used_less_frozen(world):
    ind = world.funded("1000.00")
    ledger.freeze(world.session, ind, D("100.00"), key="f", now=NOW)
    ledger.reserve(world.session, ind, D("200.00"), key="r1", now=NOW)
    ledger.reserve(world.session, ind, D("50.00"), key="r2", now=NOW)
    ledger.post(world.session, ind, D("50.00"), key="p2", now=NOW)
    b = bal(world, ind)
    assert b.available == b.allotted - b.used - b.frozen == D("650.00")


def test_voiding_a_reserved_payment_releases_it_to_available(world):
    ind = world.funded("1000.00")
    ledger.reserve(world.session, ind, D("250.00"), key="p1/reserve", now=NOW)
    ledger.void(world.session, ind, D("250.00"), key="p1/void", now=NOW)
    b = bal(world, ind)
    assert (b.available, b.in_flight, b.used) == (D("1000.00"), ZERO, ZERO)


def test_a_returned_payment_moves_paid_back_to_available(world):
    ind = world.funded("1000.00")
    ledger.reserve(world.session, ind, D("250.00"), key="r", now=NOW)
    ledger.post(world.session, ind, D("250.00"), key="p", now=NOW)
    ledger.return_paid(world.session, ind, D("250.00"), key="t", now=NOW)
    b = bal(world, ind)
    assert (b.available, b.paid, b.used, b.allotted) == (D("1000.00"), ZERO, ZERO, D("1000.00"))


def test_reallocation_moves_available_from_the_source_indicator_to_the_target(world):
    source, target = world.funded("1000.00"), world.funded("10.00")
    transfer = ledger.reallocate(world.session, source, target, D("400.00"), key="tj", now=NOW)
    assert transfer.kind == TransferKind.REALLOCATE
    assert bal(world, source).available == D("600.00")
    assert bal(world, source).allotted == D("600.00")
    assert bal(world, target).available == D("410.00")
    assert ledger.township_balances(world.session, world.township.id, 2026).allotted == D("1010.00")


def test_reallocation_is_refused_across_townships_years_or_onto_itself(world):
    source = world.funded("1000.00")
    elsewhere = world.funded("1.00", township=world.other_township)
    next_year = world.funded("1.00", year=2027)
    before = snapshot(world.session)
    for target in (elsewhere, next_year, source):
        with pytest.raises(LedgerError, match="调剂"):
            ledger.reallocate(world.session, source, target, D("1.00"), key=f"tj-{target.code}", now=NOW)
    assert snapshot(world.session) == before


def test_an_adjustment_up_adds_to_available_from_the_source_pool_and_down_gives_it_back(world):
    ind = world.funded("1000.00")
    ledger.adjust(world.session, ind, D("500.00"), key="up", now=NOW)
    assert bal(world, ind).available == D("1500.00")
    assert source_pool(world.session, world.township.id, 2026) == D("-1500.00")
    ledger.adjust(world.session, ind, D("-700.00"), key="down", now=NOW)
    assert bal(world, ind).available == D("800.00")
    assert source_pool(world.session, world.township.id, 2026) == D("-800.00")


def test_an_adjustment_down_cannot_take_more_than_available(world):
    ind = world.funded("1000.00")
    before = snapshot(world.session)
    with pytest.raises(InsufficientBalance):
        ledger.adjust(world.session, ind, D("-1000.01"), key="down", now=NOW)
    assert snapshot(world.session) == before


def test_recall_without_an_amount_returns_everything_available_to_the_source_pool(world):
    ind = world.funded("1000.00")
    ledger.reserve(world.session, ind, D("300.00"), key="r", now=NOW)
    transfer = ledger.recall(world.session, ind, key="recall", now=NOW)
    assert (transfer.kind, transfer.amount) == (TransferKind.RECALL, D("700.00"))
    b = bal(world, ind)
    assert (b.available, b.in_flight, b.allotted) == (ZERO, D("300.00"), D("300.00"))
    assert source_pool(world.session, world.township.id, 2026) == D("-300.00")
    assert ledger.recall(world.session, ind, key="recall", now=NOW).id == transfer.id  # replay: same transfer


def test_recall_of_an_indicator_with_nothing_available_is_refused(world):
    ind = world.indicator()
    with pytest.raises(LedgerError, match="没有可收回"):
        ledger.recall(world.session, ind, key="recall", now=NOW)


def test_recall_of_part_of_the_available_amount(world):
    ind = world.funded("1000.00")
    ledger.recall(world.session, ind, D("100.00"), key="recall", now=NOW)
    assert bal(world, ind).available == D("900.00")


# --- carry-over ------------------------------------------------------------------------------------------------

def test_carry_over_moves_what_is_left_to_carried_and_registers_and_allocates_it_on_next_years_indicator(world):
    this_year = world.funded("1000.00")
    ledger.reserve(world.session, this_year, D("200.00"), key="r", now=NOW)
    next_year = world.indicator(year=2027)
    moved = ledger.carry_over(world.session, this_year, next_year, key="jz-2026", now=NOW)
    world.session.commit()
    assert (moved.kind, moved.amount) == (TransferKind.CARRY_OVER, D("800.00"))
    old = bal(world, this_year)
    assert (old.available, old.carried, old.in_flight, old.allotted) == (ZERO, D("800.00"), D("200.00"), D("200.00"))
    new = bal(world, next_year)
    assert (new.available, new.unallocated, new.allotted) == (D("800.00"), ZERO, D("800.00"))
    assert source_pool(world.session, world.township.id, 2027) == D("-800.00")
    keys = [t.idempotency_key for t in ledger.movements(world.session, indicator_id=next_year.id)]
    assert keys == ["jz-2026/register", "jz-2026/allocate"]


def test_carry_over_of_part_of_the_balance(world):
    this_year, next_year = world.funded("1000.00"), world.indicator(year=2027)
    ledger.carry_over(world.session, this_year, next_year, D("250.00"), key="jz", now=NOW)
    assert bal(world, this_year).available == D("750.00")
    assert bal(world, next_year).available == D("250.00")


def test_carry_over_replayed_posts_once(world):
    this_year, next_year = world.funded("1000.00"), world.indicator(year=2027)
    first = ledger.carry_over(world.session, this_year, next_year, key="jz", now=NOW)
    count = transfer_count(world.session)
    again = ledger.carry_over(world.session, this_year, next_year, key="jz", now=NOW)
    assert again.id == first.id
    assert transfer_count(world.session) == count
    assert bal(world, next_year).available == D("1000.00")


def test_carry_over_must_go_to_a_later_year_of_the_same_township(world):
    this_year = world.funded("1000.00")
    same_year = world.indicator()
    other_township = world.indicator(year=2027, township=world.other_township)
    before = snapshot(world.session)
    for target in (same_year, other_township):
        with pytest.raises(LedgerError, match="结转"):
            ledger.carry_over(world.session, this_year, target, key=f"jz-{target.code}", now=NOW)
    assert snapshot(world.session) == before


def test_carry_over_that_fails_on_the_next_year_side_leaves_this_year_untouched(world):
    this_year, next_year = world.funded("1000.00"), world.indicator(year=2027)
    other = world.indicator(year=2027)
    ledger.register(world.session, other, D("5.00"), key="jz/register", now=NOW)  # the sub-key is taken
    world.session.commit()
    before = snapshot(world.session)
    with pytest.raises(KeyReused):
        ledger.carry_over(world.session, this_year, next_year, key="jz", now=NOW)
    assert snapshot(world.session) == before


# --- fund-use plan ---------------------------------------------------------------------------------------------

def test_a_plan_grant_makes_the_months_plan_available_and_payments_take_and_give_it_back(world):
    ind = world.funded("10000.00")
    march, april = date(2026, 3, 1), date(2026, 4, 1)
    ledger.plan_grant(world.session, ind, march, D("3000.00"), key="plan-03", now=NOW)
    ledger.plan_grant(world.session, ind, april, D("2000.00"), key="plan-04", now=NOW)
    assert bal(world, ind, month=date(2026, 3, 17)).plan_available == D("3000.00")
    assert bal(world, ind, month=april).plan_available == D("2000.00")
    assert bal(world, ind, month=date(2026, 5, 1)).plan_available == ZERO
    assert bal(world, ind).plan_available is None
    assert bal(world, ind, month=march).available == D("10000.00")  # the plan does not touch the indicator

    ledger.plan_reserve(world.session, ind, march, D("1200.00"), key="p1/plan", now=NOW)
    assert bal(world, ind, month=march).plan_available == D("1800.00")
    ledger.plan_post(world.session, ind, march, D("1200.00"), key="p1/plan-post", now=NOW)
    assert bal(world, ind, month=march).plan_available == D("1800.00")
    ledger.plan_reserve(world.session, ind, march, D("800.00"), key="p2/plan", now=NOW)
    ledger.plan_void(world.session, ind, march, D("800.00"), key="p2/plan-void", now=NOW)
    assert bal(world, ind, month=march).plan_available == D("1800.00")
    ledger.plan_return(world.session, ind, march, D("1200.00"), key="p1/plan-return", now=NOW)
    assert bal(world, ind, month=march).plan_available == D("3000.00")
    assert bal(world, ind, month=april).plan_available == D("2000.00")


def test_plan_accounts_carry_the_first_day_of_the_month(world):
    ind = world.funded("100.00")
    transfer = ledger.plan_grant(world.session, ind, date(2026, 3, 31), D("10.00"), key="g", now=NOW)
    accounts = (transfer.debit_account_id, transfer.credit_account_id)
    months = {world.session.get(LedgerAccount, i).month for i in accounts}
    assert months == {date(2026, 3, 1)}


def test_a_payment_cannot_take_more_than_the_months_plan(world):
    ind = world.funded("10000.00")
    ledger.plan_grant(world.session, ind, date(2026, 3, 1), D("3000.00"), key="g", now=NOW)
    world.session.commit()
    before = snapshot(world.session)
    with pytest.raises(InsufficientBalance) as refused:
        ledger.plan_reserve(world.session, ind, date(2026, 3, 1), D("3000.01"), key="p", now=NOW)
    assert "2026年3月用款计划可用额度" in refused.value.message
    with pytest.raises(InsufficientBalance):  # nothing granted for April
        ledger.plan_reserve(world.session, ind, date(2026, 4, 1), D("1.00"), key="p4", now=NOW)
    assert snapshot(world.session) == before


# --- refusals --------------------------------------------------------------------------------------------------

OVERSPEND = {
    # case: (movement(session, indicator, other indicator, amount, key), the balance the message names)
    "reserve more than available": (lambda s, a, b, amt, k: ledger.reserve(s, a, amt, key=k, now=NOW), "可用额度"),
    "freeze more than available": (lambda s, a, b, amt, k: ledger.freeze(s, a, amt, key=k, now=NOW), "可用额度"),
    "reallocate more than the source has available":
        (lambda s, a, b, amt, k: ledger.reallocate(s, a, b, amt, key=k, now=NOW), "可用额度"),
    "unfreeze more than frozen": (lambda s, a, b, amt, k: ledger.unfreeze(s, a, amt, key=k, now=NOW), "冻结额度"),
    "post more than in flight": (lambda s, a, b, amt, k: ledger.post(s, a, amt, key=k, now=NOW), "在途支付额度"),
    "void more than in flight": (lambda s, a, b, amt, k: ledger.void(s, a, amt, key=k, now=NOW), "在途支付额度"),
    "return more than paid": (lambda s, a, b, amt, k: ledger.return_paid(s, a, amt, key=k, now=NOW), "已支付额度"),
    "allocate more than unallocated":
        (lambda s, a, b, amt, k: ledger.allocate(s, a, amt, key=k, now=NOW), "待分指标额度"),
    "recall more than available": (lambda s, a, b, amt, k: ledger.recall(s, a, amt, key=k, now=NOW), "可用额度"),
    "carry over more than available":
        (lambda s, a, b, amt, k: ledger.carry_over(s, a, b, amt, key=k, now=NOW), "可用额度"),
}


def _busy_indicator(world) -> Indicator:
    """1000 registered, 900 allocated: 500 available, 100 frozen, 200 in flight, 100 paid, 100 unallocated."""
    ind = world.indicator()
    s = world.session
    ledger.register(s, ind, D("1000.00"), key="b/reg", now=NOW)
    ledger.allocate(s, ind, D("900.00"), key="b/alloc", now=NOW)
    ledger.freeze(s, ind, D("100.00"), key="b/freeze", now=NOW)
    ledger.reserve(s, ind, D("300.00"), key="b/reserve", now=NOW)
    ledger.post(s, ind, D("100.00"), key="b/post", now=NOW)
    s.commit()
    return ind


HELD = {"可用额度": "500.00", "冻结额度": "100.00", "在途支付额度": "200.00", "已支付额度": "100.00",
        "待分指标额度": "100.00"}


@pytest.mark.parametrize("case", OVERSPEND)
def test_a_movement_taking_more_than_the_account_holds_is_refused_and_changes_nothing(world, case):
    ind = _busy_indicator(world)
    other = world.indicator(year=2027) if "carry" in case else world.funded("1.00")
    move, what = OVERSPEND[case]
    before = snapshot(world.session)
    held = D(HELD[what])
    with pytest.raises(InsufficientBalance) as refused:
        move(world.session, ind, other, held + D("0.01"), "too-much")
    error = refused.value
    assert (error.code, error.available, error.requested) == ("INSUFFICIENT_BALANCE", held, held + D("0.01"))
    assert ind.code in error.message and what in error.message
    assert f"{held:,.2f}" in error.message and f"{held + D('0.01'):,.2f}" in error.message
    assert snapshot(world.session) == before
    # exactly what the account holds still goes through, and the caller's transaction was not spoiled
    move(world.session, ind, other, held, "exactly")
    world.session.commit()
    assert transfer_count(world.session) > len(before[1])


def test_a_refused_movement_leaves_the_callers_earlier_work_in_place(world):
    ind = world.funded("100.00")
    ledger.reserve(world.session, ind, D("60.00"), key="ok-1", now=NOW)
    with pytest.raises(InsufficientBalance):
        ledger.reserve(world.session, ind, D("60.00"), key="too-much", now=NOW)
    ledger.reserve(world.session, ind, D("40.00"), key="ok-2", now=NOW)
    world.session.commit()
    keys = [t.idempotency_key for t in ledger.movements(world.session, indicator_id=ind.id)]
    assert keys[-2:] == ["ok-1", "ok-2"] and "too-much" not in keys
    assert bal(world, ind).in_flight == D("100.00")


def test_the_ledger_never_commits_so_the_caller_can_roll_everything_back(world):
    ind = world.funded("100.00")
    before = snapshot(world.session)
    ledger.reserve(world.session, ind, D("60.00"), key="r", now=NOW)
    ledger.plan_grant(world.session, ind, date(2026, 3, 1), D("60.00"), key="g", now=NOW)
    world.session.rollback()
    assert snapshot(world.session) == before


# --- idempotency -----------------------------------------------------------------------------------------------

REPLAYS = {
    "register": lambda s, a, b, k: ledger.register(s, a, D("10.00"), key=k, now=NOW),
    "allocate": lambda s, a, b, k: ledger.allocate(s, a, D("10.00"), key=k, now=NOW),
    "freeze": lambda s, a, b, k: ledger.freeze(s, a, D("10.00"), key=k, now=NOW),
    "unfreeze": lambda s, a, b, k: ledger.unfreeze(s, a, D("10.00"), key=k, now=NOW),
    "reallocate": lambda s, a, b, k: ledger.reallocate(s, a, b, D("10.00"), key=k, now=NOW),
    "adjust up": lambda s, a, b, k: ledger.adjust(s, a, D("10.00"), key=k, now=NOW),
    "adjust down": lambda s, a, b, k: ledger.adjust(s, a, D("-10.00"), key=k, now=NOW),
    "reserve": lambda s, a, b, k: ledger.reserve(s, a, D("10.00"), key=k, now=NOW),
    "post": lambda s, a, b, k: ledger.post(s, a, D("10.00"), key=k, now=NOW),
    "void": lambda s, a, b, k: ledger.void(s, a, D("10.00"), key=k, now=NOW),
    "return_paid": lambda s, a, b, k: ledger.return_paid(s, a, D("10.00"), key=k, now=NOW),
    "recall": lambda s, a, b, k: ledger.recall(s, a, D("10.00"), key=k, now=NOW),
    "plan_grant": lambda s, a, b, k: ledger.plan_grant(s, a, date(2026, 3, 1), D("10.00"), key=k, now=NOW),
    "plan_reserve": lambda s, a, b, k: ledger.plan_reserve(s, a, date(2026, 3, 1), D("10.00"), key=k, now=NOW),
    "plan_post": lambda s, a, b, k: ledger.plan_post(s, a, date(2026, 3, 1), D("10.00"), key=k, now=NOW),
    "plan_void": lambda s, a, b, k: ledger.plan_void(s, a, date(2026, 3, 1), D("10.00"), key=k, now=NOW),
    "plan_return": lambda s, a, b, k: ledger.plan_return(s, a, date(2026, 3, 1), D("10.00"), key=k, now=NOW),
}


def _stocked(world) -> Indicator:
    """Something in every account, so any movement of 10.00 can go through."""
    ind = _busy_indicator(world)
    ledger.plan_grant(world.session, ind, date(2026, 3, 1), D("100.00"), key="s/g", now=NOW)
    ledger.plan_reserve(world.session, ind, date(2026, 3, 1), D("50.00"), key="s/pr", now=NOW)
    ledger.plan_post(world.session, ind, date(2026, 3, 1), D("20.00"), key="s/pp", now=NOW)
    world.session.commit()
    return ind


@pytest.mark.parametrize("case", REPLAYS)
def test_a_movement_replayed_with_the_same_key_posts_once_and_returns_the_first_transfer(world, case):
    ind, other = _stocked(world), world.funded("1.00")
    move = REPLAYS[case]
    first = move(world.session, ind, other, "k-1")
    world.session.commit()
    after_first = snapshot(world.session)
    assert len(after_first[1]) == transfer_count(world.session)
    again = move(world.session, ind, other, "k-1")
    world.session.commit()
    assert again.id == first.id
    assert snapshot(world.session) == after_first
    # and the same movement under a new key does post again
    move(world.session, ind, other, "k-2")
    assert transfer_count(world.session) == len(after_first[1]) + 1


def test_a_key_replayed_in_the_same_transaction_before_commit_posts_once(world):
    ind = world.funded("100.00")
    first = ledger.reserve(world.session, ind, D("30.00"), key="k", now=NOW)
    again = ledger.reserve(world.session, ind, D("30.00"), key="k", now=NOW)
    assert again is first
    assert bal(world, ind).in_flight == D("30.00")


@pytest.mark.parametrize("other_movement", ["different amount", "different kind", "different indicator",
                                            "different month", "adjust the other way"])
def test_a_key_reused_for_a_different_movement_is_refused_and_changes_nothing(world, other_movement):
    ind, other = world.funded("1000.00"), world.funded("1000.00")
    s = world.session
    march = date(2026, 3, 1)
    first = {
        "different amount": lambda: ledger.reserve(s, ind, D("10.00"), key="k", now=NOW),
        "different kind": lambda: ledger.reserve(s, ind, D("10.00"), key="k", now=NOW),
        "different indicator": lambda: ledger.reserve(s, ind, D("10.00"), key="k", now=NOW),
        "different month": lambda: ledger.plan_grant(s, ind, march, D("10.00"), key="k", now=NOW),
        "adjust the other way": lambda: ledger.adjust(s, ind, D("10.00"), key="k", now=NOW),
    }[other_movement]
    second = {
        "different amount": lambda: ledger.reserve(s, ind, D("10.01"), key="k", now=NOW),
        "different kind": lambda: ledger.freeze(s, ind, D("10.00"), key="k", now=NOW),
        "different indicator": lambda: ledger.reserve(s, other, D("10.00"), key="k", now=NOW),
        "different month": lambda: ledger.plan_grant(s, ind, date(2026, 4, 1), D("10.00"), key="k", now=NOW),
        "adjust the other way": lambda: ledger.adjust(s, ind, D("-10.00"), key="k", now=NOW),
    }[other_movement]
    first()
    s.commit()
    before = snapshot(s)
    with pytest.raises(KeyReused) as refused:
        second()
    assert refused.value.code == "KEY_REUSED" and "k" in refused.value.message
    assert snapshot(s) == before


# --- bad input -------------------------------------------------------------------------------------------------

BAD_AMOUNTS = [0, D("0"), D("0.00"), D("-1.00"), -5, D("NaN"), D("sNaN"), float("nan"), D("Infinity"),
               D("-Infinity"), D("0.001"), D("12.345"), D("1E+20"), D("1E16"), D("10000000000000000.00"), 1.5,
               True, None, "abc", "0.001", [1]]


def test_a_bad_amount_is_refused_with_a_chinese_message_and_changes_nothing(world):
    ind = world.funded("1000.00")
    before = snapshot(world.session)
    for amount in BAD_AMOUNTS:
        for move in (lambda: ledger.reserve(world.session, ind, amount, key="bad", now=NOW),  # noqa: B023
                     lambda: ledger.register(world.session, ind, amount, key="bad", now=NOW),  # noqa: B023
                     lambda: ledger.plan_grant(world.session, ind, date(2026, 3, 1), amount, key="bad",  # noqa: B023
                                               now=NOW)):
            with pytest.raises(InvalidAmount) as refused:
                move()
            error = refused.value
            assert isinstance(error, LedgerError) and error.code == "INVALID_AMOUNT", amount
            assert "金额" in error.message, (amount, error.message)
    assert snapshot(world.session) == before


def test_an_adjustment_of_zero_is_refused(world):
    ind = world.funded("1000.00")
    with pytest.raises(InvalidAmount):
        ledger.adjust(world.session, ind, D("0.00"), key="zero", now=NOW)


def test_the_largest_amount_that_fits_is_accepted(world):
    ind = world.indicator()
    ledger.register(world.session, ind, D("9999999999999999.99"), key="max", now=NOW)
    world.session.commit()
    world.session.expire_all()
    assert bal(world, ind).unallocated == D("9999999999999999.99")


def test_amounts_given_as_int_or_decimal_string_are_exact(world):
    ind = world.indicator()
    ledger.register(world.session, ind, 100, key="int", now=NOW)
    ledger.register(world.session, ind, "0.10", key="str", now=NOW)
    assert bal(world, ind).unallocated == D("100.10")


@pytest.mark.parametrize("key", ["", "   ", None, "x" * 121])
def test_a_movement_needs_a_usable_idempotency_key(world, key):
    ind = world.funded("10.00")
    with pytest.raises(LedgerError, match="幂等键"):
        ledger.reserve(world.session, ind, D("1.00"), key=key, now=NOW)


def test_a_movement_without_an_aware_now_is_a_programming_error(world):
    ind = world.funded("10.00")
    with pytest.raises(ValueError):
        ledger.reserve(world.session, ind, D("1.00"), key="k", now=datetime(2026, 3, 1))


def test_a_movement_with_an_unknown_context_field_is_a_programming_error(world):
    ind = world.funded("10.00")
    with pytest.raises(TypeError):
        ledger.reserve(world.session, ind, D("1.00"), key="k", now=NOW, payer="someone")


# --- reports ---------------------------------------------------------------------------------------------------

def _mix(world):
    s = world.session
    a, b = world.funded("10000.00"), world.funded("5000.00", unit=world.other_unit)
    ledger.register(s, a, D("700.00"), key="m/reg", now=NOW)
    ledger.freeze(s, a, D("1000.00"), key="m/freeze", now=NOW)
    ledger.unfreeze(s, a, D("250.00"), key="m/unfreeze", now=NOW)
    ledger.reallocate(s, a, b, D("1200.00"), key="m/tj", now=NOW)
    ledger.adjust(s, b, D("300.00"), key="m/up", now=NOW)
    ledger.adjust(s, a, D("-100.00"), key="m/down", now=NOW)
    ledger.reserve(s, b, D("2222.22"), key="m/p1", now=NOW)
    ledger.post(s, b, D("2222.22"), key="m/p1-post", now=NOW)
    ledger.reserve(s, b, D("111.11"), key="m/p2", now=NOW)
    ledger.void(s, b, D("111.11"), key="m/p2-void", now=NOW)
    ledger.reserve(s, a, D("500.00"), key="m/p3", now=NOW)
    ledger.return_paid(s, b, D("22.22"), key="m/p1-back", now=NOW)
    ledger.recall(s, a, D("50.00"), key="m/recall", now=NOW)
    ledger.plan_grant(s, a, date(2026, 3, 1), D("800.00"), key="m/plan", now=NOW)
    ledger.plan_reserve(s, a, date(2026, 3, 1), D("500.00"), key="m/plan-p3", now=NOW)
    ledger.carry_over(s, b, world.indicator(year=2027), D("100.00"), key="m/jz", now=NOW)
    s.commit()
    return a, b


def test_the_trial_balance_sums_to_zero_and_every_kind_agrees_with_the_journal(world):
    _mix(world)
    rows = ledger.trial_balance(world.session, world.township.id, 2026)
    *kinds, total = rows
    assert total.kind == ledger.TOTAL
    assert total.balance == ZERO
    assert total.debits == total.credits > 0
    for row in kinds:
        assert row.debits - row.credits == row.balance, row
    by_kind = {r.kind: r for r in kinds}
    assert set(by_kind) >= {"source", "unallocated", "executable", "frozen", "in_flight", "paid", "carried",
                            "plan_source", "plan_available", "plan_in_flight"}
    # credited 10000 + 5000 (funded) + 700 (register) + 300 (adjust up); debited 100 (adjust down) + 50 (recall)
    assert by_kind["source"].balance == D("-15850.00")
    assert by_kind["plan_source"].balance == D("-800.00")
    next_year = ledger.trial_balance(world.session, world.township.id, 2027)
    assert next_year[-1].balance == ZERO and {r.kind for r in next_year[:-1]} == {"source", "unallocated",
                                                                                  "executable"}
    assert ledger.trial_balance(world.session, world.other_township.id, 2026) == [
        ledger.TrialBalanceRow("total", ZERO, ZERO, ZERO)]


def test_the_trial_balance_notices_a_balance_that_disagrees_with_the_journal(world):
    ind = world.funded("100.00")
    account = world.session.scalar(select(LedgerAccount).where(LedgerAccount.indicator_id == ind.id,
                                                               LedgerAccount.kind == AccountKind.EXECUTABLE))
    account.balance = D("99.00")  # tampered behind the ledger's back
    world.session.commit()
    row = next(r for r in ledger.trial_balance(world.session, world.township.id, 2026) if r.kind == "executable")
    assert row.debits - row.credits != row.balance


def test_unit_and_township_balances_sum_their_indicators(world):
    a, b = _mix(world)
    s = world.session
    many = ledger.balances_many(s, [a.id, b.id])
    assert many == {a.id: ledger.balances(s, a.id), b.id: ledger.balances(s, b.id)}
    assert ledger.unit_balances(s, world.unit.id, 2026) == many[a.id]
    assert ledger.unit_balances(s, world.other_unit.id, 2026) == many[b.id]
    town = ledger.township_balances(s, world.township.id, 2026)
    for field in ("allotted", "available", "frozen", "in_flight", "paid", "used", "unallocated", "carried"):
        assert getattr(town, field) == getattr(many[a.id], field) + getattr(many[b.id], field), field
    assert town.plan_available is None
    assert ledger.unit_balances(s, world.unit.id, 2027).available == D("100.00")  # the carry-over
    assert ledger.unit_balances(s, world.other_unit.id, 2027) == Balances(*[ZERO] * 8)


def test_balances_of_indicators_without_movements_are_zero(world):
    fresh = world.indicator()
    assert ledger.balances(world.session, fresh.id) == Balances(*[ZERO] * 8)
    assert ledger.balances_many(world.session, [fresh.id]) == {fresh.id: Balances(*[ZERO] * 8)}
    assert ledger.balances_many(world.session, []) == {}


def test_movements_list_the_journal_by_indicator_township_and_year(world):
    a, b = _mix(world)
    s = world.session
    of_a = ledger.movements(s, indicator_id=a.id)
    assert [t.idempotency_key for t in of_a][:2] == [f"{a.code}/reg", f"{a.code}/alloc"]
    assert "m/tj" in {t.idempotency_key for t in of_a} and "m/p1" not in {t.idempotency_key for t in of_a}
    assert [t.id for t in of_a] == sorted(t.id for t in of_a)
    year_2026 = ledger.movements(s, township_id=world.township.id, fiscal_year=2026)
    year_2027 = ledger.movements(s, township_id=world.township.id, fiscal_year=2027)
    assert {t.idempotency_key for t in year_2027} == {"m/jz/register", "m/jz/allocate"}
    assert len(year_2026) + len(year_2027) == transfer_count(s) == len(ledger.movements(s))
    assert ledger.movements(s, township_id=world.other_township.id) == []


def test_balance_queries_are_single_statements(world, app):
    from sqlalchemy import event

    a, b = _mix(world)
    s, a_id, b_id, unit_id, township_id = world.session, a.id, b.id, world.unit.id, world.township.id
    statements = []
    engine = s.get_bind()

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for query in (lambda: ledger.balances(s, a_id), lambda: ledger.balances_many(s, [a_id, b_id]),
                      lambda: ledger.balances(s, a_id, month=date(2026, 3, 1)),
                      lambda: ledger.unit_balances(s, unit_id, 2026),
                      lambda: ledger.township_balances(s, township_id, 2026)):
            statements.clear()
            query()
            assert len(statements) == 1
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- races (PostgreSQL) ----------------------------------------------------------------------------------------

def race(n: int, work):
    """Run work(session, i) in n threads at once, each in its own session, committing what succeeds.

    Returns [("ok", value) | ("refused", InsufficientBalance) | ("error", exception)] in thread order.
    """
    from app.extensions import db

    engine = db.engine
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        with Session(engine) as session:
            barrier.wait()
            try:
                value = work(session, i)
                session.commit()
                results[i] = ("ok", value)
            except InsufficientBalance as refused:
                session.rollback()
                results[i] = ("refused", refused)
            except Exception as error:  # reported by the test
                session.rollback()
                results[i] = ("error", error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def non_source_minimum(session) -> Decimal:
    return session.scalar(select(func.min(LedgerAccount.balance)).where(
        LedgerAccount.kind.not_in([AccountKind.SOURCE, AccountKind.PLAN_SOURCE])))


@pytest.mark.postgres
def test_200_concurrent_reservations_against_one_indicator_never_exceed_its_balance(world):
    ind = world.funded("10000.00")
    ind_id = ind.id
    before = ledger.balances(world.session, ind_id)
    world.session.commit()
    rng = random.Random(20260310)
    amounts = [D(rng.randint(3711, 21193)) / 100 for _ in range(200)]  # 37.11 .. 211.93, about 24 900 in all

    def reserve(session, i):
        transfer = ledger.reserve(session, session.get(Indicator, ind_id), amounts[i], key=f"race/{i}", now=NOW)
        return transfer.id

    results = race(200, reserve)
    assert [r for r in results if r[0] == "error"] == []
    reserved = [amounts[i] for i, (outcome, _) in enumerate(results) if outcome == "ok"]
    refused = [amounts[i] for i, (outcome, _) in enumerate(results) if outcome == "refused"]
    assert reserved and refused  # the race really ran out of money
    world.session.expire_all()
    after = ledger.balances(world.session, ind_id)
    assert sum(reserved) <= D("10000.00")
    assert before.available - after.available == sum(reserved)
    assert after.in_flight == sum(reserved)
    assert after.available >= 0 and non_source_minimum(world.session) >= 0
    # a refusal was right: the balance only fell, so each refused amount was more than what was left then
    assert all(amount > after.available for amount in refused)
    assert all(isinstance(error, InsufficientBalance) and error.code == "INSUFFICIENT_BALANCE"
               for outcome, error in results if outcome == "refused")
    reserves = ledger.movements(world.session, indicator_id=ind_id)[2:]
    assert sorted(t.amount for t in reserves) == sorted(reserved)
    assert ledger.trial_balance(world.session, world.township.id, 2026)[-1].balance == ZERO


@pytest.mark.postgres
def test_20_threads_posting_the_same_key_make_exactly_one_transfer(world):
    ind = world.funded("1000.00")
    ind_id = ind.id
    world.session.commit()

    def reserve(session, i):
        return ledger.reserve(session, session.get(Indicator, ind_id), D("100.00"), key="payment-7/reserve",
                              now=NOW).id

    results = race(20, reserve)
    assert {outcome for outcome, _ in results} == {"ok"}, results
    assert len({transfer_id for _, transfer_id in results}) == 1
    world.session.expire_all()
    assert world.session.scalar(select(func.count()).where(
        LedgerTransfer.idempotency_key == "payment-7/reserve")) == 1
    b = ledger.balances(world.session, ind_id)
    assert (b.available, b.in_flight) == (D("900.00"), D("100.00"))


@pytest.mark.postgres
def test_accounts_made_by_20_threads_at_once_exist_once(world):
    ind = world.indicator(year=2028)  # a new year: not even the township's source pool exists yet
    ind_id = ind.id
    world.session.commit()

    def register(session, i):
        return ledger.register(session, session.get(Indicator, ind_id), D("1.00"), key=f"reg/{i}", now=NOW).id

    results = race(20, register)
    assert {outcome for outcome, _ in results} == {"ok"}, results
    world.session.expire_all()
    kinds = world.session.scalars(select(LedgerAccount.kind).where(LedgerAccount.fiscal_year == 2028)).all()
    assert sorted(kinds) == ["source", "unallocated"]
    assert ledger.balances(world.session, ind_id).unallocated == D("20.00")


@pytest.mark.postgres
def test_reallocations_racing_in_both_directions_neither_deadlock_nor_lose_money(world):
    a, b = world.funded("1000.00"), world.funded("1000.00")
    a_id, b_id = a.id, b.id
    world.session.commit()

    def reallocate(session, i):
        source, target = (a_id, b_id) if i % 2 else (b_id, a_id)
        return ledger.reallocate(session, session.get(Indicator, source), session.get(Indicator, target),
                                 D("10.00"), key=f"tj/{i}", now=NOW).id

    results = race(40, reallocate)
    assert {outcome for outcome, _ in results} == {"ok"}, [r for r in results if r[0] != "ok"]
    world.session.expire_all()
    many = ledger.balances_many(world.session, [a_id, b_id])
    assert (many[a_id].available, many[b_id].available) == (D("1000.00"), D("1000.00"))
