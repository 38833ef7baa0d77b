"""A BPMN file that deploys also runs: each variant of a real file, drawn as bpmn-js draws it, is either
refused at deploy with the element named, or deployed and then started and decided to the end as the
demo users, without a server error."""
import json

import pytest
from sqlalchemy import func, select

from app.config import ROOT
from app.models import HumanTask, ProcessDefinition
from tests.bpmn import variants
from tests.integration.processes import act, my_task
from tests.integration.test_deploy_bad_input import upload, versions

CLAIM = (ROOT / "bpmn" / "expense_claim.bpmn").read_bytes()
APPLICATION = {"title": "购买办公用品", "amount": 1200, "expense_type": "办公费", "payee": "镇供销社"}
EMPTY_FORM = json.dumps({"type": "object", "properties": {}}).encode()


def start(api):
    return api.post("/api/v1/instances", json={"process_id": "expense_claim", "data": APPLICATION})


def decide_to_the_end(as_user, instance_id):
    """The unit head and the finance office approve; the claim (under 5000) is then approved."""
    for username, data in (("nyb_head", {}), ("cz_reviewer", {"documents_complete": True})):
        api = as_user(username)
        response = act(api, my_task(api, instance_id)["id"], data=data)
        assert response.status_code == 200, response.json
    return as_user("nyb_clerk").get(f"/api/v1/instances/{instance_id}").json


def refused(as_user, db_session, xml, forms=None):
    before = versions(db_session)
    response = upload(as_user("liucheng"), xml, forms=forms)
    assert response.status_code == 422, response.json
    assert response.json["error"] == "invalid_bpmn"
    assert versions(db_session) == before
    return response.json


# -- start events ------------------------------------------------------------------------------------


def test_a_message_start_event_is_refused_at_deploy_naming_it(demo, as_user, db_session):
    body = refused(as_user, db_session, variants.with_message_start(CLAIM))
    [problem] = body["problems"]
    assert (problem["element_id"], problem["element_name"]) == ("start", "提出报销")
    assert problem["line"] > 1 and "消息开始事件" in problem["message"]


def test_a_version_with_a_message_start_deployed_before_the_check_answers_422_not_500(demo, as_user, db_session):
    # Stored as the deploy of before this check did: the row is there, the start event waits for a message.
    latest = db_session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == "expense_claim"))
    db_session.add(ProcessDefinition(
        process_id="expense_claim", version=2, name=latest.name, sha256="0" * 64, filename=latest.filename,
        bpmn_xml=variants.with_message_start(CLAIM).decode(), forms=latest.forms, starter_role=latest.starter_role,
        called_process_ids=[], deployed_at=latest.deployed_at))
    db_session.commit()
    response = start(as_user("nyb_clerk"))
    assert response.status_code == 422, response.json
    assert response.json["details"]["element"] == ["start"]
    assert "开始事件" in response.json["message"]
    assert db_session.scalar(select(func.count()).select_from(HumanTask)) == 0


# -- subprocesses and transactions in a lane ---------------------------------------------------------


@pytest.mark.parametrize("kind", ["subProcess", "transaction"])
def test_a_user_task_inside_a_subprocess_in_a_lane_is_that_lanes_and_runs_to_the_end(demo, as_user, db_session,
                                                                                     kind):
    xml = variants.wrap_in_subprocess(CLAIM, "unit_head_review", kind=kind)
    assert b"<bpmn:flowNodeRef>unit_head_review<" not in xml  # bpmn-js lists only the subprocess
    response = upload(as_user("liucheng"), xml)
    assert response.status_code == 201, response.json
    started = start(as_user("nyb_clerk"))
    assert started.status_code == 201, started.json
    [task] = started.json["current_tasks"]
    assert (task["bpmn_id"], task["role"], task["assignee"]["username"]) == ("unit_head_review", "unit_head",
                                                                           "nyb_head")
    detail = decide_to_the_end(as_user, started.json["id"])
    assert detail["status"] == "approved"
    rows = db_session.scalars(select(HumanTask.bpmn_process_id).where(HumanTask.bpmn_id == "unit_head_review"))
    assert set(rows) == {"expense_claim"}  # the file's process, whose forms and lanes it uses


