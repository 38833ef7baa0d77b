"""The six budget processes end to end, through the API as the seeded users, checking the books at each step."""
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app import ledger
from app.models import (
    BudgetLine,
    ControlResult,
    HumanTask,
    Indicator,
    InstanceStatus,
    LineStatus,
    PaymentStatus,
    ProjectStatus,
    Voucher,
)
from tests.integration.conftest import project_in_library, released_indicators
from tests.integration.office import line, money, payment_data, project_data

MEETING = {"meeting_date": "2026-03-02", "minutes_no": "党委〔2026〕5号", "resolution": "同意"}


def books(office, code):
    """(额度, 可用, 在途, 冻结, 已支付) of an indicator, for compact assertions."""
    b = office.balances(code)
    return b.allotted, b.available, b.in_flight, b.frozen, b.paid


def D(*values):
    return tuple(money(v) for v in values)


# -- 项目入库 ------------------------------------------------------------------------------------------------


def test_project_entry_takes_a_large_project_through_the_party_committee_into_the_library(office):
    started = office.start("nyb_clerk", "project_entry", project_data(amount="80000.00"))
    project = office.project(started["id"])
    assert project.status == ProjectStatus.REVIEWING and project.code.startswith("SFZ26")
    office.act("nyb_head", started["id"])
    office.act("cz_reviewer", started["id"], data={"standards_ok": True})
    assert office.where(started["id"]) == ["committee_study"]  # 80,000 reaches the 50,000 collective line
    office.act("dangweihui", started["id"], data=MEETING)
    assert office.project(started["id"]).status == ProjectStatus.IN_LIBRARY
    assert office.detail("nyb_clerk", started["id"])["status"] == InstanceStatus.APPROVED


def test_a_small_project_skips_the_committee_and_a_rejected_one_stays_out_of_the_library(office):
    small = office.start("nyb_clerk", "project_entry", project_data("农技培训", "12000.00"))
    office.act("nyb_head", small["id"])
    office.act("cz_reviewer", small["id"])
    assert office.project(small["id"]).status == ProjectStatus.IN_LIBRARY
    refused = office.start("nyb_clerk", "project_entry", project_data("景观亭", "30000.00"))
    office.act("nyb_head", refused["id"], decision="reject", comment="不符合当前重点")
    assert office.project(refused["id"]).status == ProjectStatus.REJECTED


def test_a_project_application_with_a_bad_category_or_term_is_refused_and_nothing_is_saved(office):
    resp = office.start("nyb_clerk", "project_entry", project_data(category="9"), expect=422)
    assert resp["details"]["data.category_code"] == ["项目类别 9 不存在或不是末级类别"]
    resp = office.start("nyb_clerk", "project_entry", project_data(start_year=2026, end_year=2025), expect=422)
    assert "项目期限有误" in resp["details"]["data.end_year"][0]
    office.session.expire_all()
    assert office.session.scalar(select(HumanTask.id).limit(1)) is None


# -- 预算申报 (一上/一下/二上) and 预算审核 ---------------------------------------------------------------------


