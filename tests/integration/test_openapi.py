"""The OpenAPI document is valid and describes every endpoint, its input and its error shapes."""
import io
import json
import re

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.storage.filetypes import ALLOWED
from tests.integration.test_approval_flow import start_claim

UNAUTHENTICATED = {("/api/v1/auth/token", "post")}


@pytest.fixture
def app(make_app, files_dir):
    """Attachments uploaded here go to a temp store, never the repository's instance/."""
    app = make_app(ATTACHMENT_DIR=files_dir)
    with app.app_context():
        yield app


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return json.loads(response.get_data())  # plain JSON numbers, as a client reads the document


def api_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api-docs.openapi_json":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                yield path, method.lower()


def test_the_document_is_valid_openapi_3(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_every_api_route_is_documented(app, spec):
    routes = set(api_routes(app))
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops if method != "parameters"}
    assert routes == documented


def test_every_operation_documents_its_errors_in_one_shape(app, spec):
    error_schema = spec["components"]["schemas"]["Error"]
    assert set(error_schema["properties"]) >= {"error", "message", "details"}
    for path, method in api_routes(app):
        operation = spec["paths"][path][method]
        assert operation.get("summary") or operation.get("description"), (path, method)
        codes = set(operation["responses"])
        if (path, method) not in UNAUTHENTICATED:
            assert "401" in codes, (path, method)
        for code in {c for c in codes if c.startswith(("4", "5"))}:
            assert operation["responses"][code] == {"$ref": f"#/components/responses/{_status_name(code)}"}, \
                (path, method, code)


