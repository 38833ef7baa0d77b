"""The approval path in a browser: start a claim, find it in the inbox, approve, reject, claim."""
from datetime import UTC, datetime
from decimal import Decimal

import time_machine
from sqlalchemy import select

from app.models import HumanTask, InstanceEvent, ProcessInstance
from tests.web.conftest import main_text
from tests.web.helpers import decide, start_claim, task_links, todo_task_of


def test_a_clerk_starts_an_expense_claim_and_finds_it_under_started(demo, browser, db_read):
    clerk = browser("nyb_clerk")
    offer = clerk.get("/start")
    assert 'href="/start/expense_claim"' in offer.text and "经费报销审批" in offer.text

    instance_id = start_claim(clerk)
    [instance] = db_read(select(ProcessInstance).where(ProcessInstance.id == instance_id))
    assert (instance.title, instance.amount, instance.status) == (
        "购买办公用品", Decimal("1200.50"), "running")

    page = clerk.get(f"/instances/{instance_id}")
    text = main_text(page.text)
    assert f"申请已提交，业务编号 {instance.business_key}" in text
    assert "1,200.50 元" in text and "农业农村办" in text and "审批中" in text
    assert "单位负责人审核" in text  # where it is now
    assert "发起" in text and "提交" in text and "报销事由 购买办公用品" in text and "发票张数 2" in text

    started = clerk.get("/?view=started")
    assert f'href="/instances/{instance_id}"' in started.text
    assert instance.business_key in started.text and "当前：单位负责人审核" in main_text(started.text)
    assert "暂无待办" in main_text(clerk.get("/?view=todo").text)


def test_the_unit_head_sees_it_in_todo_and_approves_it_through_the_form(demo, browser, db_read):
    instance_id = start_claim(browser("nyb_clerk"))
    head = browser("nyb_head")
    inbox = head.get("/")
    assert '<span class="count" id="nav-todo-count">1</span>' in inbox.text
    [task_id] = task_links(inbox.text[inbox.text.index('id="results"'):])
    assert "购买办公用品" in main_text(inbox.text) and "单位负责人审核" in main_text(inbox.text)

    page = head.get(f"/tasks/{task_id}")
    text = main_text(page.text)
    assert "报销事由 购买办公用品" in text and "报销金额（元） 1,200.50 元" in text
    assert "收款人 镇供销社" in text
    assert 'name="decision" value="approve"' in page.text and 'name="decision" value="reject"' in page.text

    response = decide(head, task_id, comment="情况属实，同意")
    assert response.status_code == 302 and response.headers["Location"] == f"/instances/{instance_id}"
    [task] = db_read(select(HumanTask).where(HumanTask.id == task_id))
    assert (task.state, task.decision, task.comment) == ("completed", "approve", "情况属实，同意")

    history = main_text(head.get(f"/instances/{instance_id}").text)
    assert "已办理“单位负责人审核”：同意" in history
    assert "同意 单位负责人审核 周主任" in history and "情况属实，同意" in history
    assert "财政所审核" in history
    assert "暂无待办" in main_text(head.get("/?view=todo").text)
    done = head.get("/?view=done")
    assert f'href="/tasks/{task_id}"' in done.text and "单位负责人审核：同意" in main_text(done.text)


def test_a_group_task_is_claimed_and_the_other_reviewer_cannot_act_on_it(demo, browser, db_read):
    instance_id = start_claim(browser("nyb_clerk"))
    head = browser("nyb_head")
    decide(head, todo_task_of(head, "购买办公用品"))
    first, second = browser("cz_reviewer"), browser("cz_reviewer2")
    task_id = todo_task_of(first, "购买办公用品")
    assert todo_task_of(second, "购买办公用品") == task_id  # both are candidates

    page = first.get(f"/tasks/{task_id}")
    assert "认领" in page.text and f'action="/tasks/{task_id}/claim"' in page.text
    response = first.submit(f"/tasks/{task_id}", f"/tasks/{task_id}/claim", {})
    assert response.status_code == 302
    assert db_read(select(HumanTask.assignee_id).where(HumanTask.id == task_id))[0] is not None

    other = second.get(f"/tasks/{task_id}")
    assert "该任务已由 蒋审核 认领" in main_text(other.text)
    assert f'action="/tasks/{task_id}/complete"' not in other.text
    refused = decide(second, task_id, documents_complete="on")
    assert refused.status_code == 409 and "已被 蒋审核 认领" in main_text(refused.text)

    assert first.submit(f"/tasks/{task_id}", f"/tasks/{task_id}/unclaim", {}).status_code == 302
    assert db_read(select(HumanTask.assignee_id).where(HumanTask.id == task_id)) == [None]

    response = decide(second, task_id, comment="票据齐全", documents_complete="on")
    assert response.status_code == 302
    [instance] = db_read(select(ProcessInstance).where(ProcessInstance.id == instance_id))
    assert instance.status == "approved"
    history = main_text(second.get(f"/instances/{instance_id}").text)
    assert "票据齐全、合规 是" in history and "通过" in history and "已通过" in history
    assert [e.type for e in db_read(select(InstanceEvent).where(InstanceEvent.instance_id == instance_id)
                                    .order_by(InstanceEvent.seq))] == [
        "instance_started", "task_completed", "task_created", "task_completed", "task_created",
        "task_claimed", "task_unclaimed", "task_completed", "instance_approved"]


