"""What a person with many tasks needs in the inbox: only the overdue ones, by process and amount, sorted by
deadline, amount or arrival; and 我发起的 saying where each request stands now and who holds it."""
from datetime import UTC, datetime

import time_machine

from tests.web.conftest import main_text
from tests.web.helpers import decide, start_claim, task_links, todo_task_of

MONDAY = datetime(2026, 3, 2, 1, tzinfo=UTC)  # 09:00 in Beijing; the unit head has 2 working days
THURSDAY = datetime(2026, 3, 5, 1, tzinfo=UTC)  # the Monday claims are late (due Wednesday 17:30)


def results(html: str) -> str:
    return html[html.index('id="results"'):]


def titles_in_order(html: str, titles) -> list[str]:
    found = results(html)
    return sorted((t for t in titles if t in found), key=found.index)


def test_only_overdue_tasks_by_amount_and_process_in_todo(demo, browser, as_user):
    with time_machine.travel(MONDAY, tick=False) as clock:
        clerk = browser("nyb_clerk")
        start_claim(clerk, title="购买打印纸", amount="300")
        start_claim(clerk, title="农机维修", amount="8000")
        clock.move_to(THURSDAY)
        clerk = browser("nyb_clerk")
        start_claim(clerk, title="购买墨盒", amount="2500")
        head = browser("nyb_head")

        page = head.get("/?view=todo")
        assert 'name="overdue"' in page.text and "只看逾期未办的" in main_text(page.text)
        late = head.get("/?view=todo&overdue=1")
        assert titles_in_order(late.text, ["购买打印纸", "农机维修", "购买墨盒"]) == ["农机维修", "购买打印纸"]
        assert "共 2 条" in main_text(late.text) and 'name="overdue" value="1" checked' in late.text

        late_and_big = main_text(head.get("/?view=todo&overdue=1&amount_min=1000&amount_max=9000").text)
        assert "农机维修" in late_and_big and "购买打印纸" not in late_and_big and "购买墨盒" not in late_and_big
        in_range = main_text(head.get("/?view=todo&amount_min=2000&amount_max=3000").text)
        assert "购买墨盒" in in_range and "农机维修" not in in_range and "购买打印纸" not in in_range

        assert "共 3 条" in main_text(head.get("/?view=todo&process=expense_claim").text)
        assert "没有符合条件的记录" in main_text(head.get("/?view=todo&process=payment").text)

        api = as_user("nyb_head")
        late_api = api.get("/api/v1/tasks?view=todo&overdue=true").json
        assert sorted(i["instance"]["title"] for i in late_api["items"]) == ["农机维修", "购买打印纸"]
        assert late_api["total"] == 2 and api.get("/api/v1/tasks?view=todo").json["total"] == 3
        assert api.get("/api/v1/tasks?view=todo&overdue=maybe").status_code == 400

        # The pages keep the filter when paging.
        first = head.get("/?view=todo&overdue=1&per_page=1")
        assert 'href="/?view=todo&amp;page=2&amp;overdue=1&amp;per_page=1"' in first.text


def test_todo_sorts_by_deadline_amount_and_arrival(demo, browser):
    titles = ["购买打印纸", "农机维修", "购买墨盒"]
    with time_machine.travel(MONDAY, tick=False) as clock:
        start_claim(browser("nyb_clerk"), title="购买打印纸", amount="300")
        clock.move_to(datetime(2026, 3, 3, 1, tzinfo=UTC))
        start_claim(browser("nyb_clerk"), title="农机维修", amount="8000")
        clock.move_to(THURSDAY)
        start_claim(browser("nyb_clerk"), title="购买墨盒", amount="2500")
        head = browser("nyb_head")

        default = head.get("/?view=todo")
        assert "最新到达在前" in main_text(default.text) and "最早到达在前" in main_text(default.text)
        assert titles_in_order(default.text, titles) == ["购买墨盒", "农机维修", "购买打印纸"]
        assert titles_in_order(head.get("/?view=todo&sort=created_at").text, titles) == [
            "购买打印纸", "农机维修", "购买墨盒"]
        assert titles_in_order(head.get("/?view=todo&sort=due_at").text, titles) == [
            "购买打印纸", "农机维修", "购买墨盒"]
        assert titles_in_order(head.get("/?view=todo&sort=-amount").text, titles) == [
            "农机维修", "购买墨盒", "购买打印纸"]


def test_started_says_where_each_request_stands_and_who_holds_it(demo, browser):
    clerk = browser("nyb_clerk")
    waiting = start_claim(clerk, title="购买打印纸")
    moved = start_claim(clerk, title="农机维修")
    refused = start_claim(clerk, title="购买墨盒")
    head = browser("nyb_head")
    decide(head, todo_task_of(head, "农机维修"))
    decide(head, todo_task_of(head, "购买墨盒"), decision="reject", comment="不必要")

    page = clerk.get("/?view=started")
    text = main_text(page.text)
    assert task_links(results(page.text)) == []
    rows = {iid: text_of_row(page.text, iid) for iid in (waiting, moved, refused)}
    assert "审批中" in rows[waiting] and "当前：单位负责人审核（周主任）" in rows[waiting]
    assert "审批中" in rows[moved] and "当前：财政所审核（待认领）" in rows[moved]
    assert "已驳回" in rows[refused] and "当前" not in rows[refused] and "办结于" in rows[refused]
    assert "只看卡在逾期环节的" in text


def text_of_row(html: str, instance_id: int) -> str:
    start = html.index(f'href="/instances/{instance_id}"')
    return main_text("<main>" + html[start:html.index("</li>", start)] + "</main>")
