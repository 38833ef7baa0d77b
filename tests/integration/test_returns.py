"""退回: to the applicant or an earlier step; from inside a multi-approver step; after signers were added;
and the timers of what was cancelled never fire."""
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event, text

from app import clock
from app.approvals.timers import fire_due_timers
from tests.integration.processes import act, approver_step, deploy, history, my_task, no_task, start
from tests.integration.test_approval_flow import start_claim, the_task
from tests.unit.bpmn_builder import Bpmn


def reviewed(process_id: str, *, joint: bool = False) -> Bpmn:
    """apply -> unit head -> finance (a countersign step when joint) with a 1-hour escalation -> end."""
    finance = approver_step("finance", "财政所审核") if joint else '<bpmn:userTask id="finance" name="财政所审核"/>'
    return (Bpmn(process_id, "退回测试").lane("l1", "经办人", "start", "apply")
            .lane("l2", "单位负责人", "head").lane("l3", "财政所审核", "finance")
            .lane("l4", "财政所所长", "escalated")
            .start().user_task("apply", "申请").user_task("head", "单位负责人审核").raw(finance)
            .timer("late", "finance", "timeDuration", '"PT1H"').user_task("escalated", "所长督办")
            .end().end("end_late")
            .chain("start", "apply", "head", "finance", "end").chain("late", "escalated", "end_late"))


def targets(api, task_id):
    response = api.get(f"/api/v1/tasks/{task_id}/return-targets")
    assert response.status_code == 200, response.json
    return [(t["bpmn_id"], t["is_application"]) for t in response.json]


def give_back(api, task_id, target, comment="材料不全"):
    return api.post(f"/api/v1/tasks/{task_id}/return", json={"target": target, "comment": comment})


def test_return_targets_are_the_steps_passed_through(demo, tmp_path, as_user):
    deploy(demo, tmp_path, reviewed("ret_targets"))
    instance = start(as_user("nyb_clerk"), "ret_targets")
    head = as_user("nyb_head")
    act(head, my_task(head, instance["id"])["id"])
    reviewer = as_user("cz_reviewer")
    task = my_task(reviewer, instance["id"])
    assert targets(reviewer, task["id"]) == [("apply", True), ("head", False)]


def test_a_return_to_an_earlier_step_reopens_it_for_who_did_it_with_their_data(demo, tmp_path, as_user):
    deploy(demo, tmp_path, reviewed("ret_head"), forms={"head": {
        "type": "object", "properties": {"opinion": {"type": "string"}}}})
    instance = start(as_user("nyb_clerk"), "ret_head")
    head = as_user("nyb_head")
    act(head, my_task(head, instance["id"])["id"], data={"opinion": "情况属实"})
    reviewer = as_user("cz_reviewer")
    response = give_back(reviewer, my_task(reviewer, instance["id"])["id"], "head", "请补充说明")
    assert response.status_code == 200, response.json
    reopened = my_task(head, instance["id"])
    assert (reopened["name"], reopened["note"]) == ("单位负责人审核", "蒋审核退回：请补充说明")
    assert head.get(f"/api/v1/tasks/{reopened['id']}").json["data"]["opinion"] == "情况属实"
    assert no_task(reviewer, instance["id"]) and no_task(as_user("cz_reviewer2"), instance["id"])
    events = [(e["type"], e["data"].get("bpmn_id")) for e in history(head, instance["id"])]
    assert events[-2:] == [("task_returned", "finance"), ("task_created", "head")]
    assert events.count(("task_completed", "head")) == 1  # the first round stays in the history


def test_a_return_needs_a_reason_and_a_step_that_ran(demo, tmp_path, as_user):
    deploy(demo, tmp_path, reviewed("ret_bad"))
    instance = start(as_user("nyb_clerk"), "ret_bad")
    head = as_user("nyb_head")
    task = my_task(head, instance["id"])
    assert give_back(head, task["id"], "apply", "").status_code == 400
    response = give_back(head, task["id"], "finance")
    assert response.status_code == 400 and "target" in response.json["details"]
    assert give_back(as_user("swb_head"), task["id"], "apply").status_code == 404
    assert give_back(as_user("cz_head"), task["id"], "apply").status_code == 403


