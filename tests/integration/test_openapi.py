"""The OpenAPI document is valid and describes every endpoint, its input and its error shapes."""
import re

import pytest
from openapi_spec_validator import validate

UNAUTHENTICATED = {("/api/v1/auth/token", "post")}


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


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
        for code in codes - {"200", "201", "204", "default"}:
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
