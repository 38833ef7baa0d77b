"""What read_model finds in a BPMN file: lanes, tasks, operators, every snippet of Python, timers, outcomes."""
from pathlib import Path

import pytest

from app.engine import BpmnSource, read_model
from tests.unit.bpmn_builder import Bpmn, line_of

REPO = Path(__file__).resolve().parents[2]


def rich_process() -> Bpmn:
    return (
        Bpmn("rich", "丰富流程")
        .lane("lane_clerk", " clerk ", "start", "apply")
        .lane("lane_fin", "财政所审核", "review", "reserve", "gw")
        .start("start")
        .user_task("apply", "填写申请")
        .user_task("review", "审核", {"on_reject": "route", "form_title": "审核意见"})
        .user_task("loose", "无泳道")
        .service_task("reserve", "ledger.reserve", {"amount": "amount * 100", "memo": "'计划 ' + plan_no"},
                      result_variable="reservation", name="预留额度")
        .script_task("calc", "total = sum(x['amount'] for x in lines)", name="计算")
        .raw('<bpmn:userTask id="sign" name="会签"><bpmn:extensionElements>'
             "<spiffworkflow:preScript>signers = leaders</spiffworkflow:preScript>"
             "<spiffworkflow:postScript>signed = True</spiffworkflow:postScript>"
             "</bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics>"
             "<bpmn:completionCondition>decision == 'reject'</bpmn:completionCondition>"
             "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>")
        .plain_task("todo", "待定")
        .gateway("gw", default="f_small")
        .end("end_ok", "通过", outcome="approved")
        .end("end_no", "驳回", outcome="rejected")
        .end("end_plain")
        .timer("t_escalate", "review", "timeDuration", '"P2D"')
        .timer("t_remind", "review", "timeDuration", '"PT%dH" % sla_hours', interrupting=False)
        .timer("t_deadline", "apply", "timeDate", '"2026-03-31T17:00:00+08:00"')
        .timer("t_daily", "review", "timeCycle", '"R3/PT24H"', interrupting=False)
        .raw('<bpmn:callActivity id="call_sub" calledElement="ledger_sub"/>')
        .raw('<bpmn:callActivity id="call_sub_again" calledElement="ledger_sub"/>')
        .chain("start", "apply", "review", "reserve", "calc", "sign", "gw")
        .flow("gw", "end_ok", "amount < 5000", el_id="f_small")
        .flow("gw", "end_no", "amount >= 5000", el_id="f_big")
    )


@pytest.fixture(scope="module")
def doc():
    return rich_process()


@pytest.fixture(scope="module")
def model(doc):
    return read_model(BpmnSource("rich.bpmn", doc.bytes()))


def test_the_process_id_name_and_file_are_read(model):
    assert (model.process_id, model.name, model.file) == ("rich", "丰富流程", "rich.bpmn")


def test_lanes_are_listed_with_trimmed_names_and_lines(model, doc):
    assert [(lane.id, lane.name) for lane in model.lanes] == [("lane_clerk", "clerk"), ("lane_fin", "财政所审核")]
    assert model.lanes[1].line == line_of(doc.xml(), 'id="lane_fin"')


def test_user_tasks_carry_their_lane_name_line_and_properties(model, doc):
    assert set(model.user_tasks) == {"apply", "review", "loose", "sign"}
    review = model.user_tasks["review"]
    assert (review.name, review.kind, review.lane) == ("审核", "userTask", "财政所审核")
    assert review.properties == {"on_reject": "route", "form_title": "审核意见"}
    assert review.line == line_of(doc.xml(), 'id="review"')
    assert model.user_tasks["apply"].lane == "clerk"
    assert model.user_tasks["loose"].lane is None


def test_service_tasks_are_listed_with_their_operator(model):
    node, operator = model.service_tasks["reserve"]
    assert operator == "ledger.reserve"
    assert (node.id, node.name, node.lane) == ("reserve", "预留额度", "财政所审核")


def test_a_service_task_without_an_operator_has_an_empty_operator():
    doc = Bpmn("p").start().service_task("svc", None).end().chain("start", "svc", "end")
    model = read_model(BpmnSource("p.bpmn", doc.bytes()))
    assert model.service_tasks["svc"][1] == ""


def expressions_by_source(model):
    return {e.source: e for e in model.expressions}


def test_conditions_are_listed_as_eval_expressions_owned_by_their_flow(model):
    found = expressions_by_source(model)
    big = found["amount >= 5000"]
    assert (big.element.id, big.element.kind, big.mode) == ("f_big", "sequenceFlow", "eval")
    assert big.role == "条件表达式"
    assert found["amount < 5000"].element.id == "f_small"


