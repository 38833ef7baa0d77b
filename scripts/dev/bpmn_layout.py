#!/usr/bin/env python
"""Give a BPMN file written or edited by hand fresh diagram interchange (DI), so bpmn-js shows it.

    python scripts/dev/bpmn_layout.py bpmn/x.bpmn               # result on stdout
    python scripts/dev/bpmn_layout.py bpmn/x.bpmn --in-place    # rewrite the file
    python scripts/dev/bpmn_layout.py bpmn/x.bpmn -o /tmp/x.bpmn

Only two things change: every bpmndi:BPMNDiagram is replaced, and a bpmn:collaboration with one
participant is added when missing. The process itself is left alone; the file is re-indented with two
spaces. Layout: one horizontal pool, one band per lane, a column per layer (longest path from the start
events, loops ignored), orthogonal edges. See scripts/dev/README.md.
"""
import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
DI_NSMAP = {"bpmndi": BPMNDI, "dc": DC, "di": DI}
# The same options as app/engine/xmlsafe.py: no DTD, no entities, no network.
SAFE_PARSER_OPTIONS = dict(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)

EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
SUBPROCESSES = {"subProcess", "transaction", "adHocSubProcess"}
TASKS = {"task", "userTask", "serviceTask", "scriptTask", "manualTask", "businessRuleTask", "sendTask",
         "receiveTask", "callActivity"}
FLOW_NODES = EVENTS | GATEWAYS | SUBPROCESSES | TASKS

# Geometry in pixels. Shapes have bpmn-js's default sizes.
ORIGIN_X, ORIGIN_Y = 160, 80
POOL_HEADER = 30                # the pool's vertical name strip
COLUMN_W, COLUMN_GAP = 120, 60  # one column per layer
LEFT_PAD, RIGHT_PAD = 50, 50
ROW_H, BAND_PAD = 120, 20      # nodes of one layer in one lane stack every ROW_H
BOUNDARY_STEP, BOUNDARY_DROP = 42, 12
CORRIDOR_GAP, CORRIDOR_STEP = 30, 20  # back edges run below the pool
LABEL_W, LABEL_LINE_H = 90, 14


class LayoutError(Exception):
    """The file cannot be laid out: not BPMN, a DOCTYPE, several processes or pools."""


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass
class Flow:
    id: str
    source: str
    target: str


@dataclass
class Graph:
    """The flow nodes and sequence flows directly inside one process or subprocess."""
    kinds: dict[str, str] = field(default_factory=dict)   # flow node id -> tag, document order
    names: dict[str, str] = field(default_factory=dict)   # node or flow id -> name
    hosts: dict[str, str] = field(default_factory=dict)   # boundary event id -> its activity
    flows: list[Flow] = field(default_factory=list)

    @property
    def nodes(self) -> list[str]:
        """The nodes that get a place of their own (boundary events sit on their host)."""
        return [n for n in self.kinds if n not in self.hosts]

    def anchor(self, node: str) -> str:
        return self.hosts.get(node, node)

    def boundaries(self, host: str) -> list[str]:
        return [b for b, h in self.hosts.items() if h == host]


@dataclass
class Band:
    lane: str | None
    nodes: list[str]
    rows: int = 1
    box: Box | None = None


@dataclass
class Layout:
    area: Box
    bands: list[Band]
    boxes: dict[str, Box]
    waypoints: dict[str, list[tuple[int, int]]]


