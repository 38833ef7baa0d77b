"""A retried step (after a crash, a timeout, a worker restart) runs its service tasks again with the same call:
every ledger and voucher operator must post once.

Each test drives a real request through the API to where the operator has run, then runs the registered
operator again exactly as the engine called it (same instance, same engine task, same data), and checks
that no transfer, voucher, hold or batch was added and no balance moved.
"""
import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from app.approvals.deps import StepContext
from app.engine import ServiceCall
from app.models import (
    BankBatch,
    Indicator,
    LedgerAccount,
    LedgerTransfer,
    ProcessInstance,
    Voucher,
    VoucherLine,
)
from app.runtime import deps, runtime
from tests.integration.conftest import project_in_library, released_indicators
from tests.integration.office import line, money, payment_data

pytestmark = pytest.mark.usefixtures("march")


def snapshot(session) -> tuple:
    """Everything a service operator could have posted."""
    session.expire_all()
    count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
    balances = tuple(session.execute(select(LedgerAccount.id, LedgerAccount.balance).order_by(LedgerAccount.id)))
    return (count(LedgerTransfer), count(Voucher), count(VoucherLine), count(BankBatch), count(Indicator), balances)


def replay(session, instance_id: int, bpmn_id: str):
    """Run the operator of service task `bpmn_id` again, as the engine first called it."""
    instance = session.scalar(select(ProcessInstance).options(undefer(ProcessInstance.state))
                              .where(ProcessInstance.id == instance_id))
    d = deps()
    deployed = d.catalog.get(session, instance.definition_id, instance.called_definition_ids)
    run = d.engine.load(deployed.bundle, instance.state, instance_key=str(instance.id))
    done = [t for t in run.workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id == bpmn_id]
    assert done, f"{bpmn_id} has not run"
    task = done[-1]
    operator_name = task.task_spec.operation_name
    params = {p: eval(v["value"]) for p, v in (task.task_spec.operation_params or {}).items()}  # noqa: S307 - literals
    data = {k: v for k, v in task.data.items() if k != task.task_spec.result_variable}
    call = ServiceCall(StepContext(session, d.now, instance.id, None), str(instance.id), str(task.id), bpmn_id,
                       operator_name, data)
    runtime().operators[operator_name](call, **params)
    session.commit()


def test_reserve_post_and_vouchers_replayed_post_once(office, funded):
    _, (code, _) = funded
    iid = office.start("nyb_clerk", "payment", payment_data(code, "800.00"))["id"]
    before = snapshot(office.session)
    replay(office.session, iid, "s_reserve")
    assert snapshot(office.session) == before
    for who in ("nyb_head", "cz_reviewer", "deputy", "guoku"):
        office.act(who, iid)
    before = snapshot(office.session)
    replay(office.session, iid, "s_bank")
    assert snapshot(office.session) == before
    office.bank_says(office.payment(iid).bank_ref, "paid")
    before = snapshot(office.session)
    for step in ("s_post", "s_vouchers", "s_reserve"):
        replay(office.session, iid, step)
        assert snapshot(office.session) == before, step


def test_void_replayed_releases_once(office, funded):
    _, (code, _) = funded
    iid = office.start("nyb_clerk", "payment", payment_data(code, "800.00"))["id"]
    for who in ("nyb_head", "cz_reviewer", "deputy", "guoku"):
        office.act(who, iid)
    office.bank_says(office.payment(iid).bank_ref, "returned", "收款账户冻结")
    before = snapshot(office.session)
    replay(office.session, iid, "s_void")
    assert snapshot(office.session) == before
    assert office.balances(code).available == money(20000)


def test_allocate_and_plan_quota_replayed_post_once(office):
    project = project_in_library(office, amount="30000.00")
    [code] = released_indicators(office, [line(project, "30000.00", plan_controlled=True)])
    declaration = office.session.scalar(select(Indicator.instance_id).where(Indicator.code == code))
    before = snapshot(office.session)
    replay(office.session, declaration, "s_allocate")
    assert snapshot(office.session) == before
    plan = office.start("nyb_clerk", "fund_plan", {"title": "3月计划", "month": "2026-03",
                                                   "lines": [{"indicator_code": code, "amount": money(5000)}]})["id"]
    office.act("nyb_head", plan)
    office.act("cz_reviewer", plan)
    before = snapshot(office.session)
    replay(office.session, plan, "s_grant")
    assert snapshot(office.session) == before


def test_adjustment_hold_and_execution_replayed_post_once(office, funded):
    _, (source, target) = funded
    iid = office.start("nyb_clerk", "budget_adjustment", {
        "title": "调剂", "kind": "reallocation", "reason": "材料涨价",
        "lines": [{"from_indicator": source, "to_indicator": target, "amount": money(3000)}]})["id"]
    before = snapshot(office.session)
    replay(office.session, iid, "s_record")
    assert snapshot(office.session) == before
    for who in ("nyb_head", "cz_reviewer", "zhenzhang"):
        office.act(who, iid)
    before = snapshot(office.session)
    replay(office.session, iid, "s_execute")
    assert snapshot(office.session) == before
    assert (office.balances(source).allotted, office.balances(target).allotted) == (money(17000), money(13000))
