"""委派 and separation of duties (C17): whoever decided one step of a request is not asked for an opinion
on another, as they may not be its signer or transferee; a process that allows one person several
steps allows it here too."""
from sqlalchemy import select

from app.models import HumanTask, TaskKind
from tests.integration.processes import act, deploy, my_task, no_task, start
from tests.integration.test_duties_and_fallbacks import two_finance_steps

DECIDED_BEFORE = "cz_reviewer：已审批过本申请的其他环节（不相容岗位分离）"


def at_second_check(demo, tmp_path, as_user, process_id: str, allow_same: bool = False):
    """cz_reviewer decided 初审; the request waits for cz_reviewer2 at 复核: (instance, cz_reviewer2, task)."""
    deploy(demo, tmp_path, two_finance_steps(process_id, allow_same=allow_same))
    instance = start(as_user("nyb_clerk"), process_id)
    first, second = as_user("cz_reviewer"), as_user("cz_reviewer2")
    act(first, my_task(first, instance["id"])["id"])
    return instance, second, my_task(second, instance["id"])


def test_who_decided_another_step_cannot_be_made_a_delegate(demo, tmp_path, as_user, db_session):
    instance, second, task = at_second_check(demo, tmp_path, as_user, "two_checks_dg")
    response = second.post(f"/api/v1/tasks/{task['id']}/delegate", json={"to": "cz_reviewer", "comment": "请把关"})
    assert response.status_code == 400, response.json
    assert response.json["details"] == {"to": [DECIDED_BEFORE]}
    assert my_task(second, instance["id"])["id"] == task["id"]  # still theirs to decide, nobody asked
    assert no_task(as_user("cz_reviewer"), instance["id"])
    db_session.expire_all()
    assert db_session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance["id"],
                                                         HumanTask.kind == TaskKind.DELEGATE)).all() == []


def test_the_same_refusal_answers_a_signer_and_a_transferee(demo, tmp_path, as_user):
    _, second, task = at_second_check(demo, tmp_path, as_user, "two_checks_all")
    answers = [second.post(f"/api/v1/tasks/{task['id']}/signers", json={"signers": ["cz_reviewer"]}).json,
               second.post(f"/api/v1/tasks/{task['id']}/transfer", json={"to": "cz_reviewer"}).json,
               second.post(f"/api/v1/tasks/{task['id']}/delegate", json={"to": "cz_reviewer"}).json]
    assert [list(a["details"].values()) for a in answers] == [[[DECIDED_BEFORE]]] * 3


def test_someone_who_decided_nothing_is_still_a_delegate(demo, tmp_path, as_user):
    instance, second, task = at_second_check(demo, tmp_path, as_user, "two_checks_ok_dg")
    response = second.post(f"/api/v1/tasks/{task['id']}/delegate", json={"to": "cz_head", "comment": "请把关"})
    assert response.status_code == 200, response.json
    assert my_task(as_user("cz_head"), instance["id"])["kind"] == "delegate"


def test_a_process_that_allows_one_person_several_steps_allows_them_as_delegate(demo, tmp_path, as_user):
    instance, second, task = at_second_check(demo, tmp_path, as_user, "two_checks_same_dg", allow_same=True)
    response = second.post(f"/api/v1/tasks/{task['id']}/delegate", json={"to": "cz_reviewer"})
    assert response.status_code == 200, response.json
    first = as_user("cz_reviewer")
    assert act(first, my_task(first, instance["id"])["id"], comment="可以").status_code == 200
    assert act(second, my_task(second, instance["id"])["id"]).json["instance"]["status"] == "approved"
