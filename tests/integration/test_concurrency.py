"""Two people act on one task at the same moment: exactly one wins, the other gets 409, nothing doubles.

Real threads, real PostgreSQL connections: each request runs in its own app context and session.
"""
import threading

import pytest
from sqlalchemy import func, select

from app.models import EventType, HumanTask, InstanceEvent, TaskState
from tests.integration.test_approval_flow import complete, start_claim, the_task

pytestmark = pytest.mark.postgres


def race(app, tokens, path, body=None):
    """POST `path` from each token's own thread, released together; return the status codes."""
    barrier = threading.Barrier(len(tokens))
    results = [None] * len(tokens)

    def act(i, token):
        client = app.test_client()
        barrier.wait()
        response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        results[i] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=act, args=(i, t)) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def group_task_at_finance(as_user):
    """A claim waiting at the finance office, offered to both reviewers."""
    instance = start_claim(as_user("swb_clerk"))
    head = as_user("swb_head")
    assert complete(head, the_task(head, instance["id"])["id"]).status_code == 200
    return instance, the_task(as_user("cz_reviewer"), instance["id"])


@pytest.mark.parametrize("attempt", range(20))
def test_two_reviewers_completing_the_same_task_at_once_exactly_one_succeeds(app, demo, as_user, db_session,
                                                                             attempt):
    instance, task = group_task_at_finance(as_user)
    tokens = [as_user("cz_reviewer").token, as_user("cz_reviewer2").token]
    results = race(app, tokens, f"/api/v1/tasks/{task['id']}/complete",
                   {"decision": "approve", "comment": "同意", "data": {}})
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    loser = next(body for status, body in results if status == 409)
    assert loser["error"] == "conflict"

    db_session.expire_all()
    row = db_session.get(HumanTask, task["id"])
    assert row.state == TaskState.COMPLETED
    completions = db_session.scalar(select(func.count()).where(
        InstanceEvent.instance_id == instance["id"], InstanceEvent.type == EventType.TASK_COMPLETED,
        InstanceEvent.task_id == task["id"]))
    assert completions == 1
    # the process moved on exactly once: the instance is approved (1200.5 < 5000), no task left open
    assert db_session.scalar(select(func.count()).where(
        HumanTask.instance_id == instance["id"], HumanTask.state == TaskState.READY)) == 0
    seqs = db_session.scalars(select(InstanceEvent.seq).where(InstanceEvent.instance_id == instance["id"])
                              .order_by(InstanceEvent.seq)).all()
    assert seqs == list(range(1, len(seqs) + 1))


def test_two_reviewers_claiming_at_once_leaves_one_owner(app, demo, as_user, db_session):
    _, task = group_task_at_finance(as_user)
    tokens = [as_user("cz_reviewer").token, as_user("cz_reviewer2").token]
    statuses = sorted(status for status, _ in race(app, tokens, f"/api/v1/tasks/{task['id']}/claim"))
    assert statuses == [200, 409]
    db_session.expire_all()
    assert db_session.get(HumanTask, task["id"]).assignee_id is not None


def test_a_claim_racing_a_completion_never_claims_a_finished_task(app, demo, as_user, db_session):
    _, task = group_task_at_finance(as_user)
    first, second = as_user("cz_reviewer"), as_user("cz_reviewer2")
    barrier = threading.Barrier(2)
    out = {}

    def run(name, api_token, path, body):
        client = app.test_client()
        barrier.wait()
        out[name] = client.post(path, json=body, headers={"Authorization": f"Bearer {api_token}"}).status_code

    threads = [
        threading.Thread(target=run, args=("complete", first.token, f"/api/v1/tasks/{task['id']}/complete",
                                           {"decision": "approve"})),
        threading.Thread(target=run, args=("claim", second.token, f"/api/v1/tasks/{task['id']}/claim", None)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    db_session.expire_all()
    row = db_session.get(HumanTask, task["id"])
    if out["complete"] == 200:  # the completion went first: the claim found a finished task
        assert out["claim"] == 409
        assert (row.state, row.completed_by.username) == (TaskState.COMPLETED, "cz_reviewer")
    else:  # the claim went first: the task is the second reviewer's, still open
        assert out == {"complete": 409, "claim": 200}
        assert (row.state, row.assignee.username) == (TaskState.READY, "cz_reviewer2")
