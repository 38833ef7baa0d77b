"""转办, 委派, 加签/减签, 撤回: happy paths, refusals, and what the history records."""
from app import clock
from app.admin.people import GrantSpec, add_user
from tests.integration.processes import act, history, my_task, no_task
from tests.integration.test_approval_flow import start_claim


def at_unit_head(as_user, clerk="nyb_clerk", **data):
    instance = start_claim(as_user(clerk), **data)
    head = as_user("nyb_head")
    return instance, head, my_task(head, instance["id"])


# -- 转办 transfer ----------------------------------------------------------------------------------

def test_a_reviewer_transfers_a_task_to_the_other_reviewer(demo, as_user):
    instance = start_claim(as_user("swb_clerk"))
    act(as_user("swb_head"), my_task(as_user("swb_head"), instance["id"])["id"])
    first, second = as_user("cz_reviewer"), as_user("cz_reviewer2")
    task = my_task(first, instance["id"])
    response = first.post(f"/api/v1/tasks/{task['id']}/transfer", json={"to": "cz_reviewer2", "comment": "我出差"})
    assert response.status_code == 200, response.json
    assert response.json["task"]["assignee"]["username"] == "cz_reviewer2"
    assert no_task(first, instance["id"])
    moved = my_task(second, instance["id"])
    assert moved["note"] == "蒋审核转办：我出差"
    assert act(second, moved["id"]).status_code == 200
    event = [e for e in history(second, instance["id"]) if e["type"] == "task_transferred"][0]
    assert (event["actor"]["username"], event["data"]["to"]) == ("cz_reviewer", "cz_reviewer2")


def test_a_task_cannot_be_transferred_to_someone_without_the_role(demo, as_user):
    instance, head, task = at_unit_head(as_user)
    response = head.post(f"/api/v1/tasks/{task['id']}/transfer", json={"to": "swb_head"})
    assert response.status_code == 400 and "to" in response.json["details"]
    for target in ("nyb_clerk", "nyb_head", "qs_head", "nobody"):  # applicant, self, other township, unknown
        assert head.post(f"/api/v1/tasks/{task['id']}/transfer", json={"to": target}).status_code == 400
    assert my_task(head, instance["id"])["id"] == task["id"]


def test_only_who_may_act_or_a_supervisor_transfers(demo, as_user):
    instance, head, task = at_unit_head(as_user)
    assert as_user("cz_head").post(f"/api/v1/tasks/{task['id']}/transfer", json={"to": "cz_reviewer"}).status_code \
        == 403
    assert as_user("qs_head").post(f"/api/v1/tasks/{task['id']}/transfer", json={"to": "cz_reviewer"}).status_code \
        == 404


def test_the_applicants_own_step_is_not_transferred_even_by_a_supervisor(demo, as_user):
    instance, head, task = at_unit_head(as_user)
    targets = head.get(f"/api/v1/tasks/{task['id']}/return-targets").json
    apply_step = next(t for t in targets if t["is_application"])["bpmn_id"]
    assert head.post(f"/api/v1/tasks/{task['id']}/return",
                     json={"target": apply_step, "comment": "请补发票"}).status_code == 200
    clerk = as_user("nyb_clerk")
    own = my_task(clerk, instance["id"])
    for who, to in ((clerk, "nyb_head"), (as_user("duban"), "nyb_head")):
        response = who.post(f"/api/v1/tasks/{own['id']}/transfer", json={"to": to})
        assert response.status_code == 409 and "申请人本人的环节不能转办" in response.json["message"]
    assert my_task(clerk, instance["id"])["id"] == own["id"]


# -- 委派 delegate ----------------------------------------------------------------------------------

def test_a_delegate_answers_and_the_task_comes_back_to_decide(demo, as_user):
    instance, head, task = at_unit_head(as_user)
    response = head.post(f"/api/v1/tasks/{task['id']}/delegate", json={"to": "deputy", "comment": "请把关"})
    assert response.status_code == 200, response.json
    assert no_task(head, instance["id"])
    deputy = as_user("deputy")
    answer = my_task(deputy, instance["id"])
    assert (answer["kind"], answer["note"]) == ("delegate", "请把关")
    assert act(deputy, answer["id"], decision="reject", comment="建议压缩金额").status_code == 200
    back = my_task(head, instance["id"])
    assert back["id"] == task["id"]
    assert act(head, back["id"], comment="同意，已核减").status_code == 200  # the delegate only advised
    types = [(e["type"], e["actor"]["username"] if e["actor"] else None) for e in history(head, instance["id"])]
    assert types[-4:] == [("task_delegated", "nyb_head"), ("delegate_answered", "deputy"),
                          ("task_completed", "nyb_head"), ("task_created", None)]