def test_budget_declaration_with_a_control_figure_goes_through_review_to_released_indicators(office):
    project = project_in_library(office, amount="30000.00")
    started = office.start("nyb_clerk", "budget_declaration", {
        "title": "2026年度预算申报", "fiscal_year": 2026,
        "lines": [line(project, "20000.00"), line(project, "10000.00", econ="30218", plan_controlled=True)]})
    iid = started["id"]
    office.act("nyb_head", iid)
    office.act("cz_reviewer", iid, data={"control_amount": money("25000.00")})  # 一下: 25,000 for this unit
    assert office.where(iid) == ["revise"]  # 二上: back on the applicant's own desk
    revise = office.task_for("nyb_clerk", iid)
    assert revise["assignee"]["username"] == "nyb_clerk"
    office.act("nyb_clerk", iid, decision=None, data={"lines": [line(project, "16000.00"),
                                                                line(project, "9000.00", econ="30218",
                                                                     plan_controlled=True)]})
    office.act("nyb_head", iid)
    office.act("cz_reviewer", iid, data={"control_amount": money("25000.00")})
    # The review chain is its own BPMN (budget_review), called here.
    office.session.expire_all()
    step = office.session.scalar(select(HumanTask).where(HumanTask.instance_id == iid, HumanTask.state == "ready"))
    assert (step.bpmn_process_id, step.bpmn_id) == ("budget_review", "consolidate")
    for who, data in [("cz_head", {}), ("zhenzhang", {"meeting_date": "2026-03-03", "minutes_no": "镇长办公会2号"}),
                      ("dangweihui", {"meeting_date": "2026-03-04", "minutes_no": "党委6号"}),
                      ("renda", {"session_name": "镇人大五次会议", "resolution_no": "镇人大〔2026〕1号"})]:
        assert not office.session.scalar(select(BudgetLine.indicator_id).where(BudgetLine.instance_id == iid,
                                                                                 BudgetLine.indicator_id.is_not(None)))
        office.act(who, iid, data=data)
    office.act("cz_reviewer2", iid, data={"doc_no": "示财预〔2026〕8号"})
    office.session.expire_all()
    lines = office.session.scalars(select(BudgetLine).where(BudgetLine.instance_id == iid)
                                   .order_by(BudgetLine.id)).all()
    assert [(ln.status, ln.amount) for ln in lines] == [(LineStatus.APPROVED, money(16000)),
                                                      (LineStatus.APPROVED, money(9000))]
    first, second = (office.session.get(Indicator, ln.indicator_id) for ln in lines)
    assert books(office, first.code) == D(16000, 16000, 0, 0, 0)
    assert books(office, second.code) == D(9000, 9000, 0, 0, 0)
    assert (second.plan_controlled, first.econ_gov_code, first.doc_no) == (True, "50209", "示财预〔2026〕8号")
    assert office.detail("nyb_clerk", iid)["status"] == InstanceStatus.APPROVED


def test_a_declaration_without_a_project_in_the_library_or_with_wrong_codes_is_refused(office):
    def declare(lines):
        return office.start("nyb_clerk", "budget_declaration", {"title": "申报", "fiscal_year": 2026, "lines": lines},
                            expect=422)

    assert "不在项目库中" in declare([line("SFZ26NYB3000000999", "100.00")])["details"]["data.lines.0.project_code"][0]
    reviewing = office.start("nyb_clerk", "project_entry", project_data("未审项目", "5000.00"))
    code = office.project(reviewing["id"]).code
    assert "尚未入库" in declare([line(code, "100.00")])["message"]
    project = project_in_library(office, "路灯维修", "5000.00")
    resp = declare([line(project, "100.00", econ="302")])
    assert "须选到款级" in resp["details"]["data.lines.0.econ_dept_code"][0]
    assert "超过项目总金额" in declare([line(project, "5000.01")])["message"]


# -- 用款计划 -----------------------------------------------------------------------------------------------


def test_fund_plan_grants_the_approved_quota_and_payments_stay_within_it(office, funded):
    _, (plain, planned) = funded
    started = office.start("nyb_clerk", "fund_plan", {"title": "3月用款计划", "month": "2026-03", "lines": [
        {"indicator_code": plain, "amount": money(6000)}, {"indicator_code": planned, "amount": money(5000)}]})
    office.act("nyb_head", started["id"])
    office.act("cz_reviewer", started["id"], data={"approved_amounts": {planned: money(4000)}})  # 核减
    office.session.expire_all()
    march = ledger.balances(office.session, office.indicator(planned).id, month=date(2026, 3, 1))
    assert march.plan_available == money(4000)
    over = office.start("nyb_clerk", "payment", payment_data(planned, "4500.00", econ_dept_code="30218"), expect=422)
    assert "C04" in over["message"]
    assert books(office, planned) == D(10000, 10000, 0, 0, 0)  # nothing reserved by the refused request
    office.start("nyb_clerk", "payment", payment_data(planned, "3000.00", econ_dept_code="30218"))
    assert books(office, planned) == D(10000, 7000, 3000, 0, 0)


