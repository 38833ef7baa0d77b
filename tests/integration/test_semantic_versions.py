"""A version is a change of meaning: a diagram opened and saved again in a modeler, or only laid out anew, is
no new version; its stored diagram takes the new layout, and requests under way carry on."""
from sqlalchemy import select, update

from app.config import ROOT
from app.models import ProcessDefinition
from tests.bpmn import variants
from tests.integration.processes import act, my_task
from tests.integration.test_deploy_bad_input import upload

CLAIM = (ROOT / "bpmn" / "expense_claim.bpmn").read_bytes()
APPLICATION = {"title": "购买办公用品", "amount": 1200, "expense_type": "办公费", "payee": "镇供销社"}


def stored(db_session, process_id="expense_claim") -> list[tuple[int, str, str]]:
    db_session.expire_all()
    return [(d.version, d.sha256, d.bpmn_xml) for d in db_session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
        .order_by(ProcessDefinition.version))]


def test_a_resaved_diagram_is_no_new_version_and_the_stored_diagram_takes_its_layout(demo, as_user, db_session):
    [(_, sha, _)] = stored(db_session)
    resaved = variants.resave(CLAIM)
    response = upload(as_user("liucheng"), resaved)
    assert response.status_code == 200, response.json
    assert (response.json["created"], response.json["layout_updated"]) == (False, True)
    assert response.json["definition"]["version"] == 1
    assert stored(db_session) == [(1, sha, resaved.decode())]
    again = upload(as_user("liucheng"), resaved)
    assert (again.status_code, again.json["layout_updated"]) == (200, False)


def test_a_request_under_way_carries_on_after_its_versions_layout_changed(demo, as_user, client, db_session):
    clerk = as_user("nyb_clerk")
    instance = clerk.post("/api/v1/instances", json={"process_id": "expense_claim", "data": APPLICATION}).json
    assert upload(as_user("liucheng"), variants.move_shape(CLAIM, "finance_review", 200)).json["layout_updated"]
    client.application.extensions["township_runtime"].catalog._cache.clear()  # parsed again, from the new bytes
    for username, data in (("nyb_head", {}), ("cz_reviewer", {"documents_complete": True})):
        api = as_user(username)
        assert act(api, my_task(api, instance["id"])["id"], data=data).status_code == 200
    assert clerk.get(f"/api/v1/instances/{instance['id']}").json["status"] == "approved"


def test_a_change_of_meaning_after_a_resave_is_a_new_version(demo, as_user, db_session):
    resaved = variants.resave(CLAIM)
    renamed = variants.rename(resaved, "finance_review", "财政所复核")
    response = upload(as_user("liucheng"), renamed)
    assert response.status_code == 201, response.json
    assert [v for v, _, _ in stored(db_session)] == [1, 2]


def test_a_version_stored_with_the_hash_of_its_bytes_is_still_compared_by_meaning(demo, as_user, db_session):
    # Versions deployed before meanings were compared hold sha256 of their bytes and forms.
    db_session.execute(update(ProcessDefinition).where(ProcessDefinition.process_id == "expense_claim")
                       .values(sha256="0" * 64))
    db_session.commit()
    response = upload(as_user("liucheng"), variants.resave(CLAIM))
    assert (response.status_code, response.json["created"]) == (200, False)
    [(version, sha, _)] = stored(db_session)
    assert version == 1 and sha != "0" * 64  # now the hash of its meaning


def test_the_cli_redeploys_every_resaved_file_as_a_layout_update(demo, app, db_session, tmp_path):
    for path in (ROOT / "bpmn").glob("*.bpmn"):
        (tmp_path / path.name).write_bytes(variants.resave(path.read_bytes()))
    result = app.test_cli_runner().invoke(args=["bpmn", "deploy", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 7 and all("\tv1\t仅更新布局\t" in line for line in lines), result.output
