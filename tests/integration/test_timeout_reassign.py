"""An interrupting timer that hands a task to someone else: drawn in BPMN by a process owner, fired by the sweep."""
from datetime import UTC, datetime

import time_machine
from lxml import etree

from app.config import ROOT
from app.deadlines.sweep import sweep_once
from app.runtime import deps
from tests.integration.bpmn_edit import BPMN, NS, add_lane
from tests.integration.test_approval_flow import complete, start_claim, the_task
from tests.integration.test_deadlines import beijing
from tests.integration.test_versioning import deploy

HEAD_FORM = {"type": "object", "title": "所长代为审核", "properties": {}}


def with_timeout_to_the_head(xml: bytes) -> bytes:
    """expense_claim whose 财政所审核, untouched for 1 working day, goes to the 财政所所长 instead."""
    xml = add_lane(xml, "lane_finance_head", "财政所所长")
    root = etree.fromstring(xml)
    process = root.find("bpmn:process", NS)
    onward = next(f for f in process.findall("bpmn:sequenceFlow", NS) if f.get("sourceRef") == "finance_review")
    timer = etree.SubElement(process, f"{{{BPMN}}}boundaryEvent", id="t_review_late", name="1个工作日未审核",
                             attachedToRef="finance_review")
    definition = etree.SubElement(timer, f"{{{BPMN}}}timerEventDefinition")
    etree.SubElement(definition, f"{{{BPMN}}}timeDate").text = "workdays(1)"
    etree.SubElement(process, f"{{{BPMN}}}userTask", id="head_review", name="所长代为审核")
    etree.SubElement(process, f"{{{BPMN}}}sequenceFlow", id="f_late", sourceRef="t_review_late",
                     targetRef="head_review")
    etree.SubElement(process, f"{{{BPMN}}}sequenceFlow", id="f_head_on", sourceRef="head_review",
                     targetRef=onward.get("targetRef"))
    lane = next(x for x in process.iter(f"{{{BPMN}}}lane") if x.get("name") == "财政所所长")
    for node in ("t_review_late", "head_review"):
        etree.SubElement(lane, f"{{{BPMN}}}flowNodeRef").text = node
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_review_left_for_a_working_day_is_reassigned_to_the_finance_head(demo, as_user):
    owner = as_user("liucheng")
    xml = with_timeout_to_the_head((ROOT / "bpmn" / "expense_claim.bpmn").read_bytes())
    assert deploy(owner, xml, {"head_review": HEAD_FORM}).status_code == 201
    with time_machine.travel(beijing(9, 30, 9), tick=False) as clock:
        reviewer = as_user("cz_reviewer")
        instance = start_claim(as_user("nyb_clerk"))
        complete(as_user("nyb_head"), the_task(as_user("nyb_head"), instance["id"])["id"])
        review = the_task(reviewer, instance["id"])
        assert review["due_at"].startswith("2026-10-08T09:30")  # 1 working day after the holiday, 17:30

        clock.move_to(beijing(10, 8, 17, 0))
        assert sweep_once(deps, datetime.now(UTC)).fired == 0  # not due yet: nothing moves
        clock.move_to(beijing(10, 8, 18, 0))
        assert sweep_once(deps, datetime.now(UTC)).fired == 1

        gone = as_user("cz_reviewer").get(f"/api/v1/tasks/{review['id']}").json
        assert gone["state"] == "cancelled"
        head = as_user("cz_head")
        task = the_task(head, instance["id"])
        assert task["name"] == "所长代为审核"
        assert complete(head, task["id"]).status_code == 200  # the request goes on from there
        detail = as_user("nyb_clerk").get(f"/api/v1/instances/{instance['id']}").json  # a fresh token: days went by
        assert detail["status"] == "approved"
        assert "timer_fired" in [e["type"] for e in detail["history"]]