# -- 资金支付 -----------------------------------------------------------------------------------------------


def test_a_small_payment_goes_to_the_deputy_then_the_bank_and_posts_with_vouchers(office, funded):
    _, (code, _) = funded
    started = office.start("nyb_clerk", "payment", payment_data(code, "800.00"))
    iid = started["id"]
    assert books(office, code) == D(20000, 19200, 800, 0, 0)  # reserved on submission
    office.act("nyb_head", iid)
    review = office.task_for("cz_reviewer", iid)
    detail = office.as_user("cz_reviewer").get(f"/api/v1/tasks/{review['id']}").get_json()
    rules = {c["rule"]: c["outcome"] for c in detail["controls"]}
    assert rules["C03"] == "pass" and rules["C17"] == "pass"  # the compliance review shows the control results
    office.act("cz_reviewer", iid, data={"documents_complete": True})
    assert office.where(iid) == ["deputy_approve"]
    office.act("deputy", iid)
    assert office.where(iid) == ["treasury_submit"]  # T0: the deputy alone
    office.act("guoku", iid)
    payment = office.payment(iid)
    assert payment.status == PaymentStatus.SUBMITTED and payment.tier == "T0"
    assert books(office, code) == D(20000, 19200, 800, 0, 0)
    office.bank_says(payment.bank_ref, "paid")
    assert books(office, code) == D(20000, 19200, 0, 0, 800)
    assert office.payment(iid).status == PaymentStatus.PAID
    [voucher] = office.session.scalars(select(Voucher).where(Voucher.payment_id == payment.id)).all()
    legs = sorted((ln.side, ln.account_code, ln.debit, ln.credit) for ln in voucher.lines)  # 平行记账
    assert legs == [("budget", "6001", money(0), money(800)), ("budget", "7101", money(800), money(0)),
                    ("financial", "4001", money(0), money(800)), ("financial", "5001", money(800), money(0))]
    assert office.detail("nyb_clerk", iid)["status"] == InstanceStatus.APPROVED
    office.bank_says(payment.bank_ref, "paid", expect=409)  # a replayed callback changes nothing
    assert books(office, code) == D(20000, 19200, 0, 0, 800)


def test_a_large_payment_climbs_every_tier_to_the_collective_decision_and_a_bank_return_releases_it(office):
    project = project_in_library(office, "村道硬化", "120000.00")
    [code] = released_indicators(office, [line(project, "100000.00", econ="31005")])
    started = office.start("nyb_clerk", "payment", payment_data(code, "60000.00", econ_dept_code="31005",
                                                                  contract_no="HT-2026-007",
                                                                  contract_amount=money(90000)))
    iid = started["id"]
    chain = []
    for who in ("nyb_head", "cz_reviewer", "deputy", "finance_deputy", "zhenzhang", "shuji"):
        chain.append(office.where(iid)[0])
        office.act(who, iid)
    assert chain == ["unit_head_review", "finance_review", "deputy_approve", "finance_deputy_approve",
                     "township_head_approve", "party_secretary_approve"]
    assert office.where(iid) == ["collective_decision"]
    office.act("dangweihui", iid, data=MEETING)
    office.act("guoku", iid)
    assert office.payment(iid).tier == "T3"
    assert books(office, code) == D(100000, 40000, 60000, 0, 0)
    office.bank_says(office.payment(iid).bank_ref, "returned", "收款账户已销户")
    assert books(office, code) == D(100000, 100000, 0, 0, 0)
    payment = office.payment(iid)
    assert (payment.status, payment.return_reason) == (PaymentStatus.RETURNED, "收款账户已销户")
    assert office.detail("nyb_clerk", iid)["status"] == InstanceStatus.REJECTED