def test_a_rejection_through_the_form_ends_the_request(demo, browser, db_read):
    instance_id = start_claim(browser("swb_clerk"))
    head = browser("swb_head")
    response = decide(head, todo_task_of(head, "购买办公用品"), decision="reject", comment="事由不清")
    assert response.status_code == 302
    page = main_text(head.get(f"/instances/{instance_id}").text)
    assert "已驳回" in page and "不同意" in page and "事由不清" in page and "驳回" in page
    assert "流程已结束，没有待办环节" in page
    assert db_read(select(ProcessInstance.status).where(ProcessInstance.id == instance_id)) == ["rejected"]


def test_the_inbox_filters_sorts_and_pages(demo, browser):
    clerk = browser("nyb_clerk")
    small = start_claim(clerk, title="购买打印纸", amount="300")
    big = start_claim(clerk, title="农机维修", amount="8000")
    start_claim(clerk, title="购买墨盒", amount="450")

    only_big = clerk.get("/?view=started&amount_min=1000")
    assert task_links(only_big.text) == [] and f'/instances/{big}"' in only_big.text
    assert f'/instances/{small}"' not in only_big.text
    assert "共 1 条" in main_text(only_big.text)

    searched = main_text(clerk.get("/?view=started&q=购买").text)
    assert "购买打印纸" in searched and "购买墨盒" in searched and "农机维修" not in searched

    by_amount = clerk.get("/?view=started&sort=amount").text
    assert by_amount.index("购买打印纸") < by_amount.index("购买墨盒") < by_amount.index("农机维修")

    first_page = clerk.get("/?view=started&sort=amount&per_page=2")
    assert "第 1 / 2 页" in main_text(first_page.text)
    assert 'href="/?view=started&amp;page=2&amp;sort=amount&amp;per_page=2"' in first_page.text
    second_page = clerk.get("/?view=started&page=2&sort=amount&per_page=2")
    assert "农机维修" in second_page.text and "购买打印纸" not in second_page.text

    bad = clerk.get("/?view=started&date_from=yesterday&amount_max=-5")
    assert bad.status_code == 200
    assert "日期格式应为" in main_text(bad.text) and "金额须为不小于 0 的数" in main_text(bad.text)


@time_machine.travel(datetime(2026, 3, 1, 23, 30, tzinfo=UTC), tick=False)
def test_times_are_shown_in_beijing_time(demo, browser):
    clerk = browser("nyb_clerk")
    instance_id = start_claim(clerk)  # 23:30 UTC is 07:30 the next morning in Beijing
    assert "发起时间 2026-03-02 07:30" in main_text(clerk.get(f"/instances/{instance_id}").text)
    assert "发起于 2026-03-02 07:30" in main_text(clerk.get("/?view=started").text)
    assert "到达 2026-03-02 07:30" in main_text(browser("nyb_head").get("/").text)


def test_a_task_past_its_deadline_in_working_days_is_marked_overdue_in_the_inbox(demo, browser):
    # Wednesday 2026-09-30, 09:00 in Beijing: the unit head has 2 working days, and the National Day
    # holiday (10-01 to 10-07) does not count: due Friday 10-09, 17:30.
    with time_machine.travel(datetime(2026, 9, 30, 1, tzinfo=UTC), tick=False) as clock:
        start_claim(browser("nyb_clerk"))
        head = browser("nyb_head")
        row = main_text(head.get("/?view=todo").text)
        assert "期限 2026-10-09 17:30" in row and "已超时" not in row
        clock.move_to(datetime(2026, 10, 9, 10, tzinfo=UTC))  # 18:00 in Beijing; yesterday's login has expired
        assert "期限 2026-10-09 17:30 已超时" in main_text(browser("nyb_head").get("/?view=todo").text)
