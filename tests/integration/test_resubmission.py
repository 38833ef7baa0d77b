"""退回 to the applicant, then resubmitted: every budget process takes the request back, and what the
submission holds (a payment's reservation, a 调剂's frozen amount) is held again exactly once.

Each process is driven through the API as the demo users, on the real BPMN files in bpmn/.
"""
from sqlalchemy import func, select

from app.models import (
    BudgetLine,
    FundPlanLine,
    InstanceStatus,
    LedgerTransfer,
    PaymentStatus,
    Project,
    ProjectStatus,
    TransferKind,
)
from tests.integration.conftest import project_in_library
from tests.integration.office import as_json, line, money, payment_data, project_data
from tests.integration.test_budget_processes import D, books


def give_back(office, username: str, instance_id: int, target: str = "apply", comment: str = "请补充材料"):
    task = office.task_for(username, instance_id)
    resp = office.as_user(username).post(f"/api/v1/tasks/{task['id']}/return",
                                         json={"target": target, "comment": comment})
    assert resp.status_code == 200, resp.get_json()


def resubmit(office, instance_id: int, data: dict | None = None, clerk: str = "nyb_clerk") -> dict:
    """The applicant completes the reopened 申请, as the page does: the form as it stands, with `data` changed."""
    task = office.task_for(clerk, instance_id)
    detail = office.as_user(clerk).get(f"/api/v1/tasks/{task['id']}").get_json()
    assert detail["is_application"] is True, detail
    form = detail["form"].get("properties", {})
    current = {k: as_sent(form[k], v) for k, v in detail["data"].items() if k in form}
    return office.act(clerk, instance_id, decision=None, data={**current, **(data or {})}, comment="已补充")


def as_sent(schema: dict, value):
    """A value shown by the API as a client sends it back: money shown as "800.00" goes as a JSON number."""
    if schema.get("format") == "money" and isinstance(value, str):
        return money(value)
    if schema.get("type") == "array" and isinstance(value, list):
        return [as_sent(schema.get("items", {}), v) for v in value]
    if schema.get("type") == "object" and isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: as_sent(props.get(k, {}), v) for k, v in value.items()}
    return value


def transfers(office, instance_id: int, kind: TransferKind) -> int:
    office.session.expire_all()
    return office.session.scalar(select(func.count(LedgerTransfer.id)).where(
        LedgerTransfer.instance_id == instance_id, LedgerTransfer.kind == kind))


# -- 资金支付 ---------------------------------------------------------------------------------------------


def test_a_payment_returned_by_the_unit_head_is_resubmitted_and_reserved_again_once(office, funded):
    _, (code, _) = funded
    iid = office.start("nyb_clerk", "payment", payment_data(code, "800.00"))["id"]
    give_back(office, "nyb_head", iid, comment="请补充合同")
    assert books(office, code) == D(20000, 20000, 0, 0, 0)
    resubmit(office, iid, {"amount": money("900.00")})
    assert office.where(iid) == ["unit_head_review"]
    assert books(office, code) == D(20000, 19100, 900, 0, 0)  # the new amount, held once
    assert office.payment(iid).status == PaymentStatus.RESERVED
    for who in ("nyb_head", "cz_reviewer", "deputy", "guoku"):
        office.act(who, iid)
    office.bank_says(office.payment(iid).bank_ref, "paid")
    assert books(office, code) == D(20000, 19100, 0, 0, 900)
    assert transfers(office, iid, TransferKind.RESERVE) == 2  # one per submission
    assert transfers(office, iid, TransferKind.POST) == 1


def test_a_payment_returned_to_the_applicant_from_the_treasury_comes_back_through_every_step(office, funded):
    _, (code, _) = funded
    iid = office.start("nyb_clerk", "payment", payment_data(code, "800.00"))["id"]
    for who in ("nyb_head", "cz_reviewer", "deputy"):
        office.act(who, iid)
    give_back(office, "guoku", iid, comment="收款账号有误")
    assert books(office, code) == D(20000, 20000, 0, 0, 0)
    resubmit(office, iid, {"payee_account": "6222020200087654321"})
    assert books(office, code) == D(20000, 19200, 800, 0, 0)
    for who in ("nyb_head", "cz_reviewer", "deputy", "guoku"):
        office.act(who, iid)
    payment = office.payment(iid)
    assert (payment.status, payment.payee_account) == (PaymentStatus.SUBMITTED, "6222020200087654321")
    office.bank_says(payment.bank_ref, "paid")
    assert books(office, code) == D(20000, 19200, 0, 0, 800)
    assert office.detail("nyb_clerk", iid)["status"] == InstanceStatus.APPROVED


def test_a_payment_returned_twice_is_held_once_at_a_time(office, funded):
    _, (code, _) = funded
    iid = office.start("nyb_clerk", "payment", payment_data(code, "500.00"))["id"]
    for round_ in range(3):
        give_back(office, "nyb_head", iid, comment=f"第{round_ + 1}次退回")
        assert books(office, code) == D(20000, 20000, 0, 0, 0)
        resubmit(office, iid)
        assert books(office, code) == D(20000, 19500, 500, 0, 0)


def test_a_resubmission_over_the_available_amount_is_refused_and_stays_with_the_applicant(office, funded):
    _, (code, _) = funded
    iid = office.start("nyb_clerk", "payment", payment_data(code, "800.00"))["id"]
    give_back(office, "nyb_head", iid)
    task = office.task_for("nyb_clerk", iid)
    resp = office.as_user("nyb_clerk").post(f"/api/v1/tasks/{task['id']}/complete", content_type="application/json",
                                            data=as_json({"data": payment_data(code, "20000.01")}))
    assert resp.status_code == 422, resp.get_json()
    refused = resp.get_json()
    assert "C03" in refused["message"] and "C17" not in refused["message"]
    assert office.where(iid) == ["apply"] and books(office, code) == D(20000, 20000, 0, 0, 0)