def test_a_member_of_a_countersign_step_returns_the_whole_request(demo, tmp_path, as_user):
    deploy(demo, tmp_path, reviewed("ret_joint", joint=True))
    instance = start(as_user("nyb_clerk"), "ret_joint")
    head = as_user("nyb_head")
    act(head, my_task(head, instance["id"])["id"])
    first, second = as_user("cz_reviewer"), as_user("cz_reviewer2")
    act(first, my_task(first, instance["id"])["id"])  # one member already approved
    response = give_back(second, my_task(second, instance["id"])["id"], "apply", "发票抬头有误")
    assert response.status_code == 200, response.json
    clerk = as_user("nyb_clerk")
    assert my_task(clerk, instance["id"])["note"] == "沈审核退回：发票抬头有误"
    assert no_task(first, instance["id"]) and no_task(second, instance["id"])
    # resubmitted, the countersign starts over with both members
    act(clerk, my_task(clerk, instance["id"])["id"], decision=None, data={"title": "测试申请", "amount": 90})
    act(head, my_task(head, instance["id"])["id"])
    assert my_task(first, instance["id"]) and my_task(second, instance["id"])


def test_a_return_after_a_signer_signed_before_the_approver(demo, tmp_path, as_user):
    deploy(demo, tmp_path, reviewed("ret_signed"))
    instance = start(as_user("nyb_clerk"), "ret_signed")
    head = as_user("nyb_head")
    act(head, my_task(head, instance["id"])["id"])
    reviewer, deputy = as_user("cz_reviewer"), as_user("deputy")
    task = my_task(reviewer, instance["id"])
    assert reviewer.post(f"/api/v1/tasks/{task['id']}/signers",
                         json={"signers": ["deputy"], "position": "before"}).status_code == 200
    signer_task = my_task(deputy, instance["id"])
    assert give_back(deputy, signer_task["id"], "apply").status_code == 409  # a signer signs or refuses
    assert give_back(reviewer, task["id"], "apply").status_code == 409  # the step waits for its signer
    assert act(deputy, signer_task["id"]).status_code == 200
    response = give_back(reviewer, task["id"], "apply", "加签人已签，但附件不全")
    assert response.status_code == 200, response.json
    clerk = as_user("nyb_clerk")
    act(clerk, my_task(clerk, instance["id"])["id"], decision=None, data={"title": "测试申请", "amount": 90})
    act(head, my_task(head, instance["id"])["id"])
    again = my_task(reviewer, instance["id"])
    assert again["waiting_for"] is None  # a fresh step: the earlier round's signer does not carry over
    assert act(reviewer, again["id"]).json["instance"]["status"] == "approved"


def test_a_return_from_a_step_with_signers_queued_after_it_cancels_them(demo, tmp_path, as_user):
    deploy(demo, tmp_path, reviewed("ret_queued"))
    instance = start(as_user("nyb_clerk"), "ret_queued")
    head = as_user("nyb_head")
    act(head, my_task(head, instance["id"])["id"])
    reviewer = as_user("cz_reviewer")
    task = my_task(reviewer, instance["id"])
    reviewer.post(f"/api/v1/tasks/{task['id']}/signers", json={"signers": ["deputy"], "position": "after"})
    assert give_back(reviewer, task["id"], "apply").status_code == 200
    detail = reviewer.get(f"/api/v1/tasks/{task['id']}").json
    assert [s["state"] for s in detail["sub_tasks"]] == ["cancelled"]
    clerk = as_user("nyb_clerk")
    act(clerk, my_task(clerk, instance["id"])["id"], decision=None, data={"title": "测试申请", "amount": 90})
    act(head, my_task(head, instance["id"])["id"])
    new_task = my_task(reviewer, instance["id"])
    assert reviewer.get(f"/api/v1/tasks/{new_task['id']}").json["sub_tasks"] == []
    assert act(reviewer, new_task["id"]).json["instance"]["status"] == "approved"  # no signer left over


def test_no_timer_of_a_returned_step_fires_afterwards(demo, tmp_path, as_user, db_session):
    deploy(demo, tmp_path, reviewed("ret_timer"))
    clerk = as_user("nyb_clerk")
    instance = start(clerk, "ret_timer")
    head = as_user("nyb_head")
    act(head, my_task(head, instance["id"])["id"])
    reviewer = as_user("cz_reviewer")
    assert give_back(reviewer, my_task(reviewer, instance["id"])["id"], "apply").status_code == 200
    from app.runtime import deps

    events_before = len(history(clerk, instance["id"]))
    with time_machine.travel(clock.now() + timedelta(hours=3), tick=False):
        assert fire_due_timers(deps(), instance["id"]) == []
    assert no_task(as_user("cz_head"), instance["id"])  # the escalation never opened
    assert my_task(clerk, instance["id"])["name"] == "申请"
    assert len(history(clerk, instance["id"])) == events_before


