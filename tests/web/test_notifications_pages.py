"""Notifications (the count in the nav, the list, opening one, 全部已读), proxies (代理) set and revoked
through the page, the proxy doing the task, and a task nobody holds flagged on its page."""
import re
from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.models import Notification, Proxy
from app.web.filters import LOCAL_TZ
from tests.integration.processes import deploy
from tests.unit.bpmn_builder import Bpmn
from tests.web.conftest import field_block, main_text
from tests.web.helpers import at_unit_head, decide, start_claim, todo_task_of

UNREAD = re.compile(r'<span class="count" id="nav-unread-count">(\d+)</span>')


def unread(person) -> int:
    match = UNREAD.search(person.get("/").text)
    return int(match.group(1)) if match else 0


def urge(clerk, instance_id: int, comment: str = "请尽快"):
    response = clerk.submit(f"/instances/{instance_id}", f"/instances/{instance_id}/urge", {"comment": comment})
    assert response.status_code == 302, main_text(response.text)


def notification_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="notification-(\d+)"', html)]


# -- 通知 -------------------------------------------------------------------------------------------

def test_the_nav_counts_unread_notifications_and_opening_one_marks_it_read(demo, browser, db_read):
    instance_id, head, task_id = at_unit_head(browser)
    assert unread(head) == 1  # the claim arrived: a 新待办
    text = main_text(head.get("/notifications").text)
    assert "共 1 条，未读 1 条" in text and "待办 未读 新待办：购买办公用品 “单位负责人审核”待您办理" in text
    clerk = browser("nyb_clerk")
    urge(clerk, instance_id)
    assert unread(head) == 2

    page = head.get("/notifications").text
    text = main_text(page)
    assert "共 2 条，未读 2 条" in text and "催办 未读 李经办 催办：购买办公用品 请尽快" in text
    [notice, arrived] = notification_ids(page)
    assert f'action="/notifications/{notice}/open"' in page

    opened = head.submit("/notifications", f"/notifications/{notice}/open", {})
    assert opened.status_code == 302 and opened.headers["Location"] == f"/tasks/{task_id}"
    assert unread(head) == 1
    assert "已读" in main_text(head.get("/notifications").text)
    assert db_read(select(Notification.read_at).where(Notification.id == notice))[0] is not None
    # Someone else's notification is not theirs to open.
    assert clerk.submit("/notifications", f"/notifications/{notice}/open", {}).status_code == 404


def test_the_list_is_newest_first_and_read_all_clears_the_count(demo, browser, db_read):
    head = browser("nyb_head")
    first, _, task_id = at_unit_head(browser, title="第一笔")
    second = start_claim(browser("nyb_clerk"), title="第二笔")
    clerk = browser("nyb_clerk")
    urge(clerk, first, "先办第一笔")
    urge(clerk, second, "再办第二笔")
    assert len(db_read(select(Notification.id).where(Notification.kind == "urge"))) == 2
    assert unread(head) == 4  # two 新待办, two 催办

    page = head.get("/notifications").text
    text = main_text(page)
    assert text.index("再办第二笔") < text.index("先办第一笔")
    response = head.submit("/notifications", "/notifications/read-all", {})
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"
    page = head.get("/notifications").text
    assert "已将 4 条通知标为已读" in main_text(page) and "未读 0 条" in main_text(page)
    assert unread(head) == 0 and 'action="/notifications/read-all"' not in page
    assert db_read(select(Notification.read_at).where(Notification.read_at.is_(None))) == []


def test_a_copy_notification_opens_the_request(demo, browser, db_read):
    instance_id, head, task_id = at_unit_head(browser)
    response = head.submit(f"/tasks/{task_id}", f"/tasks/{task_id}/cc", {"to": "cz_head", "comment": "请知悉"})
    assert response.status_code == 302
    recipient = browser("cz_head")
    assert unread(recipient) == 1
    [notice] = notification_ids(recipient.get("/notifications").text)
    opened = recipient.submit("/notifications", f"/notifications/{notice}/open", {})
    assert opened.headers["Location"] == f"/instances/{instance_id}"
    assert recipient.get(opened.headers["Location"]).status_code == 200


# -- 代理 -------------------------------------------------------------------------------------------

def local(moment) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


def set_proxy(person, **fields):
    now = clock.now()
    data = {"proxy": "zfb_head", "starts_at": local(now - timedelta(minutes=5)),
            "ends_at": local(now + timedelta(days=3)), "reason": "外出学习", **fields}
    return person.submit("/proxies", "/proxies", data)


