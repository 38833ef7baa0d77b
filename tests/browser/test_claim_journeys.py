"""The 经费报销 journeys on a phone, in chromium: start, approve, return and resubmit, transfer.

Each test does its journey through the pages alone and asserts what the person reads. What only sets the
scene (a claim already at the finance office) goes through the pages too, but with the test client
(tests/web/helpers.py), which is many times faster than a browser and already tested there.
"""
import re

import pytest

from tests.browser.conftest import IN_CI, fits_the_screen
from tests.web.conftest import Browser
from tests.web.helpers import at_unit_head, decide

try:
    from playwright.sync_api import expect
except ImportError:  # the chromium fixture says the same for every test; here the import would fail first
    if IN_CI:
        raise
    pytest.skip("Playwright for Python is not installed (pip install -e '.[test]'): browser tests skipped",
                allow_module_level=True)


def start_claim(page, title="购买办公用品", amount="1200.50", invoices="2"):
    """The clerk fills in 经费报销 from 发起申请 and submits it; the page then shows the new request."""
    page.get_by_role("link", name="发起申请").first.click()
    page.get_by_role("link", name=re.compile("经费报销")).click()
    expect(page.get_by_role("heading", name="经费报销申请")).to_be_visible()
    page.get_by_label("报销事由").fill(title)
    page.get_by_label("报销金额（元）").fill(amount)
    page.get_by_label("费用类型").select_option("办公费")
    page.get_by_label("收款人").fill("镇供销社")
    page.get_by_label("发票张数").fill(invoices)
    page.get_by_label("说明", exact=True).fill("打印纸十箱")
    fits_the_screen(page)
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator(".flashes")).to_contain_text("申请已提交，业务编号")
    expect(page.get_by_role("heading", name=title)).to_be_visible()


def open_todo(page, title: str):
    """From the 待办 tab, open the task of the request called `title`."""
    page.get_by_role("link", name=re.compile("^待办")).first.click()
    page.locator("#results").get_by_role("link", name=re.compile(title)).click()


def main(page):
    return page.locator("main")


def in_pages(live_app) -> callable:
    """open(username) -> a test-client Browser on the live app, logged in through /login."""

    def open_as(username: str) -> Browser:
        person = Browser(live_app.test_client())
        assert person.login(username).status_code == 302
        return person

    return open_as


def at_finance(live_app) -> None:
    """A claim by nyb_clerk that nyb_head approved: waiting for the 财政所审核 group."""
    _, head, task_id = at_unit_head(in_pages(live_app))
    assert decide(head, task_id).status_code == 302


def test_a_clerk_starts_an_expense_claim_and_finds_it_under_started(phone):
    clerk = phone("nyb_clerk")
    start_claim(clerk)
    expect(main(clerk)).to_contain_text("审批中")
    expect(main(clerk)).to_contain_text("1,200.50 元")
    expect(main(clerk)).to_contain_text("单位负责人审核")

    clerk.get_by_role("link", name=re.compile("^待办")).first.click()
    clerk.get_by_role("link", name="我发起的").click()
    row = clerk.locator("#results .row").filter(has_text="购买办公用品")
    expect(row).to_contain_text("当前：单位负责人审核")
    expect(row).to_contain_text("审批中")
    fits_the_screen(clerk)


def test_the_unit_head_opens_the_claim_from_todo_and_approves_it(phone):
    start_claim(phone("nyb_clerk"))
    head = phone("nyb_head")
    expect(head.locator("#nav-todo-count")).to_have_text("1")
    open_todo(head, "购买办公用品")
    expect(main(head)).to_contain_text("购买办公用品")
    expect(main(head)).to_contain_text("镇供销社")
    fits_the_screen(head)
    head.get_by_label("同意", exact=True).check()
    head.get_by_label("意见（选填）").fill("情况属实，同意")
    head.get_by_role("button", name="提交", exact=True).click()

    expect(head.locator(".flashes")).to_contain_text("已办理“单位负责人审核”：同意")
    expect(main(head)).to_contain_text("情况属实，同意")
    expect(main(head)).to_contain_text("财政所审核")  # where it went next
    head.get_by_role("link", name=re.compile("^待办")).first.click()
    expect(main(head)).to_contain_text("暂无待办")


def test_a_reviewer_returns_the_claim_and_the_clerk_resubmits_it(phone, live_app):
    at_finance(live_app)
    reviewer = phone("cz_reviewer")
    open_todo(reviewer, "购买办公用品")
    reviewer.locator("#op-return summary").click()  # opens the 退回 panel
    panel = reviewer.locator("#op-return")
    panel.get_by_label("退回到").select_option(label="填写报销申请（申请人 李经办）")
    panel.get_by_label("退回原因").fill("发票缺一张，请补齐")
    panel.get_by_role("button", name="退回").click()
    expect(reviewer.locator(".flashes")).to_contain_text("已退回到“填写报销申请”")

    clerk = phone("nyb_clerk")
    open_todo(clerk, "购买办公用品")
    expect(main(clerk)).to_contain_text("蒋审核退回：发票缺一张，请补齐")
    clerk.get_by_label("发票张数").fill("3")
    clerk.get_by_role("button", name="提交", exact=True).click()
    expect(clerk.locator(".flashes")).to_contain_text("已办理“填写报销申请”：提交")
    expect(main(clerk)).to_contain_text("审批中")
    expect(main(clerk)).to_contain_text("发票缺一张，请补齐")  # the return stays in the history


def test_a_reviewer_transfers_the_claim_to_the_other_reviewer_picked_by_pinyin_initials(phone, live_app):
    at_finance(live_app)
    reviewer = phone("cz_reviewer")
    open_todo(reviewer, "购买办公用品")
    reviewer.locator("#op-transfer summary").click()
    panel = reviewer.locator("#op-transfer")
    panel.get_by_label("按姓名或拼音首字母查找转办给").fill("ssh")  # 沈审核, by pinyin initials
    panel.locator(".pick-option", has_text="沈审核").click()
    expect(panel.locator("#f-transfer-to")).to_have_value("cz_reviewer2")
    panel.get_by_label("转办说明").fill("我出差")
    # The picker's last search must have answered: once the task is handed on, it is no longer ours to search.
    reviewer.wait_for_load_state("networkidle")
    fits_the_screen(reviewer)
    panel.get_by_role("button", name="转办").click()
    expect(reviewer.locator(".flashes")).to_contain_text("已将“财政所审核”转办给 沈审核")

    other = phone("cz_reviewer2")
    open_todo(other, "购买办公用品")
    expect(main(other)).to_contain_text("蒋审核转办：我出差")
    expect(main(other)).to_contain_text("沈审核")


def test_the_treasury_works_on_a_desktop_and_opens_its_empty_inbox(desktop):
    cashier = desktop("guoku")
    expect(main(cashier)).to_contain_text("暂无待办")
    cashier.get_by_role("link", name="已办").click()
    expect(main(cashier)).to_contain_text("还没有办理过的事项")
    fits_the_screen(cashier)