def test_a_return_from_after_a_subprocess_reopens_the_task_inside_it(demo, as_user):
    assert upload(as_user("liucheng"), variants.wrap_in_subprocess(CLAIM, "unit_head_review")).status_code == 201
    instance = start(as_user("nyb_clerk")).json
    head, reviewer = as_user("nyb_head"), as_user("cz_reviewer")
    assert act(head, my_task(head, instance["id"])["id"]).status_code == 200
    task = my_task(reviewer, instance["id"])
    response = reviewer.post(f"/api/v1/tasks/{task['id']}/return",
                             json={"target": "unit_head_review", "comment": "请单位负责人再看"})
    assert response.status_code == 200, response.json
    assert my_task(head, instance["id"])["bpmn_id"] == "unit_head_review"
    assert decide_to_the_end(as_user, instance["id"])["status"] == "approved"


def test_a_nested_task_listed_in_another_lane_than_its_subprocess_is_refused(demo, as_user, db_session):
    xml = variants.wrap_in_subprocess(CLAIM, "unit_head_review")
    xml = xml.replace(b"<bpmn:flowNodeRef>township_head_approve</bpmn:flowNodeRef>",
                      b"<bpmn:flowNodeRef>township_head_approve</bpmn:flowNodeRef>"
                      b"<bpmn:flowNodeRef>unit_head_review</bpmn:flowNodeRef>")
    [problem] = refused(as_user, db_session, xml)["problems"]
    assert problem["element_id"] == "unit_head_review" and "sub_review" in problem["message"]


# -- event subprocesses --------------------------------------------------------------------------------


@pytest.mark.parametrize("trigger", ["timer", "message"])
def test_an_event_subprocess_is_refused_at_deploy_naming_it(demo, as_user, db_session, trigger):
    xml = variants.with_event_subprocess(CLAIM, "财政所审核", trigger=trigger)
    body = refused(as_user, db_session, xml, forms={"supplement.json": EMPTY_FORM})
    assert [(p["element_id"], p["line"] > 1) for p in body["problems"]] == [("evt_sub", True)]
    assert "事件子流程" in body["problems"][0]["message"]


# -- what SpiffWorkflow would fail on at run time ------------------------------------------------------


def test_a_multi_instance_over_missing_data_fails_the_step_with_422_not_500(demo, as_user, db_session):
    # Deploys (the list is task data, unknown at deploy); reaching the step without it is a bare TypeError
    # inside SpiffWorkflow (spiffworkflow.md §9 #15).
    xml = variants.with_data_loop(CLAIM, "finance_review", "reviewers")
    response = upload(as_user("liucheng"), xml)
    assert response.status_code == 201, response.json
    instance = start(as_user("nyb_clerk")).json
    head = as_user("nyb_head")
    response = act(head, my_task(head, instance["id"])["id"])
    assert response.status_code == 422, response.json
    assert response.json["error"] == "step_failed"
    assert my_task(head, instance["id"])["bpmn_id"] == "unit_head_review"  # nothing saved


# -- every problem at once, in Chinese, at its element and line -----------------------------------------


def test_a_call_to_a_process_not_deployed_names_the_call_activity_and_its_line(demo, as_user, db_session):
    xml = CLAIM.replace(b'targetRef="finance_review"', b'targetRef="call_audit"').replace(
        b'<bpmn:sequenceFlow id="f_fin"',
        b'<bpmn:callActivity id="call_audit" name="\xe5\xae\xa1\xe8\xae\xa1" calledElement="audit_review"/>\n'
        b'    <bpmn:sequenceFlow id="f_audit" sourceRef="call_audit" targetRef="finance_review"/>\n'
        b'    <bpmn:sequenceFlow id="f_fin"')
    body = refused(as_user, db_session, xml)
    [problem] = [p for p in body["problems"] if p["element_id"] == "call_audit"]
    assert problem["element_name"] == "审计" and problem["line"] > 1
    assert "audit_review" in problem["message"] and "尚未部署" in problem["message"]


