"""The form widgets a schema picks: indicator/project/code pickers, the line-item editor, defaults,
bank accounts typed with spaces, expectations in format errors, and a box a step must tick."""
import re
from decimal import Decimal

from sqlalchemy import select

from app.models import BudgetLine, HumanTask, Payment, ProcessInstance
from tests.integration import conftest as budget
from tests.web.conftest import field_block, main_text
from tests.web.helpers import at_unit_head, decide, start_claim, todo_task_of

# The budget fixtures (示范镇 with code tables, a project in the library, two released indicators).
march, office, funded, project_in_library = budget.march, budget.office, budget.funded, budget.project_in_library
PAYEE = {"title": "灌溉渠道维修材料款", "amount": "1500.00", "payee_name": "示范镇建材商行",
         "payee_bank": "农行示范镇支行", "invoice_count": "2", "settle_mode": "transfer"}


def choice_values(html: str) -> list[str]:
    return re.findall(r'class="pick-option" data-value="([^"]+)"', html)


def test_the_payment_form_offers_the_indicator_picker_and_preselects_its_default(demo, browser):
    html = browser("nyb_clerk").get("/start/payment").text
    indicator = field_block(html, "indicator_code")
    assert 'hx-get="/pick/indicators"' in indicator and 'data-amount-field="amount"' in indicator
    assert 'hx-get="/pick/projects"' in field_block(html, "project_code")
    assert 'hx-get="/pick/codes/econ_dept"' in field_block(html, "econ_dept_code")
    assert '<option value="transfer" selected>' in field_block(html, "settle_mode")
    assert "须为 8–32 位数字（可带空格）" in field_block(html, "payee_account")
    assert "{&#34;" not in html and '{"' not in main_text(html)


def test_the_indicator_picker_lists_the_units_indicators_with_balances_and_searches(funded, browser):
    _project, (repairs, materials) = funded
    clerk = browser("nyb_clerk")
    everything = clerk.get("/pick/indicators")
    assert everything.status_code == 200
    assert set(choice_values(everything.text)) == {repairs, materials}
    assert "可用 20,000.00 元" in everything.text and "可用 10,000.00 元" in everything.text
    assert 'data-available="20000.00"' in everything.text
    assert "高标准农田灌溉配套" in everything.text

    assert choice_values(clerk.get("/pick/indicators?q=30218").text) == [materials]
    assert set(choice_values(clerk.get("/pick/indicators?q=灌溉").text)) == {repairs, materials}
    nothing = clerk.get("/pick/indicators?q=没有这种").text
    assert choice_values(nothing) == [] and "没有找到与“没有这种”相符的指标" in nothing

    assert choice_values(browser("swb_clerk").get("/pick/indicators").text) == []  # another unit's clerk
    assert choice_values(browser("qs_clerk").get("/pick/indicators?q=灌溉").text) == []  # another township


def test_the_project_and_code_pickers_search_by_code_or_name(funded, browser):
    project, _codes = funded
    clerk = browser("nyb_clerk")
    assert choice_values(clerk.get("/pick/projects?q=灌溉").text) == [project]
    assert choice_values(browser("swb_clerk").get("/pick/projects").text) == []

    econ = clerk.get("/pick/codes/econ_dept?q=30213").text
    assert choice_values(econ) == ["30213"] and "对应政府预算经济分类 502" in econ  # the C15 mapping
    by_name = choice_values(clerk.get("/pick/codes/function?q=农业").text)
    assert by_name and all(len(code) == 7 for code in by_name)  # only the 项 a line is coded at
    assert clerk.get("/pick/codes/nonsense").status_code == 404


def declaration_rows(project: str, amounts: list[str]) -> dict:
    fields = {"title": "2026年度预算申报", "fiscal_year": "2026"}
    for i, amount in enumerate(amounts):
        fields |= {f"lines-{i}-project_code": project, f"lines-{i}-func_code": "2130199",
                   f"lines-{i}-econ_dept_code": "30213", f"lines-{i}-fund_nature_code": "111",
                   f"lines-{i}-amount": amount}
    return fields