def test_delegating_to_the_applicant_or_oneself_is_refused(demo, as_user):
    instance, head, task = at_unit_head(as_user)
    for target in ("nyb_clerk", "nyb_head"):
        response = head.post(f"/api/v1/tasks/{task['id']}/delegate", json={"to": target})
        assert response.status_code == 400 and "to" in response.json["details"]
    assert as_user("deputy").post(f"/api/v1/tasks/{task['id']}/delegate", json={"to": "zhenzhang"}).status_code \
        == 404


# -- 加签 / 减签 add and remove signers ----------------------------------------------------------------

def test_signers_before_sign_in_turn_then_the_approver_decides(demo, as_user):
    instance, head, task = at_unit_head(as_user)
    response = head.post(f"/api/v1/tasks/{task['id']}/signers",
                         json={"signers": ["deputy", "finance_deputy"], "position": "before", "mode": "sequential"})
    assert response.status_code == 200, response.json
    assert [t["state"] for t in response.json["tasks"]] == ["ready", "pending"]
    deputy, finance_deputy = as_user("deputy"), as_user("finance_deputy")
    assert no_task(finance_deputy, instance["id"])
    assert act(head, task["id"]).status_code == 409
    act(deputy, my_task(deputy, instance["id"])["id"])
    act(finance_deputy, my_task(finance_deputy, instance["id"])["id"])
    assert act(head, my_task(head, instance["id"])["id"]).status_code == 200


def test_signers_after_sign_once_the_approver_approved(demo, as_user):
    instance, head, task = at_unit_head(as_user)
    head.post(f"/api/v1/tasks/{task['id']}/signers", json={"signers": ["deputy"], "position": "after"})
    assert act(head, task["id"], comment="同意，请分管领导会签").status_code == 200
    reviewer = as_user("cz_reviewer")
    assert no_task(reviewer, instance["id"])  # the step is not done before its signer signs
    deputy = as_user("deputy")
    act(deputy, my_task(deputy, instance["id"])["id"])
    assert my_task(reviewer, instance["id"])["name"] == "财政所审核"
    step = as_user("shenji").get(f"/api/v1/tasks/{task['id']}").json
    assert (step["state"], step["completed_by"]["username"], step["comment"]) == \
        ("completed", "nyb_head", "同意，请分管领导会签")


def test_a_signer_who_has_not_signed_can_be_removed(demo, as_user):
    instance, head, task = at_unit_head(as_user)
    added = head.post(f"/api/v1/tasks/{task['id']}/signers",
                      json={"signers": ["deputy"], "position": "before"}).json["tasks"]
    assert as_user("deputy").post(f"/api/v1/tasks/{added[0]['id']}/remove-signer", json={}).status_code == 403
    response = head.post(f"/api/v1/tasks/{added[0]['id']}/remove-signer", json={"comment": "不需要了"})
    assert response.status_code == 200 and response.json["task"]["state"] == "cancelled"
    assert no_task(as_user("deputy"), instance["id"])
    assert act(head, task["id"]).status_code == 200  # nobody left to wait for


def test_a_sub_task_names_who_added_it_and_they_may_remove_it_after_handing_the_step_on(demo, as_user, db_session):
    instance, head, task = at_unit_head(as_user)
    add_user(db_session, "nyb_head2", "long-enough-1", [GrantSpec("unit_head", "SFZ-NYB")], display_name="钱主任",
             now=clock.now(), hash_profile="CHEAPEST")
    added = head.post(f"/api/v1/tasks/{task['id']}/signers",
                      json={"signers": ["deputy"], "position": "after"}).json["tasks"]
    assert added[0]["added_by"]["username"] == "nyb_head"
    step = head.get(f"/api/v1/tasks/{task['id']}").json
    assert [(s["assignee"]["username"], s["added_by"]["username"]) for s in step["sub_tasks"]] == \
        [("deputy", "nyb_head")]
    assert step["added_by"] is None  # a step is nobody's addition
    assert as_user("deputy").get(f"/api/v1/tasks/{added[0]['id']}").json["added_by"]["display_name"] == "周主任"

    moved = head.post(f"/api/v1/tasks/{task['id']}/transfer", json={"to": "nyb_head2"})
    assert moved.status_code == 200, moved.json
    assert as_user("nyb_head2").get(f"/api/v1/tasks/{task['id']}").json["sub_tasks"][0]["added_by"]["id"] == \
        head.user.id
    removed = head.post(f"/api/v1/tasks/{added[0]['id']}/remove-signer", json={"comment": "不必加签了"})
    assert removed.status_code == 200 and removed.json["task"]["state"] == "cancelled"
    assert act(as_user("nyb_head2"), task["id"]).status_code == 200  # nobody left to sign after the approver


