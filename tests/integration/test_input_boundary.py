"""Malformed input is refused where it enters, with the API's error JSON and never a 500.

Run on PostgreSQL: that is where an id beyond `integer` or `bigint`, a money bound beyond NUMERIC(18,2)
and a NUL in text or jsonb make the database fail the statement.
"""
import json
import re

import pytest
from sqlalchemy import select

from app.inputs.ids import ID_COLUMNS, INT32_MAX, INT64_MAX, id_max
from app.inputs.text import BIDI_CONTROLS
from app.models import CarbonCopy, ProcessInstance

PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
METHODS = ("GET", "POST", "PUT", "DELETE")
CLAIM = {"title": "购买办公用品", "amount": 1200.5, "expense_type": "办公费", "payee": "镇供销社"}


def int_params(rule) -> list[str]:
    return [name for conv, name in PARAM.findall(rule.rule) if conv == "int"]


def id_routes(app, *, api: bool):
    """(rule, method) for every route with an int path parameter, under /api/ or not."""
    return [(rule, method) for rule in app.url_map.iter_rules() if int_params(rule)
            and rule.rule.startswith("/api/") == api for method in METHODS if method in rule.methods]


def url_of(rule, value_of) -> str:
    """The rule's address with each int parameter set by value_of(name) and other parameters a plain word."""
    return PARAM.sub(lambda m: str(value_of(m.group(2))) if m.group(1) == "int" else "demo", rule.rule)


def send(user, method: str, url: str):
    return getattr(user, method.lower())(url, json={} if method != "GET" else None)


def body(response) -> dict:
    """The JSON as sent (parsed here, not by the app's own decoder)."""
    return json.loads(response.get_data(as_text=True))


def assert_error_json(response, status: int):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert set(body(response)) >= {"error", "message", "details"}


def test_every_int_path_parameter_is_bounded_by_the_column_it_names(app):
    names = {name for rule in app.url_map.iter_rules() for name in int_params(rule)}
    assert names, "the URL map has id routes"
    assert names <= set(ID_COLUMNS), f"declare these in app/inputs/ids.py ID_COLUMNS: {names - set(ID_COLUMNS)}"
    assert id_max("instance_id") == INT64_MAX and id_max("task_id") == INT64_MAX  # bigint: high-volume tables
    assert id_max("indicator_id") == INT32_MAX and id_max("project_id") == INT32_MAX  # integer


@pytest.mark.parametrize("username", ["admin", "nyb_clerk"])
def test_every_api_route_answers_an_id_beyond_its_column_with_404(demo, as_user, app, username):
    user = as_user(username)
    routes = id_routes(app, api=True)
    assert len(routes) > 20
    for rule, method in routes:
        for beyond in (lambda name: id_max(name) + 1, lambda name: 2**63, lambda name: "9" * 5000):
            response = send(user, method, url_of(rule, beyond))
            assert response.status_code == 404, (method, rule.rule, response.status_code)
            assert_error_json(response, 404)


@pytest.mark.parametrize("username", ["admin", "nyb_clerk"])
def test_the_largest_id_a_column_holds_reaches_the_view_and_is_no_500(demo, as_user, app, username):
    user = as_user(username)
    for rule, method in id_routes(app, api=True):
        for value_of in (id_max, lambda name: INT32_MAX + 1 if id_max(name) == INT64_MAX else INT32_MAX):
            response = send(user, method, url_of(rule, value_of))
            assert response.status_code < 500, (method, rule.rule, response.get_data(as_text=True))
            assert response.mimetype == "application/json"


def test_a_bigint_id_above_the_integer_range_is_looked_up_not_refused_by_the_router(demo, as_user):
    response = as_user("admin").get("/api/v1/instances/2147483648")
    assert_error_json(response, 404)
    assert body(response)["message"] == "申请不存在"


