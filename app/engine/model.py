"""Read what the rest of the app needs to know about a process straight from its XML.

SpiffWorkflow's spec answers "how to run it"; this answers "what is in it": user tasks and their lanes,
service operators, every expression (to compile in the sandbox at deploy), timers, call activities,
which user task the start event leads to, and the outcome each end event stands for.
"""
from dataclasses import dataclass, field

from lxml import etree

from app.engine.errors import BpmnProblem, InvalidBpmn
from app.engine.xmlsafe import BPMN_NS, SPIFF_NS

NS = {"bpmn": BPMN_NS, "spiff": SPIFF_NS}


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    kind: str  # BPMN tag without namespace: userTask, serviceTask, endEvent...
    line: int | None
    lane: str | None = None
    properties: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Expression:
    """A snippet of Python in the diagram; `mode` is eval (value) or exec (script)."""

    element: Node
    role: str  # condition, script, timer, service parameter, completion condition...
    source: str
    mode: str


@dataclass(frozen=True)
class Timer:
    element: Node
    kind: str  # timeDuration | timeDate | timeCycle
    expression: str
    attached_to: str | None
    interrupting: bool


@dataclass(frozen=True)
class ProcessModel:
    process_id: str
    name: str
    file: str
    user_tasks: dict[str, Node]
    service_tasks: dict[str, tuple[Node, str]]  # id -> (node, operator)
    lanes: list[Node]
    expressions: list[Expression]
    timers: list[Timer]
    called_process_ids: list[str]
    plain_tasks: list[Node]
    start_event: Node | None
    application_task_id: str | None  # the user task the start event leads to (申请)
    end_events: dict[str, Node]
    # Multi-approver steps: a user task drawn with the multi-instance marker and no data to loop over.
    # Task id -> "all" (会签) | "any" (或签, property multi=any) | "sequential" (依次, the sequential marker).
    multi_steps: dict[str, str] = field(default_factory=dict)
    properties: dict = field(default_factory=dict)  # the process's own spiffworkflow properties
    flows: dict[str, tuple[str, ...]] = field(default_factory=dict)  # element id -> ids its sequence flows reach
    kinds: dict[str, str] = field(default_factory=dict)  # element id -> BPMN tag (userTask, endEvent…)
    calls: dict[str, tuple[Node, str]] = field(default_factory=dict)  # call activity id -> (node, called process)
    # (source, target) -> the name (else the condition) of a conditional flow: why a step may be on the path.
    flow_labels: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def end_outcomes(self) -> dict[str, str]:
        """End event id -> "approved" | "rejected" (spiffworkflow property `outcome`, default approved)."""
        return {i: n.properties.get("outcome", "approved") for i, n in self.end_events.items()}


def _text(el) -> str:
    return (el.text or "").strip() if el is not None else ""


def _properties(el) -> dict:
    return {
        p.get("name"): p.get("value", "")
        for p in el.findall("bpmn:extensionElements/spiff:properties/spiff:property", NS)
    }


def _node(el, lanes: dict[str, str]) -> Node:
    el_id = el.get("id", "")
    return Node(el_id, el.get("name", "") or "", etree.QName(el).localname, el.sourceline,
                lanes.get(el_id), _properties(el))


def _lane_of_nodes(process) -> tuple[dict[str, str], list[Node]]:
    """Each element's lane: its own lane entry, or that of the outermost activity drawn around it.

    bpmn-js lists only a process's direct children in its lanes, never what is inside a subprocess, and
    SpiffWorkflow gives a subprocess's content the subprocess's lane; so do we, and the two agree.
    """
    lane_of, lanes = {}, []
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        lanes.append(Node(lane.get("id", ""), (lane.get("name") or "").strip(), "lane", lane.sourceline))
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            lane_of[_text(ref)] = (lane.get("name") or "").strip()
    inherited = {}
    for el in process.iter():
        if not isinstance(el.tag, str) or not el.get("id"):
            continue
        enclosing = [a.get("id") for a in el.iterancestors() if a is not process and a.get("id") in lane_of]
        if enclosing and el.getparent() is not process:
            inherited[el.get("id")] = lane_of[enclosing[-1]]
    return {**lane_of, **inherited}, lanes


def _expressions(process, lanes) -> list[Expression]:
    found = []
    def add(owner, role, source, mode="eval"):
        if source:
            found.append(Expression(_node(owner, lanes), role, source, mode))

    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        add(flow, "条件表达式", _text(flow.find("bpmn:conditionExpression", NS)))
    for el in process.iter(f"{{{BPMN_NS}}}script"):
        add(el.getparent(), "脚本", _text(el), "exec")
    for tag in ("preScript", "postScript"):
        for el in process.iter(f"{{{SPIFF_NS}}}{tag}"):
            add(el.getparent().getparent(), tag, _text(el), "exec")
    for el in process.iter(f"{{{BPMN_NS}}}completionCondition"):
        add(el.getparent().getparent(), "完成条件", _text(el))
    for el in process.iter(f"{{{SPIFF_NS}}}parameter"):
        # The owner is the BPMN element (the service task), not spiffworkflow:serviceTaskOperator,
        # whose "id" is the operator's name.
        owner = next((a for a in el.iterancestors() if a.tag.startswith(f"{{{BPMN_NS}}}") and a.get("id")), el)
        add(owner, f"服务参数 {el.get('id')}", (el.get("value") or "").strip())
    return found


