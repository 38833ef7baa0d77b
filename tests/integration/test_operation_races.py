"""Two operations racing on one task or request, on PostgreSQL: one wins, the other gets 409, nothing doubles."""
import threading

import pytest

from tests.integration.processes import act, my_task
from tests.integration.test_approval_flow import start_claim

pytestmark = pytest.mark.postgres


def race(app, *calls):
    """Each call is (api, path, body); all released together from their own threads. Returns statuses."""
    barrier = threading.Barrier(len(calls))
    statuses = [None] * len(calls)

    def run(i, api, path, body):
        client = app.test_client()
        barrier.wait()
        statuses[i] = client.post(path, json=body, headers={"Authorization": f"Bearer {api.token}"}).status_code

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return statuses


@pytest.fixture
def at_finance(demo, as_user):
    """A claim at the finance office: a group task for both reviewers."""
    instance = start_claim(as_user("swb_clerk"))
    act(as_user("swb_head"), my_task(as_user("swb_head"), instance["id"])["id"])
    first, second = as_user("cz_reviewer"), as_user("cz_reviewer2")
    return instance, my_task(first, instance["id"]), first, second


def one_won(statuses):
    return sorted(statuses) == [200, 409]


def test_a_return_racing_a_completion(app, at_finance):
    instance, task, first, second = at_finance
    statuses = race(app, (first, f"/api/v1/tasks/{task['id']}/return", {"target": "apply", "comment": "退回"}),
                    (second, f"/api/v1/tasks/{task['id']}/complete", {"decision": "approve"}))
    assert one_won(statuses), statuses
    status = first.get(f"/api/v1/instances/{instance['id']}").json["status"]
    assert status == ("running" if statuses[0] == 200 else "approved")


def test_a_transfer_racing_a_completion(app, at_finance):
    # Two windows of one reviewer: hand it over, or approve it. (Racing the transferee's own approval
    # would not conflict: transferred first, they may then approve.)
    instance, task, first, second = at_finance
    statuses = race(app, (first, f"/api/v1/tasks/{task['id']}/transfer", {"to": "cz_reviewer2"}),
                    (first, f"/api/v1/tasks/{task['id']}/complete", {"decision": "approve"}))
    assert one_won(statuses), statuses


def test_a_delegation_racing_a_claim(app, at_finance):
    instance, task, first, second = at_finance
    statuses = race(app, (first, f"/api/v1/tasks/{task['id']}/delegate", {"to": "deputy"}),
                    (second, f"/api/v1/tasks/{task['id']}/claim", None))
    assert one_won(statuses), statuses


def test_adding_signers_racing_a_completion(app, at_finance):
    instance, task, first, second = at_finance
    statuses = race(app, (first, f"/api/v1/tasks/{task['id']}/signers", {"signers": ["deputy"]}),
                    (second, f"/api/v1/tasks/{task['id']}/complete", {"decision": "approve"}))
    assert one_won(statuses), statuses


def test_removing_a_signer_racing_their_signature(app, at_finance, as_user):
    instance, task, first, second = at_finance
    [signer] = first.post(f"/api/v1/tasks/{task['id']}/signers", json={"signers": ["deputy"]}).json["tasks"]
    statuses = race(app, (first, f"/api/v1/tasks/{signer['id']}/remove-signer", {}),
                    (as_user("deputy"), f"/api/v1/tasks/{signer['id']}/complete", {"decision": "approve"}))
    assert one_won(statuses), statuses


def test_a_withdrawal_racing_the_first_approval(app, demo, as_user):
    clerk, head = as_user("nyb_clerk"), as_user("nyb_head")
    instance = start_claim(clerk)
    task = my_task(head, instance["id"])
    statuses = race(app, (clerk, f"/api/v1/instances/{instance['id']}/withdraw", {}),
                    (head, f"/api/v1/tasks/{task['id']}/complete", {"decision": "approve"}))
    assert one_won(statuses), statuses
    status = clerk.get(f"/api/v1/instances/{instance['id']}").json["status"]
    assert status == ("withdrawn" if statuses[0] == 200 else "running")


def test_taking_back_an_approval_racing_the_next_approver(app, demo, as_user):
    clerk, head = as_user("nyb_clerk"), as_user("nyb_head")
    instance = start_claim(clerk)
    task = my_task(head, instance["id"])
    act(head, task["id"])
    reviewer = as_user("cz_reviewer")
    next_task = my_task(reviewer, instance["id"])
    statuses = race(app, (head, f"/api/v1/tasks/{task['id']}/withdraw", {}),
                    (reviewer, f"/api/v1/tasks/{next_task['id']}/complete", {"decision": "approve"}))
    assert one_won(statuses), statuses


def test_two_countersign_members_approving_at_once_decide_the_step_once(app, demo, tmp_path, as_user, db_session):
    from sqlalchemy import func, select

    from app.models import EventType, HumanTask, InstanceEvent
    from tests.integration.processes import deploy, start
    from tests.integration.test_multi_approver import joint_review

    deploy(demo, tmp_path, joint_review("race_all"))
    instance = start(as_user("nyb_clerk"), "race_all")
    first, second = as_user("cz_reviewer"), as_user("cz_reviewer2")
    statuses = race(app, (first, f"/api/v1/tasks/{my_task(first, instance['id'])['id']}/complete",
                          {"decision": "approve"}),
                    (second, f"/api/v1/tasks/{my_task(second, instance['id'])['id']}/complete",
                     {"decision": "approve"}))
    assert statuses == [200, 200]  # two members, two approvals: no conflict, but one decision
    db_session.expire_all()
    decided = db_session.scalar(select(func.count()).where(InstanceEvent.instance_id == instance["id"],
                                                           InstanceEvent.type == EventType.STEP_DECIDED))
    heads = db_session.scalar(select(func.count()).where(HumanTask.instance_id == instance["id"],
                                                         HumanTask.bpmn_id == "head"))
    assert (decided, heads) == (1, 1)


def test_two_members_of_an_any_one_step_at_once_leave_one_decision(app, demo, tmp_path, as_user):
    from tests.integration.processes import deploy, start
    from tests.integration.test_multi_approver import joint_review

    deploy(demo, tmp_path, joint_review("race_any", multi="any"))
    instance = start(as_user("nyb_clerk"), "race_any")
    first, second = as_user("cz_reviewer"), as_user("cz_reviewer2")
    statuses = race(app, (first, f"/api/v1/tasks/{my_task(first, instance['id'])['id']}/complete",
                          {"decision": "approve"}),
                    (second, f"/api/v1/tasks/{my_task(second, instance['id'])['id']}/complete",
                     {"decision": "reject"}))
    assert one_won(statuses), statuses
    status = first.get(f"/api/v1/instances/{instance['id']}").json["status"]
    assert status == ("running" if statuses[0] == 200 else "rejected")
