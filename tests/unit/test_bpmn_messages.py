"""The XML schema's and SpiffWorkflow's English, in Chinese for process owners, every finding at its element."""
import pytest

from app.engine import BpmnSource, InvalidBpmn, parse_bundle
from app.engine.messages import SCHEMA_FALLBACK, SPIFF_FALLBACK, schema_message, spiff_message
from app.engine.validation import schema_problems
from app.engine.xmlsafe import load_bpmn_xml
from tests.unit.bpmn_builder import approval, line_of

M = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


@pytest.mark.parametrize("english,chinese", [
    (f"Element '{M}userTask', attribute 'isCollection': The attribute 'isCollection' is not allowed.",
     "元素 userTask 不允许有属性 isCollection"),
    (f"Element '{M}sequenceFlow': The attribute 'sourceRef' is required but missing.",
     "元素 sequenceFlow 缺少必填属性 sourceRef"),
    (f"Element '{M}process', attribute 'isExecutable': 'yes' is not a valid value of the atomic type 'xs:boolean'.",
     "元素 process 的属性 isExecutable 的值 'yes' 不是合法的布尔值（true 或 false）"),
    (f"Element '{M}foo': This element is not expected. Expected is one of ( {M}documentation, {M}laneSet ).",
     "元素 foo 不应出现在这里；此处可以是：documentation、laneSet"),
])
def test_schema_messages_are_translated(english, chinese):
    assert schema_message(english) == chinese


@pytest.mark.parametrize("english,chinese", [
    ("A Service Task must have an operator", "服务任务缺少操作名（spiffworkflow:serviceTaskOperator）"),
    ("Multiple outgoing flows are not supported for tasks of type",
     "这个任务有多条流出的顺序流；要分支请在任务后面加一个网关"),
    ("When looking for a task spec, we found two items, perhaps a form has the same ID? (nowhere)",
     "顺序流指向的元素 nowhere 不存在（或不在同一个流程、子流程里）"),
    ("Exactly one start event is required in a SubWorkflow Task; found 2.", "子流程须恰好有一个开始事件，实际有 2 个"),
])
def test_engine_messages_are_translated(english, chinese):
    assert spiff_message(english) == chinese


def test_an_unknown_message_gets_a_chinese_sentence_and_keeps_the_original_as_detail():
    assert schema_message("Element 'x': Something new in libxml2.") == SCHEMA_FALLBACK
    assert spiff_message("Something new in SpiffWorkflow") == SPIFF_FALLBACK
    doc = approval().flow("review", "apply")  # a user task with two outgoing flows
    with pytest.raises(InvalidBpmn) as info:
        parse_bundle(BpmnSource("demo.bpmn", doc.bytes()))
    [problem] = info.value.problems
    assert problem.detail.startswith("Multiple outgoing flows") and "网关" in problem.message
    assert str(problem).endswith(f"（原文：{problem.detail}）")


def test_every_schema_violation_is_reported_with_its_element_and_line():
    doc = (approval().raw('<bpmn:userTask id="extra" isCollection="true"/>')
           .raw('<bpmn:exclusiveGateway id="gw" gatewayDirection="Sideways"/>'))
    xml = doc.xml()
    problems = schema_problems(load_bpmn_xml(doc.bytes(), "demo.bpmn"), "demo.bpmn")
    assert [(p.element_id, p.line) for p in problems] == [
        ("extra", line_of(xml, 'id="extra"')), ("gw", line_of(xml, 'id="gw"'))]
    assert all(p.detail and p.message != p.detail for p in problems)
    with pytest.raises(InvalidBpmn) as info:
        parse_bundle(BpmnSource("demo.bpmn", doc.bytes()))
    assert len(info.value.problems) == 2  # SpiffWorkflow's validator would have stopped at the first
