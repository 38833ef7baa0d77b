"""What a BPMN file means, apart from its bytes: a modeler's save of the same process means the same, an edit
of what runs does not, and the layout cannot change how a process runs."""
from pathlib import Path

import pytest

from app.config import ROOT
from app.engine import BpmnSource, Engine, parse_bundle
from app.engine.canonical import semantic_form, semantic_hash
from app.engine.validation import schema_problems
from app.engine.xmlsafe import load_bpmn_xml
from tests.bpmn import variants

REAL = sorted((ROOT / "bpmn").glob("*.bpmn"))
CLAIM = (ROOT / "bpmn" / "expense_claim.bpmn").read_bytes()


def meaning(xml: bytes) -> str:
    return semantic_hash(load_bpmn_xml(xml, "x.bpmn"))


@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_a_resave_by_another_modeler_means_the_same_though_every_byte_moved(path: Path):
    xml = path.read_bytes()
    resaved = variants.resave(xml)
    assert resaved != xml and b"bpmn2:process" in resaved and b"\r\n" in resaved
    assert meaning(resaved) == meaning(xml)
    assert schema_problems(load_bpmn_xml(resaved, path.name), path.name) == []  # still a valid file
    assert meaning(variants.move_shape(xml, "start", 300)) == meaning(xml)


def test_incoming_and_outgoing_only_repeat_the_flows_and_do_not_count():
    # bpmn-js writes them into a file that had none; SpiffWorkflow reads the flows' sourceRef/targetRef.
    stripped = b"\n".join(line for line in CLAIM.splitlines() if b"<bpmn:incoming>" not in line
                          and b"<bpmn:outgoing>" not in line)
    assert meaning(stripped) == meaning(CLAIM)


@pytest.mark.parametrize("edit", [
    lambda x: variants.rename(x, "unit_head_review", "部门负责人审核"),
    lambda x: x.replace(b"amount &gt;= 5000", b"amount &gt;= 8000"),
    lambda x: x.replace('任一环节驳回即结束'.encode(), '驳回即结束'.encode()),
    lambda x: x.replace(b'<spiffworkflow:property name="due_working_days" value="3"/>',
                        b'<spiffworkflow:property name="due_working_days" value="4"/>'),
    lambda x: x.replace(b'targetRef="finance_review"', b'targetRef="township_head_approve"'),
], ids=["a task's name", "a condition", "the documentation", "a property", "where a flow leads"])
def test_an_edit_of_what_runs_or_what_people_read_is_a_change_of_meaning(edit):
    edited = edit(CLAIM)
    assert edited != CLAIM
    assert meaning(edited) != meaning(CLAIM)


def test_the_semantic_form_is_canonical_xml_without_the_diagram():
    form = semantic_form(load_bpmn_xml(CLAIM, "x.bpmn"))
    assert "BPMNDiagram" not in form and "Bounds" not in form and "exporter" not in form
    assert 'id="gw_amount"' in form and "amount &gt;= 5000" in form


def overlapping_conditions(xml: bytes) -> bytes:
    """gw_amount with two conditions true for 6000: which flow wins is decided by their order."""
    return xml.replace(b'default="f_small"', b"").replace(
        b'<bpmn:sequenceFlow id="f_small" name="&lt; 5000 \xe5\x85\x83" sourceRef="gw_amount" '
        b'targetRef="end_approved" />',
        b'<bpmn:sequenceFlow id="f_small" sourceRef="gw_amount" targetRef="end_approved">'
        b"<bpmn:conditionExpression>amount &gt; 0</bpmn:conditionExpression></bpmn:sequenceFlow>")


def route_of_6000(xml: bytes) -> list[str]:
    engine = Engine({})
    run = engine.start(parse_bundle(BpmnSource("expense_claim.bpmn", xml)), instance_key="1", data={})
    for step in ("apply", "unit_head_review", "finance_review"):
        [task] = [t for t in run.ready_tasks() if t.bpmn_id == step]
        run.complete(task.spiff_id, {"amount": 6000})
    return [t.bpmn_id for t in run.ready_tasks()]


def test_the_layout_cannot_change_where_a_gateway_sends_a_request():
    # SpiffWorkflow orders a gateway's outgoing flows by the y of their targets in the diagram; the engine
    # is given no diagram, so the file's order decides and moving a shape changes nothing.
    xml = overlapping_conditions(CLAIM)
    assert b"amount &gt; 0" in xml
    assert route_of_6000(xml) == ["township_head_approve"]
    moved = variants.move_shape(variants.move_shape(xml, "township_head_approve", -500), "end_approved", 500)
    assert meaning(moved) == meaning(xml)
    assert route_of_6000(moved) == ["township_head_approve"]
