"""Every bad BPMN upload gets a clear 4xx naming what is wrong, and the deployed versions stay as they were."""
import io
import json

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.config import ROOT
from app.models import ProcessDefinition

GOOD = (ROOT / "bpmn" / "expense_claim.bpmn").read_bytes()


def versions(db_session):
    return db_session.execute(select(ProcessDefinition.process_id, func.count())
                              .group_by(ProcessDefinition.process_id).order_by(ProcessDefinition.process_id)).all()


def upload(api, bpmn: bytes, filename="expense_claim.bpmn", forms=None):
    # Encoded in memory: werkzeug's test builder would spool a big body to a temp file it never closes.
    fields = MultiDict([("bpmn", FileStorage(io.BytesIO(bpmn), filename))]
                       + [("forms", FileStorage(io.BytesIO(body), name)) for name, body in (forms or {}).items()])
    boundary, body = encode_multipart(fields)
    return api.post("/api/v1/process-definitions", data=body,
                    content_type=f"multipart/form-data; boundary={boundary}")


def with_condition(expression: str) -> bytes:
    return GOOD.replace(b"amount &gt;= 5000", expression.replace("&", "&amp;").replace("<", "&lt;").encode())


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="expense_claim" isExecutable="true"><bpmn:documentation>&xxe;</bpmn:documentation>
  </bpmn:process></bpmn:definitions>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<bpmn:process id="expense_claim" isExecutable="true"><bpmn:documentation>&lol4;</bpmn:documentation>
</bpmn:process></bpmn:definitions>"""

CASES = {
    "malformed XML": (GOOD[:400], 422, "XML 格式错误"),
    "DOCTYPE with an external entity": (XXE, 422, "DOCTYPE"),
    "billion laughs": (LAUGHS, 422, "DOCTYPE"),
    "XML that is not BPMN": (b"<html><body>hello</body></html>", 422, "不是 BPMN"),
    "__import__ in a condition": (with_condition("__import__('os').system('id')"), 422, "f_big"),
    "dunder escape in a condition": (with_condition("().__class__.__base__.__subclasses__()"), 422, "f_big"),
    "a lane with an unknown role": (GOOD.replace('name="镇长"'.encode(), b'name="Mayor"'), 422, "lane_head"),
    "a user task without a form": (GOOD.replace(b'"township_head_approve"', b'"head_signs"')
                                   .replace(b">township_head_approve<", b">head_signs<"), 422, "head_signs"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_bad_upload_is_refused_and_nothing_is_deployed(demo, as_user, db_session, case):
    bpmn, status, expected = CASES[case]
    before = versions(db_session)
    response = upload(as_user("liucheng"), bpmn)
    assert response.status_code == status, response.json
    assert response.json["error"] in ("invalid_bpmn", "bpmn_too_large")
    assert expected in json.dumps(response.json, ensure_ascii=False)
    assert "root:" not in json.dumps(response.json)  # /etc/passwd content never echoed
    assert versions(db_session) == before


def test_problems_name_the_element_and_its_line(demo, as_user):
    response = upload(as_user("liucheng"), with_condition("__import__('os')"))
    [problem] = response.json["problems"]
    assert problem["element_id"] == "f_big"
    assert problem["file"] == "expense_claim.bpmn"
    assert problem["line"] > 1


def test_a_20_mb_upload_is_refused_with_413(demo, as_user, db_session):
    before = versions(db_session)
    response = upload(as_user("liucheng"), GOOD + b"<!--" + b"x" * (20 * 1024 * 1024) + b"-->")
    assert response.status_code == 413
    assert response.json["error"] == "request_entity_too_large"
    assert versions(db_session) == before


def test_a_bpmn_over_the_bpmn_cap_but_under_the_upload_cap_is_413_too(demo, as_user, db_session):
    response = upload(as_user("liucheng"), GOOD + b"<!--" + b"x" * (3 * 1024 * 1024) + b"-->")
    assert response.status_code == 413
    assert response.json["error"] == "bpmn_too_large"


def test_a_form_that_is_not_json_is_refused(demo, as_user, db_session):
    response = upload(as_user("liucheng"), GOOD, forms={"finance_review.json": b"{not json"})
    assert response.status_code == 422
    assert "finance_review" in response.json["details"]


def test_only_process_owners_may_deploy(demo, as_user, db_session):
    response = upload(as_user("cz_head"), GOOD)
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"


def test_the_cli_names_the_element_and_deploys_nothing(demo, app, db_session, tmp_path):
    bad = tmp_path / "expense_claim.bpmn"
    bad.write_bytes(GOOD.replace('name="镇长"'.encode(), b'name="Mayor"'))
    before = versions(db_session)
    result = app.test_cli_runner().invoke(args=["bpmn", "deploy", str(bad)])
    assert result.exit_code == 1
    assert "lane_head" in result.output and "Mayor" in result.output
    assert versions(db_session) == before


def test_the_cli_deploys_bpmn_once_and_then_reports_unchanged(app, db_session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["bpmn", "deploy"])
    assert first.exit_code == 0, first.output
    assert "expense_claim\tv1\t新版本" in first.output
    again = runner.invoke(args=["bpmn", "deploy"])
    assert "expense_claim\tv1\t未改动" in again.output
    listing = runner.invoke(args=["bpmn", "list"])
    assert "expense_claim\tv1\t0" in listing.output


PAYMENT = (ROOT / "bpmn" / "payment.bpmn").read_bytes()
PROJECT = (ROOT / "bpmn" / "project_entry.bpmn").read_bytes()


@pytest.mark.parametrize("source,old,new,element,message", [
    (PAYMENT, b'name="due_working_days" value="3"', b'name="due_working_days" value="\xe4\xb8\x89\xe5\xa4\xa9"',
     "finance_review", "due_working_days 须为 1 到 366 的整数"),
    (PAYMENT, b"<bpmn:timeDate>workdays(5)</bpmn:timeDate>", b"<bpmn:timeDate>workdays(0)</bpmn:timeDate>",
     "t_review_escalate", "工作日数须在 1 到 366 之间"),
    (PAYMENT, b'<bpmn:timeCycle>"R/P1D"</bpmn:timeCycle>', b"<bpmn:timeCycle>workdays(1)</bpmn:timeCycle>",
     "t_review_remind", "只能用在 timeDate 里"),
    (PAYMENT, b'<bpmn:timeCycle>"R/P1D"</bpmn:timeCycle>', b'<bpmn:timeCycle>"every day"</bpmn:timeCycle>',
     "t_review_remind", "无法解析"),
    # A timeout that would pay: the escalation branch pointed at the bank instead of the escalation step.
    (PAYMENT, b'sourceRef="t_review_escalate" targetRef="s_review_escalate"',
     b'sourceRef="t_review_escalate" targetRef="s_bank"', "t_review_escalate", "超时路径不得自动办理业务"),
    # A timeout that would approve: the unit head's timer straight to the end of the process.
    (PROJECT, b'sourceRef="t_unit_timeout" targetRef="apply"', b'sourceRef="t_unit_timeout" targetRef="end_in_library"',
     "t_unit_timeout", "超时不得自动通过"),
])
def test_a_bad_deadline_is_refused_at_deploy_with_the_element(demo, as_user, db_session, source, old, new, element,
                                                              message):
    assert old in source
    before = versions(db_session)
    filename = "payment.bpmn" if source is PAYMENT else "project_entry.bpmn"
    response = upload(as_user("liucheng"), source.replace(old, new), filename=filename)
    assert response.status_code == 422, response.json
    assert message in response.json["details"][element][0]
    assert versions(db_session) == before
