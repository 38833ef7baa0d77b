"""抄送: an approver copies a request to colleagues in the township, or a BPMN step does it by role.

A copy gives its recipient a notification, a row in the 抄送我的 view (view=cc) and read access to the
request; 已阅 marks it read.
"""
import json
import threading

import pytest
from sqlalchemy import func, select

from app.engine import BpmnSource
from app.models import CarbonCopy, EventType, InstanceEvent, Notification, User
from tests.integration.test_approval_flow import complete, start_claim, the_task


def cc(api, task_id, to, comment="请知悉"):
    return api.post(f"/api/v1/tasks/{task_id}/cc", json={"to": to, "comment": comment})


def cc_view(api, query=""):
    response = api.get(f"/api/v1/tasks?view=cc{query}")
    assert response.status_code == 200, response.json
    return response.json["items"]


def counts(db_session, instance_id):
    """(copies, cc notifications, CC_SENT events) of one request."""
    db_session.expire_all()
    return (
        db_session.scalar(select(func.count()).where(CarbonCopy.instance_id == instance_id)),
        db_session.scalar(select(func.count()).where(Notification.instance_id == instance_id,
                                                     Notification.kind == "cc")),
        db_session.scalar(select(func.count()).where(InstanceEvent.instance_id == instance_id,
                                                     InstanceEvent.type == EventType.CC_SENT)),
    )


@pytest.fixture
def at_unit_head(demo, as_user):
    """A claim from 农业农村办 waiting at its unit head (assigned to nyb_head) and that head's task."""
    instance = start_claim(as_user("nyb_clerk"), title="购买农药喷雾器")
    head = as_user("nyb_head")
    return instance, the_task(head, instance["id"])


def test_an_approver_copies_a_request_and_the_recipients_are_told_and_may_read_it(at_unit_head, as_user,
                                                                                   db_session):
    instance, task = at_unit_head
    deputy = as_user("deputy")
    assert deputy.get(f"/api/v1/instances/{instance['id']}").status_code == 404

    response = cc(as_user("nyb_head"), task["id"], ["deputy", "zhenzhang"], "金额较大，请分管领导知悉")
    assert response.status_code == 200, response.json
    assert [u["username"] for u in response.json["copied"]] == ["deputy", "zhenzhang"]
    assert response.json["already_copied"] == []

    assert deputy.get(f"/api/v1/instances/{instance['id']}").status_code == 200
    [item] = cc_view(deputy)
    assert item["instance"]["id"] == instance["id"]
    assert item["task"] is None
    assert [t["name"] for t in item["current_tasks"]] == ["单位负责人审核"]
    assert item["cc"]["sent_by"]["username"] == "nyb_head"
    assert item["cc"]["comment"] == "金额较大，请分管领导知悉"
    assert item["cc"]["read_at"] is None
    [notice] = deputy.get("/api/v1/notifications").json["items"]
    assert (notice["kind"], notice["instance_id"], notice["body"]) == ("cc", instance["id"], "金额较大，请分管领导知悉")

    history = as_user("nyb_clerk").get(f"/api/v1/instances/{instance['id']}").json["history"]
    [event] = [e for e in history if e["type"] == EventType.CC_SENT]
    assert event["data"] == {"to": ["deputy", "zhenzhang"], "comment": "金额较大，请分管领导知悉"}
    assert (event["actor"]["username"], event["task_id"]) == ("nyb_head", task["id"])
    # copying gives no step: the copied do not get the task
    assert as_user("deputy").get("/api/v1/tasks?view=todo").json["items"] == []


