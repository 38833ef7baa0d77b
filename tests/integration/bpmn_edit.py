"""Edit a real BPMN file the way a process owner would in a modeler: add a user task after another."""
from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN}


def add_step_after(xml: bytes, after_id: str, new_id: str, name: str, lane_name: str) -> bytes:
    """Insert user task `new_id` right after `after_id` in the lane called `lane_name`."""
    root = etree.fromstring(xml)
    process = root.find("bpmn:process", NS)
    outgoing = next(f for f in process.findall("bpmn:sequenceFlow", NS) if f.get("sourceRef") == after_id)
    # Flow nodes and flows may interleave in a process, so appending keeps the XSD's order.
    etree.SubElement(process, f"{{{BPMN}}}userTask", id=new_id, name=name)
    etree.SubElement(process, f"{{{BPMN}}}sequenceFlow", id=f"f_{new_id}", sourceRef=new_id,
                     targetRef=outgoing.get("targetRef"))
    outgoing.set("targetRef", new_id)
    lane = next(x for x in process.iter(f"{{{BPMN}}}lane") if x.get("name") == lane_name)
    etree.SubElement(lane, f"{{{BPMN}}}flowNodeRef").text = new_id
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def add_lane(xml: bytes, lane_id: str, lane_name: str) -> bytes:
    root = etree.fromstring(xml)
    lane_set = root.find("bpmn:process/bpmn:laneSet", NS)
    etree.SubElement(lane_set, f"{{{BPMN}}}lane", id=lane_id, name=lane_name)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def add_step_on_flow(xml: bytes, flow_id: str, new_id: str, name: str, lane_name: str) -> bytes:
    """Put user task `new_id` on sequence flow `flow_id` (the flow now ends at it, and it leads on)."""
    root = etree.fromstring(xml)
    process = root.find("bpmn:process", NS)
    flow = next(f for f in process.findall("bpmn:sequenceFlow", NS) if f.get("id") == flow_id)
    etree.SubElement(process, f"{{{BPMN}}}userTask", id=new_id, name=name)
    etree.SubElement(process, f"{{{BPMN}}}sequenceFlow", id=f"f_{new_id}", sourceRef=new_id,
                     targetRef=flow.get("targetRef"))
    flow.set("targetRef", new_id)
    lane = next(x for x in process.iter(f"{{{BPMN}}}lane") if x.get("name") == lane_name)
    etree.SubElement(lane, f"{{{BPMN}}}flowNodeRef").text = new_id
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
