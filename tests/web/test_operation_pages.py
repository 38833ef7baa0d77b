"""The approval operations through the task and request pages, as the demo users would use them on a phone:
退回, 转办, 委派, 加签/减签, 撤回, 催办, 抄送, 意见 and 附件. Refusals come back as readable messages
and change nothing."""
import re
import threading

import pytest
from sqlalchemy import select, text

from app import clock
from app.admin.people import GrantSpec, add_user
from app.admin.seed import DEMO_PASSWORD
from app.models import CarbonCopy, HumanTask, InstanceEvent, ProcessInstance, User
from tests.integration.test_returns import statements_of
from tests.web.conftest import field_block, main_text
from tests.web.helpers import at_unit_head, decide, operate, start_claim, task_links, todo_task_of


def events(db_read, instance_id: int) -> list[str]:
    return db_read(select(InstanceEvent.type).where(InstanceEvent.instance_id == instance_id)
                   .order_by(InstanceEvent.seq))


def task_row(db_read, task_id: int) -> HumanTask:
    return db_read(select(HumanTask).where(HumanTask.id == task_id))[0]


def at_finance(browser, clerk="nyb_clerk", head="nyb_head"):
    """A claim the unit head approved: (instance id, the 财政所审核 group task id)."""
    instance_id, person, task_id = at_unit_head(browser, clerk, head)
    assert decide(person, task_id).status_code == 302
    return instance_id, todo_task_of(browser("cz_reviewer"), "购买办公用品")


def section_text(html: str, element_id: str) -> str:
    """The readable text of the <section id=…> of the page."""
    match = re.search(rf'<section[^>]*\bid="{element_id}"[^>]*>(.*?)</section>', html, re.S)
    assert match, f"no section {element_id!r} on the page"
    return main_text(f"<main>{match.group(1)}</main>")


def panel(html: str, op: str) -> str:
    """The markup of one operation panel (<details id="op-…">) of the page."""
    match = re.search(rf'<details[^>]*\bid="op-{op}"[^>]*>(.*?)</details>', html, re.S)
    assert match, f"no {op} panel on the page"
    return match.group(1)


# -- 退回 -------------------------------------------------------------------------------------------

def test_a_return_with_a_reason_reaches_the_applicant_whose_task_page_shows_it(demo, browser, db_read):
    instance_id, task_id = at_finance(browser)
    reviewer = browser("cz_reviewer")
    page = reviewer.get(f"/tasks/{task_id}").text
    offered = panel(page, "return")
    assert '<option value="apply">填写报销申请（申请人 李经办）</option>' in offered
    assert '<option value="unit_head_review">单位负责人审核（周主任）</option>' in offered

    response = operate(reviewer, task_id, "return", {"target": "apply", "comment": "发票缺一张，请补齐"})
    assert response.status_code == 302 and response.headers["Location"] == f"/instances/{instance_id}"
    assert "已退回到“填写报销申请”" in main_text(reviewer.get(response.headers["Location"]).text)

    clerk = browser("nyb_clerk")
    again = todo_task_of(clerk, "购买办公用品")
    text = main_text(clerk.get(f"/tasks/{again}").text)
    assert "蒋审核退回：发票缺一张，请补齐" in text and "提交申请" in text
    history = main_text(clerk.get(f"/instances/{instance_id}").text)
    assert "退回 财政所审核 蒋审核" in history and "退回到“填写报销申请”" in history
    assert "发票缺一张，请补齐" in history
    assert task_row(db_read, task_id).decision == "return"


def test_returning_without_a_reason_is_refused_by_the_field_and_changes_nothing(demo, browser, db_read):
    instance_id, task_id = at_finance(browser)
    before = events(db_read, instance_id)
    reviewer = browser("cz_reviewer")
    response = operate(reviewer, task_id, "return", {"target": "unit_head_review", "comment": "  "})
    assert response.status_code == 400
    assert "退回须说明原因" in field_block(response.text, "return-comment")
    assert "请填写退回原因" in panel(response.text, "return")
    assert re.search(r'<details[^>]*id="op-return"[^>]*\bopen', response.text)  # the panel is open again
    assert '<option value="unit_head_review" selected>' in field_block(response.text, "return-target")

    no_target = operate(reviewer, task_id, "return", {"target": "", "comment": "再看看"})
    assert no_target.status_code == 400
    assert "请选择退回到的环节" in field_block(no_target.text, "return-target")
    assert "不是本申请已经过的环节" not in no_target.text
    assert "再看看</textarea>" in field_block(no_target.text, "return-comment")

    bad_target = operate(reviewer, task_id, "return", {"target": "finance_review", "comment": "再看看"})
    assert bad_target.status_code == 400
    assert "finance_review：不是本申请已经过的环节" in field_block(bad_target.text, "return-target")
    assert "再看看</textarea>" in field_block(bad_target.text, "return-comment")
    assert task_row(db_read, task_id).state == "ready"
    assert events(db_read, instance_id) == before