def test_a_copy_is_marked_read_once_and_only_by_its_recipient(at_unit_head, as_user, db_session):
    instance, task = at_unit_head
    cc(as_user("nyb_head"), task["id"], ["deputy"])
    deputy = as_user("deputy")
    [item] = cc_view(deputy)
    copy_id = item["cc"]["id"]

    assert as_user("zhenzhang").post(f"/api/v1/cc/{copy_id}/read").status_code == 404
    assert as_user("nyb_head").post(f"/api/v1/cc/{copy_id}/read").status_code == 404
    first = deputy.post(f"/api/v1/cc/{copy_id}/read")
    assert first.status_code == 200, first.json
    assert first.json["read_at"] is not None and first.json["instance_id"] == instance["id"]
    again = deputy.post(f"/api/v1/cc/{copy_id}/read")
    assert again.json["read_at"] == first.json["read_at"]
    assert cc_view(deputy)[0]["cc"]["read_at"] == first.json["read_at"]
    assert deputy.post("/api/v1/cc/999999/read").status_code == 404


def test_those_copied_before_are_skipped_and_copying_only_them_again_is_refused(at_unit_head, as_user, db_session):
    instance, task = at_unit_head
    head = as_user("nyb_head")
    assert cc(head, task["id"], ["deputy"]).status_code == 200
    response = cc(head, task["id"], ["deputy", "zhenzhang"])
    assert response.status_code == 200
    assert [u["username"] for u in response.json["copied"]] == ["zhenzhang"]
    assert response.json["already_copied"] == ["deputy"]
    assert counts(db_session, instance["id"]) == (2, 2, 2)

    again = cc(head, task["id"], ["deputy"])
    assert again.status_code == 400
    assert "to" in again.json["details"]
    assert counts(db_session, instance["id"]) == (2, 2, 2)


def test_whoever_completed_the_task_may_still_copy_it(at_unit_head, as_user, db_session):
    instance, task = at_unit_head
    head = as_user("nyb_head")
    assert complete(head, task["id"]).status_code == 200
    response = cc(head, task["id"], ["deputy"])
    assert response.status_code == 200, response.json
    assert counts(db_session, instance["id"]) == (1, 1, 1)


def test_any_candidate_of_an_unclaimed_group_task_may_copy_but_not_once_another_has_claimed_it(demo, as_user,
                                                                                              db_session):
    instance = start_claim(as_user("swb_clerk"))
    head = as_user("swb_head")
    complete(head, the_task(head, instance["id"])["id"])
    task = the_task(as_user("cz_reviewer"), instance["id"])
    assert cc(as_user("cz_reviewer2"), task["id"], ["cz_head"]).status_code == 200
    assert as_user("cz_reviewer").post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    response = cc(as_user("cz_reviewer2"), task["id"], ["deputy"])
    assert response.status_code == 409
    assert counts(db_session, instance["id"]) == (1, 1, 1)


@pytest.mark.parametrize("username, status", [("cz_head", 403), ("nyb_clerk", 403), ("qs_reviewer", 404),
                                              ("deputy", 404)])
def test_someone_not_on_the_task_is_refused_and_nothing_is_written(at_unit_head, as_user, db_session, username,
                                                                  status):
    instance, task = at_unit_head
    response = cc(as_user(username), task["id"], ["zhenzhang"])
    assert response.status_code == status, response.json
    assert counts(db_session, instance["id"]) == (0, 0, 0)


def test_an_unknown_task_is_404(demo, as_user):
    assert cc(as_user("nyb_head"), 999999, ["deputy"]).status_code == 404


def test_unknown_inactive_and_out_of_township_usernames_are_named_and_nothing_is_written(at_unit_head, as_user,
                                                                                        db_session):
    instance, task = at_unit_head
    zhenzhang = db_session.scalar(select(User).where(User.username == "zhenzhang"))
    zhenzhang.active = False
    db_session.commit()
    response = cc(as_user("nyb_head"), task["id"], ["deputy", "nobody", "qs_clerk", "zhenzhang"])
    assert response.status_code == 400
    assert response.json["error"] == "validation_error"
    messages = response.json["details"]["to"]
    assert [m.split("：")[0] for m in messages] == ["nobody", "qs_clerk", "zhenzhang"]
    assert counts(db_session, instance["id"]) == (0, 0, 0)


