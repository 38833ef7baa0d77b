"""Separation of duties (C17), empty approvers, proxies while away, and per-step field permissions."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.admin.people import GrantSpec, add_user
from app.models import Notification, Proxy, User
from tests.integration.processes import act, deploy, history, my_task, no_task, start
from tests.integration.test_approval_flow import start_claim
from tests.unit.bpmn_builder import Bpmn


def user(db_session, username) -> User:
    return db_session.scalar(select(User).where(User.username == username))


def two_finance_steps(process_id: str, allow_same: bool = False) -> Bpmn:
    doc = (Bpmn(process_id, "两道财政审核").lane("l1", "经办人", "start", "apply")
           .lane("l2", "财政所审核", "check", "confirm")
           .start().user_task("apply", "申请").user_task("check", "初审").user_task("confirm", "复核").end()
           .chain("start", "apply", "check", "confirm", "end"))
    if allow_same:
        xml = doc.xml().replace(
            'isExecutable="true">',
            'isExecutable="true"><bpmn:extensionElements><spiffworkflow:properties>'
            '<spiffworkflow:property name="allow_same_approver" value="true"/></spiffworkflow:properties>'
            '</bpmn:extensionElements>', 1)
        doc.xml = lambda: xml
    return doc


# -- C17 不相容岗位分离 -------------------------------------------------------------------------------

def test_the_applicant_is_never_a_candidate_for_their_own_request(demo, as_user, app, db_session):
    add_user(db_session, "dual", "long-enough-1", [GrantSpec("clerk", "SFZ-NYB"), GrantSpec("unit_head", "SFZ-NYB")],
             display_name="兼任", now=clock.now(), hash_profile="CHEAPEST")
    instance = start_claim(as_user("dual"))
    assert no_task(as_user("dual"), instance["id"])
    assert my_task(as_user("nyb_head"), instance["id"])["assignee"]["username"] == "nyb_head"


def test_who_decided_one_step_is_not_offered_the_next(demo, tmp_path, as_user):
    deploy(demo, tmp_path, two_finance_steps("two_checks"))
    instance = start(as_user("nyb_clerk"), "two_checks")
    first, second = as_user("cz_reviewer"), as_user("cz_reviewer2")
    act(first, my_task(first, instance["id"])["id"])
    assert no_task(first, instance["id"])
    assert my_task(second, instance["id"])["name"] == "复核"


def test_a_process_may_allow_one_person_to_decide_several_steps(demo, tmp_path, as_user):
    deploy(demo, tmp_path, two_finance_steps("two_checks_ok", allow_same=True))
    instance = start(as_user("nyb_clerk"), "two_checks_ok")
    first = as_user("cz_reviewer")
    act(first, my_task(first, instance["id"])["id"])
    assert act(first, my_task(first, instance["id"])["id"]).status_code == 200


def test_a_transfer_cannot_hand_the_next_step_to_who_decided_the_first(demo, tmp_path, as_user):
    deploy(demo, tmp_path, two_finance_steps("two_checks_tr"))
    instance = start(as_user("nyb_clerk"), "two_checks_tr")
    first, second = as_user("cz_reviewer"), as_user("cz_reviewer2")
    act(first, my_task(first, instance["id"])["id"])
    task = my_task(second, instance["id"])
    response = second.post(f"/api/v1/tasks/{task['id']}/transfer", json={"to": "cz_reviewer"})
    assert response.status_code == 400 and "不相容" in response.json["details"]["to"][0]


# -- empty approver ---------------------------------------------------------------------------------

def test_with_nobody_in_the_role_the_task_goes_to_the_admin_and_is_flagged(demo, as_user, db_session):
    user(db_session, "nyb_head").active = False
    db_session.commit()
    instance = start_claim(as_user("nyb_clerk"))
    task = my_task(as_user("admin"), instance["id"])
    assert task["fallback"] == "admin"
    fallback = [e for e in history(as_user("admin"), instance["id"]) if e["type"] == "task_fallback"]
    assert fallback[0]["data"]["reason"] == "admin"
    assert act(as_user("admin"), task["id"]).status_code == 200  # a person decides; nothing auto-approves


def test_with_nobody_at_all_supervisors_are_told_and_transfer_it(demo, as_user, db_session):
    for name in ("nyb_head", "admin"):
        user(db_session, name).active = False
    db_session.commit()
    instance = start_claim(as_user("nyb_clerk"))
    detail = as_user("duban").get(f"/api/v1/instances/{instance['id']}").json
    [task] = detail["current_tasks"]
    assert (task["fallback"], task["assignee"]) == ("none", None)
    notified = db_session.scalars(select(Notification.user_id).where(Notification.kind == "empty_approver")).all()
    assert notified == [user(db_session, "duban").id]
    user(db_session, "nyb_head").active = True
    db_session.commit()
    response = as_user("duban").post(f"/api/v1/tasks/{task['id']}/transfer", json={"to": "nyb_head"})
    assert response.status_code == 200, response.json
    assert my_task(as_user("nyb_head"), instance["id"])["fallback"] is None


def test_the_task_says_who_may_reassign_it_as_the_transfer_use_case_decides(demo, as_user, db_session):
    for name in ("nyb_head", "admin"):
        user(db_session, name).active = False
    db_session.commit()
    instance = start_claim(as_user("nyb_clerk"))
    [task] = as_user("duban").get(f"/api/v1/instances/{instance['id']}").json["current_tasks"]
    assert as_user("duban").get(f"/api/v1/tasks/{task['id']}").json["can_transfer"] is True
    for name in ("cz_head", "nyb_clerk"):  # sees the request, may not reassign it
        assert as_user(name).get(f"/api/v1/tasks/{task['id']}").json["can_transfer"] is False, name
    user(db_session, "admin").active = True
    db_session.commit()
    assert as_user("admin").get(f"/api/v1/tasks/{task['id']}").json["can_transfer"] is True
    assert as_user("cz_head").post(f"/api/v1/tasks/{task['id']}/transfer", json={"to": "nyb_clerk"}).status_code \
        == 403


def test_a_role_only_held_above_the_township_is_flagged_as_a_higher_holder(demo, tmp_path, as_user):
    doc = (Bpmn("audit_check", "审计复核").lane("l1", "经办人", "start", "apply").lane("l2", "审计", "audit")
           .start().user_task("apply", "申请").user_task("audit", "审计复核").end()
           .chain("start", "apply", "audit", "end"))
    deploy(demo, tmp_path, doc)
    instance = start(as_user("nyb_clerk"), "audit_check")
    task = my_task(as_user("shenji"), instance["id"])
    assert task["fallback"] == "higher_holder"


# -- 代理 proxies -----------------------------------------------------------------------------------

def away(db_session, principal, proxy, *, starts=timedelta(hours=-1), ends=timedelta(days=3), processes=None):
    now = clock.now()
    db_session.add(Proxy(principal_id=user(db_session, principal).id, proxy_id=user(db_session, proxy).id,
                         starts_at=now + starts, ends_at=now + ends, process_ids=processes, created_at=now))
    db_session.commit()


def test_a_proxy_does_the_task_that_arrived_while_the_principal_was_away(demo, as_user, db_session):
    away(db_session, "nyb_head", "zfb_head")
    instance = start_claim(as_user("nyb_clerk"))
    proxy = as_user("zfb_head")
    task = my_task(proxy, instance["id"])
    assert my_task(as_user("nyb_head"), instance["id"])["id"] == task["id"]  # the principal may still do it
    assert act(proxy, task["id"]).status_code == 200
    done = as_user("nyb_clerk").get(f"/api/v1/instances/{instance['id']}").json
    event = [e for e in done["history"] if e["type"] == "task_completed" and e["data"]["bpmn_id"] == "unit_head_review"]
    assert event[0]["actor_name"] == "赵主任（代周主任）"
    step = as_user("nyb_clerk").get(f"/api/v1/tasks/{task['id']}").json
    assert step["completed_by_name"] == "赵主任（代周主任）"


def test_a_proxy_is_told_whom_they_act_for_by_name(demo, as_user, db_session):
    away(db_session, "nyb_head", "zfb_head")
    instance = start_claim(as_user("nyb_clerk"))
    task = my_task(as_user("zfb_head"), instance["id"])
    detail = as_user("zfb_head").get(f"/api/v1/tasks/{task['id']}").json
    assert detail["acting_for"] == {"id": user(db_session, "nyb_head").id, "username": "nyb_head",
                                    "display_name": "周主任"}
    assert detail["can_act"] is True
    assert as_user("nyb_head").get(f"/api/v1/tasks/{task['id']}").json["acting_for"] is None


def test_a_proxy_may_take_off_a_signer_the_approver_added(demo, as_user, db_session):
    away(db_session, "nyb_head", "zfb_head")
    instance = start_claim(as_user("nyb_clerk"))
    task = my_task(as_user("nyb_head"), instance["id"])
    [signer] = as_user("nyb_head").post(f"/api/v1/tasks/{task['id']}/signers",
                                        json={"signers": ["deputy"], "position": "after"}).json["tasks"]
    assert as_user("swb_head").post(f"/api/v1/tasks/{signer['id']}/remove-signer", json={}).status_code == 404
    response = as_user("zfb_head").post(f"/api/v1/tasks/{signer['id']}/remove-signer", json={"comment": "不必了"})
    assert response.status_code == 200, response.json
    assert response.json["task"]["state"] == "cancelled"
    removed = [e for e in history(as_user("nyb_clerk"), instance["id"]) if e["type"] == "signer_removed"]
    assert [(e["actor"]["username"], e["data"]["signer"]) for e in removed] == [("zfb_head", "deputy")]


@pytest.mark.parametrize("window", [dict(starts=timedelta(days=1)), dict(ends=timedelta(minutes=-1)),
                                    dict(processes=["payment"])])
def test_no_proxy_outside_the_window_or_for_other_processes(demo, as_user, db_session, window):
    away(db_session, "nyb_head", "zfb_head", **window)
    instance = start_claim(as_user("nyb_clerk"))
    assert no_task(as_user("zfb_head"), instance["id"])
    assert my_task(as_user("nyb_head"), instance["id"])["assignee"]["username"] == "nyb_head"


# -- per-step field permissions ----------------------------------------------------------------------

REVIEW_FORM = {"type": "object", "x-hidden": ["payee"],
               "properties": {"amount": {"type": "number", "format": "money", "readOnly": True, "title": "金额"},
                              "note": {"type": "string"}}}


@pytest.fixture
def guarded(demo, tmp_path):
    doc = (Bpmn("guarded", "字段权限").lane("l1", "经办人", "start", "apply").lane("l2", "单位负责人", "review")
           .start().user_task("apply", "申请").user_task("review", "审核").end()
           .chain("start", "apply", "review", "end"))
    apply_form = {"type": "object", "required": ["title", "amount"],
                  "properties": {"title": {"type": "string"}, "amount": {"type": "number", "format": "money"},
                                 "payee": {"type": "string"}}}
    deploy(demo, tmp_path, doc, forms={"apply": apply_form, "review": REVIEW_FORM})


def test_a_later_step_cannot_rewrite_a_read_only_field(guarded, as_user):
    instance = start(as_user("nyb_clerk"), "guarded", amount=800, payee="某公司")
    head = as_user("nyb_head")
    task = my_task(head, instance["id"])
    response = act(head, task["id"], data={"amount": 8000})
    assert response.status_code == 400
    assert response.json["details"] == {"data.amount": ["只读字段，此环节不能修改"]}
    assert act(head, task["id"], data={"amount": 800, "note": "金额无误"}).status_code == 200


def test_a_hidden_field_is_not_shown_to_the_step(guarded, as_user):
    instance = start(as_user("nyb_clerk"), "guarded", amount=800, payee="某公司")
    head = as_user("nyb_head")
    data = head.get(f"/api/v1/tasks/{my_task(head, instance['id'])['id']}").json["data"]
    assert "payee" not in data and data["amount"] == "800.00"
