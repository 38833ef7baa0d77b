"""A demo expense claim through the API: start, approve step by step, reject, and what history keeps."""
import pytest

CLAIM = {"title": "购买办公用品", "amount": 1200.5, "expense_type": "办公费", "payee": "镇供销社"}


def start_claim(api, **overrides):
    response = api.post("/api/v1/instances", json={"process_id": "expense_claim", "data": {**CLAIM, **overrides}})
    assert response.status_code == 201, response.json
    return response.json


def todo(api):
    response = api.get("/api/v1/tasks?view=todo")
    assert response.status_code == 200, response.json
    return response.json["items"]


def complete(api, task_id, decision="approve", comment="同意", data=None):
    return api.post(f"/api/v1/tasks/{task_id}/complete",
                    json={"decision": decision, "comment": comment, "data": data or {}})


def the_task(api, instance_id):
    [item] = [i for i in todo(api) if i["instance"]["id"] == instance_id]
    return item["task"]


def test_a_claim_under_the_threshold_goes_unit_head_then_finance_and_is_approved(demo, as_user):
    clerk = as_user("nyb_clerk")
    instance = start_claim(clerk)
    assert instance["status"] == "running"
    assert instance["amount"] == "1200.50"
    assert instance["org"]["code"] == "SFZ-NYB"
    assert [t["name"] for t in instance["current_tasks"]] == ["单位负责人审核"]

    head = as_user("nyb_head")
    assert complete(head, the_task(head, instance["id"])["id"]).status_code == 200
    reviewer = as_user("cz_reviewer")
    response = complete(reviewer, the_task(reviewer, instance["id"])["id"], data={"documents_complete": True})
    assert response.status_code == 200, response.json
    assert response.json["instance"]["status"] == "approved"
    assert response.json["next_tasks"] == []

    detail = clerk.get(f"/api/v1/instances/{instance['id']}").json
    assert [(e["type"], (e["data"] or {}).get("bpmn_id")) for e in detail["history"]] == [
        ("instance_started", None),
        ("task_completed", "apply"),
        ("task_created", "unit_head_review"),
        ("task_completed", "unit_head_review"),
        ("task_created", "finance_review"),
        ("task_completed", "finance_review"),
        ("instance_approved", None),
    ]
    assert [e["seq"] for e in detail["history"]] == list(range(1, 8))
    assert detail["history"][5]["actor"]["username"] == "cz_reviewer"
    assert detail["history"][5]["data"]["data"] == {"documents_complete": True}


def test_a_claim_at_the_threshold_also_needs_the_township_head(demo, as_user):
    instance = start_claim(as_user("xx_clerk"), amount=5000)
    for username in ("xx_head", "cz_reviewer"):
        api = as_user(username)
        assert complete(api, the_task(api, instance["id"])["id"]).status_code == 200
    head = as_user("zhenzhang")
    task = the_task(head, instance["id"])
    assert task["name"] == "镇长审批"
    assert complete(head, task["id"]).json["instance"]["status"] == "approved"


def test_a_rejection_ends_the_request_and_nobody_has_it_any_more(demo, as_user):
    clerk, head = as_user("swb_clerk"), as_user("swb_head")
    instance = start_claim(clerk)
    response = complete(head, the_task(head, instance["id"])["id"], decision="reject", comment="事由不清")
    assert response.status_code == 200
    assert response.json["instance"]["status"] == "rejected"
    assert todo(head) == []
    detail = clerk.get(f"/api/v1/instances/{instance['id']}").json
    assert detail["current_tasks"] == []
    assert detail["history"][-1]["type"] == "instance_rejected"
    assert detail["history"][-2]["data"]["comment"] == "事由不清"


def test_the_approver_sees_the_application_as_the_tasks_data_and_its_own_form(demo, as_user):
    instance = start_claim(as_user("nyb_clerk"))
    head = as_user("nyb_head")
    detail = head.get(f"/api/v1/tasks/{the_task(head, instance['id'])['id']}").json
    assert detail["can_act"] is True and detail["is_application"] is False
    assert detail["data"]["title"] == CLAIM["title"]
    assert detail["data"]["amount"] == "1200.50"
    assert detail["form"]["title"] == "单位负责人审核"


@pytest.mark.parametrize("decision", [None, "maybe"])
def test_an_approval_step_needs_approve_or_reject(demo, as_user, decision):
    instance = start_claim(as_user("nyb_clerk"))
    head = as_user("nyb_head")
    task = the_task(head, instance["id"])
    response = complete(head, task["id"], decision=decision)
    assert response.status_code == 400
    assert "decision" in response.json["details"]
    assert the_task(head, instance["id"])["state"] == "ready"