def test_a_county_auditor_above_the_township_is_out_of_scope(at_unit_head, as_user, db_session):
    instance, task = at_unit_head
    response = cc(as_user("nyb_head"), task["id"], ["shenji"])
    assert response.status_code == 400
    assert response.json["details"]["to"][0].startswith("shenji")


@pytest.mark.parametrize("body, field", [
    ({"to": []}, "to"),
    ({"to": [f"user{i}" for i in range(21)]}, "to"),
    ({"comment": "请知悉"}, "to"),
    ({"to": "deputy"}, "to"),
    ({"to": ["deputy"], "comment": "长" * 2001}, "comment"),
    ({"to": ["nyb_head"]}, "to"),  # oneself
    ({"to": ["  "]}, "to"),
])
def test_a_bad_body_answers_400_naming_the_field_and_nothing_is_written(at_unit_head, as_user, db_session, body,
                                                                       field):
    instance, task = at_unit_head
    response = as_user("nyb_head").post(f"/api/v1/tasks/{task['id']}/cc", json=body)
    assert response.status_code == 400, response.json
    assert field in response.json["details"]
    assert counts(db_session, instance["id"]) == (0, 0, 0)


def test_the_cc_view_lists_newest_copy_first_and_honours_the_filters(demo, as_user, db_session):
    first = start_claim(as_user("nyb_clerk"), title="第一笔", amount=100)
    second = start_claim(as_user("nyb_clerk"), title="第二笔", amount=9000)
    head = as_user("nyb_head")
    for instance in (first, second):
        assert cc(head, the_task(head, instance["id"])["id"], ["deputy"]).status_code == 200
    deputy = as_user("deputy")
    assert [i["instance"]["title"] for i in cc_view(deputy)] == ["第二笔", "第一笔"]
    assert [i["instance"]["title"] for i in cc_view(deputy, "&sort=created_at")] == ["第一笔", "第二笔"]
    assert [i["instance"]["title"] for i in cc_view(deputy, "&q=第一")] == ["第一笔"]
    assert [i["instance"]["title"] for i in cc_view(deputy, "&amount_min=1000")] == ["第二笔"]
    assert cc_view(deputy, "&status=approved") == []
    page = deputy.get("/api/v1/tasks?view=cc&per_page=1&page=2").json
    assert (page["total"], [i["instance"]["title"] for i in page["items"]]) == (2, ["第一笔"])
    assert cc_view(as_user("zhenzhang")) == []


CC_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="{pid}" name="抄送测试" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="l1" name="经办人"><bpmn:flowNodeRef>apply</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="l2" name="单位负责人"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="apply" name="申请"/>
    <bpmn:serviceTask id="copy" name="抄送财政所">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="cc.send" resultVariable="cc_result">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="roles" type="str" value="{roles}"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:userTask id="review" name="审核"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="apply"/>
    <bpmn:sequenceFlow id="f2" sourceRef="apply" targetRef="copy"/>
    <bpmn:sequenceFlow id="f3" sourceRef="copy" targetRef="review"/>
    <bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""
CC_FORMS = {"apply": {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}},
            "review": {"type": "object", "properties": {}}}


def deploy_cc_process(demo, tmp_path, pid, roles):
    from app.approvals.deploy import deploy_processes

    (tmp_path / pid).mkdir()
    for task, form in CC_FORMS.items():
        (tmp_path / pid / f"{task}.json").write_text(json.dumps(form))
    xml = CC_BPMN.format(pid=pid, roles=roles)
    deploy_processes(demo, [BpmnSource(f"{pid}.bpmn", xml.encode())], forms_dir=tmp_path)