def test_showing_the_task_page_with_its_return_targets_locks_and_writes_nothing(demo, browser, web_app):
    _, task_id = at_finance(browser)
    reviewer = browser("cz_reviewer")
    with statements_of(web_app) as seen:
        page = reviewer.get(f"/tasks/{task_id}")
    assert '<option value="apply">' in panel(page.text, "return")
    assert [sql for sql, locks in seen if locks] == []
    assert [sql for sql, _ in seen if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))] == []


@pytest.mark.postgres
def test_the_task_page_opens_while_another_action_holds_the_request(demo, browser, web_app):
    from app.extensions import db

    instance_id, task_id = at_finance(browser)
    reviewer = browser("cz_reviewer")
    pages = []
    with web_app.app_context():
        holder = db.engine.connect()
    try:
        holder.begin()
        holder.execute(text("SELECT id FROM process_instance WHERE id = :id FOR UPDATE"), {"id": instance_id})
        reader = threading.Thread(target=lambda: pages.append(reviewer.get(f"/tasks/{task_id}")))
        reader.start()
        reader.join(timeout=5)
        waited = reader.is_alive()
    finally:
        holder.rollback()
        holder.close()
    reader.join(timeout=30)
    assert not waited, "the task page waited for the row lock of an action in progress"
    assert pages[0].status_code == 200 and 'id="op-return"' in pages[0].text


# -- 转办 -------------------------------------------------------------------------------------------