def test_schema_errors_come_all_together_in_chinese_with_our_own_findings(demo, as_user, db_session):
    xml = (CLAIM.replace(b'<bpmn:userTask id="apply" name=', b'<bpmn:userTask id="apply" isCollection="true" name=')
           .replace(b'<bpmn:exclusiveGateway id="gw_amount"', b'<bpmn:exclusiveGateway gatewayDirection="Sideways"'
                    b' id="gw_amount"')
           .replace('name="镇长"'.encode(), b'name="Mayor"'))
    body = refused(as_user, db_session, xml)
    by_element = {p["element_id"]: p for p in body["problems"]}
    assert by_element["apply"]["message"] == "元素 userTask 不允许有属性 isCollection"
    assert "attribute 'isCollection' is not allowed" in by_element["apply"]["detail"]
    assert "gatewayDirection" in by_element["gw_amount"]["message"] and "Sideways" in by_element["gw_amount"]["message"]
    assert "Mayor" in by_element["lane_head"]["message"]  # our own lane check is not hidden by the schema's
    assert all(p["line"] > 1 for p in body["problems"])


def test_an_engine_error_is_translated_and_does_not_hide_the_other_problems(demo, as_user, db_session):
    # A user task with two outgoing flows (SpiffWorkflow's "Multiple outgoing flows are not supported…")
    # and a service task without an operator, plus a lane that names no role.
    xml = (CLAIM.replace(b'<bpmn:sequenceFlow id="f_start"',
                         b'<bpmn:sequenceFlow id="f_twice" sourceRef="apply" targetRef="finance_review" />\n'
                         b'    <bpmn:sequenceFlow id="f_start"')
           .replace('name="镇长"'.encode(), b'name="Mayor"'))
    body = refused(as_user, db_session, xml)
    by_element = {p["element_id"]: p for p in body["problems"]}
    assert "多条流出的顺序流" in by_element["apply"]["message"]
    assert by_element["apply"]["detail"].startswith("Multiple outgoing flows are not supported")
    assert by_element["apply"]["line"] > 1
    assert "Mayor" in by_element["lane_head"]["message"]


# -- other engines' extensions ----------------------------------------------------------------------------


def test_camunda_extensions_deploy_with_a_warning_naming_the_element(demo, as_user):
    response = upload(as_user("liucheng"), variants.with_camunda(CLAIM, "finance_review"))
    assert response.status_code == 201, response.json
    [warning] = response.json["warnings"]
    assert (warning["element_id"], warning["line"] > 1) == ("finance_review", True)
    for name in ("camunda:assignee", "camunda:candidateGroups", "camunda:formKey", "camunda:properties"):
        assert name in warning["message"]
    assert "泳道" in warning["message"] and "forms/" in warning["message"]
    started = start(as_user("nyb_clerk"))
    assert decide_to_the_end(as_user, started.json["id"])["status"] == "approved"  # the lane decides, not camunda


def test_the_cli_shows_the_warnings(demo, app, tmp_path):
    path = tmp_path / "expense_claim.bpmn"
    path.write_bytes(variants.with_camunda(CLAIM, "finance_review"))
    result = app.test_cli_runner().invoke(args=["bpmn", "deploy", str(path)])
    assert result.exit_code == 0, result.output
    assert "expense_claim\tv2\t新版本" in result.output
    assert "警告：" in result.output and "[finance_review 财政所审核]" in result.output


def test_a_return_from_inside_a_subprocess_reaches_the_applicant(demo, as_user):
    assert upload(as_user("liucheng"), variants.wrap_in_subprocess(CLAIM, "unit_head_review")).status_code == 201
    instance = start(as_user("nyb_clerk")).json
    head, clerk = as_user("nyb_head"), as_user("nyb_clerk")
    task = my_task(head, instance["id"])
    targets = head.get(f"/api/v1/tasks/{task['id']}/return-targets").json
    assert [t["bpmn_id"] for t in targets] == ["apply"]
    response = head.post(f"/api/v1/tasks/{task['id']}/return", json={"target": "apply", "comment": "请补发票"})
    assert response.status_code == 200, response.json
    resubmit = act(clerk, my_task(clerk, instance["id"])["id"], decision=None, data=APPLICATION)
    assert resubmit.status_code == 200, resubmit.json
    assert decide_to_the_end(as_user, instance["id"])["status"] == "approved"
