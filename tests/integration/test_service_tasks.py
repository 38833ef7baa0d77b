"""Service tasks run registered Python operators inside the step's transaction; failures become BPMN errors."""
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.engine import BpmnSource, ServiceError
from app.models import EventType, InstanceEvent, LoginAttempt, ProcessInstance
from tests.integration.test_approval_flow import complete, the_task

CALLS = []


def check_limit(call, amount, unit):
    """Test operator: records the call, writes a row in the caller's transaction, refuses big amounts."""
    from app import clock

    CALLS.append({"key": call.idempotency_key, "amount": amount, "unit": unit})
    call.context.session.add(LoginAttempt(username=f"op-{call.instance_key}", ip="op", at=clock.now(),
                                          succeeded=True))
    if amount > 10000:
        raise ServiceError("OVER_LIMIT", f"{unit} 超过限额：{amount}")
    return {"checked": True, "limit": Decimal("10000.00")}


def broken(call, **_):
    raise RuntimeError("ledger unreachable")


BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:error id="err_over" name="超过限额" errorCode="OVER_LIMIT"/>
  <bpmn:process id="{pid}" name="限额检查" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="l1" name="经办人"><bpmn:flowNodeRef>apply</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="l2" name="单位负责人"><bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>handle_over</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="apply" name="申请"/>
    <bpmn:serviceTask id="check" name="限额检查">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="check_result">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="amount" type="any" value="amount"/>
            <spiffworkflow:parameter id="unit" type="str" value="org"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    {boundary}
    <bpmn:userTask id="review" name="审核"/>
    <bpmn:userTask id="handle_over" name="处理超限"/>
    <bpmn:endEvent id="end"/>
    <bpmn:endEvent id="end_over">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="outcome" value="rejected"/></spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="apply"/>
    <bpmn:sequenceFlow id="f2" sourceRef="apply" targetRef="check"/>
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="review"/>
    <bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="end"/>
    <bpmn:sequenceFlow id="f5" sourceRef="handle_over" targetRef="end_over"/>
    {error_flow}
  </bpmn:process>
</bpmn:definitions>"""
BOUNDARY = """<bpmn:boundaryEvent id="over" name="超过限额" attachedToRef="check">
      <bpmn:errorEventDefinition {ref}/></bpmn:boundaryEvent>"""
FORMS = {"apply": {"type": "object", "required": ["amount"],
                   "properties": {"amount": {"type": "number", "format": "money"}}},
         "review": {"type": "object", "properties": {}}, "handle_over": {"type": "object", "properties": {}}}


@pytest.fixture
def app(make_app):
    CALLS.clear()
    app = make_app(EXTRA_OPERATORS={"test.check_limit": check_limit, "test.broken": broken})
    with app.app_context():
        yield app


def deploy(demo, tmp_path, pid, operator="test.check_limit", caught=True, catch_all=False):
    from app.approvals.deploy import deploy_processes

    boundary = BOUNDARY.format(ref="" if catch_all else 'errorRef="err_over"')
    xml = BPMN.format(pid=pid, operator=operator, boundary=boundary if caught else "",
                      error_flow='<bpmn:sequenceFlow id="f6" sourceRef="over" targetRef="handle_over"/>'
                      if caught else "")
    (tmp_path / pid).mkdir()
    for task, form in FORMS.items():
        (tmp_path / pid / f"{task}.json").write_text(json.dumps(form))
    deploy_processes(demo, [BpmnSource(f"{pid}.bpmn", xml.encode())], forms_dir=tmp_path)


def start(api, pid, amount):
    return api.post("/api/v1/instances", json={"process_id": pid, "data": {"amount": amount}})


def test_the_operator_gets_evaluated_parameters_and_its_result_flows_on(demo, as_user, tmp_path, db_session):
    deploy(demo, tmp_path, "limit_check")
    response = start(as_user("nyb_clerk"), "limit_check", 800)
    assert response.status_code == 201, response.json
    instance = response.json
    assert CALLS == [{"key": f"{instance['id']}:{CALLS[0]['key'].split(':')[1]}", "amount": Decimal("800.00"),
                      "unit": "SFZ-NYB"}]
    head = as_user("nyb_head")
    detail = head.get(f"/api/v1/tasks/{the_task(head, instance['id'])['id']}").json
    assert detail["data"]["check_result"] == {"checked": True, "limit": "10000.00"}
    assert [e["type"] for e in instance["history"]][-2:] == ["service_called", "task_created"]
    # the operator's own write is part of the step's transaction, committed with it
    assert db_session.scalar(select(func.count()).where(LoginAttempt.ip == "op")) == 1


def test_a_business_error_is_caught_by_the_boundary_event_and_routed(demo, as_user, tmp_path, db_session):
    deploy(demo, tmp_path, "limit_check")
    instance = start(as_user("nyb_clerk"), "limit_check", 20000).json
    assert [t["name"] for t in instance["current_tasks"]] == ["处理超限"]
    failed = [e for e in instance["history"] if e["type"] == EventType.SERVICE_FAILED]
    assert failed[0]["data"]["error_code"] == "OVER_LIMIT"
    assert "超过限额" in failed[0]["data"]["message"]
    # the failed operator's write was rolled back with its savepoint; the step itself went on
    assert db_session.scalar(select(func.count()).where(LoginAttempt.ip == "op")) == 0
    head = as_user("nyb_head")
    response = complete(head, the_task(head, instance["id"])["id"])
    assert response.json["instance"]["status"] == "rejected"


def test_a_boundary_for_another_error_code_does_not_catch(demo, as_user, tmp_path, db_session):
    deploy(demo, tmp_path, "limit_other", operator="test.broken")
    response = start(as_user("nyb_clerk"), "limit_other", 5)
    assert response.status_code == 422
    assert response.json["details"]["error_code"] == ["service_failed"]
    assert db_session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_an_uncaught_failure_fails_the_step_and_saves_nothing(demo, as_user, tmp_path, db_session):
    deploy(demo, tmp_path, "limit_strict", caught=False)
    response = start(as_user("nyb_clerk"), "limit_strict", 20000)
    assert response.status_code == 422
    assert response.json["error"] == "step_failed"
    assert response.json["details"]["element"] == ["check"]
    assert response.json["details"]["error_code"] == ["OVER_LIMIT"]
    assert db_session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
    assert db_session.scalar(select(func.count()).select_from(InstanceEvent)) == 0


def test_an_unexpected_exception_is_a_service_failed_bpmn_error(demo, as_user, tmp_path):
    deploy(demo, tmp_path, "limit_broken", operator="test.broken", catch_all=True)
    instance = start(as_user("nyb_clerk"), "limit_broken", 5).json
    failed = [e for e in instance["history"] if e["type"] == EventType.SERVICE_FAILED]
    assert failed[0]["data"]["error_code"] == "service_failed"
    assert "ledger unreachable" in failed[0]["data"]["message"]


def test_an_unregistered_operator_is_refused_at_deploy(demo, tmp_path):
    from app.engine import InvalidBpmn

    with pytest.raises(InvalidBpmn) as refused:
        deploy(demo, tmp_path, "limit_unknown", operator="ledger.teleport")
    [problem] = refused.value.problems
    assert (problem.element_id, problem.element_name) == ("check", "限额检查")
    assert "ledger.teleport" in problem.message
