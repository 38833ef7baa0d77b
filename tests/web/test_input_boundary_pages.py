"""The pages refuse malformed input where it enters, with the usual Chinese error page, never a 500.

The same checks as the API's (app/inputs): ids beyond their column, NUL and lone surrogates, and
bidirectional controls stripped from what is typed, so a title cannot be made to read backwards.
"""
import re

import pytest
from sqlalchemy import func, select

from app.inputs.ids import INT32_MAX, INT64_MAX, id_max
from app.inputs.text import BIDI_CONTROLS
from app.models import InstanceEvent, ProcessInstance
from tests.web.conftest import csrf_token, main_text
from tests.web.helpers import CLAIM_FORM, start_claim, todo_task_of

PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def page_id_routes(app):
    """(rule, method, [int parameter names]) for every page route (not /api/) with an int path parameter."""
    found = []
    for rule in app.url_map.iter_rules():
        names = [name for conv, name in PARAM.findall(rule.rule) if conv == "int"]
        if names and not rule.rule.startswith("/api/"):
            found += [(rule, method, names) for method in ("GET", "POST") if method in rule.methods]
    return found


def url_of(rule, value_of) -> str:
    return PARAM.sub(lambda m: str(value_of(m.group(2))) if m.group(1) == "int" else "demo", rule.rule)


def send(person, method: str, url: str, token: str):
    if method == "GET":
        return person.get(url)
    return person.post(url, data={"csrf_token": token, "comment": "意见", "to": "nyb_head", "target": "apply"})


def assert_error_page(response, status: int, text: str):
    assert response.status_code == status, response.text[:500]
    assert response.mimetype == "text/html"
    assert text in main_text(response.text)


def count(db_read, model):
    return db_read(select(func.count()).select_from(model))[0]


def test_every_page_route_answers_an_id_beyond_its_column_with_the_404_page(demo, browser, web_app):
    clerk = browser("nyb_clerk")
    token = csrf_token(clerk.get("/").text)
    routes = page_id_routes(web_app)
    assert len(routes) > 15
    for rule, method, _names in routes:
        for beyond in (lambda name: id_max(name) + 1, lambda name: 10**30):
            response = send(clerk, method, url_of(rule, beyond), token)
            assert response.status_code == 404, (method, rule.rule, response.status_code)
            assert_error_page(response, 404, "页面不存在")


def test_the_largest_id_a_column_holds_reaches_the_page_and_is_no_500(demo, browser, web_app):
    clerk = browser("nyb_clerk")
    token = csrf_token(clerk.get("/").text)
    for rule, method, _names in page_id_routes(web_app):
        for value_of in (id_max, lambda name: INT32_MAX + 1 if id_max(name) == INT64_MAX else INT32_MAX):
            response = send(clerk, method, url_of(rule, value_of), token)
            assert response.status_code < 500, (method, rule.rule, response.text[:300])
            assert response.mimetype == "text/html"


@pytest.mark.parametrize("url", ["/?q=%00", "/?view=todo&q=%E5%8A%9E%00", "/notifications?page=%00",
                                 "/?%00=1"])
def test_a_nul_in_the_query_is_the_400_page(demo, browser, url):
    assert_error_page(browser("nyb_clerk").get(url), 400, "不能包含空字符")


@pytest.mark.parametrize("url", ["/start/%00", "/static/%00", "/start/expense%00claim", "/no-such-page?q=%00"])
def test_a_nul_in_the_path_is_the_404_page(demo, browser, url):
    assert_error_page(browser("nyb_clerk").get(url), 404, "页面不存在")


def test_a_nul_typed_into_an_application_is_the_400_page_and_nothing_is_started(demo, browser, db_read):
    response = browser("nyb_clerk").submit("/start/expense_claim", "/start/expense_claim",
                                           {**CLAIM_FORM, "title": "购买\x00办公用品"})
    assert_error_page(response, 400, "提交的内容不能包含空字符（U+0000），请删除后重试")
    assert count(db_read, ProcessInstance) == 0


def test_a_nul_in_a_comment_is_the_400_page_and_nothing_is_recorded(demo, browser, db_read):
    start_claim(browser("nyb_clerk"))
    head = browser("nyb_head")
    task_id = todo_task_of(head, CLAIM_FORM["title"])
    events = count(db_read, InstanceEvent)
    response = head.submit(f"/tasks/{task_id}", f"/tasks/{task_id}/comments", {"comment": "同意\x00"})
    assert_error_page(response, 400, "不能包含空字符")
    assert count(db_read, InstanceEvent) == events


def test_a_nul_in_the_login_form_is_the_400_page(demo, browser):
    response = browser().submit("/login", "/login", {"username": "nyb_clerk\x00", "password": "x"})
    assert_error_page(response, 400, "不能包含空字符")


def test_bidi_controls_typed_into_a_title_are_stripped_before_it_is_stored_and_shown(demo, browser, db_read):
    instance_id = start_claim(browser("nyb_clerk"), title="发票\u202egnp.exe",
                              description="说明\u2066文字\u2069\u200e")
    [title] = db_read(select(ProcessInstance.title).where(ProcessInstance.id == instance_id))
    assert title == "发票gnp.exe"
    head = browser("nyb_head")
    task_id = todo_task_of(head, "发票gnp.exe")
    for html in (head.get("/").text, head.get(f"/instances/{instance_id}").text, head.get(f"/tasks/{task_id}").text):
        assert "发票gnp.exe" in html and not BIDI_CONTROLS.search(html)
    assert "说明文字" in head.get(f"/tasks/{task_id}").text


def test_bidi_controls_in_a_comment_are_stripped(demo, browser):
    instance_id = start_claim(browser("nyb_clerk"))
    head = browser("nyb_head")
    task_id = todo_task_of(head, CLAIM_FORM["title"])
    response = head.submit(f"/tasks/{task_id}", f"/tasks/{task_id}/comments", {"comment": "同意\u202e付款"})
    assert response.status_code in (200, 302, 303), response.text[:300]
    html = head.get(f"/instances/{instance_id}").text
    assert "同意付款" in html and not BIDI_CONTROLS.search(html)