def test_a_reviewer_transfers_the_task_to_the_other_reviewer(demo, browser, db_read):
    instance_id, task_id = at_finance(browser)
    reviewer = browser("cz_reviewer")
    refused = operate(reviewer, task_id, "transfer", {"to": "swb_head", "comment": "我出差"})
    assert refused.status_code == 400
    assert "swb_head：没有本申请所在单位的“finance_reviewer”角色" in field_block(refused.text, "transfer-to")
    assert 'value="swb_head"' in field_block(refused.text, "transfer-to")
    assert task_row(db_read, task_id).assignee_id is None

    response = operate(reviewer, task_id, "transfer", {"to": "cz_reviewer2", "comment": "我出差"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "已将“财政所审核”转办给 沈审核" in main_text(reviewer.get("/").text)
    assert task_id not in task_links(reviewer.get("/?view=todo").text)

    other = browser("cz_reviewer2")
    assert todo_task_of(other, "购买办公用品") == task_id
    assert "蒋审核转办：我出差" in main_text(other.get(f"/tasks/{task_id}").text)
    history = main_text(other.get(f"/instances/{instance_id}").text)
    assert "转办 财政所审核 蒋审核" in history and "转办给 沈审核" in history and "我出差" in history

    # A participant without an oversight role is not offered 催办; posting anyway is a readable 403.
    assert 'id="op-urge"' not in other.get(f"/instances/{instance_id}").text
    refused_urge = other.submit(f"/instances/{instance_id}", f"/instances/{instance_id}/urge", {})
    assert refused_urge.status_code == 403
    assert "只有申请人或督办人员可以催办" in main_text(refused_urge.text)


def test_a_supervisor_gives_a_task_nobody_could_take_an_owner_from_its_page(demo, browser, db_read, db_session):
    for name in ("nyb_head", "admin"):
        db_session.scalar(select(User).where(User.username == name)).active = False
    db_session.commit()
    instance_id = start_claim(browser("nyb_clerk"))
    [task_id] = db_read(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                   HumanTask.state == "ready"))
    assert task_row(db_read, task_id).fallback == "none"
    db_session.scalar(select(User).where(User.username == "nyb_head")).active = True
    db_session.commit()

    supervisor = browser("duban")
    page = supervisor.get(f"/tasks/{task_id}").text
    assert '<span class="badge badge-warn" id="task-fallback">' in page and 'id="act"' not in page
    assert "作为督办或管理员" in panel(page, "transfer")
    refused = operate(supervisor, task_id, "transfer", {"to": "swb_head"})
    assert refused.status_code == 400
    assert "swb_head：没有本申请所在单位的“unit_head”角色" in field_block(refused.text, "transfer-to")

    response = operate(supervisor, task_id, "transfer", {"to": "nyb_head", "comment": "请周主任办理"})
    assert response.status_code == 302, main_text(response.text)
    assert "已将“单位负责人审核”转办给 周主任" in main_text(supervisor.get("/").text)
    head = browser("nyb_head")
    assert todo_task_of(head, "购买办公用品") == task_id
    assert "吕督办转办：请周主任办理" in main_text(head.get(f"/tasks/{task_id}").text)
    assert task_row(db_read, task_id).fallback is None
    assert "转办 单位负责人审核 吕督办" in main_text(head.get(f"/instances/{instance_id}").text)


# -- 委派 -------------------------------------------------------------------------------------------

def test_a_delegate_answers_and_the_task_comes_back_to_decide(demo, browser, db_read):
    instance_id, head, task_id = at_unit_head(browser)
    response = operate(head, task_id, "delegate", {"to": "deputy", "comment": "请把关"})
    assert response.status_code == 302 and response.headers["Location"] == f"/tasks/{task_id}"
    waiting = head.get(f"/tasks/{task_id}").text
    assert "已委派 杨副镇长 提出意见" in main_text(waiting)
    assert "正在等待被委派人回复意见" in main_text(waiting)
    assert 'id="act"' not in waiting and 'id="op-delegate"' not in waiting
    assert "委派 待办理 杨副镇长 说明：请把关" in section_text(waiting, "sub-tasks")

    deputy = browser("deputy")
    answer_id = todo_task_of(deputy, "购买办公用品")
    page = deputy.get(f"/tasks/{answer_id}").text
    assert '<span class="badge badge-kind" id="task-kind">委派</span>' in page
    assert "委派说明：请把关" in main_text(page) and "回复意见" in main_text(page)
    assert decide(deputy, answer_id, decision="reject", comment="建议压缩金额").status_code == 302

    back = head.get(f"/tasks/{task_id}").text
    assert 'id="act"' in back
    assert "委派 已办理 杨副镇长 不同意 杨副镇长" in section_text(back, "sub-tasks")
    assert "建议压缩金额" in section_text(back, "sub-tasks")
    assert decide(head, task_id, comment="同意，已核减").status_code == 302
    history = main_text(head.get(f"/instances/{instance_id}").text)
    assert "委派 单位负责人审核 周主任" in history and "请 杨副镇长 提出意见" in history
    assert "委派回复 单位负责人审核 杨副镇长" in history and "意见：不同意" in history
    assert events(db_read, instance_id)[-4:] == ["task_delegated", "delegate_answered", "task_completed",
                                                 "task_created"]


# -- 加签 / 减签 ----------------------------------------------------------------------------------------

def test_signers_added_before_sign_in_turn_then_the_approver_decides(demo, browser, db_read):
    instance_id, head, task_id = at_unit_head(browser)
    response = operate(head, task_id, "signers", {"signers": "deputy，finance_deputy", "position": "before",
                                                  "mode": "sequential", "comment": "请两位领导先签"})
    assert response.status_code == 302
    page = head.get(f"/tasks/{task_id}").text
    assert "已加签：杨副镇长、朱副镇长（在我之前，依次）" in main_text(page)
    subs = section_text(page, "sub-tasks")
    assert "加签（在前） 待办理 杨副镇长" in subs and "加签（在前） 排队中 朱副镇长" in subs, subs
    assert 'id="act"' not in page and "正在等待加签人" in main_text(page)

    deputy, finance_deputy = browser("deputy"), browser("finance_deputy")
    assert "暂无待办" in main_text(finance_deputy.get("/").text)
    first = todo_task_of(deputy, "购买办公用品")
    assert "加签说明：请两位领导先签" in main_text(deputy.get(f"/tasks/{first}").text)
    assert decide(deputy, first, comment="同意").status_code == 302
    assert decide(finance_deputy, todo_task_of(finance_deputy, "购买办公用品"), comment="同意").status_code == 302

    assert todo_task_of(head, "购买办公用品") == task_id
    assert decide(head, task_id).status_code == 302
    assert todo_task_of(browser("cz_reviewer"), "购买办公用品")
    history = main_text(head.get(f"/instances/{instance_id}").text)
    assert "加签 单位负责人审核 周主任" in history and "加签 杨副镇长、朱副镇长（在前，依次）" in history


def test_a_signer_who_has_not_signed_is_removed_by_the_approver_only(demo, browser, db_read):
    instance_id, head, task_id = at_unit_head(browser)
    refused = operate(head, task_id, "signers", {"signers": "nyb_clerk", "position": "before", "mode": "parallel"})
    assert refused.status_code == 400
    assert "nyb_clerk：是申请人，不能参与审批" in field_block(refused.text, "signers-signers")
    assert 'value="parallel" checked' in field_block(refused.text, "signers-mode")

    assert operate(head, task_id, "signers", {"signers": "deputy", "position": "after",
                                              "mode": "sequential"}).status_code == 302
    [signer] = db_read(select(HumanTask).where(HumanTask.parent_id == task_id))
    page = head.get(f"/tasks/{task_id}").text
    assert f'action="/tasks/{signer.id}/remove-signer"' in page
    assert 'id="act"' in page  # signers after: the approver decides first

    deputy = browser("deputy")
    assert f'action="/tasks/{signer.id}/remove-signer"' not in deputy.get(f"/tasks/{task_id}").text
    forbidden = deputy.submit(f"/tasks/{task_id}", f"/tasks/{signer.id}/remove-signer", {})
    assert forbidden.status_code == 403
    assert "只有加签的人或本环节审批人可以减签" in main_text(forbidden.text)
    assert task_row(db_read, signer.id).state == "pending"

    response = head.submit(f"/tasks/{task_id}", f"/tasks/{signer.id}/remove-signer", {})
    assert response.status_code == 302 and response.headers["Location"] == f"/tasks/{task_id}"
    assert "已减签：杨副镇长" in main_text(head.get(f"/tasks/{task_id}").text)
    assert task_row(db_read, signer.id).state == "cancelled"
    assert decide(head, task_id).status_code == 302  # nobody left to sign after the approver
    assert todo_task_of(browser("cz_reviewer"), "购买办公用品")
    assert "减签 单位负责人审核 周主任" in main_text(head.get(f"/instances/{instance_id}").text)


def test_whoever_added_a_signer_sees_it_and_removes_it_after_handing_the_step_on(demo, browser, db_read, db_session):
    instance_id, head, task_id = at_unit_head(browser)
    add_user(db_session, "nyb_head2", DEMO_PASSWORD, [GrantSpec("unit_head", "SFZ-NYB")], display_name="钱主任",
             now=clock.now(), hash_profile="CHEAPEST")
    assert operate(head, task_id, "signers", {"signers": "deputy", "position": "after",
                                              "mode": "sequential"}).status_code == 302
    [signer] = db_read(select(HumanTask).where(HumanTask.parent_id == task_id))
    assert "由周主任加签" in section_text(head.get(f"/tasks/{task_id}").text, "sub-tasks")
    assert "由周主任加签" in section_text(browser("deputy").get(f"/tasks/{task_id}").text, "sub-tasks")
    assert operate(head, task_id, "transfer", {"to": "nyb_head2"}).status_code == 302

    page = head.get(f"/tasks/{task_id}").text  # no longer the approver; a unit head still sees the request
    assert 'id="act"' not in page
    assert f'action="/tasks/{signer.id}/remove-signer"' in page
    response = head.submit(f"/tasks/{task_id}", f"/tasks/{signer.id}/remove-signer", {"comment": "不必加签了"})
    assert response.status_code == 302 and response.headers["Location"] == f"/tasks/{task_id}"
    assert "已减签：杨副镇长" in main_text(head.get(f"/tasks/{task_id}").text)
    assert task_row(db_read, signer.id).state == "cancelled"
    assert decide(browser("nyb_head2"), task_id).status_code == 302  # nobody left to sign after the approver
    assert "减签 单位负责人审核 周主任" in main_text(head.get(f"/instances/{instance_id}").text)


# -- 撤回 -------------------------------------------------------------------------------------------

def test_an_approver_takes_back_an_approval_until_the_next_step_is_touched(demo, browser, db_read):
    instance_id, head, task_id = at_unit_head(browser)
    assert 'id="op-withdraw"' not in head.get(f"/tasks/{task_id}").text
    decide(head, task_id)
    done = head.get(f"/tasks/{task_id}").text
    assert "撤回审批" in panel(done, "withdraw")

    response = operate(head, task_id, "withdraw", {"comment": "金额要再核"})
    assert response.status_code == 302
    again = int(response.headers["Location"].rsplit("/", 1)[1])
    page = main_text(head.get(f"/tasks/{again}").text)
    assert "已撤回对“单位负责人审核”的审批" in page and "已撤回，重新办理" in page
    assert "暂无待办" in main_text(browser("cz_reviewer").get("/").text)
    assert "撤回审批 单位负责人审核 周主任" in main_text(head.get(f"/instances/{instance_id}").text)

    decide(head, again)
    reviewer = browser("cz_reviewer")
    finance = todo_task_of(reviewer, "购买办公用品")
    reviewer.submit(f"/tasks/{finance}", f"/tasks/{finance}/claim", {})
    before = events(db_read, instance_id)
    refused = operate(head, again, "withdraw", {"comment": "再撤一次"})
    assert refused.status_code == 409
    assert "下一环节已有人处理，不能撤回" in panel(refused.text, "withdraw")
    assert events(db_read, instance_id) == before


def test_the_applicant_withdraws_before_anyone_acts_but_not_after(demo, browser, db_read):
    clerk = browser("nyb_clerk")
    instance_id = start_claim(clerk)
    page = clerk.get(f"/instances/{instance_id}").text
    assert "撤回申请" in panel(page, "withdraw")
    assert 'id="op-withdraw"' not in browser("nyb_head").get(f"/instances/{instance_id}").text

    response = clerk.submit(f"/instances/{instance_id}", f"/instances/{instance_id}/withdraw", {"comment": "填错了"})
    assert response.status_code == 302
    text = main_text(clerk.get(f"/instances/{instance_id}").text)
    assert "申请已撤回" in text and "已撤回" in text and "撤回申请 李经办" in text and "填错了" in text
    assert db_read(select(ProcessInstance.status).where(ProcessInstance.id == instance_id)) == ["withdrawn"]
    assert "暂无待办" in main_text(browser("nyb_head").get("/").text)

    second, head, task_id = at_unit_head(browser, title="第二笔报销")
    decide(head, task_id)
    refused = clerk.submit(f"/instances/{second}", f"/instances/{second}/withdraw", {"comment": "不要了"})
    assert refused.status_code == 409
    assert "已有审批人处理，不能撤回" in panel(refused.text, "withdraw")
    assert "不要了</textarea>" in field_block(refused.text, "withdraw-comment")
    assert db_read(select(ProcessInstance.status).where(ProcessInstance.id == second)) == ["running"]


# -- 催办 -------------------------------------------------------------------------------------------

def test_the_applicant_urges_once_and_again_too_soon_gets_429(demo, browser, db_read):
    instance_id, head, task_id = at_unit_head(browser)
    clerk = browser("nyb_clerk")
    assert "30 分钟内只能催办一次" in panel(clerk.get(f"/instances/{instance_id}").text, "urge")
    assert '<span class="count" id="nav-unread-count">1</span>' in head.get("/").text  # the 新待办

    response = clerk.submit(f"/instances/{instance_id}", f"/instances/{instance_id}/urge", {"comment": "请尽快"})
    assert response.status_code == 302
    text = main_text(clerk.get(f"/instances/{instance_id}").text)
    assert "已催办，已通知 周主任" in text and "催办 李经办" in text and "请尽快" in text

    again = clerk.submit(f"/instances/{instance_id}", f"/instances/{instance_id}/urge", {"comment": "再催"})
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0
    assert "你刚催办过，请 30 分钟后再催办" in panel(again.text, "urge")
    assert events(db_read, instance_id).count("instance_urged") == 1
    assert '<span class="count" id="nav-unread-count">2</span>' in head.get("/").text  # and the 催办

    # A supervisor may urge too.
    assert "催办" in panel(browser("duban").get(f"/instances/{instance_id}").text, "urge")


# -- 抄送 -------------------------------------------------------------------------------------------

def test_a_copy_appears_in_the_recipients_cc_tab_and_is_marked_read(demo, browser, db_read):
    instance_id, head, task_id = at_unit_head(browser)
    refused = operate(head, task_id, "cc", {"to": "qs_head", "comment": "请知悉"})
    assert refused.status_code == 400 and "qs_head：用户不存在、已停用或不在本镇" in field_block(refused.text, "cc-to")

    response = operate(head, task_id, "cc", {"to": "cz_head duban", "comment": "请知悉"})
    assert response.status_code == 302
    assert "已抄送给 韩所长、吕督办" in main_text(head.get(f"/tasks/{task_id}").text)

    recipient = browser("cz_head")
    tab = recipient.get("/?view=cc").text
    assert 'aria-current="page">抄送我的</a>' in tab
    [copy_id] = db_read(select(CarbonCopy.id).join(User, User.id == CarbonCopy.user_id)
                        .where(User.username == "cz_head", CarbonCopy.instance_id == instance_id))
    row = main_text("<main>" + tab[tab.index(f'id="cc-{copy_id}"'):].split("</li>")[0] + "</main>")
    assert "未阅" in row and "周主任抄送于" in row and "抄送说明：请知悉" in row
    assert f'action="/cc/{copy_id}/read"' in tab
    assert recipient.get(f"/instances/{instance_id}").status_code == 200  # a copy may read the request

    marked = recipient.submit("/?view=cc", f"/cc/{copy_id}/read", {"next": "/?view=cc"})
    assert marked.status_code == 302 and marked.headers["Location"] == "/?view=cc"
    tab = recipient.get("/?view=cc").text
    assert "已标记为已阅" in main_text(tab) and f'action="/cc/{copy_id}/read"' not in tab
    assert "已阅" in tab[tab.index(f'id="cc-{copy_id}"'):].split("</li>")[0]
    assert db_read(select(CarbonCopy.read_at).where(CarbonCopy.id == copy_id))[0] is not None
    assert browser("duban").submit("/", f"/cc/{copy_id}/read", {}).status_code == 404  # not theirs


# -- 意见 -------------------------------------------------------------------------------------------

def test_a_comment_goes_into_the_history_and_an_empty_one_is_refused(demo, browser, db_read):
    instance_id, head, task_id = at_unit_head(browser)
    before = events(db_read, instance_id)
    empty = operate(head, task_id, "comments", {"comment": "   "})
    assert empty.status_code == 400 and "不能为空" in field_block(empty.text, "note-comment")
    assert events(db_read, instance_id) == before

    clerk = browser("nyb_clerk")  # the applicant may comment on a task that is not theirs
    assert "发表意见" in panel(clerk.get(f"/tasks/{task_id}").text, "note")
    response = operate(clerk, task_id, "comments", {"comment": "发票已补交纸质件"})
    assert response.status_code == 302
    history = main_text(head.get(f"/instances/{instance_id}").text)
    assert "意见 单位负责人审核 李经办" in history and "发票已补交纸质件" in history
    assert task_row(db_read, task_id).state == "ready"


# -- who may post what ------------------------------------------------------------------------------

OPERATIONS = ["return", "transfer", "delegate", "signers", "remove-signer", "cc", "withdraw", "comments",
              "attachments"]


def test_another_townships_user_gets_404_on_every_operation_and_nothing_changes(demo, browser, db_read):
    instance_id, head, task_id = at_unit_head(browser)
    before = events(db_read, instance_id)
    outsider = browser("qs_head")
    for action in OPERATIONS:
        response = outsider.submit("/", f"/tasks/{task_id}/{action}",
                                   {"target": "apply", "to": "nyb_head", "signers": "deputy", "comment": "越权"})
        assert response.status_code == 404, (action, main_text(response.text))
        assert "购买办公用品" not in response.text and "任务不存在" in main_text(response.text)
    for action in ("withdraw", "urge"):
        assert outsider.submit("/", f"/instances/{instance_id}/{action}", {}).status_code == 404, action
    assert events(db_read, instance_id) == before
    assert task_row(db_read, task_id).state == "ready"


def test_every_new_form_is_refused_without_its_csrf_token(demo, browser, db_read):
    instance_id, head, task_id = at_unit_head(browser)
    before = events(db_read, instance_id)
    head.get(f"/tasks/{task_id}")
    for action in OPERATIONS:
        assert head.post(f"/tasks/{task_id}/{action}", {"comment": "x", "to": "deputy"}).status_code == 400, action
    clerk = browser("nyb_clerk")
    for action in ("withdraw", "urge"):
        assert clerk.post(f"/instances/{instance_id}/{action}", {}).status_code == 400, action
    for url in ("/notifications/read-all", "/notifications/1/open", "/cc/1/read", "/proxies", "/proxies/1/revoke"):
        assert clerk.post(url, {"proxy": "nyb_head"}).status_code == 400, url
    assert events(db_read, instance_id) == before


def test_the_task_page_shows_only_the_operations_the_viewer_may_use(demo, browser):
    instance_id, head, task_id = at_unit_head(browser)
    page = head.get(f"/tasks/{task_id}").text
    for op in ("return", "transfer", "delegate", "signers", "cc", "note", "attach"):
        assert f'id="op-{op}"' in page, op
    assert 'id="op-withdraw"' not in page

    overseer = browser("duban").get(f"/tasks/{task_id}").text  # may see and reassign (转办), may not act
    for op in ("return", "delegate", "signers", "cc", "withdraw"):
        assert f'id="op-{op}"' not in overseer, op
    assert 'id="op-transfer"' in overseer and "作为督办或管理员" in panel(overseer, "transfer")
    assert 'id="op-note"' in overseer and 'id="op-attach"' in overseer

    finance_head = browser("cz_head").get(f"/tasks/{task_id}").text  # sees the request, may not reassign
    assert 'id="op-transfer"' not in finance_head and 'id="op-note"' in finance_head

    application = browser("nyb_clerk").get(f"/tasks/{task_links(browser('nyb_clerk').get('/?view=done').text)[0]}")
    assert 'id="op-return"' not in application.text and 'id="op-signers"' not in application.text


def test_a_multi_approver_step_lists_its_members_and_a_member_returns_from_inside_it(demo, browser, db_read,
                                                                                     tmp_path):
    from tests.integration.processes import approver_step, deploy
    from tests.unit.bpmn_builder import Bpmn

    doc = (Bpmn("joint_review", "联合审核").lane("l1", "经办人", "start", "apply").lane("l2", "财政所审核", "finance")
           .start().user_task("apply", "申请").raw(approver_step("finance", "财政所会签")).end()
           .chain("start", "apply", "finance", "end"))
    deploy(demo, tmp_path, doc)
    clerk = browser("nyb_clerk")
    started = clerk.submit("/start/joint_review", "/start/joint_review", {"title": "联合审核事项", "amount": "50"})
    assert started.status_code == 302, main_text(started.text)
    instance_id = int(started.headers["Location"].rsplit("/", 1)[1])
    [step_id] = db_read(select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.kind == "step",
                                                   HumanTask.bpmn_id == "finance"))

    step = browser("duban").get(f"/tasks/{step_id}").text
    assert '<span class="badge badge-kind">会签</span>' in step
    members = section_text(step, "sub-tasks")
    assert members.startswith(" 会签成员 ") and "蒋审核" in members and "沈审核" in members

    reviewer = browser("cz_reviewer")
    member_id = todo_task_of(reviewer, "联合审核事项")
    page = reviewer.get(f"/tasks/{member_id}").text
    assert '<span class="badge badge-kind" id="task-kind">会签成员</span>' in page
    assert "会签成员（属于“财政所会签”，会签）" in main_text(page)
    assert '<option value="apply">申请（申请人 李经办）</option>' in panel(page, "return")
    response = operate(reviewer, member_id, "return", {"target": "apply", "comment": "金额有误"})
    assert response.status_code == 302
    assert "蒋审核退回：金额有误" in main_text(clerk.get(f"/tasks/{todo_task_of(clerk, '联合审核事项')}").text)
