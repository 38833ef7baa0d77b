"""A diagram that routes a rejection back to the applicant: each round is a fresh inbox row, the
history keeps every round, and the saved state does not grow with the rounds."""
import json

import pytest
from sqlalchemy import select

from app.engine import BpmnSource
from app.models import HumanTask, ProcessInstance, TaskState
from tests.integration.test_approval_flow import complete, the_task

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="fix_up" name="补正流程" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="l1" name="经办人"><bpmn:flowNodeRef>apply</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="l2" name="单位负责人"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="apply" name="填写申请"/>
    <bpmn:userTask id="review" name="审核">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="on_reject" value="route"/></spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" default="f_ok"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="apply"/>
    <bpmn:sequenceFlow id="f2" sourceRef="apply" targetRef="review"/>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="gw"/>
    <bpmn:sequenceFlow id="f_back" sourceRef="gw" targetRef="apply">
      <bpmn:conditionExpression>decision == "reject"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_ok" sourceRef="gw" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""
FORMS = {"apply": {"type": "object", "required": ["amount"],
                   "properties": {"amount": {"type": "number", "format": "money"}}},
         "review": {"type": "object", "properties": {}}}


@pytest.fixture
def fix_up(demo, tmp_path):
    from app.approvals.deploy import deploy_processes

    (tmp_path / "fix_up").mkdir()
    for task, form in FORMS.items():
        (tmp_path / "fix_up" / f"{task}.json").write_text(json.dumps(form))
    deploy_processes(demo, [BpmnSource("fix_up.bpmn", BPMN.encode())], forms_dir=tmp_path)


def state_size(db_session, instance_id):
    db_session.expire_all()
    return len(db_session.get(ProcessInstance, instance_id).state)


def test_a_rejection_routed_back_reaches_the_applicant_round_after_round(fix_up, as_user, db_session):
    clerk, head = as_user("nyb_clerk"), as_user("nyb_head")
    instance = clerk.post("/api/v1/instances", json={"process_id": "fix_up", "data": {"amount": 100}}).json
    sizes = []
    for round_ in range(1, 9):
        assert complete(head, the_task(head, instance["id"])["id"], decision="reject",
                        comment=f"第{round_}次补正").status_code == 200
        task = the_task(clerk, instance["id"])
        assert task["name"] == "填写申请" and task["assignee"]["username"] == "nyb_clerk"
        detail = clerk.get(f"/api/v1/tasks/{task['id']}").json
        assert detail["is_application"] is True and detail["data"]["amount"] == str(100 + round_ - 1) + ".00"
        response = clerk.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"amount": 100 + round_}})
        assert response.status_code == 200, response.json
        sizes.append(state_size(db_session, instance["id"]))
    assert complete(head, the_task(head, instance["id"])["id"]).json["instance"]["status"] == "approved"

    assert max(sizes) - min(sizes) < 200  # eight rounds, no growth
    rows = db_session.scalars(select(HumanTask).where(HumanTask.instance_id == instance["id"])
                              .order_by(HumanTask.id)).all()
    assert [r.bpmn_id for r in rows] == ["apply", "review"] + ["apply", "review"] * 8
    assert {r.state for r in rows} == {TaskState.COMPLETED}
    assert len({r.spiff_task_id for r in rows if r.bpmn_id == "apply"}) == 1  # the engine rewound its loop
    history = clerk.get(f"/api/v1/instances/{instance['id']}").json["history"]
    comments = [e["data"].get("comment") for e in history if e["type"] == "task_completed"
                and e["data"]["bpmn_id"] == "review"]
    assert comments == [f"第{i}次补正" for i in range(1, 9)] + ["同意"]