def started_id(response) -> int:
    assert response.status_code == 302, main_text(response.text)
    return int(re.fullmatch(r"/instances/(\d+)", response.headers["Location"]).group(1))


def test_a_declaration_posted_as_line_fields_starts_with_its_lines(office, browser, db_read):
    project = project_in_library(office)
    clerk = browser("nyb_clerk")
    form = clerk.get("/start/budget_declaration").text
    assert 'id="field-lines-0-amount"' in form and "添加一行" in form and "合计" in form
    assert 'hx-get="/pick/projects"' in field_block(form, "lines-0-project_code")

    rows = declaration_rows(project, ["1000.00", "2000", "3000.50"])
    rows |= {"lines-1-earmarked": "on", "lines-7-amount": ""}  # a blank row the browser left is dropped
    instance_id = started_id(clerk.submit("/start/budget_declaration", "/start/budget_declaration", rows))
    lines = db_read(select(BudgetLine).where(BudgetLine.instance_id == instance_id).order_by(BudgetLine.id))
    assert [line.amount for line in lines] == [Decimal("1000.00"), Decimal("2000.00"), Decimal("3000.50")]
    assert [line.earmarked for line in lines] == [False, True, False]


def test_a_lines_error_shows_on_its_row_and_keeps_the_rows(office, browser, db_read):
    project = project_in_library(office)
    clerk = browser("nyb_clerk")
    rows = declaration_rows(project, ["1000.00", "abc", "300.00"]) | {"lines-2-econ_dept_code": "30"}
    response = clerk.submit("/start/budget_declaration", "/start/budget_declaration", rows)
    assert response.status_code == 400
    html = response.text
    assert "field-error" in field_block(html, "lines-1-amount") and 'value="abc"' in field_block(html, "lines-1-amount")
    assert "格式不正确，须为 3–5 位数字" in field_block(html, "lines-2-econ_dept_code")
    assert "field-error" not in field_block(html, "lines-0-amount")
    assert "lines.1" not in main_text(html)
    assert db_read(select(ProcessInstance).where(ProcessInstance.process_id == "budget_declaration")) == []


def test_without_script_add_and_remove_a_row_show_the_form_again(demo, browser, db_read):
    clerk = browser("nyb_clerk")
    added = clerk.submit("/start/budget_declaration", "/start/budget_declaration",
                         {"title": "申报", "lines-0-amount": "100", "_add_row": "lines"})
    assert added.status_code == 200 and 'id="field-lines-1-amount"' in added.text
    assert 'value="100"' in field_block(added.text, "lines-0-amount")
    removed = clerk.submit("/start/budget_declaration", "/start/budget_declaration",
                           {"title": "申报", "lines-0-amount": "100", "lines-1-amount": "200",
                            "_remove_row": "lines-0"})
    assert removed.status_code == 200 and 'value="200"' in field_block(removed.text, "lines-0-amount")
    assert 'id="field-lines-1-amount"' not in removed.text
    assert db_read(select(ProcessInstance)) == []


def test_a_bank_account_typed_with_spaces_is_accepted(funded, browser, db_read):
    _project, (repairs, _materials) = funded
    clerk = browser("nyb_clerk")
    spaced = {**PAYEE, "indicator_code": repairs, "payee_account": "6222 0202 0001 2345 678"}
    instance_id = started_id(clerk.submit("/start/payment", "/start/payment", spaced))
    [payment] = db_read(select(Payment).where(Payment.instance_id == instance_id))
    assert payment.payee_account == "6222020200012345678"

    bad = clerk.submit("/start/payment", "/start/payment",
                       {**PAYEE, "indicator_code": repairs, "payee_account": "6222-abc"})
    assert bad.status_code == 400
    assert "须为 8–32 位数字（可带空格）" in field_block(bad.text, "payee_account")