def test_a_rejection_releases_the_reservation(office, funded):
    _, (code, _) = funded
    started = office.start("nyb_clerk", "payment", payment_data(code, "1500.00"))
    office.act("nyb_head", started["id"])
    assert books(office, code) == D(20000, 18500, 1500, 0, 0)
    office.act("cz_reviewer", started["id"], decision="reject", comment="发票抬头不符")
    assert books(office, code) == D(20000, 20000, 0, 0, 0)
    assert office.payment(started["id"]).status == PaymentStatus.VOID


def test_returned_to_the_applicant_and_abandoned_releases_the_reservation(office, funded):
    _, (code, _) = funded
    started = office.start("nyb_clerk", "payment", payment_data(code, "1500.00"))
    iid = started["id"]
    task = office.task_for("nyb_head", iid)
    resp = office.as_user("nyb_head").post(f"/api/v1/tasks/{task['id']}/return",
                                           json={"target": "apply", "comment": "请补充合同"})
    assert resp.status_code == 200, resp.get_json()
    assert books(office, code) == D(20000, 20000, 0, 0, 0)  # released while it is back with the applicant
    resp = office.as_user("nyb_clerk").post(f"/api/v1/instances/{iid}/withdraw", json={"comment": "不再支付"})
    assert resp.status_code == 200, resp.get_json()
    assert office.detail("nyb_clerk", iid)["status"] == InstanceStatus.WITHDRAWN
    assert books(office, code) == D(20000, 20000, 0, 0, 0)


def test_a_payment_sent_back_to_a_later_step_keeps_its_reservation(office, funded):
    _, (code, _) = funded
    started = office.start("nyb_clerk", "payment", payment_data(code, "800.00"))
    iid = started["id"]
    office.act("nyb_head", iid)
    office.act("cz_reviewer", iid)
    task = office.task_for("deputy", iid)
    resp = office.as_user("deputy").post(f"/api/v1/tasks/{task['id']}/return",
                                         json={"target": "finance_review", "comment": "请核对经济分类"})
    assert resp.status_code == 200, resp.get_json()
    assert books(office, code) == D(20000, 19200, 800, 0, 0)
    office.act("cz_reviewer", iid)
    office.act("deputy", iid)
    office.act("guoku", iid)
    office.bank_says(office.payment(iid).bank_ref, "paid")
    assert books(office, code) == D(20000, 19200, 0, 0, 800)


def test_a_refund_after_payment_reverses_the_vouchers_in_red_and_gives_the_money_back(office, funded):
    _, (code, _) = funded
    started = office.start("nyb_clerk", "payment", payment_data(code, "900.00"))
    for who in ("nyb_head", "cz_reviewer", "deputy", "guoku"):
        office.act(who, started["id"])
    ref = office.payment(started["id"]).bank_ref
    office.bank_says(ref, "paid")
    office.bank_says(ref, "returned", "收款人户名与账号不符")  # 退票 after it was paid
    assert books(office, code) == D(20000, 20000, 0, 0, 0)
    vouchers = office.session.scalars(select(Voucher).where(Voucher.payment_id == office.payment(started["id"]).id)
                                      .order_by(Voucher.id)).all()
    assert [sum(ln.debit for ln in v.lines) for v in vouchers] == [money(1800), money(-1800)]  # 红字冲销
    assert vouchers[1].reverses_id == vouchers[0].id
    office.bank_says(ref, "returned", "重复", expect=409)
    assert books(office, code) == D(20000, 20000, 0, 0, 0)


