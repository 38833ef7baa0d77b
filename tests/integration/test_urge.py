"""催办: the applicant or a supervisor reminds whoever can act now; once per interval per urger and request."""
import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app import clock
from app.models import EventType, HumanTask, InstanceEvent, Notification, TaskCandidate, TaskKind, TaskState, User
from tests.integration.test_approval_flow import complete, start_claim, the_task
from tests.integration.test_concurrency import race


def urge(api, instance_id, comment="请尽快审批"):
    return api.post(f"/api/v1/instances/{instance_id}/urge", json={"comment": comment})


def user_id(db_session, username):
    return db_session.scalar(select(User.id).where(User.username == username))


def urge_notices(db_session, instance_id):
    db_session.expire_all()
    return db_session.scalars(select(Notification).where(Notification.instance_id == instance_id,
                                                         Notification.kind == "urge")
                              .order_by(Notification.user_id)).all()


def urged_events(db_session, instance_id):
    return db_session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance_id,
                                                          InstanceEvent.type == EventType.INSTANCE_URGED)).all()


def at_finance(as_user):
    """A claim at the finance office: an unclaimed group task for both reviewers."""
    instance = start_claim(as_user("swb_clerk"))
    head = as_user("swb_head")
    assert complete(head, the_task(head, instance["id"])["id"]).status_code == 200
    return instance


def test_the_applicant_urges_and_the_assignee_is_notified_and_history_records_it(demo, as_user, db_session):
    instance = start_claim(as_user("nyb_clerk"))
    response = urge(as_user("nyb_clerk"), instance["id"], "报销急用，请尽快")
    assert response.status_code == 200, response.json
    assert [u["username"] for u in response.json["notified"]] == ["nyb_head"]

    [notice] = urge_notices(db_session, instance["id"])
    assert notice.user_id == user_id(db_session, "nyb_head")
    assert notice.body == "报销急用，请尽快"
    assert "催办" in notice.title and notice.task_id is not None
    [event] = urged_events(db_session, instance["id"])
    assert event.actor_id == user_id(db_session, "nyb_clerk")
    assert event.data == {"comment": "报销急用，请尽快", "notified": [user_id(db_session, "nyb_head")]}
    unread = as_user("nyb_head").get("/api/v1/notifications?unread=true").json
    assert [n["kind"] for n in unread["items"]] == ["urge", "task"]  # newest first: the 催办, then the 新待办


def test_an_unclaimed_group_task_notifies_every_candidate(demo, as_user, db_session):
    instance = at_finance(as_user)
    response = urge(as_user("swb_clerk"), instance["id"])
    assert response.status_code == 200
    assert sorted(u["username"] for u in response.json["notified"]) == ["cz_reviewer", "cz_reviewer2"]
    assert len(urge_notices(db_session, instance["id"])) == 2


def test_a_claimed_group_task_notifies_only_whoever_claimed_it(demo, as_user, db_session):
    instance = at_finance(as_user)
    reviewer = as_user("cz_reviewer2")
    assert reviewer.post(f"/api/v1/tasks/{the_task(reviewer, instance['id'])['id']}/claim").status_code == 200
    response = urge(as_user("swb_clerk"), instance["id"])
    assert [u["username"] for u in response.json["notified"]] == ["cz_reviewer2"]


def test_ready_sub_tasks_are_urged_and_a_step_waiting_for_them_is_not(demo, as_user, db_session):
    instance = start_claim(as_user("nyb_clerk"))
    step = db_session.scalar(select(HumanTask).where(HumanTask.instance_id == instance["id"],
                                                     HumanTask.state == TaskState.READY))
    step.waiting_for = "signers"  # nyb_head asked cz_head to sign first (加签): the step waits
    db_session.add(HumanTask(instance_id=step.instance_id, kind=TaskKind.SIGNER_BEFORE, parent_id=step.id,
                             spiff_task_id="sub-of-" + step.spiff_task_id[:28], bpmn_process_id=step.bpmn_process_id,
                             bpmn_id=step.bpmn_id, name="加签", state=TaskState.READY, created_at=clock.now(),
                             assignee_id=user_id(db_session, "cz_head")))
    db_session.commit()

    response = urge(as_user("nyb_clerk"), instance["id"])
    assert response.status_code == 200, response.json
    assert [u["username"] for u in response.json["notified"]] == ["cz_head"]


def test_whoever_stands_in_for_the_assignee_is_urged_too(demo, as_user, db_session):
    instance = start_claim(as_user("nyb_clerk"))
    step = db_session.scalar(select(HumanTask).where(HumanTask.instance_id == instance["id"],
                                                     HumanTask.state == TaskState.READY))
    db_session.add(TaskCandidate(task_id=step.id, user_id=user_id(db_session, "zfb_head"),
                                 on_behalf_of_id=user_id(db_session, "nyb_head")))  # 代理 while nyb_head is away
    db_session.commit()
    response = urge(as_user("nyb_clerk"), instance["id"])
    assert sorted(u["username"] for u in response.json["notified"]) == ["nyb_head", "zfb_head"]


@pytest.mark.parametrize("username", ["duban", "shenji", "nyb_head"])
def test_an_oversight_role_at_the_request_org_or_above_may_urge(demo, as_user, username):
    instance = at_finance(as_user) if username != "nyb_head" else start_claim(as_user("nyb_clerk"))
    assert urge(as_user(username), instance["id"]).status_code == 200


def test_a_participant_without_an_oversight_role_is_refused_with_403_and_nothing_is_sent(demo, as_user,
                                                                                        db_session):
    instance = at_finance(as_user)
    response = urge(as_user("cz_reviewer"), instance["id"])
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"
    assert urge_notices(db_session, instance["id"]) == []
    assert urged_events(db_session, instance["id"]) == []