def _timers(process, lanes) -> list[Timer]:
    timers = []
    for definition in process.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        event = definition.getparent()
        for kind in ("timeDuration", "timeDate", "timeCycle"):
            expr = definition.find(f"bpmn:{kind}", NS)
            if expr is not None:
                timers.append(Timer(_node(event, lanes), kind, _text(expr), event.get("attachedToRef"),
                                    event.get("cancelActivity", "true") != "false"))
    return timers


def _application_task(process) -> str | None:
    """The user task directly after the (top-level) start event, if there is one."""
    start = process.find("bpmn:startEvent", NS)
    if start is None:
        return None
    user_tasks = {el.get("id") for el in process.findall("bpmn:userTask", NS)}
    for flow in process.findall("bpmn:sequenceFlow", NS):
        if flow.get("sourceRef") == start.get("id"):
            return flow.get("targetRef") if flow.get("targetRef") in user_tasks else None
    return None


def approver_loops(process) -> list:
    """Multi-instance markers that declare a multi-approver step rather than a loop over task data.

    The people come from the lane, so such a marker has no loopDataInputRef and no loopCardinality.
    The app runs these steps itself (one engine task, one sub-task per approver).
    """
    loops = []
    for task in process.iter(f"{{{BPMN_NS}}}userTask"):
        loop = task.find("bpmn:multiInstanceLoopCharacteristics", NS)
        if loop is not None and loop.find("bpmn:loopDataInputRef", NS) is None \
                and loop.find("bpmn:loopCardinality", NS) is None:
            loops.append(loop)
    return loops


def _multi_steps(process, lanes) -> dict[str, str]:
    steps = {}
    for loop in approver_loops(process):
        task = loop.getparent()
        if loop.get("isSequential") == "true":
            steps[task.get("id")] = "sequential"
        else:
            steps[task.get("id")] = _properties(task).get("multi", "all")
    return steps


def read_process_model(tree: etree._ElementTree, filename: str) -> ProcessModel:
    """Describe the single executable process in this file, or raise InvalidBpmn."""
    root = tree.getroot()
    processes = [p for p in root.findall("bpmn:process", NS) if p.get("isExecutable") == "true"]
    if len(processes) != 1:
        raise InvalidBpmn([BpmnProblem(
            f"每个文件须恰好包含一个可执行流程（isExecutable=\"true\"），实际 {len(processes)} 个", filename)])
    process = processes[0]
    lanes, lane_nodes = _lane_of_nodes(process)
    nodes = [_node(el, lanes) for el in process.iter() if isinstance(el.tag, str) and el.get("id")]
    services = {}
    for el in process.iter(f"{{{BPMN_NS}}}serviceTask"):
        op = el.find("bpmn:extensionElements/spiff:serviceTaskOperator", NS)
        services[el.get("id")] = (_node(el, lanes), op.get("id", "") if op is not None else "")
    return ProcessModel(
        process_id=process.get("id", ""),
        name=process.get("name") or process.get("id", ""),
        file=filename,
        user_tasks={n.id: n for n in nodes if n.kind == "userTask"},
        service_tasks=services,
        lanes=lane_nodes,
        expressions=_expressions(process, lanes),
        timers=_timers(process, lanes),
        called_process_ids=sorted({el.get("calledElement") for el in process.iter(f"{{{BPMN_NS}}}callActivity")
                                   if el.get("calledElement")}),
        plain_tasks=[n for n in nodes if n.kind == "task"],
        start_event=next((_node(el, lanes) for el in process.findall("bpmn:startEvent", NS)), None),
        application_task_id=_application_task(process),
        end_events={n.id: n for n in nodes if n.kind == "endEvent"},
        multi_steps=_multi_steps(process, lanes),
        properties=_properties(process),
        flows=_flows(process),
        flow_labels=_flow_labels(process),
        kinds={n.id: n.kind for n in nodes},
        calls={el.get("id"): (_node(el, lanes), el.get("calledElement") or "")
               for el in process.iter(f"{{{BPMN_NS}}}callActivity")},
    )


def _flow_labels(process) -> dict[tuple[str, str], str]:
    labels = {}
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        condition = _text(flow.find("bpmn:conditionExpression", NS))
        if condition:
            name = (flow.get("name") or "").strip()
            labels[(flow.get("sourceRef", ""), flow.get("targetRef", ""))] = name or condition
    return labels


def _flows(process) -> dict[str, tuple[str, ...]]:
    """Where each element's sequence flows lead, inside subprocesses too (a timer there is checked alike)."""
    found: dict[str, list[str]] = {}
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        found.setdefault(flow.get("sourceRef", ""), []).append(flow.get("targetRef", ""))
    return {source: tuple(targets) for source, targets in found.items()}