def test_no_timer_of_a_returned_countersign_step_fires_afterwards(demo, tmp_path, as_user):
    deploy(demo, tmp_path, reviewed("ret_joint_timer", joint=True))
    instance = start(as_user("nyb_clerk"), "ret_joint_timer")
    head = as_user("nyb_head")
    act(head, my_task(head, instance["id"])["id"])
    first = as_user("cz_reviewer")
    assert give_back(first, my_task(first, instance["id"])["id"], "head").status_code == 200
    from app.runtime import deps

    with time_machine.travel(clock.now() + timedelta(hours=3), tick=False):
        assert fire_due_timers(deps(), instance["id"]) == []
    assert no_task(as_user("cz_head"), instance["id"])


def test_the_timer_of_a_live_step_does_fire(demo, tmp_path, as_user):
    """The control for the two tests above: without the return, the same timer escalates."""
    deploy(demo, tmp_path, reviewed("ret_control"))
    instance = start(as_user("nyb_clerk"), "ret_control")
    head = as_user("nyb_head")
    act(head, my_task(head, instance["id"])["id"])
    from app.runtime import deps

    with time_machine.travel(clock.now() + timedelta(hours=3), tick=False):
        opened = fire_due_timers(deps(), instance["id"])
    assert [t.bpmn_id for t in opened] == ["escalated"]
    assert my_task(as_user("cz_head"), instance["id"])["name"] == "所长督办"


# -- an empty target; showing the targets locks and writes nothing ---------------------------------------

@pytest.mark.parametrize("target", ["", "  "])
def test_an_empty_target_is_asked_for_by_its_field(demo, as_user, target):
    instance = start_claim(as_user("nyb_clerk"))
    head = as_user("nyb_head")
    task = the_task(head, instance["id"])
    response = give_back(head, task["id"], target, "材料不全")
    assert response.status_code == 400, response.json
    assert response.json["details"] == {"target": ["请选择退回到的环节"]}
    both = give_back(head, task["id"], "  ", " ")
    assert both.json["message"] == "请选择退回到的环节"
    assert both.json["details"] == {"target": ["请选择退回到的环节"], "comment": ["退回须说明原因"]}
    assert the_task(head, instance["id"])["id"] == task["id"]


@contextmanager
def statements_of(flask_app):
    """Every statement `flask_app` sends to the database meanwhile: (SQL, whether it asked for a row lock).

    The lock is read from the statement object, so it is seen on SQLite too (which drops FOR UPDATE).
    """
    from app.extensions import db

    with flask_app.app_context():
        engine = db.engine
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        compiled = getattr(context, "compiled", None)
        locks = getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None
        seen.append((statement, locks or "FOR UPDATE" in statement.upper()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_listing_the_return_targets_locks_and_writes_nothing(demo, as_user, client):
    instance = start_claim(as_user("nyb_clerk"))
    head = as_user("nyb_head")
    task = the_task(head, instance["id"])
    with statements_of(client.application) as seen:
        assert targets(head, task["id"]) == [("apply", True)]
    assert seen, "the request ran no statement at all"
    assert [sql for sql, locks in seen if locks] == []
    assert [sql for sql, _ in seen if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))] == []


@pytest.mark.postgres
def test_the_return_targets_answer_while_another_action_holds_the_request(demo, as_user, client, db_session):
    """An action in progress holds the instance row (SELECT ... FOR UPDATE): listing the targets does not wait."""
    from app.extensions import db

    instance = start_claim(as_user("nyb_clerk"))
    head = as_user("nyb_head")
    task = the_task(head, instance["id"])
    answers = []
    holder = db.engine.connect()
    try:
        holder.begin()
        holder.execute(text("SELECT id FROM process_instance WHERE id = :id FOR UPDATE"), {"id": instance["id"]})
        reader = threading.Thread(target=lambda: answers.append(
            client.get(f"/api/v1/tasks/{task['id']}/return-targets",
                       headers={"Authorization": f"Bearer {head.token}"})))
        reader.start()
        reader.join(timeout=5)
        waited = reader.is_alive()
    finally:
        holder.rollback()
        holder.close()
    reader.join(timeout=30)
    assert not waited, "GET return-targets waited for the row lock of an action in progress"
    assert answers[0].status_code == 200 and [t["bpmn_id"] for t in answers[0].json] == ["apply"]