def test_a_payment_over_the_available_amount_or_on_another_units_indicator_is_refused(office, funded):
    _, (code, _) = funded
    over = office.start("nyb_clerk", "payment", payment_data(code, "20000.01"), expect=422)
    assert "C03" in over["message"]
    other = office.start("swb_clerk", "payment", payment_data(code, "10.00"), expect=422)
    assert "不属于本单位" in other["details"]["data.indicator_code"][0]
    for bad in ("0", "-5", "1.005"):
        resp = office.start("nyb_clerk", "payment", {**payment_data(code, "1"), "amount": Decimal(bad)}, expect=400)
        assert "data.amount" in resp["details"]
    assert books(office, code) == D(20000, 20000, 0, 0, 0)


def test_splitting_a_purchase_does_not_dodge_the_tier(office, funded):
    _, (code, _) = funded
    first = office.start("nyb_clerk", "payment", payment_data(code, "600.00"))
    second = office.start("nyb_clerk", "payment", payment_data(code, "600.00"))
    for iid in (first["id"], second["id"]):
        office.act("nyb_head", iid)
        office.act("cz_reviewer", iid)
        office.act("deputy", iid)
    assert office.where(first["id"]) == ["treasury_submit"]  # 600: T0
    assert office.where(second["id"]) == ["township_head_approve"]  # 600 + 600 for the same purpose: T1
    assert office.payment(second["id"]).tier == "T1"


def test_a_client_sends_money_back_as_the_api_shows_it(office, funded):
    _, (code, _) = funded
    shown = office.start("nyb_clerk", "payment", {**payment_data(code, "1"), "amount": "800.00"})
    assert shown["amount"] == "800.00" and office.payment(shown["id"]).amount == Decimal("800.00")
    project = project_in_library(office, "村道硬化", "5000.00")
    declared = office.start("nyb_clerk", "budget_declaration", {
        "title": "2026年度追加申报", "fiscal_year": 2026, "lines": [{**line(project, "1"), "amount": "1500.00"}]})
    office.session.expire_all()
    assert office.session.scalars(select(BudgetLine.amount).where(BudgetLine.instance_id == declared["id"])).all() \
        == [Decimal("1500.00")]


def test_another_units_contract_of_the_same_number_neither_raises_the_tier_nor_shows_it_exists(office, funded):
    _, (nyb_code, _) = funded
    swb_project = project_in_library(office, "敬老院屋面维修", "30000.00", clerk="swb_clerk", head="swb_head")
    [swb_code] = released_indicators(office, [line(swb_project, "20000.00")], clerk="swb_clerk", head="swb_head")
    ours = office.start("nyb_clerk", "payment", payment_data(nyb_code, "600.00", contract_no="HT-2026-001"))["id"]
    theirs = office.start("swb_clerk", "payment", payment_data(swb_code, "600.00", contract_no="HT-2026-001"))["id"]
    for iid, head in ((ours, "nyb_head"), (theirs, "swb_head")):
        office.act(head, iid)
        office.act("cz_reviewer", iid)
        office.act("deputy", iid)
    assert office.payment(theirs).tier == "T0"  # 600 on its own contract, not 1,200 on 农业农村办's
    assert office.where(theirs) == ["treasury_submit"]


# -- 预算调剂 and 预算调整 ------------------------------------------------------------------------------------


def test_a_reallocation_holds_the_amount_while_reviewed_and_moves_it_when_approved(office, funded):
    _, (source, target) = funded
    started = office.start("nyb_clerk", "budget_adjustment", {
        "title": "维修费调剂至材料费", "kind": "reallocation", "reason": "材料涨价",
        "lines": [{"from_indicator": source, "to_indicator": target, "amount": money(3000)}]})
    iid = started["id"]
    assert books(office, source) == D(20000, 17000, 0, 3000, 0)
    for who in ("nyb_head", "cz_reviewer", "zhenzhang"):
        office.act(who, iid)
    assert books(office, source) == D(17000, 17000, 0, 0, 0)
    assert books(office, target) == D(13000, 13000, 0, 0, 0)
    assert office.detail("nyb_clerk", iid)["status"] == InstanceStatus.APPROVED