@pytest.mark.parametrize("username", ["qs_head", "deputy", "wsy_head"])
def test_someone_who_may_not_see_the_request_gets_404(demo, as_user, db_session, username):
    instance = at_finance(as_user)
    response = urge(as_user(username), instance["id"])
    assert response.status_code == 404
    assert urged_events(db_session, instance["id"]) == []


def test_an_unknown_request_is_404(demo, as_user):
    assert urge(as_user("duban"), 999999).status_code == 404


def test_a_finished_request_cannot_be_urged(demo, as_user, db_session):
    instance = start_claim(as_user("nyb_clerk"))
    head = as_user("nyb_head")
    complete(head, the_task(head, instance["id"])["id"], decision="reject", comment="不同意")
    response = urge(as_user("nyb_clerk"), instance["id"])
    assert response.status_code == 409
    assert urged_events(db_session, instance["id"]) == []


def test_urging_again_within_the_interval_is_429_with_retry_after_until_the_interval_has_passed(
        demo, as_user, db_session, app):
    instance = start_claim(as_user("nyb_clerk"))
    clerk = as_user("nyb_clerk")
    start = clock.now()
    interval = app.config["URGE_INTERVAL"]
    with time_machine.travel(start, tick=False) as traveller:
        assert urge(clerk, instance["id"]).status_code == 200
        traveller.shift(interval - timedelta(minutes=10))
        again = urge(clerk, instance["id"])
        assert again.status_code == 429
        assert again.json["error"] == "too_soon"
        assert again.headers["Retry-After"] == str(10 * 60)
        assert len(urged_events(db_session, instance["id"])) == 1
        assert len(urge_notices(db_session, instance["id"])) == 1
        # another urger has their own allowance
        assert urge(as_user("duban"), instance["id"]).status_code == 200
        traveller.shift(timedelta(minutes=10))
        assert urge(clerk, instance["id"]).status_code == 200
    assert len(urged_events(db_session, instance["id"])) == 3


def test_the_interval_comes_from_the_app_config(make_app, demo, as_user, db_session):
    instance = start_claim(as_user("nyb_clerk"))
    token = as_user("nyb_clerk").token
    client = make_app(URGE_INTERVAL=timedelta(0)).test_client()
    for _ in range(2):
        response = client.post(f"/api/v1/instances/{instance['id']}/urge", json={},
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.json
    assert len(urged_events(db_session, instance["id"])) == 2


@pytest.mark.parametrize("body, field", [
    ({"comment": "催" * 2001}, "comment"),
    ({"comment": 5}, "comment"),
    ({"comment": "好", "to": ["x"]}, "to"),
])
def test_a_bad_body_answers_400_naming_the_field_and_nothing_is_sent(demo, as_user, db_session, body, field):
    instance = start_claim(as_user("nyb_clerk"))
    response = as_user("nyb_clerk").post(f"/api/v1/instances/{instance['id']}/urge", json=body)
    assert response.status_code == 400
    assert field in response.json["details"]
    assert urge_notices(db_session, instance["id"]) == []
    assert urged_events(db_session, instance["id"]) == []


def test_the_use_case_refuses_a_too_long_comment_itself(demo, as_user, db_session):
    from app.approvals.errors import InvalidInput
    from app.approvals.urge import urge_instance

    instance = start_claim(as_user("nyb_clerk"))
    clerk = db_session.get(User, user_id(db_session, "nyb_clerk"))
    with pytest.raises(InvalidInput) as refused:
        urge_instance(demo, clerk, instance["id"], "催" * 2001, interval=timedelta(minutes=30))
    assert "comment" in refused.value.details
    assert urged_events(db_session, instance["id"]) == []


@pytest.mark.postgres
@pytest.mark.parametrize("attempt", range(5))
def test_two_urges_at_once_by_the_same_person_send_one_and_answer_the_other_429(app, demo, as_user, db_session,
                                                                                attempt):
    instance = at_finance(as_user)
    token = as_user("swb_clerk").token
    results = race(app, [token, token], f"/api/v1/instances/{instance['id']}/urge", {"comment": "急"})
    assert sorted(status for status, _ in results) == [200, 429], results
    db_session.expire_all()
    assert len(urged_events(db_session, instance["id"])) == 1
    assert len(urge_notices(db_session, instance["id"])) == 2  # the two reviewers, once each
    assert db_session.scalar(select(func.count()).where(InstanceEvent.instance_id == instance["id"])) == \
        db_session.scalar(select(func.max(InstanceEvent.seq)).where(InstanceEvent.instance_id == instance["id"]))


@pytest.mark.postgres
def test_an_urge_racing_the_last_completion_either_reaches_the_reviewers_or_finds_the_request_finished(
        app, demo, as_user, db_session):
    instance = at_finance(as_user)
    task = the_task(as_user("cz_reviewer"), instance["id"])
    barrier = threading.Barrier(2)
    out = {}

    def run(name, token, path, body):
        client = app.test_client()
        barrier.wait()
        out[name] = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"}).status_code

    threads = [
        threading.Thread(target=run, args=("complete", as_user("cz_reviewer").token,
                                           f"/api/v1/tasks/{task['id']}/complete", {"decision": "approve"})),
        threading.Thread(target=run, args=("urge", as_user("swb_clerk").token,
                                           f"/api/v1/instances/{instance['id']}/urge", {})),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert out["complete"] == 200
    events = urged_events(db_session, instance["id"])
    if out["urge"] == 200:
        assert len(events) == 1 and len(urge_notices(db_session, instance["id"])) == 2
    else:
        assert out["urge"] == 409
        assert events == [] and urge_notices(db_session, instance["id"]) == []