@pytest.mark.parametrize("url", [
    "/api/v1/instances/9223372036854775808", "/api/v1/indicators/2147483648", "/api/v1/projects/2147483648",
    "/api/v1/bank/batches/9223372036854775808/file", "/api/v1/tasks/9223372036854775808",
    "/api/v1/attachments/9223372036854775808"])
def test_the_reported_ids_are_404(demo, as_user, url):
    assert_error_json(as_user("admin").get(url), 404)


@pytest.mark.parametrize("url", ["/api/v1/cc/9223372036854775808/read", "/api/v1/tasks/9223372036854775808/claim",
                                 "/api/v1/tasks/9223372036854775808/complete"])
def test_the_reported_operations_on_ids_beyond_range_are_404(demo, as_user, url):
    assert_error_json(as_user("nyb_clerk").post(url, json={}), 404)


@pytest.mark.parametrize("path", ["/api/v1/instances", "/api/v1/tasks"])
@pytest.mark.parametrize("bound", ["amount_min", "amount_max"])
@pytest.mark.parametrize("amount", ["1e26", "10000000000000000", "1e999999999", "-1e26"])
def test_a_money_filter_beyond_what_money_columns_hold_is_a_400_naming_it(demo, as_user, path, bound, amount):
    response = as_user("admin").get(f"{path}?{bound}={amount}")
    assert_error_json(response, 400)
    assert list(body(response)["details"]) == [bound]


def test_a_money_filter_at_the_bound_is_accepted(demo, as_user):
    response = as_user("admin").get("/api/v1/instances?amount_min=0&amount_max=1000000000000000")
    assert response.status_code == 200


@pytest.mark.parametrize("query", ["page=" + "9" * 5000, "amount_min=" + "9" * 5000, "amount_max=1" + "0" * 5000])
def test_a_query_number_of_thousands_of_digits_is_a_400(demo, as_user, query):
    assert_error_json(as_user("admin").get(f"/api/v1/instances?{query}"), 400)


@pytest.mark.parametrize("path", ["/api/v1/instances", "/api/v1/tasks", "/api/v1/projects", "/api/v1/indicators"])
def test_a_nul_in_the_query_is_a_400_naming_the_parameter(demo, as_user, path):
    response = as_user("admin").get(f"{path}?q=%00")
    assert_error_json(response, 400)
    assert body(response)["details"] == {"q": ["不能包含空字符（U+0000）"]}


@pytest.mark.parametrize("url", ["/api/v1/townships/%00/settings", "/api/v1/townships/%00/holidays",
                                 "/api/v1/refdata/%00"])
def test_a_nul_in_the_path_names_nothing(demo, as_user, url):
    assert_error_json(as_user("admin").get(url), 404)


def test_a_nul_in_the_username_before_login_is_a_400(demo, client):
    response = client.post("/api/v1/auth/token", json={"username": "a\u0000", "password": "x"})
    assert_error_json(response, 400)
    assert body(response)["details"] == {"username": ["不能包含空字符（U+0000）"]}


@pytest.mark.parametrize("raw", ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000,
                                 '{"username": ' + "9" * 5000 + ', "password": "x"}',
                                 '{"username": "a", "password": 1.' + "5" * 5000 + "}"])
def test_json_too_deep_or_with_a_huge_number_is_a_400_before_login(demo, client, raw):
    response = client.post("/api/v1/auth/token", data=raw, content_type="application/json")
    assert_error_json(response, 400)
    assert body(response)["error"] == "validation_error"