# -- 项目入库, 预算申报, 预算调剂, 用款计划, 经费报销 -----------------------------------------------------------------


def test_a_project_returned_to_the_applicant_is_resubmitted_into_the_library_as_one_project(office):
    iid = office.start("nyb_clerk", "project_entry", project_data("农技培训", "12000.00"))["id"]
    office.act("nyb_head", iid)
    give_back(office, "cz_reviewer", iid, comment="绩效目标不明确")
    resubmit(office, iid, {"amount": money("11000.00")})
    office.act("nyb_head", iid)
    office.act("cz_reviewer", iid)
    project = office.project(iid)
    assert (project.status, project.total_amount) == (ProjectStatus.IN_LIBRARY, money("11000.00"))
    assert office.session.scalar(select(func.count(Project.id)).where(Project.instance_id == iid)) == 1


def test_a_declaration_returned_to_the_applicant_is_resubmitted_with_its_new_lines(office):
    project = project_in_library(office, amount="30000.00")
    iid = office.start("nyb_clerk", "budget_declaration", {"title": "2026年度预算申报", "fiscal_year": 2026,
                                                           "lines": [line(project, "20000.00")]})["id"]
    give_back(office, "nyb_head", iid, comment="请按科目拆分")
    resubmit(office, iid, {"lines": [line(project, "12000.00"), line(project, "8000.00", econ="30218")]})
    office.act("nyb_head", iid)
    assert office.where(iid) == ["finance_review"]
    office.session.expire_all()
    amounts = office.session.scalars(select(BudgetLine.amount).where(BudgetLine.instance_id == iid)
                                     .order_by(BudgetLine.id)).all()
    assert amounts == [money(12000), money(8000)]


def test_a_declaration_returned_from_inside_the_review_chain_is_resubmitted_and_reviewed_again(office):
    project = project_in_library(office, amount="30000.00")
    iid = office.start("nyb_clerk", "budget_declaration", {"title": "2026年度预算申报", "fiscal_year": 2026,
                                                           "lines": [line(project, "20000.00")]})["id"]
    office.act("nyb_head", iid)
    office.act("cz_reviewer", iid)
    assert office.where(iid) == ["consolidate"]  # inside the called budget_review
    give_back(office, "cz_head", iid, comment="与项目库不符")
    resubmit(office, iid, {"lines": [line(project, "18000.00")]})
    office.act("nyb_head", iid)
    office.act("cz_reviewer", iid)
    assert office.where(iid) == ["consolidate"]


def test_a_reallocation_returned_to_the_applicant_frees_and_then_freezes_the_amount_once(office, funded):
    _, (source, target) = funded
    iid = office.start("nyb_clerk", "budget_adjustment", {
        "title": "维修费调剂至材料费", "kind": "reallocation", "reason": "材料涨价",
        "lines": [{"from_indicator": source, "to_indicator": target, "amount": money(3000)}]})["id"]
    assert books(office, source) == D(20000, 17000, 0, 3000, 0)
    office.act("nyb_head", iid)
    give_back(office, "cz_reviewer", iid, comment="调剂理由不充分")
    assert books(office, source) == D(20000, 20000, 0, 0, 0)
    resubmit(office, iid, {"lines": [{"from_indicator": source, "to_indicator": target, "amount": money(2000)}]})
    assert books(office, source) == D(20000, 18000, 0, 2000, 0)
    for who in ("nyb_head", "cz_reviewer", "zhenzhang"):
        office.act(who, iid)
    assert books(office, source) == D(18000, 18000, 0, 0, 0)
    assert books(office, target) == D(12000, 12000, 0, 0, 0)


def test_a_fund_plan_returned_to_the_applicant_is_resubmitted_and_granted_once(office, funded):
    _, (_, planned) = funded
    iid = office.start("nyb_clerk", "fund_plan", {"title": "3月用款计划", "month": "2026-03", "lines": [
        {"indicator_code": planned, "amount": money(5000)}]})["id"]
    office.act("nyb_head", iid)
    give_back(office, "cz_reviewer", iid, comment="超出进度")
    resubmit(office, iid, {"lines": [{"indicator_code": planned, "amount": money(3000)}]})
    office.act("nyb_head", iid)
    office.act("cz_reviewer", iid)
    office.session.expire_all()
    assert office.session.scalars(select(FundPlanLine.applied_amount).where(FundPlanLine.instance_id == iid)).all() \
        == [money(3000)]
    assert office.detail("nyb_clerk", iid)["status"] == InstanceStatus.APPROVED
    over = office.start("nyb_clerk", "payment", payment_data(planned, "3000.01", econ_dept_code="30218"), expect=422)
    assert "C04" in over["message"]  # the plan granted 3,000 for March, once
    office.start("nyb_clerk", "payment", payment_data(planned, "3000.00", econ_dept_code="30218"))


def test_an_expense_claim_returned_to_the_applicant_is_resubmitted(office):
    iid = office.start("nyb_clerk", "expense_claim", {"title": "差旅费报销", "amount": money("300.00"),
                                                      "expense_type": "差旅费", "payee": "张三"})["id"]
    give_back(office, "nyb_head", iid)
    resubmit(office, iid, {"amount": money("280.00")})
    assert office.where(iid) == ["unit_head_review"]
