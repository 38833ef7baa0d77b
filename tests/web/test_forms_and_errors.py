"""Forms from JSON Schema, their error messages, and what the pages refuse (CSRF, other townships)."""
import json
import re

from sqlalchemy import func, select

from app.admin.people import GrantSpec, add_user
from app.admin.seed import DEMO_PASSWORD
from app.approvals.deploy import deploy_processes
from app.config import ROOT
from app.engine import BpmnSource
from app.models import HumanTask, InstanceEvent, ProcessInstance
from tests.web.conftest import csrf_token, field_block, main_text
from tests.web.helpers import CLAIM_FORM, decide, start_claim, todo_task_of


def count(db_read, model, *where):
    return db_read(select(func.count()).select_from(model).where(*where))[0]


def test_application_form_errors_show_by_their_fields_and_nothing_is_started(demo, browser, db_read):
    clerk = browser("nyb_clerk")
    response = clerk.submit("/start/expense_claim", "/start/expense_claim",
                            {**CLAIM_FORM, "title": "", "amount": "abc", "description": "保留<我>的说明"})
    assert response.status_code == 400
    html = response.text
    assert "申请表填写有误" in main_text(html)
    assert "必填" in field_block(html, "title")
    assert "须为数字" in field_block(html, "amount") and 'value="abc"' in field_block(html, "amount")
    assert 'value="镇供销社"' in field_block(html, "payee")
    assert '<option value="办公费" selected>' in field_block(html, "expense_type")
    assert "保留&lt;我&gt;的说明</textarea>" in field_block(html, "description")
    assert "field-error" not in field_block(html, "payee")
    assert count(db_read, ProcessInstance) == 0


def test_task_form_errors_keep_what_was_typed_and_change_nothing(demo, browser, db_read):
    instance_id = start_claim(browser("nyb_clerk"))
    head = browser("nyb_head")
    decide(head, todo_task_of(head, "购买办公用品"))
    reviewer = browser("cz_reviewer")
    task_id = todo_task_of(reviewer, "购买办公用品")
    events_before = count(db_read, InstanceEvent, InstanceEvent.instance_id == instance_id)

    no_decision = decide(reviewer, task_id, decision="", comment="再看看", budget_subject="30201")
    assert no_decision.status_code == 400
    assert "须为 approve（同意）或 reject（不同意）" in field_block(no_decision.text, "decision")
    assert "再看看</textarea>" in field_block(no_decision.text, "comment")

    bad_subject = decide(reviewer, task_id, comment="科目待定", budget_subject="abc", documents_complete="on")
    assert bad_subject.status_code == 400
    assert "格式不正确" in field_block(bad_subject.text, "budget_subject")
    assert 'value="abc"' in field_block(bad_subject.text, "budget_subject")
    assert " checked" in field_block(bad_subject.text, "documents_complete")
    assert 'value="approve" checked' in field_block(bad_subject.text, "decision")

    assert db_read(select(HumanTask.state).where(HumanTask.id == task_id)) == ["ready"]
    assert count(db_read, InstanceEvent, InstanceEvent.instance_id == instance_id) == events_before


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(demo, browser, db_read):
    clerk = browser("nyb_clerk")
    clerk.get("/start/expense_claim")
    refused = clerk.post("/start/expense_claim", CLAIM_FORM)
    assert refused.status_code == 400 and "请刷新页面后重试" in main_text(refused.text)
    assert count(db_read, ProcessInstance) == 0

    start_claim(clerk)
    head = browser("nyb_head")
    task_id = todo_task_of(head, "购买办公用品")
    head.get(f"/tasks/{task_id}")
    for action in ("complete", "claim", "unclaim"):
        response = head.post(f"/tasks/{task_id}/{action}", {"decision": "approve", "csrf_token": "forged"})
        assert response.status_code == 400, action
    [task] = db_read(select(HumanTask).where(HumanTask.id == task_id))
    assert (task.state, task.decision) == ("ready", None)