def test_a_bpmn_cc_step_copies_to_the_holders_of_its_roles(demo, as_user, tmp_path, db_session):
    deploy_cc_process(demo, tmp_path, "cc_step", "'finance_head, 镇长'")
    response = as_user("nyb_clerk").post("/api/v1/instances", json={"process_id": "cc_step",
                                                                    "data": {"title": "采购化肥"}})
    assert response.status_code == 201, response.json
    instance = response.json
    assert [t["name"] for t in instance["current_tasks"]] == ["审核"]
    [event] = [e for e in instance["history"] if e["type"] == EventType.CC_SENT]
    assert event["data"] == {"to": ["cz_head", "zhenzhang"], "comment": None}
    assert event["actor"] is None

    for username in ("cz_head", "zhenzhang"):
        api = as_user(username)
        [item] = cc_view(api)
        assert item["instance"]["id"] == instance["id"]
        assert item["cc"]["sent_by"] is None
        assert api.get(f"/api/v1/instances/{instance['id']}").status_code == 200
        assert [n["kind"] for n in api.get("/api/v1/notifications").json["items"]] == ["cc"]
    # zhenzhang has no oversight role and no task here: the copy alone lets him read it
    assert as_user("zhenzhang").get("/api/v1/tasks?view=todo").json["items"] == []
    head = as_user("nyb_head")
    detail = head.get(f"/api/v1/tasks/{the_task(head, instance['id'])['id']}").json
    assert detail["data"]["cc_result"] == {"copied": ["cz_head", "zhenzhang"]}


def test_a_cc_step_with_an_unknown_role_fails_the_step_and_saves_nothing(demo, as_user, tmp_path, db_session):
    from app.models import ProcessInstance

    # Computed, so the deploy-time check cannot see it; a literal is refused at deploy (next test).
    deploy_cc_process(demo, tmp_path, "cc_bad", "'finance_head,' + 'no_such_role'")
    response = as_user("nyb_clerk").post("/api/v1/instances", json={"process_id": "cc_bad",
                                                                    "data": {"title": "采购化肥"}})
    assert response.status_code == 422
    assert response.json["details"]["error_code"] == ["cc_bad_roles"]
    assert db_session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
    assert db_session.scalar(select(func.count()).select_from(CarbonCopy)) == 0


def test_a_cc_step_naming_an_unknown_role_is_refused_at_deploy(demo, tmp_path):
    from app.engine import InvalidBpmn

    with pytest.raises(InvalidBpmn) as refused:
        deploy_cc_process(demo, tmp_path, "cc_bad_literal", "'finance_head,no_such_role'")
    assert "no_such_role" in str(refused.value)


@pytest.mark.postgres
@pytest.mark.parametrize("attempt", range(5))
def test_a_copy_racing_the_completion_of_the_last_step_either_lands_before_it_or_is_refused(
        app, demo, as_user, db_session, attempt):
    instance = start_claim(as_user("swb_clerk"))
    head = as_user("swb_head")
    complete(head, the_task(head, instance["id"])["id"])
    task = the_task(as_user("cz_reviewer"), instance["id"])  # the last step: 1200.5 元 < 5000
    barrier = threading.Barrier(2)
    out = {}

    def run(name, token, path, body):
        client = app.test_client()
        barrier.wait()
        out[name] = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"}).status_code

    threads = [
        threading.Thread(target=run, args=("complete", as_user("cz_reviewer").token,
                                           f"/api/v1/tasks/{task['id']}/complete", {"decision": "approve"})),
        threading.Thread(target=run, args=("cc", as_user("cz_reviewer2").token, f"/api/v1/tasks/{task['id']}/cc",
                                           {"to": ["deputy"]})),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert out["complete"] == 200
    events = db_session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance["id"])
                                .order_by(InstanceEvent.seq)).all()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    types = [e.type for e in events]
    if out["cc"] == 200:  # the copy went first, on the still-open task
        assert counts(db_session, instance["id"]) == (1, 1, 1)
        assert types.index(EventType.CC_SENT) < types.index(EventType.INSTANCE_APPROVED)
    else:  # the completion went first: the task was done, nothing copied
        assert out["cc"] == 409
        assert counts(db_session, instance["id"]) == (0, 0, 0)
