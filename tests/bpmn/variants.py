"""Variants of the real BPMN files, made the way a modeler makes them.

`resave` is what opening a file in bpmn-js (or another modeler) and saving it does without any change of
meaning: attributes in another order, other indentation, another namespace prefix, an exporter stamp,
labels added to the diagram and every shape moved. The structural edits draw what a process owner draws
in bpmn-js: a task put into a subprocess or a transaction (bpmn-js lists only the subprocess in the lane,
never the tasks inside it), an event subprocess, a message start event, Camunda extensions.
"""
from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC}


def _root(xml: bytes) -> etree._Element:
    return etree.fromstring(xml, etree.XMLParser(remove_blank_text=True))


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _process(root) -> etree._Element:
    return root.find("bpmn:process", NS)


def _el(parent, tag: str, **attrs) -> etree._Element:
    return etree.SubElement(parent, f"{{{BPMN}}}{tag}", **attrs)


# -- a save without a change of meaning -------------------------------------------------------------


def resave(xml: bytes, *, move_by: int = 40, prefix: str = "bpmn2") -> bytes:
    """`xml` as another modeler writes it back: same process, different bytes and a different layout."""
    root = _root(xml)
    for el in root.iter():
        if isinstance(el.tag, str) and len(el.attrib) > 1:
            items = list(el.attrib.items())
            el.attrib.clear()
            for name, value in reversed(items):
                el.set(name, value)
    root.set("exporter", "bpmn-js (https://demo.bpmn.io)")
    root.set("exporterVersion", "17.11.1")
    for bounds in root.iter(f"{{{DC}}}Bounds"):
        bounds.set("x", str(float(bounds.get("x")) + move_by))
    for point in root.iter("{http://www.omg.org/spec/DD/20100524/DI}waypoint"):
        point.set("x", str(float(point.get("x")) + move_by))
    for edge in root.iter(f"{{{BPMNDI}}}BPMNEdge"):
        if edge.find(f"{{{BPMNDI}}}BPMNLabel") is not None:
            continue
        label = etree.SubElement(edge, f"{{{BPMNDI}}}BPMNLabel")
        etree.SubElement(label, f"{{{DC}}}Bounds", x="0", y="0", width="10", height="14")
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode()
    # Four spaces, CRLF line ends and another prefix for the BPMN namespace, as some modelers write.
    text = "\r\n".join(line.replace("  ", "    ") for line in text.splitlines())
    text = text.replace("xmlns:bpmn=", f"xmlns:{prefix}=").replace("bpmn:", f"{prefix}:")
    return text.encode("utf-8")


def move_shape(xml: bytes, element_id: str, dy: int) -> bytes:
    """Drag one shape up or down in the diagram (a layout-only edit)."""
    root = _root(xml)
    shape = root.find(f".//bpmndi:BPMNShape[@bpmnElement='{element_id}']/dc:Bounds", NS)
    shape.set("y", str(float(shape.get("y")) + dy))
    return _bytes(root)


def rename(xml: bytes, element_id: str, name: str) -> bytes:
    root = _root(xml)
    root.find(f".//*[@id='{element_id}']").set("name", name)
    return _bytes(root)


# -- structural edits --------------------------------------------------------------------------------


def with_message_start(xml: bytes, message: str = "claim_received") -> bytes:
    """The start event waits for a message (bpmn-js: change the start event's type to 'message')."""
    root = _root(xml)
    start = _process(root).find("bpmn:startEvent", NS)
    definition = etree.Element(f"{{{BPMN}}}messageEventDefinition", id="MessageEventDefinition_1",
                               messageRef="Message_1")
    start.append(definition)
    message_el = etree.Element(f"{{{BPMN}}}message", id="Message_1", name=message)
    _process(root).addprevious(message_el)
    return _bytes(root)


def _subprocess_shape(root, sub_id: str, task_id: str) -> None:
    plane = root.find(".//bpmndi:BPMNPlane", NS)
    task_bounds = plane.find(f"bpmndi:BPMNShape[@bpmnElement='{task_id}']/dc:Bounds", NS)
    shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=f"{sub_id}_di", bpmnElement=sub_id,
                             isExpanded="true")
    etree.SubElement(shape, f"{{{DC}}}Bounds", x=str(float(task_bounds.get("x")) - 60),
                     y=str(float(task_bounds.get("y")) - 20), width="240", height="120")