def test_a_proxy_set_on_the_page_does_the_task_and_the_history_names_both(demo, browser, db_read):
    head = browser("nyb_head")
    page = head.get("/proxies").text
    assert "还没有设置过代理" in main_text(page) and 'type="datetime-local"' in field_block(page, "set-starts_at")
    response = set_proxy(head, process_ids="expense_claim")
    assert response.status_code == 302 and response.headers["Location"] == "/proxies"
    mine = main_text(head.get("/proxies").text)
    assert "已设置代理：赵主任" in mine
    assert "代理人：赵主任（zfb_head） 生效中" in mine and "流程：经费报销审批" in mine and "事由：外出学习" in mine
    [proxy] = db_read(select(Proxy))
    assert proxy.process_ids == ["expense_claim"]
    assert abs(proxy.starts_at - (clock.now() - timedelta(minutes=5))) < timedelta(minutes=1)

    stand_in = browser("zfb_head")
    assert "委托人：周主任（nyb_head） 生效中" in main_text(stand_in.get("/proxies").text)
    instance_id = start_claim(browser("nyb_clerk"))
    task_id = todo_task_of(stand_in, "购买办公用品")
    text = main_text(stand_in.get(f"/tasks/{task_id}").text)
    assert "你正在代理 周主任 办理" in text
    assert "你正在代理" not in main_text(head.get(f"/tasks/{task_id}").text)  # the principal may still do it
    assert decide(stand_in, task_id, comment="代为同意").status_code == 302
    assert "同意 单位负责人审核 赵主任（代周主任）" in main_text(stand_in.get(f"/instances/{instance_id}").text)
    assert "赵主任（代周主任）" in main_text(head.get(f"/tasks/{task_id}").text)

    # Only the principal may revoke; then it no longer applies to new tasks.
    assert 'action="/proxies/' not in stand_in.get("/proxies").text
    refused = stand_in.submit("/proxies", f"/proxies/{proxy.id}/revoke", {})
    assert refused.status_code == 403 and "只有委托人可以撤销代理" in main_text(refused.text)
    revoked = head.submit("/proxies", f"/proxies/{proxy.id}/revoke", {})
    assert revoked.status_code == 302
    listed = main_text(head.get("/proxies").text)
    assert "已撤销 赵主任 的代理" in listed and "代理人：赵主任（zfb_head） 已撤销" in listed
    start_claim(browser("nyb_clerk"), title="撤销之后")
    assert "撤销之后" not in main_text(stand_in.get("/").text)
    assert browser("qs_head").submit("/proxies", f"/proxies/{proxy.id}/revoke", {}).status_code == 404


def test_proxy_refusals_come_back_by_their_fields_and_save_nothing(demo, browser, db_read):
    head = browser("nyb_head")
    outside = set_proxy(head, proxy="qs_head", ends_at="", reason="长" * 201)
    assert outside.status_code == 400
    assert "qs_head：用户不存在、已停用，或不在你所在的乡镇" in field_block(outside.text, "set-proxy")
    assert "请选择时间（北京时间）" in field_block(outside.text, "set-ends_at")
    assert "不能超过 200 个字符" in field_block(outside.text, "set-reason")
    assert 'value="qs_head"' in field_block(outside.text, "set-proxy")

    too_long = set_proxy(head, ends_at=local(clock.now() + timedelta(days=200)), process_ids="expense_claim")
    assert too_long.status_code == 400 and "代理期限最长 180 天" in field_block(too_long.text, "set-ends_at")
    assert 'value="expense_claim" checked' in field_block(too_long.text, "set-process_ids")
    assert db_read(select(Proxy)) == []

    assert set_proxy(head).status_code == 302
    clash = set_proxy(head, proxy="swb_head")
    assert clash.status_code == 409 and "时间重叠" in field_block(clash.text, "set-starts_at")
    assert len(db_read(select(Proxy))) == 1


# -- 无人可办 ------------------------------------------------------------------------------------------

def test_a_task_that_went_above_the_township_shows_a_warning_badge(demo, browser, tmp_path):
    doc = (Bpmn("audit_check", "审计复核").lane("l1", "经办人", "start", "apply").lane("l2", "审计", "audit")
           .start().user_task("apply", "申请").user_task("audit", "审计复核").end()
           .chain("start", "apply", "audit", "end"))
    deploy(demo, tmp_path, doc)
    clerk = browser("nyb_clerk")
    response = clerk.submit("/start/audit_check", "/start/audit_check", {"title": "审计抽查", "amount": "100"})
    assert response.status_code == 302, main_text(response.text)
    auditor = browser("shenji")
    task_id = todo_task_of(auditor, "审计抽查")
    page = auditor.get(f"/tasks/{task_id}").text
    assert '<span class="badge badge-warn" id="task-fallback">本级无人，由上级岗位办理</span>' in page
    assert "本级无人，由上级岗位办理" in main_text(auditor.get("/").text)
    history = main_text(clerk.get(response.headers["Location"]).text)
    assert "无人可办" in history and "审计：本级无人，由上级岗位办理" in history


def test_the_new_pages_carry_no_inline_code_and_escape_what_users_typed(demo, browser):
    title = '<script>alert(1)</script>报销'
    instance_id, head, task_id = at_unit_head(browser, title=title)
    clerk = browser("nyb_clerk")
    urge(clerk, instance_id, comment="<b>快</b>")
    head.submit(f"/tasks/{task_id}", f"/tasks/{task_id}/cc", {"to": "cz_head", "comment": "<i>看</i>"})
    pages = [head.get(url) for url in ("/notifications", "/proxies", f"/tasks/{task_id}",
                                       f"/instances/{instance_id}")]
    pages.append(browser("cz_head").get("/?view=cc"))
    for response in pages:
        assert response.status_code == 200
        html = response.text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert not re.search(r"\sstyle=|\son[a-z]+=", html)
        assert "<script>alert" not in html and "<b>快" not in html and "<i>看" not in html
        assert "Content-Security-Policy" in response.headers