def test_an_unticked_confirmation_is_refused_and_the_task_stays(demo, browser, db_read):
    start_claim(browser("nyb_clerk"))
    head = browser("nyb_head")
    decide(head, todo_task_of(head, "购买办公用品"))
    reviewer = browser("cz_reviewer")
    task_id = todo_task_of(reviewer, "购买办公用品")

    refused = decide(reviewer, task_id, budget_subject="30201")
    assert refused.status_code == 400
    assert "须确认“票据齐全、合规”后才能提交" in field_block(refused.text, "documents_complete")
    assert db_read(select(HumanTask.state).where(HumanTask.id == task_id)) == ["ready"]

    rejected = decide(reviewer, task_id, decision="reject", comment="缺发票", budget_subject="30201")
    assert rejected.status_code == 302  # a rejection is not asked to confirm what it rejects


def people_offered(html: str) -> list[str]:
    return re.findall(r'class="pick-option" data-value="([^"]+)"', html)


def test_the_person_picker_offers_only_whom_the_operation_allows_and_says_why_not(demo, browser):
    _instance_id, head, task_id = at_unit_head(browser)
    page = head.get(f"/tasks/{task_id}").text
    assert f'hx-get="/pick/people?task={task_id}&amp;op=transfer"' in field_block(page, "transfer-to")
    assert 'data-multi="1"' in field_block(page, "signers-signers")
    first = head.get(f"/pick/people?task={task_id}&op=transfer").text
    assert len(people_offered(first)) > 10 and "qs_clerk" not in first  # not another township's people
    heads = head.get(f"/pick/people?task={task_id}&op=transfer&q=主任").text
    assert "zfb_head" in people_offered(heads) and "nyb_head" not in people_offered(heads)
    assert "不可选：不能指定自己" in heads and "政府办" in heads
    applicant = head.get(f"/pick/people?task={task_id}&op=delegate&q=李经办").text
    assert people_offered(applicant) == [] and "不可选：是申请人，不能参与审批（不相容岗位分离）" in applicant
    assert people_offered(head.get(f"/pick/people?task={task_id}&op=transfer&q=qs").text) == []

    by_initials = head.get(f"/pick/people?task={task_id}&op=transfer&q=zzr").text
    # 赵主任 and 郑主任 offered; 周主任 is the head themselves
    assert set(people_offered(by_initials)) == {"zfb_head", "swb_head"} and "周主任" in by_initials
    assert people_offered(head.get(f"/pick/people?task={task_id}&op=signers&q=zhaozhu").text) == ["zfb_head"]
    assert people_offered(head.get(f"/pick/people?task={task_id}&op=cc&q=李经").text) == ["nyb_clerk"]

    assert head.get(f"/pick/people?task={task_id}&op=nonsense").status_code == 404
    assert browser("swb_clerk").get(f"/pick/people?task={task_id}&op=transfer").status_code == 404


def test_the_revision_step_shows_its_lines_as_rows_and_takes_them_back_edited(office, browser, db_read):
    project = project_in_library(office)
    clerk = browser("nyb_clerk")
    iid = started_id(clerk.submit("/start/budget_declaration", "/start/budget_declaration",
                                  declaration_rows(project, ["20000.00", "10000.00"])))
    office.act("nyb_head", iid)
    office.act("cz_reviewer", iid, data={"control_amount": Decimal("25000.00")})  # 一下: over the figure
    task_id = office.task_for("nyb_clerk", iid)["id"]
    page = clerk.get(f"/tasks/{task_id}").text
    assert 'value="20000.00"' in field_block(page, "lines-0-amount")
    assert 'value="10000.00"' in field_block(page, "lines-1-amount") and "合计" in page
    assert '{"' not in main_text(page)

    added = clerk.submit(f"/tasks/{task_id}", f"/tasks/{task_id}/complete",
                         {**declaration_rows(project, ["15000.00", "10000.00"]), "_add_row": "lines"})
    assert added.status_code == 200 and 'id="field-lines-2-amount"' in added.text
    done = clerk.submit(f"/tasks/{task_id}", f"/tasks/{task_id}/complete",
                        {**declaration_rows(project, ["15000.00", "10000.00"]), "fiscal_year": "2026"})
    assert done.status_code == 302, main_text(done.text)
    lines = db_read(select(BudgetLine).where(BudgetLine.instance_id == iid).order_by(BudgetLine.id))
    assert [line.amount for line in lines] == [Decimal("15000.00"), Decimal("10000.00")]
