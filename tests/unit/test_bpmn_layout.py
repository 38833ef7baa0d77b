"""scripts/dev/bpmn_layout.py: fresh BPMN DI for a process written by hand, the process left untouched."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from tests.unit.bpmn_builder import Bpmn

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "dev" / "bpmn_layout.py"
EXPENSE = REPO / "bpmn" / "expense_claim.bpmn"


def _load_script():
    spec = importlib.util.spec_from_file_location("bpmn_layout", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


layout = _load_script()
BPMN, BPMNDI, DC, DI = layout.BPMN, layout.BPMNDI, layout.DC, layout.DI
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


# -- the processes laid out ------------------------------------------------------------------------------

def expense_without_di(keep_collaboration: bool = True) -> bytes:
    root = etree.fromstring(EXPENSE.read_bytes(), PARSER)
    for el in root.findall(q(BPMNDI, "BPMNDiagram")) + ([] if keep_collaboration else
                                                          root.findall(q(BPMN, "collaboration"))):
        root.remove(el)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def loop_back() -> Bpmn:
    """Review can return the claim to the applicant: a cycle back to the first task."""
    return (Bpmn("loop_back", "退回重填")
            .lane("lane_clerk", "经办人", "start", "apply")
            .lane("lane_fin", "财政所审核", "review", "gw", "end")
            .start("start", "提出").user_task("apply", "填写申请").user_task("review", "审核")
            .gateway("gw", default="f_ok", name="通过？").end("end", "结束")
            .chain("start", "apply", "review", "gw")
            .flow("gw", "end", el_id="f_ok")
            .flow("gw", "apply", condition="decision == 'return'", el_id="f_return"))


def parallel() -> Bpmn:
    """Split into three branches (one waits on a timer) and join again; no lanes at all."""
    return (Bpmn("parallel", "并行会签")
            .start("start")
            .raw('<bpmn:parallelGateway id="split"/>')
            .user_task("a", "单位负责人会签")
            .service_task("b", "send_notice", {"to": "'clerk'"}, name="发通知")
            .user_task("c", "财政所会签")
            .raw('<bpmn:intermediateCatchEvent id="wait" name="等一小时"><bpmn:timerEventDefinition>'
                 '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>'
                 '</bpmn:intermediateCatchEvent>')
            .raw('<bpmn:parallelGateway id="join"/>')
            .end("end")
            .chain("start", "split", "a", "join", "end")
            .chain("split", "b", "join")
            .chain("split", "c", "wait", "join"))


def boundary_timer() -> Bpmn:
    """Two timers on one task; the interrupting one escalates to the township head in another lane."""
    return (Bpmn("escalation", "超时上报")
            .lane("lane_fin", "财政所审核", "start", "review", "t_late", "t_remind", "end", "remind")
            .lane("lane_head", "镇长", "escalate", "end_escalated")
            .start("start").user_task("review", "审核")
            .timer("t_late", "review", "timeDuration", '"P3D"', name="三天未办")
            .timer("t_remind", "review", "timeDuration", '"P1D"', interrupting=False)
            .user_task("escalate", "镇长督办").script_task("remind", "reminded = True", "提醒")
            .end("end").end("end_escalated", "已上报")
            .chain("start", "review", "end")
            .chain("t_late", "escalate", "end_escalated")
            .raw('<bpmn:endEvent id="end_reminded"/>')
            .chain("t_remind", "remind", "end_reminded"))


def two_lanes_back_and_forth() -> Bpmn:
    """The work goes clerk, finance, clerk, finance, clerk, and may start again from the first task."""
    return (Bpmn("ping_pong", "往返")
            .lane("lane_a", "经办人", "start", "a1", "a2", "end")
            .lane("lane_b", "财政所", "b1", "b2", "gw")
            .start("start").user_task("a1", "申请").user_task("b1", "初审").user_task("a2", "补充材料")
            .user_task("b2", "复审").gateway("gw", default="f_done").end("end")
            .chain("start", "a1", "b1", "a2", "b2", "gw")
            .flow("gw", "end", el_id="f_done")
            .flow("gw", "a1", condition="decision == 'again'", el_id="f_again"))


def subprocess_and_call() -> Bpmn:
    """A subprocess and a call activity; the nodes after it are in no lane."""
    return (Bpmn("nested", "嵌套")
            .lane("lane_a", "经办人", "start", "sub")
            .start("start")
            .raw('<bpmn:subProcess id="sub" name="内部审核"><bpmn:startEvent id="s_start"/>'
                 '<bpmn:task id="s_task" name="核对"/><bpmn:endEvent id="s_end"/>'
                 '<bpmn:sequenceFlow id="s_f1" sourceRef="s_start" targetRef="s_task"/>'
                 '<bpmn:sequenceFlow id="s_f2" sourceRef="s_task" targetRef="s_end"/></bpmn:subProcess>')
            .raw('<bpmn:callActivity id="call" name="调用记账" calledElement="ledger"/>')
            .end("end")
            .chain("start", "sub", "call", "end"))


CASES = {
    "expense_claim": (expense_without_di, "expense_claim", set()),
    "expense_claim_no_collaboration": (lambda: expense_without_di(False), "expense_claim", set()),
    "loop_back": (lambda: loop_back().bytes(), "loop_back", {"f_return"}),
    "parallel": (lambda: parallel().bytes(), "parallel", set()),
    "boundary_timer": (lambda: boundary_timer().bytes(), "escalation", set()),
    "two_lanes": (lambda: two_lanes_back_and_forth().bytes(), "ping_pong", {"f_again"}),
    "subprocess": (lambda: subprocess_and_call().bytes(), "nested", set()),
}


# -- reading the result ----------------------------------------------------------------------------------

def bounds(el):
    b = el.find(q(DC, "Bounds"))
    return layout.Box(*(int(float(b.get(k))) for k in ("x", "y", "width", "height")))


def inside(inner, outer) -> bool:
    return (outer.x <= inner.x and inner.right <= outer.right
            and outer.y <= inner.y and inner.bottom <= outer.bottom)


def overlap(a, b) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def on_border(point, box) -> bool:
    x, y = point
    on_x = box.x <= x <= box.right and y in (box.y, box.bottom)
    on_y = box.y <= y <= box.bottom and x in (box.x, box.right)
    return on_x or on_y


def canonical(el) -> bytes:
    """C14N with the indentation dropped, so re-indenting does not count as a change."""
    for node in el.iter():
        if node.text is not None and not node.text.strip() and len(node):
            node.text = None
        if node.tail is not None and not node.tail.strip():
            node.tail = None
    return etree.tostring(el, method="c14n")


def main_plane(root):
    collaboration = root.find(q(BPMN, "collaboration"))
    planes = [p for p in root.iter(q(BPMNDI, "BPMNPlane")) if p.get("bpmnElement") == collaboration.get("id")]
    assert len(planes) == 1
    return planes[0]


def flow_nodes(container):
    return [el for el in container if isinstance(el.tag, str) and etree.QName(el).namespace == BPMN
            and etree.QName(el).localname in layout.FLOW_NODES]


def run(data: bytes) -> tuple[bytes, etree._Element]:
    out = layout.layout_bytes(data)
    return out, etree.fromstring(out, PARSER)


@pytest.fixture(params=sorted(CASES))
def case(request):
    make, process_id, back_edges = CASES[request.param]
    source = make()
    out, root = run(source)
    return source, out, root, process_id, back_edges


# -- what every layout must satisfy ----------------------------------------------------------------------

def test_the_result_still_passes_spiffworkflows_validator(case):
    _, out, root, process_id, _ = case
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_xml(root.getroottree(), filename="x.bpmn")
    assert parser.get_spec(process_id) is not None


def test_the_process_and_everything_but_the_di_is_unchanged(case):
    source, _, root, process_id, _ = case
    before = etree.fromstring(source, PARSER)
    assert canonical(root.find(q(BPMN, "process"))) == canonical(before.find(q(BPMN, "process")))
    had_collaboration = before.find(q(BPMN, "collaboration")) is not None
    skipped = {q(BPMNDI, "BPMNDiagram")} | (set() if had_collaboration else {q(BPMN, "collaboration")})
    assert [canonical(el) for el in root if el.tag not in skipped] == \
        [canonical(el) for el in before if el.tag not in skipped]
    assert dict(root.attrib) == dict(before.attrib)


def test_one_collaboration_with_one_participant_for_the_process(case):
    _, _, root, process_id, _ = case
    process = root.find(q(BPMN, "process"))
    (collaboration,) = root.findall(q(BPMN, "collaboration"))
    (participant,) = collaboration.findall(q(BPMN, "participant"))
    assert participant.get("processRef") == process_id
    assert participant.get("name") == process.get("name")
    assert root.index(collaboration) < root.index(process)


def test_every_flow_node_has_one_shape_inside_its_lane_and_the_pool(case):
    _, _, root, _, _ = case
    process, plane = root.find(q(BPMN, "process")), main_plane(root)
    shapes: dict[str, list] = {}
    for shape in plane.iter(q(BPMNDI, "BPMNShape")):
        shapes.setdefault(shape.get("bpmnElement"), []).append(bounds(shape))
    assert all(len(found) == 1 for found in shapes.values())
    participant = root.find(f"{q(BPMN, 'collaboration')}/{q(BPMN, 'participant')}")
    pool = shapes[participant.get("id")][0]
    for node in flow_nodes(process):
        assert inside(shapes[node.get("id")][0], pool), node.get("id")
    for lane in process.iter(q(BPMN, "lane")):
        band = shapes[lane.get("id")][0]
        assert inside(band, pool)
        for ref in lane.iterfind(q(BPMN, "flowNodeRef")):
            assert inside(shapes[ref.text][0], band), (ref.text, lane.get("id"))
    known = {el.get("id") for el in root.iter() if el.get("id")}
    assert set(shapes) <= known


def test_no_two_shapes_overlap_except_a_boundary_event_on_its_host(case):
    _, _, root, _, _ = case
    process, plane = root.find(q(BPMN, "process")), main_plane(root)
    hosts = {el.get("id"): el.get("attachedToRef") for el in process.iter(q(BPMN, "boundaryEvent"))}
    boxes = {s.get("bpmnElement"): bounds(s) for s in plane.iter(q(BPMNDI, "BPMNShape"))}
    nodes = [n.get("id") for n in flow_nodes(process)]
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            if hosts.get(a) != b and hosts.get(b) != a:
                assert not overlap(boxes[a], boxes[b]), (a, b)


def test_every_sequence_flow_is_an_orthogonal_edge_from_its_source_to_its_target(case):
    _, _, root, _, _ = case
    process, plane = root.find(q(BPMN, "process")), main_plane(root)
    boxes = {s.get("bpmnElement"): bounds(s) for s in plane.iter(q(BPMNDI, "BPMNShape"))}
    edges = {}
    for edge in plane.iter(q(BPMNDI, "BPMNEdge")):
        assert edge.get("bpmnElement") not in edges
        edges[edge.get("bpmnElement")] = [(int(w.get("x")), int(w.get("y"))) for w in edge.iter(q(DI, "waypoint"))]
    for flow in process.iter(q(BPMN, "sequenceFlow")):
        if flow.getparent() is not process:
            continue
        points = edges[flow.get("id")]
        assert len(points) >= 2
        assert all(a[0] == b[0] or a[1] == b[1] for a, b in zip(points, points[1:], strict=False))
        assert on_border(points[0], boxes[flow.get("sourceRef")])
        assert on_border(points[-1], boxes[flow.get("targetRef")])


def test_forward_flows_go_right_and_back_edges_run_below_the_pool(case):
    _, _, root, _, back_edges = case
    process, plane = root.find(q(BPMN, "process")), main_plane(root)
    hosts = {el.get("id"): el.get("attachedToRef") for el in process.iter(q(BPMN, "boundaryEvent"))}
    boxes = {s.get("bpmnElement"): bounds(s) for s in plane.iter(q(BPMNDI, "BPMNShape"))}
    pool = boxes[root.find(f"{q(BPMN, 'collaboration')}/{q(BPMN, 'participant')}").get("id")]
    edges = {e.get("bpmnElement"): [int(w.get("y")) for w in e.iter(q(DI, "waypoint"))]
             for e in plane.iter(q(BPMNDI, "BPMNEdge"))}
    for flow in process.iterfind(q(BPMN, "sequenceFlow")):
        source = hosts.get(flow.get("sourceRef"), flow.get("sourceRef"))
        if flow.get("id") in back_edges:
            assert max(edges[flow.get("id")]) > pool.bottom
        else:
            assert boxes[flow.get("targetRef")].x > boxes[source].right, flow.get("id")
            assert max(edges[flow.get("id")]) < pool.bottom


def test_laying_out_twice_gives_the_same_bytes(case):
    _, out, _, _, _ = case
    assert layout.layout_bytes(out) == out


def test_standard_sizes_and_markers(case):
    _, _, root, _, _ = case
    process, plane = root.find(q(BPMN, "process")), main_plane(root)
    shapes = {s.get("bpmnElement"): s for s in plane.iter(q(BPMNDI, "BPMNShape"))}
    for node in flow_nodes(process):
        kind, shape = etree.QName(node).localname, shapes[node.get("id")]
        size = (bounds(shape).w, bounds(shape).h)
        if kind in layout.EVENTS:
            assert size == (36, 36)
        elif kind in layout.GATEWAYS:
            assert size == (50, 50)
            assert (shape.get("isMarkerVisible") == "true") == (kind == "exclusiveGateway")
        else:
            assert size == (120, 80)
            assert (shape.get("isExpanded") == "false") == (kind in layout.SUBPROCESSES)


# -- particular cases ------------------------------------------------------------------------------------

def test_the_loop_back_is_the_only_back_edge_and_does_not_stretch_the_layers():
    graph = layout.read_graph(etree.fromstring(loop_back().bytes(), PARSER).find(q(BPMN, "process")))
    back = layout.find_back_edges(graph)
    assert back == {"f_return"}
    assert layout.assign_layers(graph, back) == {"start": 0, "apply": 1, "review": 2, "gw": 3, "end": 4}


def test_a_lane_grows_to_hold_the_branches_stacked_in_one_layer():
    _, root = run(parallel().bytes())
    boxes = {s.get("bpmnElement"): bounds(s) for s in main_plane(root).iter(q(BPMNDI, "BPMNShape"))}
    assert boxes["a"].x == boxes["b"].x == boxes["c"].x
    assert boxes["Participant_parallel"].h >= 3 * 80
    assert boxes["split"].cy == boxes["join"].cy == boxes["b"].cy  # the middle branch runs straight


def test_boundary_events_sit_apart_on_the_bottom_edge_of_their_host():
    _, root = run(boundary_timer().bytes())
    plane = main_plane(root)
    boxes = {s.get("bpmnElement"): bounds(s) for s in plane.iter(q(BPMNDI, "BPMNShape"))}
    review = boxes["review"]
    for timer in ("t_late", "t_remind"):
        assert boxes[timer].cy == review.bottom and review.x <= boxes[timer].cx <= review.right
    assert not overlap(boxes["t_late"], boxes["t_remind"])
    edge = next(e for e in plane.iter(q(BPMNDI, "BPMNEdge")) if e.get("bpmnElement") == "flow_3")
    first = edge.find(q(DI, "waypoint"))
    assert (int(first.get("x")), int(first.get("y"))) == (boxes["t_late"].cx, boxes["t_late"].bottom)


def test_a_collapsed_subprocess_gets_its_own_plane_for_drilling_down():
    _, root = run(subprocess_and_call().bytes())
    planes = {p.get("bpmnElement"): p for p in root.iter(q(BPMNDI, "BPMNPlane"))}
    assert set(planes) == {"Collaboration_nested", "sub"}
    inner = {s.get("bpmnElement") for s in planes["sub"].iter(q(BPMNDI, "BPMNShape"))}
    assert inner == {"s_start", "s_task", "s_end"}
    assert {e.get("bpmnElement") for e in planes["sub"].iter(q(BPMNDI, "BPMNEdge"))} == {"s_f1", "s_f2"}


def test_stale_di_is_replaced_not_merged():
    stale = EXPENSE.read_bytes().replace(b'x="620" y="390"', b'x="9999" y="9999"')
    assert layout.layout_bytes(stale) == layout.layout_bytes(expense_without_di())
    assert len(etree.fromstring(layout.layout_bytes(stale), PARSER).findall(q(BPMNDI, "BPMNDiagram"))) == 1


def test_named_flows_and_gateways_get_a_label():
    _, root = run(EXPENSE.read_bytes())
    labelled = {el.get("bpmnElement") for el in main_plane(root)
                if el.find(q(BPMNDI, "BPMNLabel")) is not None}
    assert {"f_big", "f_small", "gw_amount"} <= labelled
    assert "f_fin" not in labelled


def test_comments_cdata_and_foreign_attributes_survive_as_written():
    source = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- 手写的流程 -->\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:custom="urn:township:custom" id="d" targetNamespace="urn:t">'
        '<bpmn:process id="p" name="手写" isExecutable="true">'
        '<bpmn:documentation>第一行\n    缩进的第二行  </bpmn:documentation><!-- 开始 -->'
        '<bpmn:startEvent id="start" custom:owner="财政所"/>'
        '<bpmn:scriptTask id="calc" scriptFormat="python"><bpmn:script><![CDATA[if a < b and c > d:\n    x = 1]]>'
        '</bpmn:script></bpmn:scriptTask><bpmn:endEvent id="end"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="calc"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="calc" targetRef="end"/>'
        '</bpmn:process></bpmn:definitions>'
    ).encode()
    out, root = run(source)
    text = out.decode()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!-- 手写的流程 -->\n<bpmn:definitions')
    assert "<![CDATA[if a < b and c > d:\n    x = 1]]>" in text
    assert "<bpmn:documentation>第一行\n    缩进的第二行  </bpmn:documentation>" in text
    assert "<!-- 开始 -->" in text and 'custom:owner="财政所"' in text
    before = etree.fromstring(source, PARSER)
    assert canonical(root.find(q(BPMN, "process"))) == canonical(before.find(q(BPMN, "process")))
    assert '\n    <bpmn:startEvent id="start"' in text  # re-indented, two spaces per level


@pytest.mark.parametrize("data, message", [
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>', "DOCTYPE"),
    (b"<definitions/>", "bpmn:definitions"),
    (Bpmn("one").start("s").bytes().replace(b"</bpmn:definitions>",
                                             b'<bpmn:process id="two"/></bpmn:definitions>'), "one bpmn:process"),
])
def test_refuses_what_it_cannot_lay_out(data, message):
    with pytest.raises(layout.LayoutError, match=message):
        layout.layout_bytes(data)


# -- the command line ------------------------------------------------------------------------------------

def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, cwd=REPO, check=False)


def test_the_command_writes_to_stdout_to_a_file_or_in_place(tmp_path):
    source = tmp_path / "loop.bpmn"
    source.write_bytes(loop_back().bytes())
    expected = layout.layout_bytes(source.read_bytes())
    printed = cli(str(source))
    assert printed.returncode == 0 and printed.stdout == expected
    assert cli(str(source), "-o", str(tmp_path / "out.bpmn")).returncode == 0
    assert (tmp_path / "out.bpmn").read_bytes() == expected
    assert cli(str(source), "--in-place").returncode == 0
    assert source.read_bytes() == expected


def test_the_command_refuses_a_doctype_and_leaves_the_file_alone(tmp_path):
    source = tmp_path / "evil.bpmn"
    source.write_bytes(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    result = cli(str(source), "--in-place")
    assert result.returncode == 1 and b"DOCTYPE" in result.stderr
    assert source.read_bytes().startswith(b'<?xml version="1.0"?><!DOCTYPE')