def wrap_in_subprocess(xml: bytes, task_id: str, sub_id: str = "sub_review", kind: str = "subProcess") -> bytes:
    """Draw a subprocess (or a transaction) around user task `task_id`, as bpmn-js saves it.

    The flows that reached the task reach the subprocess; inside, start -> task -> end. The lane lists
    the subprocess in the task's place and nothing for the task, as bpmn-js writes it.
    """
    root = _root(xml)
    process = _process(root)
    task = process.find(f"bpmn:userTask[@id='{task_id}']", NS)
    sub = etree.Element(f"{{{BPMN}}}{kind}", id=sub_id, name=f"{task.get('name')}（子流程）")
    task.addprevious(sub)
    for flow in process.findall("bpmn:sequenceFlow", NS):
        if flow.get("targetRef") == task_id:
            flow.set("targetRef", sub_id)
        if flow.get("sourceRef") == task_id:
            flow.set("sourceRef", sub_id)
    for child in task.findall("bpmn:incoming", NS) + task.findall("bpmn:outgoing", NS):
        task.remove(child)
        sub.append(child)
    _el(sub, "startEvent", id=f"{sub_id}_start")
    sub.append(task)
    _el(sub, "endEvent", id=f"{sub_id}_end")
    _el(sub, "sequenceFlow", id=f"{sub_id}_f1", sourceRef=f"{sub_id}_start", targetRef=task_id)
    _el(sub, "sequenceFlow", id=f"{sub_id}_f2", sourceRef=task_id, targetRef=f"{sub_id}_end")
    ref = next(r for r in process.iter(f"{{{BPMN}}}flowNodeRef") if r.text == task_id)
    ref.text = sub_id
    _subprocess_shape(root, sub_id, task_id)
    return _bytes(root)


def with_event_subprocess(xml: bytes, lane_name: str, task_id: str = "supplement", *,
                          trigger: str = "timer", interrupting: bool = False) -> bytes:
    """An event subprocess in lane `lane_name`: a timer (or message) starts it, a user task, an end."""
    root = _root(xml)
    process = _process(root)
    sub = _el(process, "subProcess", id="evt_sub", name="补充材料（事件子流程）", triggeredByEvent="true")
    start = _el(sub, "startEvent", id="evt_start", isInterrupting="true" if interrupting else "false")
    if trigger == "timer":
        timer = etree.SubElement(start, f"{{{BPMN}}}timerEventDefinition")
        etree.SubElement(timer, f"{{{BPMN}}}timeDuration").text = '"P1D"'
    else:
        etree.SubElement(start, f"{{{BPMN}}}messageEventDefinition", messageRef="Message_supplement")
        _process(root).addprevious(etree.Element(f"{{{BPMN}}}message", id="Message_supplement", name="supplement"))
    _el(sub, "userTask", id=task_id, name="补充材料")
    _el(sub, "endEvent", id="evt_end")
    _el(sub, "sequenceFlow", id="evt_f1", sourceRef="evt_start", targetRef=task_id)
    _el(sub, "sequenceFlow", id="evt_f2", sourceRef=task_id, targetRef="evt_end")
    lane = next(x for x in process.iter(f"{{{BPMN}}}lane") if x.get("name") == lane_name)
    etree.SubElement(lane, f"{{{BPMN}}}flowNodeRef").text = "evt_sub"
    return _bytes(root)


def with_camunda(xml: bytes, task_id: str) -> bytes:
    """Camunda Modeler's extensions on a user task: assignee, candidate groups, a form key, properties."""
    root = _root(xml)
    nsmap = {**root.nsmap, "camunda": CAMUNDA}
    new_root = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=nsmap)
    new_root.extend(list(root))
    task = new_root.find(f".//bpmn:userTask[@id='{task_id}']", NS)
    task.set(f"{{{CAMUNDA}}}assignee", "wangwu")
    task.set(f"{{{CAMUNDA}}}candidateGroups", "finance")
    task.set(f"{{{CAMUNDA}}}formKey", "embedded:app:forms/review.html")
    ext = task.find("bpmn:extensionElements", NS)
    if ext is None:
        ext = etree.Element(f"{{{BPMN}}}extensionElements")
        task.insert(0, ext)
    props = etree.SubElement(ext, f"{{{CAMUNDA}}}properties")
    etree.SubElement(props, f"{{{CAMUNDA}}}property", name="priority", value="high")
    return _bytes(new_root)


def with_data_loop(xml: bytes, task_id: str, variable: str) -> bytes:
    """Make `task_id` a multi-instance over the list in task data `variable` (one task per item)."""
    root = _root(xml)
    task = root.find(f".//bpmn:userTask[@id='{task_id}']", NS)
    loop = etree.SubElement(task, f"{{{BPMN}}}multiInstanceLoopCharacteristics")
    etree.SubElement(loop, f"{{{BPMN}}}loopDataInputRef").text = variable
    etree.SubElement(loop, f"{{{BPMN}}}inputDataItem", id="item", name="item")
    return _bytes(root)
