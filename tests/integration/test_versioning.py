"""A process owner changes an approval chain by editing BPMN only; running requests keep their version."""
import io
import json

from app.config import ROOT
from tests.integration.bpmn_edit import add_lane, add_step_after
from tests.integration.test_approval_flow import complete, start_claim, the_task

DEPUTY_FORM = {"type": "object", "title": "分管领导审核", "properties": {"opinion_basis": {"type": "string"}}}


def edited_claim_process() -> bytes:
    """expense_claim with a 分管领导审核 step after the finance office, in a new 分管领导 lane."""
    xml = (ROOT / "bpmn" / "expense_claim.bpmn").read_bytes()
    xml = add_lane(xml, "lane_deputy", "分管领导")
    return add_step_after(xml, "finance_review", "deputy_review", "分管领导审核", "分管领导")


def deploy(api, bpmn: bytes, forms: dict):
    data = {"bpmn": (io.BytesIO(bpmn), "expense_claim.bpmn"),
            "forms": [(io.BytesIO(json.dumps(f).encode()), f"{name}.json") for name, f in forms.items()]}
    return api.post("/api/v1/process-definitions", data=data, content_type="multipart/form-data")


def test_a_new_step_added_in_bpmn_applies_to_new_requests_while_running_ones_finish_on_their_version(
        demo, as_user):
    clerk, owner = as_user("nyb_clerk"), as_user("liucheng")
    old = start_claim(clerk)
    assert old["version"] == 1

    response = deploy(owner, edited_claim_process(), {"deputy_review": DEPUTY_FORM})
    assert response.status_code == 201, response.json
    assert response.json["definition"]["version"] == 2

    new = start_claim(clerk)
    assert new["version"] == 2
    for username in ("nyb_head", "cz_reviewer"):
        api = as_user(username)
        for instance in (old, new):
            assert complete(api, the_task(api, instance["id"])["id"]).status_code == 200

    assert clerk.get(f"/api/v1/instances/{old['id']}").json["status"] == "approved"
    deputy = as_user("deputy")
    task = the_task(deputy, new["id"])
    assert task["name"] == "分管领导审核"
    assert complete(deputy, task["id"], data={"opinion_basis": "符合规定"}).status_code == 200
    assert clerk.get(f"/api/v1/instances/{new['id']}").json["status"] == "approved"

    listed = owner.get("/api/v1/process-definitions?all_versions=true").json
    claims = [(d["version"], d["latest"]) for d in listed if d["process_id"] == "expense_claim"]
    assert claims == [(2, True), (1, False)]


def test_redeploying_the_same_content_is_a_no_op(demo, as_user):
    owner = as_user("liucheng")
    bpmn = (ROOT / "bpmn" / "expense_claim.bpmn").read_bytes()
    response = deploy(owner, bpmn, {})
    assert response.status_code == 200
    assert response.json == {**response.json, "created": False}
    assert response.json["definition"]["version"] == 1


def test_a_form_change_alone_is_a_new_version(demo, as_user):
    owner = as_user("liucheng")
    bpmn = (ROOT / "bpmn" / "expense_claim.bpmn").read_bytes()
    form = json.loads((ROOT / "forms" / "expense_claim" / "unit_head_review.json").read_text())
    form["properties"]["budget_ok"] = {"type": "boolean", "title": "预算充足"}
    response = deploy(owner, bpmn, {"unit_head_review": form})
    assert response.status_code == 201
    assert response.json["definition"]["version"] == 2


def test_the_running_counts_per_version_are_listed(demo, as_user):
    start_claim(as_user("nyb_clerk"))
    [listed] = [d for d in as_user("liucheng").get("/api/v1/process-definitions").json
                if d["process_id"] == "expense_claim"]
    assert (listed["version"], listed["running_instances"]) == (1, 1)
    assert listed["can_start"] is False
    claim = next(d for d in as_user("nyb_clerk").get("/api/v1/process-definitions").json
                 if d["process_id"] == "expense_claim")
    assert claim["can_start"] is True
