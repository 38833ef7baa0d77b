"""The deploy-time lint: what only the app knows, each finding pointing at file, element and line."""
import json
from pathlib import Path

import pytest

from app.engine import BpmnSource, read_model
from app.processes.lint import lint_process
from tests.unit.bpmn_builder import Bpmn, approval, line_of

REPO = Path(__file__).resolve().parents[2]
FORM = {"type": "object", "properties": {}}
OPERATORS = {"ledger.reserve": object()}


def lint(doc: Bpmn, forms: dict | None = None, operators=OPERATORS, filename: str | None = None):
    model = read_model(BpmnSource(filename or f"{doc.process_id}.bpmn", doc.bytes()))
    if forms is None:
        forms = {task_id: FORM for task_id in model.user_tasks}
    return lint_process(model, forms, operators)


def the_finding(problems, element_id):
    found = [p for p in problems if p.element_id == element_id]
    assert len(found) == 1, problems
    return found[0]


def test_the_demo_expense_claim_lints_clean():
    forms = {p.stem: json.loads(p.read_text(encoding="utf-8"))
             for p in (REPO / "forms" / "expense_claim").glob("*.json")}
    model = read_model(BpmnSource("expense_claim.bpmn", (REPO / "bpmn" / "expense_claim.bpmn").read_bytes()))
    assert lint_process(model, forms, {}) == []


def test_a_small_correct_process_lints_clean():
    assert lint(approval()) == []


# -- lanes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["finance_reviewer", "财政所审核", " 镇长 "])
def test_a_lane_may_name_a_role_by_code_or_chinese_name(label):
    doc = (Bpmn("demo").lane("lane_clerk", "clerk", "start", "apply").lane("lane_x", label, "review")
           .start().user_task("apply").user_task("review").end().chain("start", "apply", "review", "end"))
    assert lint(doc) == []


def test_an_unknown_lane_role_is_reported_at_the_lane():
    doc = (Bpmn("demo").lane("lane_clerk", "clerk", "start", "apply").lane("lane_acc", "会计", "review")
           .start().user_task("apply").user_task("review").end().chain("start", "apply", "review", "end"))
    problem = the_finding(lint(doc), "lane_acc")
    assert (problem.file, problem.element_name) == ("demo.bpmn", "会计")
    assert problem.line == line_of(doc.xml(), 'id="lane_acc"')
    assert "'会计'" in problem.message and "finance_reviewer（财政所审核）" in problem.message


# -- user tasks -----------------------------------------------------------------------------------------


def test_a_user_task_without_a_form_is_reported():
    doc = approval()
    problem = the_finding(lint(doc, forms={"apply": FORM}), "review")
    assert (problem.file, problem.element_name) == ("demo.bpmn", "审核")
    assert problem.line == line_of(doc.xml(), 'id="review"')
    assert "forms/demo/review.json" in problem.message


def test_a_bad_form_schema_is_reported_at_its_task():
    problem = the_finding(lint(approval(), forms={"apply": FORM, "review": {"type": "object", "properties": {
        "decision": {"type": "string"}}}}), "review")
    assert "review.json" in problem.message and "保留字段" in problem.message


def test_a_user_task_outside_any_lane_is_reported():
    doc = approval().user_task("loose", "无人认领").flow("loose", "end")
    problem = the_finding(lint(doc), "loose")
    assert problem.element_name == "无人认领"
    assert problem.line == line_of(doc.xml(), 'id="loose"')
    assert "泳道" in problem.message


@pytest.mark.parametrize("value", ["end", "route"])
def test_on_reject_may_be_end_or_route(value):
    assert lint(approval(review_props={"on_reject": value})) == []


@pytest.mark.parametrize("value", ["back", "", "END"])
def test_a_bad_on_reject_value_is_reported(value):
    doc = approval(review_props={"on_reject": value})
    problem = the_finding(lint(doc), "review")
    assert "on_reject" in problem.message
    assert problem.line == line_of(doc.xml(), 'id="review"')


# -- service tasks and code -----------------------------------------------------------------------------


