"""The payment's approval chain changes without Python: thresholds in the township's settings, steps in BPMN."""
import io
import json

import pytest

from app.config import ROOT
from tests.integration.bpmn_edit import add_lane, add_step_on_flow
from tests.integration.office import payment_data

pytestmark = pytest.mark.usefixtures("march")

RECHECK_FORM = {"type": "object", "title": "财政所所长复核", "properties": {}}


def through_deputy(office, iid):
    for who in ("nyb_head", "cz_reviewer", "deputy"):
        office.act(who, iid)


def test_raising_or_lowering_a_tier_threshold_in_settings_changes_the_chain_at_once(office, funded):
    _, (code, _) = funded
    before = office.start("nyb_clerk", "payment", payment_data(code, "800.00"))["id"]
    through_deputy(office, before)
    assert office.where(before) == ["treasury_submit"]  # 800 < 1,000: T0, the deputy alone

    resp = office.as_user("admin").put("/api/v1/townships/SFZ/settings", json={"tiers": {"t1": "500"}})
    assert resp.status_code == 200, resp.get_json()

    after = office.start("nyb_clerk", "payment", payment_data(code, "800.00", purpose="另一笔"))["id"]
    through_deputy(office, after)
    assert office.where(after) == ["township_head_approve"]  # 800 ≥ 500 now: T1, no deploy in between
    assert office.payment(after).tier == "T1"


def test_a_step_added_to_one_tier_in_bpmn_applies_from_the_next_request(office, funded):
    _, (code, _) = funded
    running = office.start("nyb_clerk", "payment", payment_data(code, "800.00"))["id"]

    # The process owner puts a 财政所所长复核 on the T0 path only (the flow that skips the township head).
    xml = (ROOT / "bpmn" / "payment.bpmn").read_bytes()
    xml = add_lane(xml, "lane_finance_head", "财政所所长")
    xml = add_step_on_flow(xml, "f_skip_head", "finance_head_recheck", "财政所所长复核", "财政所所长")
    owner = office.as_user("liucheng")
    resp = owner.post("/api/v1/process-definitions", content_type="multipart/form-data", data={
        "bpmn": (io.BytesIO(xml), "payment.bpmn"),
        "forms": [(io.BytesIO(json.dumps(RECHECK_FORM).encode()), "finance_head_recheck.json")]})
    assert resp.status_code == 201, resp.get_json()

    # Its own contract: it does not add up with the running payment for the same purpose.
    small = office.start("nyb_clerk", "payment", payment_data(code, "700.00", contract_no="HT-2026-031"))["id"]
    larger = office.start("nyb_clerk", "payment", payment_data(code, "3000.00", purpose="T1"))["id"]
    for iid in (running, small, larger):
        through_deputy(office, iid)
    assert office.where(running) == ["treasury_submit"]  # started on version 1, finishes on it
    assert office.where(small) == ["finance_head_recheck"]  # T0 on version 2: the new step
    assert office.where(larger) == ["township_head_approve"]  # T1 is unchanged
    office.act("cz_head", small)
    assert office.where(small) == ["treasury_submit"]