def test_script_tasks_are_listed_as_exec_scripts(model):
    script = expressions_by_source(model)["total = sum(x['amount'] for x in lines)"]
    assert (script.element.id, script.element.kind, script.mode) == ("calc", "scriptTask", "exec")


def test_pre_and_post_scripts_and_completion_conditions_belong_to_their_task(model):
    found = expressions_by_source(model)
    assert (found["signers = leaders"].element.id, found["signers = leaders"].role,
            found["signers = leaders"].mode) == ("sign", "preScript", "exec")
    assert (found["signed = True"].element.id, found["signed = True"].role) == ("sign", "postScript")
    completion = found["decision == 'reject'"]
    assert (completion.element.id, completion.mode) == ("sign", "eval")


def test_service_parameters_are_eval_expressions_owned_by_the_service_task(model):
    found = expressions_by_source(model)
    amount = found["amount * 100"]
    assert amount.mode == "eval"
    assert "amount" in amount.role
    # The owner must be the bpmn:serviceTask, so lint can point at it (not the operator element inside it).
    assert amount.element.id == "reserve"
    assert amount.element.name == "预留额度"
    assert found["'计划 ' + plan_no"].element.id == "reserve"


def test_timer_expressions_are_not_listed_as_plain_expressions(model):
    assert '"P2D"' not in expressions_by_source(model)


def test_timers_carry_kind_expression_attachment_and_interrupting(model):
    timers = {t.element.id: t for t in model.timers}
    assert set(timers) == {"t_escalate", "t_remind", "t_deadline", "t_daily"}
    assert (timers["t_escalate"].kind, timers["t_escalate"].expression, timers["t_escalate"].attached_to,
            timers["t_escalate"].interrupting) == ("timeDuration", '"P2D"', "review", True)
    assert (timers["t_remind"].expression, timers["t_remind"].interrupting) == ('"PT%dH" % sla_hours', False)
    assert (timers["t_deadline"].kind, timers["t_deadline"].attached_to) == ("timeDate", "apply")
    assert (timers["t_daily"].kind, timers["t_daily"].interrupting) == ("timeCycle", False)


def test_a_timer_start_or_intermediate_event_has_no_attachment():
    doc = (Bpmn("p").start().raw('<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
                                 '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>'
                                 "</bpmn:intermediateCatchEvent>").end().chain("start", "wait", "end"))
    [timer] = read_model(BpmnSource("p.bpmn", doc.bytes())).timers
    assert (timer.element.id, timer.attached_to, timer.interrupting) == ("wait", None, True)


def test_called_process_ids_are_listed_once_and_sorted(model):
    assert model.called_process_ids == ["ledger_sub"]


def test_plain_tasks_are_listed(model):
    assert [(n.id, n.name, n.kind) for n in model.plain_tasks] == [("todo", "待定", "task")]


def test_the_application_task_is_the_user_task_after_the_start_event(model):
    assert model.application_task_id == "apply"


@pytest.mark.parametrize(
    "doc",
    [
        Bpmn("p").start().service_task("svc", "op").user_task("apply").end().chain("start", "svc", "apply", "end"),
        Bpmn("p").user_task("apply").end().chain("apply", "end"),
        Bpmn("p").start().plain_task("apply").end().chain("start", "apply", "end"),
    ],
    ids=["service task first", "no start event", "plain task first"],
)
def test_there_is_no_application_task_unless_a_user_task_follows_the_start(doc):
    assert read_model(BpmnSource("p.bpmn", doc.bytes())).application_task_id is None


def test_end_events_map_to_their_outcome_property_and_default_to_approved(model):
    assert model.end_outcomes == {"end_ok": "approved", "end_no": "rejected", "end_plain": "approved"}


def test_the_demo_expense_claim_is_read_as_documented():
    model = read_model(BpmnSource("expense_claim.bpmn", (REPO / "bpmn" / "expense_claim.bpmn").read_bytes()))
    assert model.process_id == "expense_claim"
    assert {k: v.lane for k, v in model.user_tasks.items()} == {
        "apply": "经办人", "unit_head_review": "单位负责人", "finance_review": "财政所审核",
        "township_head_approve": "镇长",
    }
    assert model.application_task_id == "apply"
    assert [(e.element.id, e.source) for e in model.expressions] == [("f_big", "amount >= 5000")]
    assert model.end_outcomes == {"end_approved": "approved"}
    assert model.service_tasks == {} and model.timers == [] and model.plain_tasks == []