def test_bodies_and_queries_are_described(spec):
    complete = spec["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]
    body = complete["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("CompleteTaskRequest")
    schema = spec["components"]["schemas"]["CompleteTaskRequest"]
    assert schema["properties"]["decision"]["enum"] == ["approve", "reject", None]  # null: the applicant's step
    listing = spec["paths"]["/api/v1/tasks"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"view", "process", "status", "date_from", "date_to",
                                                         "amount_min", "amount_max", "q", "sort", "page",
                                                         "per_page"}
    deploy = spec["paths"]["/api/v1/process-definitions"]["post"]
    assert "multipart/form-data" in deploy["requestBody"]["content"]
    assert {"400", "403", "413", "422"} <= set(deploy["responses"])


def test_both_ways_of_authenticating_are_declared(spec):
    assert set(spec["components"]["securitySchemes"]) == {"bearerAuth", "cookieAuth"}


def _status_name(code: str) -> str:
    from http import HTTPStatus

    return HTTPStatus(int(code)).name


def test_who_a_proxy_acts_for_and_who_added_a_sub_task_are_documented_as_users(spec):
    schemas = spec["components"]["schemas"]
    for schema, field in (("TaskDetail", "acting_for"), ("TaskBrief", "added_by")):
        prop = schemas[schema]["properties"][field]
        assert {"$ref": "#/components/schemas/UserRef"} in prop["anyOf"], (schema, field)
        assert prop["description"], (schema, field)
    download = spec["paths"]["/api/v1/attachments/{attachment_id}"]["get"]
    assert download["responses"]["410"] == {"$ref": "#/components/responses/GONE"}
    assert "410" in download["description"]


def _properties(spec):
    for name, schema in spec["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            yield f"{name}.{field}", prop


def test_money_is_documented_as_the_decimal_string_it_is_sent_as(spec, demo, as_user):
    money = {where: prop for where, prop in _properties(spec) if "两位小数的字符串" in prop.get("description", "")}
    assert {"InstanceSummary.amount", "BalancesOut.available", "PaymentOut.amount", "GlRowOut.balance"} <= set(money)
    for where, prop in money.items():
        assert prop["type"] == "string", where
        assert all(re.fullmatch(prop["pattern"], text) for text in ("1200.00", "0.50", "-35.00")), where
        assert not any(re.fullmatch(prop["pattern"], text) for text in ("1200", "1200.5", "1e3", "")), where
    numbers = {where for where, prop in _properties(spec) if prop.get("type") == "number"}
    assert numbers == {"StepTimeOut.avg_hours", "StepTimeOut.p90_hours"}  # hours, not money

    clerk = as_user("nyb_clerk")
    started = start_claim(clerk)
    response = clerk.get(f"/api/v1/instances/{started['id']}")
    assert response.json["amount"] == "1200.50"
    detail = spec["paths"]["/api/v1/instances/{instance_id}"]["get"]["responses"]["200"]
    schema = detail["content"]["application/json"]["schema"]
    OAS30Validator({**schema, "components": spec["components"]}).validate(json.loads(response.get_data()))


def test_a_download_declares_each_type_it_is_served_with(spec, demo, as_user):
    download = spec["paths"]["/api/v1/attachments/{attachment_id}"]["get"]
    served = {kind.content_type.split(";")[0] for kind in ALLOWED.values()}
    assert set(download["responses"]["200"]["content"]) == served
    assert set(download["responses"]["206"]["content"]) == served
    assert {p["name"] for p in download["parameters"]} == {"If-None-Match", "Range"}

    clerk = as_user("nyb_clerk")
    task = start_claim(clerk)["current_tasks"][0]
    boundary, body = encode_multipart(MultiDict([("file", FileStorage(io.BytesIO("情况说明".encode()), "说明.txt"))]))
    uploaded = clerk.post(f"/api/v1/tasks/{task['id']}/attachments", data=body,
                          content_type=f"multipart/form-data; boundary={boundary}")
    assert uploaded.status_code == 201, uploaded.json
    for headers, status in (({}, "200"), ({"If-None-Match": f'"{uploaded.json["sha256"]}"'}, "304"),
                            ({"Range": "bytes=0-2"}, "206"), ({"Range": "bytes=900-"}, "416")):
        response = clerk.get(uploaded.json["url"], headers=headers)
        response.close()
        assert str(response.status_code) == status, (headers, response.status_code)
        assert status in download["responses"]
        if status in ("200", "206"):
            assert response.mimetype in download["responses"][status]["content"]


def test_every_body_may_be_refused_as_too_large_and_says_so(spec, make_app, files_dir, demo, as_user):
    bodies = [(path, method) for path, ops in spec["paths"].items() for method, op in ops.items()
              if method != "parameters" and "requestBody" in op]
    assert [(p, m) for p, m in bodies if "413" not in spec["paths"][p][m]["responses"]] == []

    small = make_app(ATTACHMENT_DIR=files_dir, MAX_CONTENT_LENGTH=1024).test_client()
    token = as_user("nyb_clerk").token
    response = small.post("/api/v1/proxies", json={"proxy": "x" * 2048},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 413
    assert set(response.json) >= {"error", "message", "details"}


def test_every_write_a_cookie_session_may_make_declares_the_csrf_refusal(app, spec, demo, client, db_session):
    from sqlalchemy import select

    from app.models import User

    writes = [(path, method) for path, method in api_routes(app) if method in ("post", "put", "delete")
              and spec["paths"][path][method].get("security") != [] and not path.startswith("/api/v1/auth/")]
    assert [(p, m) for p, m in writes if "400" not in spec["paths"][p][m]["responses"]] == []

    clerk = db_session.scalar(select(User).where(User.username == "nyb_clerk"))
    with client.session_transaction() as session:
        session["user_id"], session["session_version"] = clerk.id, clerk.session_version
    refused = client.post("/api/v1/notifications/read-all")  # no body, and still refused
    assert refused.status_code == 400 and refused.json["error"] == "csrf_failed"


def test_no_operation_hides_what_it_answers_behind_default(app, spec):
    # Each status the server gives is declared by the operation (tests/integration/test_fuzz.py checks that
    # against real answers); a catch-all `default` would make an undeclared one look documented.
    hidden = [(path, method) for path, method in api_routes(app)
              if "default" in spec["paths"][path][method]["responses"]]
    assert hidden == []