def qn(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


# -- reading ---------------------------------------------------------------------------------------------

def parse_safely(data: bytes) -> etree._ElementTree:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise LayoutError("DOCTYPE and entity declarations are not allowed")
    try:
        root = etree.fromstring(data, etree.XMLParser(strip_cdata=False, **SAFE_PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        raise LayoutError(f"not well-formed XML: {exc}") from exc
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise LayoutError("DOCTYPE and entity declarations are not allowed")
    if root.tag != qn(BPMN, "definitions"):
        raise LayoutError("the root element is not bpmn:definitions")
    return tree


def read_graph(container: etree._Element) -> Graph:
    graph = Graph()
    for child in container:
        if not isinstance(child.tag, str) or etree.QName(child).namespace != BPMN:
            continue
        tag, el_id = etree.QName(child).localname, child.get("id")
        if el_id and child.get("name"):
            graph.names[el_id] = child.get("name")
        if tag in FLOW_NODES and el_id:
            graph.kinds[el_id] = tag
            if tag == "boundaryEvent":
                graph.hosts[el_id] = child.get("attachedToRef")
        elif tag == "sequenceFlow":
            graph.flows.append(Flow(el_id, child.get("sourceRef"), child.get("targetRef")))
    graph.hosts = {b: h for b, h in graph.hosts.items() if graph.kinds.get(h) in TASKS | SUBPROCESSES}
    graph.flows = [f for f in graph.flows if f.source in graph.kinds and f.target in graph.kinds]
    return graph


def lane_bands(process: etree._Element, graph: Graph) -> list[Band]:
    """One band per lane in document order, then one for the nodes in no lane (if any)."""
    bands, placed = [], set()
    for lane in process.iterfind(f"{qn(BPMN, 'laneSet')}/{qn(BPMN, 'lane')}"):
        refs = {(ref.text or "").strip() for ref in lane.iterfind(qn(BPMN, "flowNodeRef"))}
        members = [n for n in graph.nodes if n in refs and n not in placed]
        placed.update(members)
        bands.append(Band(lane.get("id"), members))
    rest = [n for n in graph.nodes if n not in placed]
    if rest or not bands:
        bands.append(Band(None, rest))
    return bands


# -- layering --------------------------------------------------------------------------------------------

def find_back_edges(graph: Graph) -> set[str]:
    """Flows that close a cycle, by depth-first search from the start events."""
    successors = {n: [] for n in graph.nodes}
    for flow in graph.flows:
        successors[graph.anchor(flow.source)].append((flow.id, graph.anchor(flow.target)))
    starts = [n for n in graph.nodes if graph.kinds[n] == "startEvent"]
    state, back = {}, set()  # state: 1 = on the DFS stack, 2 = done
    for root in starts + graph.nodes:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(successors[root]))]
        while stack:
            node, todo = stack[-1]
            step = next(todo, None)
            if step is None:
                state[node] = 2
                stack.pop()
            elif state.get(step[1]) == 1:
                back.add(step[0])
            elif step[1] not in state:
                state[step[1]] = 1
                stack.append((step[1], iter(successors[step[1]])))
    return back


def assign_layers(graph: Graph, back: set[str]) -> dict[str, int]:
    """Longest path from the sources over the forward flows (Kahn's topological order)."""
    forward = [(graph.anchor(f.source), graph.anchor(f.target)) for f in graph.flows if f.id not in back]
    layer = {n: 0 for n in graph.nodes}
    waiting = {n: sum(1 for _, t in forward if t == n) for n in graph.nodes}
    ready = [n for n in graph.nodes if waiting[n] == 0]
    while ready:
        node = ready.pop()
        for source, target in forward:
            if source == node:
                layer[target] = max(layer[target], layer[node] + 1)
                waiting[target] -= 1
                if waiting[target] == 0:
                    ready.append(target)
    return layer


# -- placing ---------------------------------------------------------------------------------------------

def node_size(kind: str) -> tuple[int, int]:
    if kind in EVENTS:
        return 36, 36
    if kind in GATEWAYS:
        return 50, 50
    return 120, 80


def centred(cx: int, cy: int, size: tuple[int, int]) -> Box:
    return Box(cx - size[0] // 2, cy - size[1] // 2, *size)


def column_left(left: int, layer: int) -> int:
    return left + LEFT_PAD + layer * (COLUMN_W + COLUMN_GAP)


def size_bands(bands: list[Band], layers: dict[str, int], left: int, top: int, width: int) -> None:
    """Each band is as high as its tallest stack of same-layer nodes needs."""
    for band in bands:
        stacks = [sum(1 for n in band.nodes if layers[n] == layer) for layer in set(layers.values())]
        band.rows = max(stacks, default=1) or 1
        band.box = Box(left, top, width, band.rows * ROW_H + 2 * BAND_PAD)
        top = band.box.bottom


def row_y(band: Band, row: int) -> int:
    """Centre y of a row of the band; the rows are centred in it."""
    return band.box.y + (band.box.h - band.rows * ROW_H) // 2 + row * ROW_H + ROW_H // 2


def assign_rows(band: Band, wanted: list[float | None]) -> list[int]:
    """Rows for a stack of nodes, top to bottom: each as near the y it wants as the others allow."""
    rows, previous = [], -1
    for index, y in enumerate(wanted):
        row = (band.rows - 1) // 2 if y is None else math.floor((y - row_y(band, 0)) / ROW_H + 0.5)
        row = min(max(row, previous + 1), band.rows - len(wanted) + index)
        rows.append(row)
        previous = row
    return rows


def place_nodes(graph: Graph, bands: list[Band], layers: dict[str, int], back: set[str], left: int):
    """Columns left to right; in each band the nodes of a column stack in the rows nearest their
    predecessors, so a chain stays on one line and branches fan out below and above it."""
    order = {n: i for i, n in enumerate(graph.kinds)}
    preds = {n: [f.source for f in graph.flows if f.id not in back and graph.anchor(f.target) == n]
             for n in graph.nodes}
    boxes: dict[str, Box] = {}

    def wanted_y(node: str) -> float | None:
        ys = [boxes[p].cy for p in preds[node] if p in boxes]
        return sum(ys) / len(ys) if ys else None

    for layer in range(max(layers.values(), default=0) + 1):
        cx = column_left(left, layer) + COLUMN_W // 2
        for band in bands:
            wanted = {n: wanted_y(n) for n in band.nodes if layers[n] == layer}
            stack = sorted(wanted, key=lambda n: (wanted[n] is None, wanted[n] or 0, order[n]))
            for node, row in zip(stack, assign_rows(band, [wanted[n] for n in stack]), strict=True):
                boxes[node] = centred(cx, row_y(band, row), node_size(graph.kinds[node]))
                for k, boundary in enumerate(graph.boundaries(node)):
                    host = boxes[node]
                    boxes[boundary] = centred(host.x + 30 + k * BOUNDARY_STEP, host.bottom, (36, 36))
    return boxes


# -- routing ---------------------------------------------------------------------------------------------

def crosses(a: tuple[int, int], b: tuple[int, int], box: Box) -> bool:
    """Whether the axis-parallel segment a-b runs through the inside of box."""
    x0, x1 = sorted((a[0], b[0]))
    y0, y1 = sorted((a[1], b[1]))
    return x0 < box.right and x1 > box.x and y0 < box.bottom and y1 > box.y


def is_clear(path: list[tuple[int, int]], obstacles: list[Box]) -> bool:
    return not any(crosses(a, b, box) for a, b in zip(path, path[1:], strict=False) for box in obstacles)


def simplify(path: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop repeated points and any point in the middle of a straight run."""
    points: list[tuple[int, int]] = []
    for point in path:
        if points and point == points[-1]:
            continue
        if len(points) >= 2 and (points[-2][0] == points[-1][0] == point[0]
                                 or points[-2][1] == points[-1][1] == point[1]):
            points[-1] = point
        else:
            points.append(point)
    return points


def route(flow: Flow, graph: Graph, boxes: dict[str, Box], layers: dict[str, int], left: int,
          corridor: int | None) -> list[tuple[int, int]]:
    """Right side of the source to the left side of the target; a boundary event leaves downwards.

    corridor is the y of the lane under the pool that a back edge takes, None for a forward edge.
    """
    src, dst = boxes[flow.source], boxes[flow.target]
    end = (dst.x, dst.cy)
    x_out = column_left(left, layers[graph.anchor(flow.source)]) + COLUMN_W + COLUMN_GAP // 2
    x_in = column_left(left, layers[flow.target]) - COLUMN_GAP // 2
    if flow.source in graph.hosts:
        lead = [(src.cx, src.bottom), (src.cx, src.bottom + BOUNDARY_DROP)]
    else:
        lead = [(src.right, src.cy)]
    y = lead[-1][1]
    if corridor is not None:
        return simplify([*lead, (x_out, y), (x_out, corridor), (x_in, corridor), (x_in, dst.cy), end])
    candidates = [[*lead, (x_in, y), (x_in, dst.cy), end], [*lead, (x_out, y), (x_out, dst.cy), end]]
    if flow.source in graph.hosts and dst.cy > src.bottom:
        candidates.insert(0, [lead[0], (src.cx, dst.cy), end])
    for detour in (y - ROW_H // 2, y + ROW_H // 2):
        candidates.append([*lead, (x_out, y), (x_out, detour), (x_in, detour), (x_in, dst.cy), end])
    skip = {flow.source, flow.target, graph.anchor(flow.source)}
    obstacles = [box for node, box in boxes.items() if node not in skip]
    return simplify(next((c for c in candidates if is_clear(c, obstacles)), candidates[0]))


def lay_out(graph: Graph, bands: list[Band], left: int, top: int) -> Layout:
    back = find_back_edges(graph)
    layers = assign_layers(graph, back)
    for boundary, host in graph.hosts.items():
        layers[boundary] = layers[host]
    columns = max(layers.values(), default=0) + 1
    width = LEFT_PAD + columns * (COLUMN_W + COLUMN_GAP) - COLUMN_GAP + RIGHT_PAD
    size_bands(bands, layers, left, top, width)
    area = Box(left, top, width, bands[-1].box.bottom - top)
    boxes = place_nodes(graph, bands, layers, back, left)
    back_flows = [f.id for f in graph.flows if f.id in back]  # each gets its own corridor under the pool
    corridors = {f: area.bottom + CORRIDOR_GAP + i * CORRIDOR_STEP for i, f in enumerate(back_flows)}
    waypoints = {f.id: route(f, graph, boxes, layers, left, corridors.get(f.id)) for f in graph.flows}
    return Layout(area, bands, boxes, waypoints)


# -- writing DI ------------------------------------------------------------------------------------------

def text_box(name: str, cx: int, top: int) -> Box:
    """Room for a label, about 12 px per CJK character and 7 px per other character."""
    width = sum(12 if ord(ch) > 0x2E7F else 7 for ch in name)
    lines = -(-width // LABEL_W)
    return Box(cx - min(width, LABEL_W) // 2, top, min(width, LABEL_W), lines * LABEL_LINE_H)


def add_bounds(parent: etree._Element, box: Box) -> None:
    etree.SubElement(parent, qn(DC, "Bounds"), x=str(box.x), y=str(box.y), width=str(box.w), height=str(box.h))


def add_label(parent: etree._Element, box: Box) -> None:
    add_bounds(etree.SubElement(parent, qn(BPMNDI, "BPMNLabel")), box)


def add_shape(plane: etree._Element, element_id: str, box: Box, **attrs: str) -> etree._Element:
    shape = etree.SubElement(plane, qn(BPMNDI, "BPMNShape"), {"id": f"{element_id}_di", "bpmnElement": element_id,
                                                              **attrs})
    add_bounds(shape, box)
    return shape


def add_edge(plane: etree._Element, flow_id: str, points: list[tuple[int, int]], name: str | None) -> None:
    edge = etree.SubElement(plane, qn(BPMNDI, "BPMNEdge"), id=f"{flow_id}_di", bpmnElement=flow_id)
    for x, y in points:
        etree.SubElement(edge, qn(DI, "waypoint"), x=str(x), y=str(y))
    if name:
        add_label(edge, flow_label_box(name, points))


def flow_label_box(name: str, points: list[tuple[int, int]]) -> Box:
    """Beside the middle of the longest segment: above it when horizontal, right of it when vertical."""
    segments = zip(points, points[1:], strict=False)
    a, b = max(segments, key=lambda seg: abs(seg[0][0] - seg[1][0]) + abs(seg[0][1] - seg[1][1]))
    mid_x, mid_y = (a[0] + b[0]) // 2, (a[1] + b[1]) // 2
    label = text_box(name, mid_x, 0)
    if a[0] == b[0]:
        return Box(mid_x + 4, mid_y - label.h // 2, label.w, label.h)
    return Box(label.x, mid_y - label.h - 4, label.w, label.h)


def draw_flow_elements(plane: etree._Element, graph: Graph, layout: Layout) -> None:
    for node in graph.nodes + list(graph.hosts):
        kind, box = graph.kinds[node], layout.boxes[node]
        attrs = {"isMarkerVisible": "true"} if kind == "exclusiveGateway" else {}
        if kind in SUBPROCESSES:
            attrs = {"isExpanded": "false"}
        shape = add_shape(plane, node, box, **attrs)
        if graph.names.get(node) and (kind in GATEWAYS or kind in EVENTS - {"boundaryEvent"}):
            add_label(shape, text_box(graph.names[node], box.cx, box.bottom + 5))
    for flow in graph.flows:
        add_edge(plane, flow.id, layout.waypoints[flow.id], graph.names.get(flow.id))


def new_plane(root: etree._Element, owner_id: str, element_id: str) -> etree._Element:
    missing = {p: uri for p, uri in DI_NSMAP.items() if uri not in root.nsmap.values()}
    diagram = etree.SubElement(root, qn(BPMNDI, "BPMNDiagram"), {"id": f"BPMNDiagram_{owner_id}"}, nsmap=missing)
    return etree.SubElement(diagram, qn(BPMNDI, "BPMNPlane"), id=f"BPMNPlane_{owner_id}", bpmnElement=element_id)


def draw_process(root: etree._Element, process: etree._Element, collaboration: str, participant: str):
    graph = read_graph(process)
    layout = lay_out(graph, lane_bands(process, graph), ORIGIN_X + POOL_HEADER, ORIGIN_Y)
    plane = new_plane(root, process.get("id"), collaboration)
    pool = Box(ORIGIN_X, ORIGIN_Y, layout.area.w + POOL_HEADER, layout.area.h)
    add_shape(plane, participant, pool, isHorizontal="true")
    for band in layout.bands:
        if band.lane:
            add_shape(plane, band.lane, band.box, isHorizontal="true")
    draw_flow_elements(plane, graph, layout)
    return plane.getparent()


def draw_subprocess(root: etree._Element, subprocess: etree._Element):
    """A collapsed subprocess gets its own diagram, the plane bpmn-js shows when you drill down."""
    graph = read_graph(subprocess)
    layout = lay_out(graph, [Band(None, graph.nodes)], ORIGIN_X, ORIGIN_Y)
    plane = new_plane(root, subprocess.get("id"), subprocess.get("id"))
    draw_flow_elements(plane, graph, layout)
    return plane.getparent()


# -- the document ----------------------------------------------------------------------------------------

def the_process(root: etree._Element) -> etree._Element:
    processes = root.findall(qn(BPMN, "process"))
    if len(processes) != 1:
        raise LayoutError(f"expected exactly one bpmn:process, found {len(processes)}")
    return processes[0]


def ensure_participant(root: etree._Element, process: etree._Element) -> tuple[str, str]:
    """The collaboration and its one participant for the process, created when missing."""
    pid, name = process.get("id"), process.get("name") or process.get("id")
    collaborations = root.findall(qn(BPMN, "collaboration"))
    if len(collaborations) > 1:
        raise LayoutError("several bpmn:collaboration elements")
    if not collaborations:
        collaborations.append(etree.SubElement(root, qn(BPMN, "collaboration"), id=f"Collaboration_{pid}"))
        process.addprevious(collaborations[0])
    collaboration = collaborations[0]
    participants = collaboration.findall(qn(BPMN, "participant"))
    if any(p.get("processRef") != pid for p in participants) or len(participants) > 1:
        raise LayoutError("the collaboration has other participants; only one pool is supported")
    if not participants:
        participants.append(etree.SubElement(collaboration, qn(BPMN, "participant"),
                                             id=f"Participant_{pid}", name=name, processRef=pid))
        leading = collaboration.findall(qn(BPMN, "documentation")) + collaboration.findall(
            qn(BPMN, "extensionElements"))
        collaboration.insert(len(leading), participants[0])
    if participants[0].get("name") is None:
        participants[0].set("name", name)
    return collaboration.get("id"), participants[0].get("id")


def replace_diagrams(root: etree._Element, diagrams: list[etree._Element], old: list[etree._Element]) -> None:
    """New diagrams where the first old one was, else before any bpmn:relationship, else last."""
    relationships = root.findall(qn(BPMN, "relationship"))
    anchor = old[0] if old else (relationships[0] if relationships else None)
    for diagram in diagrams:
        if anchor is not None:
            anchor.addprevious(diagram)
    for diagram in old:
        root.remove(diagram)


def serialize(tree: etree._ElementTree) -> bytes:
    root = tree.getroot()
    before, after = [], []
    node = root.getprevious()
    while node is not None:
        before.insert(0, node)
        node = node.getprevious()
    node = root.getnext()
    while node is not None:
        after.append(node)
        node = node.getnext()
    parts = [b'<?xml version="1.0" encoding="UTF-8"?>']
    parts += [etree.tostring(n, encoding="UTF-8", with_tail=False) for n in [*before, root, *after]]
    return b"\n".join(parts) + b"\n"


def layout_bytes(data: bytes) -> bytes:
    """The whole job on a document's bytes: fresh DI, everything else kept, indented by 2 spaces."""
    tree = parse_safely(data)
    root = tree.getroot()
    process = the_process(root)
    collaboration, participant = ensure_participant(root, process)
    old = root.findall(qn(BPMNDI, "BPMNDiagram"))
    diagrams = [draw_process(root, process, collaboration, participant)]
    for subprocess in process.iter(*(qn(BPMN, tag) for tag in sorted(SUBPROCESSES))):
        diagrams.append(draw_subprocess(root, subprocess))
    replace_diagrams(root, diagrams, old)
    etree.indent(tree, space="  ")
    return serialize(tree)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write fresh BPMN DI (shapes and edges) for a BPMN file.")
    parser.add_argument("file", type=Path, help="the .bpmn file")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--in-place", action="store_true", help="rewrite FILE")
    where.add_argument("-o", "--output", type=Path, help="write to OUTPUT (default: stdout)")
    args = parser.parse_args(argv)
    try:
        result = layout_bytes(args.file.read_bytes())
    except (OSError, LayoutError) as exc:
        print(f"bpmn_layout: {args.file}: {exc}", file=sys.stderr)
        return 1
    target = args.file if args.in_place else args.output
    if target is None:
        sys.stdout.buffer.write(result)
    else:
        target.write_bytes(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