def test_a_signer_who_signed_cannot_be_removed(demo, as_user):
    instance, head, task = at_unit_head(as_user)
    added = head.post(f"/api/v1/tasks/{task['id']}/signers",
                      json={"signers": ["deputy", "finance_deputy"], "position": "before"}).json["tasks"]
    act(as_user("deputy"), added[0]["id"])
    assert head.post(f"/api/v1/tasks/{added[0]['id']}/remove-signer", json={}).status_code == 409


def test_adding_oneself_or_the_applicant_as_signer_is_refused(demo, as_user):
    instance, head, task = at_unit_head(as_user)
    for who in (["nyb_head"], ["nyb_clerk"], ["deputy", "deputy", "qs_head"]):
        response = head.post(f"/api/v1/tasks/{task['id']}/signers", json={"signers": who, "position": "before"})
        assert response.status_code == 400 and "signers" in response.json["details"], who
    response = head.post(f"/api/v1/tasks/{task['id']}/signers", json={"signers": ["deputy"], "position": "aside"})
    assert response.status_code == 400 and "position" in response.json["details"]
    assert my_task(head, instance["id"])["waiting_for"] is None


# -- 撤回 withdraw ----------------------------------------------------------------------------------

def test_the_applicant_withdraws_before_anyone_acts(demo, as_user, db_session):
    clerk = as_user("nyb_clerk")
    instance = start_claim(clerk)
    response = clerk.post(f"/api/v1/instances/{instance['id']}/withdraw", json={"comment": "填错了"})
    assert response.status_code == 200
    assert response.json["status"] == "withdrawn" and response.json["current_tasks"] == []
    assert no_task(as_user("nyb_head"), instance["id"])
    last = response.json["history"][-1]
    assert (last["type"], last["data"]["comment"], last["actor"]["username"]) == \
        ("instance_withdrawn", "填错了", "nyb_clerk")


def test_the_applicant_cannot_withdraw_once_an_approver_acted(demo, as_user):
    instance, head, task = at_unit_head(as_user)
    act(head, task["id"])
    response = as_user("nyb_clerk").post(f"/api/v1/instances/{instance['id']}/withdraw", json={})
    assert response.status_code == 409 and "审批人" in response.json["message"]


def test_only_the_applicant_withdraws(demo, as_user):
    instance, head, task = at_unit_head(as_user)
    assert head.post(f"/api/v1/instances/{instance['id']}/withdraw", json={}).status_code == 403
    assert as_user("qs_clerk").post(f"/api/v1/instances/{instance['id']}/withdraw", json={}).status_code == 404


def test_an_approver_takes_back_an_approval_until_the_next_step_is_touched(demo, as_user):
    instance, head, task = at_unit_head(as_user)
    act(head, task["id"], comment="同意")
    response = head.post(f"/api/v1/tasks/{task['id']}/withdraw", json={"comment": "金额要再核"})
    assert response.status_code == 200, response.json
    again = my_task(head, instance["id"])
    assert again["note"] == "已撤回，重新办理"
    assert no_task(as_user("cz_reviewer"), instance["id"])
    act(head, again["id"])
    reviewer = as_user("cz_reviewer")
    reviewer.post(f"/api/v1/tasks/{my_task(reviewer, instance['id'])['id']}/claim")
    assert head.post(f"/api/v1/tasks/{again['id']}/withdraw", json={}).status_code == 409


def test_only_the_approver_takes_back_their_own_approval(demo, as_user):
    instance, head, task = at_unit_head(as_user)
    act(head, task["id"])
    assert as_user("cz_reviewer").post(f"/api/v1/tasks/{task['id']}/withdraw", json={}).status_code == 403
    assert as_user("qs_head").post(f"/api/v1/tasks/{task['id']}/withdraw", json={}).status_code == 404
