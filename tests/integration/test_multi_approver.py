"""Multi-approver steps drawn in BPMN (the multi-instance marker): 会签 all, 或签 any, 依次 in turn.

The two finance reviewers of 示范镇 are the members. A rejection by one ends the step as a rejection.
"""
import pytest

from tests.integration.processes import act, approver_step, deploy, history, my_task, no_task, start
from tests.unit.bpmn_builder import Bpmn


def joint_review(process_id: str, **marker) -> Bpmn:
    return (Bpmn(process_id, "联合审核").lane("l1", "经办人", "start", "apply")
            .lane("l2", "财政所审核", "joint").lane("l3", "镇长", "head")
            .start().user_task("apply", "申请").raw(approver_step("joint", "财政所联合审核", **marker))
            .user_task("head", "镇长审批").end()
            .chain("start", "apply", "joint", "head", "end"))


@pytest.fixture
def reviewers(as_user):
    return as_user("cz_reviewer"), as_user("cz_reviewer2")


def test_all_must_approve_in_a_countersign_step(demo, tmp_path, as_user, reviewers):
    deploy(demo, tmp_path, joint_review("joint_all"))
    instance = start(as_user("nyb_clerk"), "joint_all")
    first, second = reviewers
    assert act(first, my_task(first, instance["id"])["id"]).status_code == 200
    assert no_task(as_user("zhenzhang"), instance["id"])  # still waiting for the second reviewer
    assert act(second, my_task(second, instance["id"])["id"]).status_code == 200
    assert my_task(as_user("zhenzhang"), instance["id"])["name"] == "镇长审批"
    types = [e["type"] for e in history(first, instance["id"])]
    assert types.count("task_completed") == 3 and "step_decided" in types


def test_one_rejection_ends_a_countersign_step_as_rejected(demo, tmp_path, as_user, reviewers):
    deploy(demo, tmp_path, joint_review("joint_veto"))
    instance = start(as_user("nyb_clerk"), "joint_veto")
    first, second = reviewers
    response = act(first, my_task(first, instance["id"])["id"], decision="reject", comment="不符合规定")
    assert response.status_code == 200
    detail = first.get(f"/api/v1/instances/{instance['id']}").json
    assert detail["status"] == "rejected"
    assert no_task(second, instance["id"])


def test_the_first_decision_settles_an_any_one_step(demo, tmp_path, as_user, reviewers):
    deploy(demo, tmp_path, joint_review("joint_any", multi="any"))
    instance = start(as_user("nyb_clerk"), "joint_any")
    first, second = reviewers
    task = my_task(second, instance["id"])
    assert act(second, task["id"]).status_code == 200
    assert no_task(first, instance["id"])  # the other member's task is closed
    assert my_task(as_user("zhenzhang"), instance["id"])["name"] == "镇长审批"


def test_members_approve_one_after_another_in_a_sequential_step(demo, tmp_path, as_user, reviewers):
    deploy(demo, tmp_path, joint_review("joint_seq", sequential=True))
    instance = start(as_user("nyb_clerk"), "joint_seq")
    first, second = reviewers  # members in the order of their accounts
    assert no_task(second, instance["id"])
    assert act(first, my_task(first, instance["id"])["id"]).status_code == 200
    assert no_task(as_user("zhenzhang"), instance["id"])
    assert act(second, my_task(second, instance["id"])["id"]).status_code == 200
    assert my_task(as_user("zhenzhang"), instance["id"])["name"] == "镇长审批"


def test_the_step_row_shows_its_members(demo, tmp_path, as_user, reviewers):
    deploy(demo, tmp_path, joint_review("joint_view"))
    instance = start(as_user("nyb_clerk"), "joint_view")
    detail = as_user("shenji").get(f"/api/v1/instances/{instance['id']}").json
    [step] = [t for t in detail["current_tasks"] if t["kind"] == "step"]
    assert (step["multi"], step["waiting_for"]) == ("all", "signers")
    step_detail = as_user("shenji").get(f"/api/v1/tasks/{step['id']}").json
    assert sorted(m["assignee"]["username"] for m in step_detail["sub_tasks"]) == ["cz_reviewer", "cz_reviewer2"]
    assert step_detail["can_act"] is False


def test_a_member_cannot_act_twice_or_act_on_another_members_task(demo, tmp_path, as_user, reviewers):
    deploy(demo, tmp_path, joint_review("joint_twice"))
    instance = start(as_user("nyb_clerk"), "joint_twice")
    first, second = reviewers
    mine = my_task(first, instance["id"])
    theirs = my_task(second, instance["id"])
    assert act(first, mine["id"]).status_code == 200
    assert act(first, mine["id"]).status_code == 409
    assert act(first, theirs["id"]).status_code == 403