def test_a_rejected_reallocation_gives_the_held_amount_back(office, funded):
    _, (source, target) = funded
    started = office.start("nyb_clerk", "budget_adjustment", {
        "title": "调剂", "kind": "reallocation", "reason": "调剂",
        "lines": [{"from_indicator": source, "to_indicator": target, "amount": money(3000)}]})
    office.act("nyb_head", started["id"], decision="reject")
    assert books(office, source) == D(20000, 20000, 0, 0, 0)


def test_an_adjustment_goes_to_the_congress_and_changes_the_total(office, funded):
    project, (code, _) = funded
    started = office.start("nyb_clerk", "budget_adjustment", {
        "title": "追加农田维修", "kind": "adjustment", "reason": "汛后加固",
        "lines": [{"to_indicator": code, "direction": "increase", "amount": money(5000)}]})
    iid = started["id"]
    for who in ("nyb_head", "cz_reviewer"):
        office.act(who, iid)
    assert office.where(iid) == ["consolidate"]  # through budget_review, up to 镇人大 (C08)
    for who, data in [("cz_head", {}), ("zhenzhang", {"meeting_date": "2026-03-05", "minutes_no": "3号"}),
                      ("dangweihui", {"meeting_date": "2026-03-05", "minutes_no": "7号"})]:
        office.act(who, iid, data=data)
        assert books(office, code) == D(20000, 20000, 0, 0, 0)
    office.act("renda", iid, data={"session_name": "镇人大六次会议", "resolution_no": "镇人大〔2026〕2号"})
    assert books(office, code) == D(25000, 25000, 0, 0, 0)


def test_earmarked_money_cannot_be_reallocated_to_another_project(office):
    project = project_in_library(office, "乡村振兴衔接", "40000.00")
    other = project_in_library(office, "办公楼维修", "40000.00")
    [earmarked, elsewhere] = released_indicators(office, [line(project, "30000.00", earmarked=True),
                                                          line(other, "10000.00")])
    resp = office.start("nyb_clerk", "budget_adjustment", {
        "title": "调剂", "kind": "reallocation", "reason": "调剂",
        "lines": [{"from_indicator": earmarked, "to_indicator": elsewhere, "amount": money(1000)}]}, expect=422)
    assert "C09" in resp["message"]
    assert books(office, earmarked) == D(30000, 30000, 0, 0, 0)


def test_control_results_are_stored_with_the_request_and_shown_on_later_tasks(office, funded):
    _, (code, _) = funded
    started = office.start("nyb_clerk", "payment", payment_data(code, "500.00", invoice_count=0))
    office.session.expire_all()
    stored = office.session.scalars(select(ControlResult).where(ControlResult.instance_id == started["id"])).all()
    assert {r.rule for r in stored} >= {"C01", "C03", "C07", "C17", "C19"}
    task = office.task_for("nyb_head", started["id"])
    shown = office.as_user("nyb_head").get(f"/api/v1/tasks/{task['id']}").get_json()["controls"]
    c19 = next(c for c in shown if c["rule"] == "C19")
    assert c19["outcome"] == "warn" and "白条" in c19["message"] and c19["source"]


def test_the_collective_line_counts_the_purpose_across_contracts(office):
    project = project_in_library(office, "村道硬化", "120000.00")
    [code] = released_indicators(office, [line(project, "100000.00", econ="31005")])
    first = office.start("nyb_clerk", "payment", payment_data(code, "30000.00", econ_dept_code="31005",
                                                               contract_no="HT-A"))["id"]
    second = office.start("nyb_clerk", "payment", payment_data(code, "30000.00", econ_dept_code="31005",
                                                                contract_no="HT-B"))["id"]
    for iid in (first, second):
        for who in ("nyb_head", "cz_reviewer"):
            office.act(who, iid)
    assert office.payment(first).tier == "T2"
    assert office.payment(second).tier == "T3"  # 60,000 for one purpose: C18's large sum, whatever the contract
