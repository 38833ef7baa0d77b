"""Acting on a task that is not yours, not ready or already done; bad form data. Nothing changes."""
import pytest
from sqlalchemy import func, select

from app.models import HumanTask, InstanceEvent, ProcessInstance
from tests.integration.test_approval_flow import complete, start_claim, the_task


def snapshot(db_session, instance_id):
    """Everything a refused action must leave alone."""
    db_session.expire_all()
    instance = db_session.get(ProcessInstance, instance_id)
    tasks = db_session.execute(select(HumanTask.id, HumanTask.state, HumanTask.assignee_id)
                               .where(HumanTask.instance_id == instance_id).order_by(HumanTask.id)).all()
    events = db_session.scalar(select(func.count()).where(InstanceEvent.instance_id == instance_id))
    return instance.status, instance.lock_version, instance.state, tasks, events


@pytest.fixture
def waiting(demo, as_user):
    """A claim waiting for the 农业农村办 unit head."""
    instance = start_claim(as_user("nyb_clerk"))
    return instance, the_task(as_user("nyb_head"), instance["id"])


def test_another_units_head_cannot_even_see_the_task(waiting, as_user, db_session):
    instance, task = waiting
    before = snapshot(db_session, instance["id"])
    response = complete(as_user("swb_head"), task["id"])
    assert response.status_code == 404
    assert snapshot(db_session, instance["id"]) == before


def test_an_overseer_who_is_not_the_approver_is_forbidden(waiting, as_user, db_session):
    instance, task = waiting
    before = snapshot(db_session, instance["id"])
    response = complete(as_user("cz_head"), task["id"])
    assert response.status_code == 403
    assert response.json["message"] == "这不是你的任务"
    assert snapshot(db_session, instance["id"]) == before


def test_the_applicant_cannot_approve_their_own_request(waiting, as_user, db_session):
    instance, task = waiting
    before = snapshot(db_session, instance["id"])
    assert complete(as_user("nyb_clerk"), task["id"]).status_code == 403
    assert snapshot(db_session, instance["id"]) == before


def test_completing_twice_is_a_conflict(waiting, as_user, db_session):
    instance, task = waiting
    head = as_user("nyb_head")
    assert complete(head, task["id"]).status_code == 200
    before = snapshot(db_session, instance["id"])
    response = complete(head, task["id"])
    assert response.status_code == 409 and response.json["message"] == "该任务已办理"
    assert snapshot(db_session, instance["id"]) == before


def test_acting_on_a_finished_request_is_a_conflict(waiting, as_user, db_session):
    instance, task = waiting
    head = as_user("nyb_head")
    complete(head, task["id"], decision="reject")
    before = snapshot(db_session, instance["id"])
    assert complete(head, task["id"]).status_code == 409
    assert head.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 409
    assert snapshot(db_session, instance["id"]) == before


def test_a_task_that_does_not_exist_is_404(demo, as_user):
    assert complete(as_user("nyb_head"), 999999).status_code == 404
    assert as_user("nyb_head").get("/api/v1/tasks/999999").status_code == 404


@pytest.mark.parametrize("data,field", [
    ({"documents_complete": "yes"}, "data.documents_complete"),
    ({"budget_subject": "abc"}, "data.budget_subject"),
    ({"budget_subject": 30201}, "data.budget_subject"),
    ({"surprise": 1}, "data.surprise"),
    ({"decision": "approve"}, "data.decision"),
])
def test_bad_form_data_gets_field_messages_and_changes_nothing(demo, as_user, db_session, data, field):
    instance = start_claim(as_user("swb_clerk"))
    head = as_user("swb_head")
    complete(head, the_task(head, instance["id"])["id"])
    reviewer = as_user("cz_reviewer")
    task = the_task(reviewer, instance["id"])
    before = snapshot(db_session, instance["id"])
    response = complete(reviewer, task["id"], data=data)
    assert response.status_code == 400
    assert response.json["error"] == "validation_error"
    assert list(response.json["details"]) == [field]
    assert snapshot(db_session, instance["id"]) == before


@pytest.mark.parametrize("data,fields", [
    ({"title": "x", "amount": 10, "expense_type": "办公费", "payee": "p"}, {"data.title"}),
    ({"title": "购买纸张", "amount": -5, "expense_type": "办公费", "payee": "p"}, {"data.amount"}),
    ({"title": "购买纸张", "amount": 0.001, "expense_type": "办公费", "payee": "p"}, {"data.amount"}),
    ({"title": "购买纸张", "amount": "十二元", "expense_type": "办公费", "payee": "p"}, {"data.amount"}),
    ({"title": "购买纸张", "amount": "12.001", "expense_type": "办公费", "payee": "p"}, {"data.amount"}),
    ({"title": "购买纸张", "amount": 12}, {"data.expense_type", "data.payee"}),
    ({"title": "购买纸张", "amount": 12, "expense_type": "烟酒", "payee": "p"}, {"data.expense_type"}),
])
def test_a_bad_application_starts_nothing(demo, as_user, db_session, data, fields):
    response = as_user("nyb_clerk").post("/api/v1/instances", json={"process_id": "expense_claim", "data": data})
    assert response.status_code == 400
    assert set(response.json["details"]) == fields
    assert db_session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_starting_needs_the_applicants_role(demo, as_user, db_session):
    response = as_user("nyb_head").post("/api/v1/instances", json={"process_id": "expense_claim",
                                                                   "data": {"title": "x"}})
    assert response.status_code == 403
    assert "经办人" in response.json["message"]


def test_starting_on_an_org_where_one_is_not_a_clerk_is_refused_as_for_no_such_org(demo, as_user):
    data = {"title": "购买纸张", "amount": 12, "expense_type": "办公费", "payee": "p"}
    elsewhere = as_user("nyb_clerk").post("/api/v1/instances", json={
        "process_id": "expense_claim", "org": "SFZ-SWB", "data": data})
    nowhere = as_user("nyb_clerk").post("/api/v1/instances", json={
        "process_id": "expense_claim", "org": "SFZ-NOPE", "data": data})
    assert elsewhere.status_code == nowhere.status_code == 400
    assert "社会事务办" not in str(elsewhere.json)
    assert elsewhere.json["details"]["org"][0].startswith("没有代码为 SFZ-SWB")


def test_starting_an_unknown_process_is_404(demo, as_user):
    response = as_user("nyb_clerk").post("/api/v1/instances", json={"process_id": "lottery_payout", "data": {}})
    assert response.status_code == 404


def test_unknown_request_fields_are_refused(demo, as_user):
    response = as_user("nyb_clerk").post("/api/v1/instances", json={"process_id": "expense_claim", "x": 1})
    assert response.status_code == 400
    assert response.json["details"] == {"x": ["不认识的字段"]}