def test_a_user_from_another_township_cannot_see_or_act(demo, browser, db_read):
    instance_id = start_claim(browser("nyb_clerk"))
    task_id = todo_task_of(browser("nyb_head"), "购买办公用品")
    outsider = browser("qs_clerk")

    task_page = outsider.get(f"/tasks/{task_id}")
    assert task_page.status_code == 404 and "任务不存在" in main_text(task_page.text)
    assert "购买办公用品" not in task_page.text
    instance_page = outsider.get(f"/instances/{instance_id}")
    assert instance_page.status_code == 404 and "申请不存在" in main_text(instance_page.text)
    assert "购买办公用品" not in instance_page.text

    response = outsider.submit("/", f"/tasks/{task_id}/complete", {"decision": "approve"})
    assert response.status_code == 404
    assert outsider.submit("/", f"/tasks/{task_id}/claim", {}).status_code == 404
    assert db_read(select(HumanTask.state).where(HumanTask.id == task_id)) == ["ready"]
    assert "暂无待办" in main_text(outsider.get("/").text)


def test_only_holders_of_the_starter_role_may_start(demo, browser, db_read):
    head = browser("nyb_head")
    assert "你目前没有可以发起的流程" in main_text(head.get("/start").text)
    page = head.get("/start/expense_claim")
    assert page.status_code == 403 and "只有“经办人”可以发起此流程" in main_text(page.text)
    assert browser("nyb_clerk").get("/start/no_such_process").status_code == 404


def test_a_clerk_of_two_units_chooses_the_unit(demo, browser, db_read):
    grants = [GrantSpec("clerk", "SFZ-NYB"), GrantSpec("clerk", "SFZ-SWB")]
    add_user(demo.session, "two_units", DEMO_PASSWORD, grants, display_name="两单位经办", now=demo.now,
             hash_profile="CHEAPEST")
    clerk = browser("two_units")
    form = clerk.get("/start/expense_claim")
    org_field = field_block(form.text, "org")
    assert '<option value="SFZ-NYB">农业农村办</option>' in org_field
    assert '<option value="SFZ-SWB">社会事务办</option>' in org_field

    missing = clerk.submit("/start/expense_claim", "/start/expense_claim", CLAIM_FORM)
    assert missing.status_code == 400 and "你在多个单位有“经办人”角色" in field_block(missing.text, "org")
    assert count(db_read, ProcessInstance) == 0

    instance_id = start_claim(clerk, org="SFZ-SWB")
    assert "社会事务办" in main_text(clerk.get(f"/instances/{instance_id}").text)


WIDGETS = {
    "title": "单位负责人审核",
    "type": "object",
    "required": ["summary"],
    "properties": {
        "summary": {"type": "string", "title": "审核摘要", "maxLength": 50},
        "notes": {"type": "string", "title": "审核说明", "x-widget": "textarea", "description": "可写多行"},
        "approved_amount": {"type": "number", "title": "核定金额（元）", "format": "money", "minimum": 0},
        "ratio": {"type": "number", "title": "比例"},
        "copies": {"type": "integer", "title": "份数", "minimum": 1, "maximum": 9},
        "urgent": {"type": "boolean", "title": "加急"},
        "filed": {"type": "boolean", "title": "已归档"},
        "channel": {"type": "string", "title": "支付方式", "enum": ["公务卡", "转账"]},
        "visit_date": {"type": "string", "title": "核查日期", "format": "date"},
    },
}


def deploy_with_unit_head_form(deps, form: dict) -> None:
    source = BpmnSource("expense_claim.bpmn", (ROOT / "bpmn" / "expense_claim.bpmn").read_bytes())
    uploaded = {"expense_claim": {"unit_head_review": json.dumps(form).encode()}}
    [result] = deploy_processes(deps, [source], forms_dir=ROOT / "forms", uploaded_forms=uploaded)
    assert result.created and result.definition.version == 2


