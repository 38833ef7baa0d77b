"""The admin CLI: orgs and users, refusing bad input with a clear message and changing nothing."""
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from app.models import Org, User


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=list(args))

    return run


def test_orgs_and_users_are_added_and_listed(cli, db_session):
    assert cli("org", "add", "HX", "和县", "--kind", "county").exit_code == 0
    assert cli("org", "add", "HX-XB", "西埠镇", "--kind", "township", "--parent", "HX").exit_code == 0
    assert cli("org", "add", "HX-XB-CZS", "西埠镇财政所", "--kind", "unit", "--parent", "HX-XB").exit_code == 0
    result = cli("user", "add", "xb_reviewer", "--password", "long-enough-1", "--name", "王审核",
                 "--role", "finance_reviewer@HX-XB", "--role", "财政所所长@HX-XB")
    assert result.exit_code == 0, result.output
    listing = cli("user", "list").output
    assert "xb_reviewer\t王审核\t财政所审核@HX-XB，财政所所长@HX-XB" in listing
    tree = cli("org", "list").output
    assert tree.splitlines() == ["HX\t和县\tcounty", "  HX-XB\t西埠镇\ttownship", "    HX-XB-CZS\t西埠镇财政所\tunit"]


@pytest.mark.parametrize("args,message", [
    (["BAD CODE", "x", "--kind", "county"], "代码须为"),
    (["T1", "x", "--kind", "township"], "township 的上级须为：county"),
    (["U1", "x", "--kind", "unit", "--parent", "NOPE"], "上级单位 NOPE 不存在"),
    (["C2", "", "--kind", "county"], "名称须为"),
])
def test_bad_orgs_are_refused(cli, db_session, args, message):
    result = cli("org", "add", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert db_session.scalar(select(func.count()).select_from(Org)) == 0


def test_a_duplicate_org_code_is_refused(cli, db_session):
    cli("org", "add", "HX", "和县", "--kind", "county")
    result = cli("org", "add", "HX", "和县二", "--kind", "county")
    assert result.exit_code == 1 and "代码 HX 已存在" in result.output


def test_an_invalid_kind_is_refused_by_the_option(cli):
    result = cli("org", "add", "HX", "和县", "--kind", "province")
    assert result.exit_code == 2 and "province" in result.output


@pytest.mark.parametrize("args,message", [
    (["Bad Name", "--password", "long-enough", "--role", "clerk@U"], "用户名须为"),
    (["ok_user", "--password", "short", "--role", "clerk@U"], "密码至少 8 位"),
    (["ok_user", "--password", "long-enough"], "至少授予一个角色"),
    (["ok_user", "--password", "long-enough", "--role", "mayor@U"], "应为 角色@单位代码"),
    (["ok_user", "--password", "long-enough", "--role", "clerk"], "应为 角色@单位代码"),
    (["ok_user", "--password", "long-enough", "--role", "clerk@NOPE"], "单位 NOPE 不存在"),
    (["ok_user", "--password", "long-enough", "--role", "clerk@T"], "clerk 只能授予在预算单位或科室"),
])
def test_bad_users_are_refused_and_nothing_is_created(cli, db_session, args, message):
    cli("org", "add", "C", "县", "--kind", "county")
    cli("org", "add", "T", "镇", "--kind", "township", "--parent", "C")
    cli("org", "add", "U", "单位", "--kind", "unit", "--parent", "T")
    result = cli("user", "add", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert db_session.scalar(select(func.count()).select_from(User)) == 0


def test_a_duplicate_username_is_refused(cli, db_session):
    cli("org", "add", "C", "县", "--kind", "county")
    cli("org", "add", "T", "镇", "--kind", "township", "--parent", "C")
    assert cli("user", "add", "ok_user", "--password", "long-enough", "--role", "township_head@T").exit_code == 0
    result = cli("user", "add", "ok_user", "--password", "long-enough", "--role", "township_head@T")
    assert result.exit_code == 1 and "用户 ok_user 已存在" in result.output


def test_the_demo_seed_runs_once_and_then_leaves_data_alone(cli, db_session):
    first = cli("seed-demo")
    assert first.exit_code == 0, first.output
    users = db_session.scalar(select(func.count()).select_from(User))
    second = cli("seed-demo")
    assert second.exit_code == 0 and "已存在" in second.output
    assert db_session.scalar(select(func.count()).select_from(User)) == users
    assert cli("bpmn", "list").output.count("expense_claim") == 1


@time_machine.travel(datetime(2026, 6, 17, 2, tzinfo=UTC), tick=False)  # a Wednesday morning in Beijing
def test_the_demo_seed_leaves_a_living_office_with_work_in_every_budget_process(cli, db_session):
    from app import accounting, ledger
    from app.inbox.board import BoardFilter, open_board, overdue_tasks
    from app.models import FundPlanLine, Indicator, InstanceStatus, Org, Payment, ProcessInstance, Project

    assert cli("seed-demo").exit_code == 0
    db_session.expire_all()
    running = set(db_session.scalars(select(ProcessInstance.process_id).where(
        ProcessInstance.status == InstanceStatus.RUNNING)))
    assert running >= {"project_entry", "budget_declaration", "budget_adjustment", "fund_plan", "payment"}
    assert db_session.scalar(select(func.count()).select_from(Project).where(Project.status == "in_library")) >= 5
    township = db_session.scalar(select(Org).where(Org.code == "SFZ"))
    year = db_session.scalar(select(func.max(Indicator.fiscal_year)).where(Indicator.township_id == township.id))
    totals = ledger.township_balances(db_session, township.id, year)
    assert totals.allotted > 0 and totals.paid > 0 and totals.in_flight > 0
    assert db_session.scalar(select(func.count()).select_from(FundPlanLine).where(FundPlanLine.status == "approved"))
    statuses = set(db_session.scalars(select(Payment.status)))
    assert {"paid", "reserved"} <= statuses
    assert accounting.trial_balance(db_session, township_id=township.id, fiscal_year=year).balanced
    # Some of the waiting work has waited for days: the 督办 sees it overdue on the board.
    duban = db_session.scalar(select(User).where(User.username == "duban"))
    late = overdue_tasks(open_board(db_session, duban, BoardFilter(), datetime.now(UTC)))
    assert "财政所合规审核" in {t.name for t in late.items if t.overdue}