def with_service(operator, params=None) -> Bpmn:
    return (Bpmn("demo").lane("lane_clerk", "clerk", "start", "apply", "svc")
            .start().user_task("apply").service_task("svc", operator, params or {}, name="预留额度").end()
            .chain("start", "apply", "svc", "end"))


def test_a_registered_operator_lints_clean():
    assert lint(with_service("ledger.reserve", {"amount": "amount * 100"})) == []


def test_an_unregistered_operator_is_reported_with_the_registered_ones():
    doc = with_service("ledger.unknown")
    problem = the_finding(lint(doc), "svc")
    assert (problem.file, problem.element_name) == ("demo.bpmn", "预留额度")
    assert problem.line == line_of(doc.xml(), 'id="svc"')
    assert "'ledger.unknown'" in problem.message and "ledger.reserve" in problem.message


def test_a_service_task_without_an_operator_is_reported():
    problem = the_finding(lint(with_service(None)), "svc")
    assert "serviceTaskOperator" in problem.message


def test_a_condition_the_sandbox_refuses_is_reported_at_its_flow():
    doc = (Bpmn("demo").lane("lane_clerk", "clerk", "start", "apply", "gw", "end", "end_x")
           .start().user_task("apply").gateway("gw", default="f_ok").end("end").end("end_x")
           .chain("start", "apply", "gw")
           .flow("gw", "end_x", "__import__('os').system('id') == 0", el_id="f_evil")
           .flow("gw", "end", el_id="f_ok"))
    problem = the_finding(lint(doc), "f_evil")
    assert problem.file == "demo.bpmn"
    assert problem.line == line_of(doc.xml(), 'id="f_evil"')
    assert "__import__" in problem.message and "条件表达式" in problem.message


def test_a_script_the_sandbox_refuses_is_reported_at_its_task():
    doc = (Bpmn("demo").lane("lane_clerk", "clerk", "start", "apply", "calc")
           .start().user_task("apply").script_task("calc", "n = 0\nwhile True:\n    n += 1", name="计算").end()
           .chain("start", "apply", "calc", "end"))
    problem = the_finding(lint(doc), "calc")
    assert problem.element_name == "计算" and "while" in problem.message


def test_a_service_parameter_the_sandbox_refuses_is_reported_at_the_service_task():
    doc = with_service("ledger.reserve", {"cwd": "__import__('os').getcwd()"})
    problem = the_finding(lint(doc), "svc")
    assert problem.element_name == "预留额度"
    assert problem.line == line_of(doc.xml(), 'id="svc"')
    assert "__import__" in problem.message


@pytest.mark.parametrize(("kind", "expression", "hint"), [("timeDuration", "P2D", "引号"),
                                                          ("timeDuration", '"2 days"', "无法解析"),
                                                          ("timeDate", '"2026-03-31T17:00:00"', "时区")])
def test_a_bad_timer_is_reported_at_its_event(kind, expression, hint):
    doc = (approval().timer("t_late", "review", kind, expression, name="超时").end("end_late", outcome="rejected")
           .flow("t_late", "end_late"))
    problem = the_finding(lint(doc), "t_late")
    assert problem.element_name == "超时"
    assert problem.line == line_of(doc.xml(), 'id="t_late"')
    assert hint in problem.message


def test_a_good_timer_lints_clean():
    doc = (approval().timer("t_late", "review", "timeDuration", '"P2D"').end("end_late", outcome="rejected")
           .flow("t_late", "end_late"))
    assert lint(doc) == []


# -- money is never approved by a clock -------------------------------------------------------------------


def test_an_interrupting_timer_that_ends_the_request_approved_is_refused():
    doc = approval().timer("t_late", "review", "timeDuration", '"P2D"').end("end_late").flow("t_late", "end_late")
    assert "超时不得自动通过" in the_finding(lint(doc), "t_late").message


def test_a_timer_path_through_a_business_service_step_is_refused():
    doc = (approval().timer("t_late", "review", "timeDuration", '"P2D"', interrupting=False)
           .service_task("svc", "ledger.reserve").end("end_late").chain("t_late", "svc", "end_late"))
    assert "服务任务 svc" in the_finding(lint(doc), "t_late").message