def test_the_task_page_renders_each_widget_type_and_types_what_comes_back(demo, browser, db_read):
    deploy_with_unit_head_form(demo, WIDGETS)
    instance_id = start_claim(browser("nyb_clerk"))
    head = browser("nyb_head")
    task_id = todo_task_of(head, "购买办公用品")
    html = head.get(f"/tasks/{task_id}").text

    assert re.search(r'<input type="text" id="f-summary" name="summary" value="" maxlength="50" required>',
                     field_block(html, "summary"))
    assert '<textarea id="f-notes" name="notes"' in field_block(html, "notes")
    assert "可写多行" in field_block(html, "notes")
    money = field_block(html, "approved_amount")
    assert 'type="number"' in money and 'step="0.01"' in money and 'min="0"' in money
    assert 'type="number"' in field_block(html, "ratio") and 'step="any"' in field_block(html, "ratio")
    copies = field_block(html, "copies")
    assert 'type="number"' in copies and 'step="1"' in copies and 'min="1"' in copies and 'max="9"' in copies
    assert '<input type="checkbox" id="f-urgent" name="urgent" value="on">' in field_block(html, "urgent")
    channel = field_block(html, "channel")
    assert '<select id="f-channel" name="channel">' in channel
    assert '<option value="公务卡">公务卡</option>' in channel
    assert '<option value="转账">转账</option>' in channel
    assert 'type="date"' in field_block(html, "visit_date")

    response = decide(head, task_id, summary="属实", notes="第一行\n第二行", approved_amount="1000.5",
                      ratio="0.5", copies="3", urgent="on", channel="转账", visit_date="2026-03-01")
    assert response.status_code == 302, main_text(response.text)
    [event] = db_read(select(InstanceEvent).where(InstanceEvent.task_id == task_id,
                                                  InstanceEvent.type == "task_completed"))
    assert event.data["data"] == {
        "summary": "属实", "notes": "第一行\n第二行", "approved_amount": "1000.50", "ratio": "0.5",
        "copies": 3, "urgent": True, "filed": False, "channel": "转账", "visit_date": "2026-03-01"}
    history = main_text(head.get(f"/instances/{instance_id}").text)
    assert "核定金额（元） 1,000.50 元" in history and "加急 是" in history and "已归档 否" in history


def test_html_typed_into_a_title_is_shown_as_text(demo, browser):
    title = '<script>alert("x")</script><b>粗体</b>'
    instance_id = start_claim(browser("nyb_clerk"), title=title, description="<img src=x onerror=alert(1)>")
    head = browser("nyb_head")
    pages = [head.get("/").text, head.get(f"/instances/{instance_id}").text]
    task_id = todo_task_of(head, "粗体")
    pages.append(head.get(f"/tasks/{task_id}").text)
    for html in pages:
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;粗体&lt;/b&gt;" in html
        assert "<script>alert" not in html and "<b>粗体" not in html and "<img src=x" not in html


def test_pages_carry_security_headers_and_no_inline_code(demo, browser):
    start_claim(browser("nyb_clerk"))
    head = browser("nyb_head")
    task_id = todo_task_of(head, "购买办公用品")
    for url in ("/login", "/", f"/tasks/{task_id}", "/start", "/no-such-page"):
        response = (browser() if url == "/login" else head).get(url)
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["X-Frame-Options"] == "DENY", url
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp, url
        assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), url
        assert not re.search(r"\sstyle=|\son[a-z]+=", response.text), url
    assert csrf_token(head.get("/").text)


def test_an_unknown_page_is_a_404_in_the_layout_and_the_api_keeps_its_json(demo, browser):
    head = browser("nyb_head")
    page = head.get("/no-such-page")
    assert page.status_code == 404 and "页面不存在" in main_text(page.text) and "周主任" in page.text
    assert head.get("/tasks/999999").status_code == 404

    api = head.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and api.is_json
    assert api.json == {"error": "not_found", "message": "没有这个地址", "details": {}}
    assert "Content-Security-Policy" not in api.headers


def test_static_files_are_served_without_a_login(demo, browser):
    with browser().get("/static/app.css") as response:
        assert response.status_code == 200 and response.mimetype == "text/css"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert ".badge" in response.get_data(as_text=True)
    assert 'href="/static/app.css"' in browser().get("/login").text


def test_a_refused_form_keeps_the_page_address_when_sent_by_htmx(demo, browser):
    start_claim(browser("nyb_clerk"))
    head = browser("nyb_head")
    task_id = todo_task_of(head, "购买办公用品")
    response = head.submit(f"/tasks/{task_id}", f"/tasks/{task_id}/complete", {"decision": ""},
                           headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert response.status_code == 400 and "请选择审批意见" in main_text(response.text)
    assert response.headers["HX-Push-Url"] == "false"