def test_json_nested_as_deep_as_allowed_is_read(demo, client):
    raw = '{"username": "nobody", "password": "x", "extra": ' + "[" * 30 + "]" * 30 + "}"
    response = client.post("/api/v1/auth/token", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert "extra" in body(response)["details"]  # the schema speaks, not the decoder


def test_brackets_inside_strings_are_not_nesting(demo, client):
    raw = json.dumps({"username": "[" * 30 + '"' + "{" * 30, "password": "x"})  # with an escaped quote
    response = client.post("/api/v1/auth/token", data=raw, content_type="application/json")
    assert_error_json(response, 401)


def test_a_lone_surrogate_in_a_title_is_a_400_and_nothing_is_started(demo, as_user, db_session):
    raw = json.dumps({"process_id": "expense_claim", "data": {**CLAIM, "title": "报销\ud800"}})
    response = as_user("nyb_clerk").post("/api/v1/instances", data=raw, content_type="application/json")
    assert_error_json(response, 400)
    assert body(response)["details"] == {"data.title": ["包含无效的 Unicode 字符（不成对的代理项）"]}
    assert db_session.scalars(select(ProcessInstance)).all() == []


def test_a_nul_deep_in_form_data_is_a_400_and_nothing_is_started(demo, as_user, db_session):
    response = as_user("nyb_clerk").post("/api/v1/instances", json={
        "process_id": "expense_claim", "data": {**CLAIM, "payee": "镇供销社\u0000"}})
    assert_error_json(response, 400)
    assert body(response)["details"] == {"data.payee": ["不能包含空字符（U+0000）"]}
    assert db_session.scalars(select(ProcessInstance)).all() == []


def test_a_nul_in_a_json_key_is_a_400(demo, as_user):
    response = as_user("nyb_clerk").post("/api/v1/instances", json={"process_id": "expense_claim",
                                                                    "data": {"ti\u0000tle": "x"}})
    assert_error_json(response, 400)


# --- bidirectional controls: stripped -------------------------------------------------------------------

RLO_TITLE = "发票\u202egnp.exe"
ALL_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_bidi_controls_are_stripped_from_a_title_and_a_comment(demo, as_user, db_session):
    clerk = as_user("nyb_clerk")
    response = clerk.post("/api/v1/instances", json={"process_id": "expense_claim", "comment": f"请{ALL_BIDI}审批",
                                                     "data": {**CLAIM, "title": RLO_TITLE}})
    assert response.status_code == 201, response.get_data(as_text=True)
    started = body(response)
    assert started["title"] == "发票gnp.exe"
    db_session.expire_all()
    instance = db_session.get(ProcessInstance, started["id"])
    assert instance.title == "发票gnp.exe"
    shown = as_user("nyb_head").get(f"/api/v1/instances/{started['id']}").get_data(as_text=True)
    assert json.loads(shown)["title"] == "发票gnp.exe"
    assert "请审批" in shown and not BIDI_CONTROLS.search(shown)


def test_bidi_controls_are_stripped_from_a_comment_on_a_task_and_a_cc(demo, as_user, db_session):
    clerk = as_user("nyb_clerk")
    started = body(clerk.post("/api/v1/instances", json={"process_id": "expense_claim", "data": CLAIM}))
    head = as_user("nyb_head")
    [item] = body(head.get("/api/v1/tasks?view=todo"))["items"]
    task = item["task"]
    response = head.post(f"/api/v1/tasks/{task['id']}/comments", json={"comment": "同意\u202e付款\u2066"})
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    assert "同意付款" in response.get_data(as_text=True)
    response = head.post(f"/api/v1/tasks/{task['id']}/cc", json={"to": ["nyb_clerk"], "comment": "请\u200f阅"})
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    db_session.expire_all()
    comments = db_session.scalars(select(CarbonCopy.comment).where(CarbonCopy.instance_id == started["id"])).all()
    assert comments == ["请阅"]


def test_a_bidi_control_in_a_query_is_stripped_so_the_search_still_finds(demo, as_user):
    clerk = as_user("nyb_clerk")
    clerk.post("/api/v1/instances", json={"process_id": "expense_claim", "data": CLAIM})
    found = body(clerk.get("/api/v1/instances?q=%E2%80%AE%E5%8A%9E%E5%85%AC"))  # "\u202e办公"
    assert [i["title"] for i in found["items"]] == [CLAIM["title"]]