def test_a_reminder_after_a_non_interrupting_timer_is_allowed():
    doc = (approval().timer("t_late", "review", "timeCycle", '"R/P1D"', interrupting=False)
           .service_task("remind", "deadline.remind", {"task": "'review'"}).end("end_late")
           .chain("t_late", "remind", "end_late"))
    assert lint(doc, operators={**OPERATORS, "deadline.remind": object()}) == []


def test_an_interrupting_timer_back_to_a_person_is_allowed():
    doc = (approval().timer("t_late", "review", "timeDuration", '"P2D"').flow("t_late", "apply"))
    assert lint(doc) == []


# -- process shape --------------------------------------------------------------------------------------


def test_a_plain_task_is_reported():
    doc = approval().plain_task("todo", "待定").flow("todo", "end")
    problem = the_finding(lint(doc), "todo")
    assert problem.element_name == "待定"
    assert problem.line == line_of(doc.xml(), 'id="todo"')
    assert "bpmn:task" in problem.message


def test_a_file_name_that_does_not_match_the_process_id_is_reported():
    problems = lint(approval(), filename="claims/other_name.bpmn")
    [problem] = problems
    assert problem.file == "claims/other_name.bpmn"
    assert "demo.bpmn" in problem.message


def test_a_file_name_in_a_folder_matching_the_process_id_is_fine():
    assert lint(approval(), filename="deploy/2026/demo.bpmn") == []


def service_first() -> Bpmn:
    return (Bpmn("demo").lane("lane_clerk", "clerk", "start", "svc", "apply")
            .start("start", "发起").service_task("svc", "ledger.reserve").user_task("apply").end()
            .chain("start", "svc", "apply", "end"))


def test_a_start_event_not_followed_by_a_user_task_is_reported():
    [problem] = lint(service_first())
    assert problem.file == "demo.bpmn"
    assert "用户任务" in problem.message


def test_the_start_event_finding_points_at_the_start_event():
    doc = service_first()
    [problem] = lint(doc)
    assert (problem.element_id, problem.element_name) == ("start", "发起")
    assert problem.line == line_of(doc.xml(), 'id="start"')


@pytest.mark.parametrize("outcome", ["approved", "rejected"])
def test_end_event_outcomes_approved_and_rejected_are_accepted(outcome):
    doc = approval().end("end_2", outcome=outcome)
    assert lint(doc) == []


@pytest.mark.parametrize("outcome", ["maybe", "", "Approved"])
def test_a_bad_end_event_outcome_is_reported_at_the_end_event(outcome):
    problem = the_finding(lint(approval().end("end_odd", "奇怪的结束", outcome=outcome)), "end_odd")
    assert problem.file == "demo.bpmn"
    assert repr(outcome) in problem.message


def test_the_end_event_outcome_finding_carries_the_events_name_and_line():
    doc = approval().end("end_odd", "奇怪的结束", outcome="maybe")
    problem = the_finding(lint(doc), "end_odd")
    assert problem.element_name == "奇怪的结束"
    assert problem.line == line_of(doc.xml(), 'id="end_odd"')


def test_every_problem_in_a_file_is_reported_together():
    doc = (Bpmn("demo").lane("lane_acc", "会计", "start", "apply")
           .start().user_task("apply").user_task("loose").plain_task("todo").service_task("svc", "nope").end()
           .chain("start", "apply", "svc", "end").flow("loose", "end").flow("todo", "end"))
    problems = lint(doc, forms={})
    assert {p.element_id for p in problems} >= {"lane_acc", "apply", "loose", "todo", "svc"}
    assert all(p.file == "demo.bpmn" for p in problems)


def test_a_cc_step_naming_an_unknown_role_is_refused_at_deploy():
    doc = (approval().service_task("copy", "cc.send", {"roles": "'finance_head,mayor'"}, name="抄送")
           .flow("review", "copy"))
    problem = the_finding(lint(doc, operators={"cc.send": object()}), "copy")
    assert "mayor" in problem.message and problem.element_name == "抄送"


def test_a_cc_step_with_known_roles_passes():
    doc = approval().service_task("copy", "cc.send", {"roles": "'finance_head,镇长'"}).flow("review", "copy")
    assert [p for p in lint(doc, operators={"cc.send": object()}) if p.element_id == "copy"] == []
