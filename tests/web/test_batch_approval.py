"""批量同意 from the 待办 list: each ticked task approved on its own, a failure reported by name, the rest done."""
import re

import pytest
from sqlalchemy import select

from app.models import EventType, HumanTask, InstanceEvent, TaskState
from tests.integration.processes import deploy, start
from tests.unit.bpmn_builder import Bpmn
from tests.web.conftest import csrf_token, main_text
from tests.web.helpers import start_claim, todo_task_of

TITLES = ("购买打印纸", "维修办公桌椅", "订阅农技期刊")


def ticks(html: str) -> list[int]:
    """The task ids the 待办 page offers a 批量同意 box for."""
    return [int(i) for i in re.findall(r'name="task_ids" value="(\d+)" form="batch-form"', html)]


def three_claims_at_the_unit_head(browser) -> tuple[object, dict[str, int], dict[str, int]]:
    clerk = browser("nyb_clerk")
    instances = {title: start_claim(clerk, title=title) for title in TITLES}
    head = browser("nyb_head")
    return head, instances, {title: todo_task_of(head, title) for title in TITLES}


def post_batch(person, task_ids, comment="同意，按规定报销", next_url="/?view=todo"):
    page = person.get(next_url)
    return person.post("/tasks/batch-complete", data={
        "csrf_token": csrf_token(page.text), "task_ids": [str(i) for i in task_ids], "comment": comment,
        "next": next_url})


def steps_of(db_read, task_id):
    [task] = db_read(select(HumanTask).where(HumanTask.id == task_id))
    return task


def test_the_unit_head_approves_three_claims_at_once_and_each_is_recorded_on_its_own(demo, browser, db_read):
    head, instances, tasks = three_claims_at_the_unit_head(browser)
    page = head.get("/?view=todo")
    assert sorted(ticks(page.text)) == sorted(tasks.values())
    assert "批量同意" in main_text(page.text) and 'data-check-all="batch-form"' in page.text  # 全选本页

    response = post_batch(head, tasks.values())
    assert response.status_code == 302 and response.headers["Location"] == "/?view=todo"
    after = head.get("/?view=todo")
    assert "已同意 3 项" in main_text(after.text) and "未能处理" not in main_text(after.text)
    assert "暂无待办" in main_text(after.text)

    for title, task_id in tasks.items():
        task = steps_of(db_read, task_id)
        assert (task.state, task.decision, task.comment) == (TaskState.COMPLETED, "approve", "同意，按规定报销")
        completed = db_read(select(InstanceEvent).where(InstanceEvent.task_id == task_id,
                                                        InstanceEvent.type == EventType.TASK_COMPLETED))
        assert len(completed) == 1 and completed[0].actor_id == task.completed_by_id
        # Each request went on to its next step, as a single approval would take it.
        shown = main_text(head.get(f"/instances/{instances[title]}").text)
        assert "财政所审核" in shown and "同意，按规定报销" in shown


def test_a_request_withdrawn_meanwhile_is_reported_by_name_and_the_others_are_done(demo, browser, db_read):
    head, instances, tasks = three_claims_at_the_unit_head(browser)
    page = head.get("/?view=todo")  # the head's list, still showing all three
    clerk = browser("nyb_clerk")
    withdrawn = clerk.submit(f"/instances/{instances['维修办公桌椅']}",
                             f"/instances/{instances['维修办公桌椅']}/withdraw", {"comment": "填错了"})
    assert withdrawn.status_code == 302

    response = head.post("/tasks/batch-complete", data={
        "csrf_token": csrf_token(page.text), "task_ids": [str(tasks[t]) for t in TITLES], "next": "/?view=todo"})
    assert response.status_code == 302
    text = main_text(head.get("/?view=todo").text)
    assert re.search(r"已同意 2 项；未能处理：〈维修办公桌椅〉：\S+", text), text

    assert steps_of(db_read, tasks["维修办公桌椅"]).state == TaskState.CANCELLED
    for title in ("购买打印纸", "订阅农技期刊"):
        task = steps_of(db_read, tasks[title])
        assert (task.state, task.decision) == (TaskState.COMPLETED, "approve")
        assert task.comment is None  # no comment typed: none recorded


@pytest.fixture
def asking_reviews(demo, tmp_path):
    """Two processes whose unit-head step asks for more than a decision: a required field, a box to confirm."""
    forms = {"需填文号": {"type": "object", "required": ["doc_no"],
                       "properties": {"doc_no": {"type": "string", "title": "文号"}}},
             "需勾选确认": {"type": "object", "properties": {
                 "checked": {"type": "boolean", "title": "已核对原件", "x-confirm": True}}}}
    for n, (title, form) in enumerate(forms.items()):
        doc = (Bpmn(f"asking_{n}", title).lane("l1", "经办人", "start", "apply").lane("l2", "单位负责人", "review")
               .start().user_task("apply", "申请").user_task("review", "审核").end()
               .chain("start", "apply", "review", "end"))
        deploy(demo, tmp_path, doc, forms={"review": form})
    return [f"asking_{n}" for n in range(len(forms))]


def test_a_step_whose_form_asks_for_more_gets_no_box_and_is_refused_by_name(asking_reviews, browser, as_user,
                                                                            db_read):
    start_claim(browser("nyb_clerk"), title="购买打印纸")
    for n, process_id in enumerate(asking_reviews):
        start(as_user("nyb_clerk"), process_id, title=f"申请{n}")
    head = browser("nyb_head")
    page = head.get("/?view=todo")
    tasks = {title: todo_task_of(head, title) for title in ("购买打印纸", "申请0", "申请1")}
    assert ticks(page.text) == [tasks["购买打印纸"]]

    response = head.post("/tasks/batch-complete", data={
        "csrf_token": csrf_token(page.text), "task_ids": [str(t) for t in tasks.values()], "next": "/?view=todo"})
    assert response.status_code == 302
    text = main_text(head.get("/?view=todo").text)
    refusal = "此环节需要填写表单，不能批量同意，请打开任务逐项办理"
    assert f"已同意 1 项；未能处理：〈申请0〉：{refusal}；〈申请1〉：{refusal}" in text
    assert steps_of(db_read, tasks["购买打印纸"]).decision == "approve"
    for title in ("申请0", "申请1"):
        assert steps_of(db_read, tasks[title]).state == TaskState.READY


def test_a_batch_with_nothing_ticked_or_a_made_up_id_says_so_and_does_nothing(demo, browser, db_read):
    head, _, tasks = three_claims_at_the_unit_head(browser)
    response = post_batch(head, [])
    assert response.status_code == 302
    assert "请先勾选要同意的待办" in main_text(head.get("/?view=todo").text)
    for bad in ("abc", str(10**30)):
        post_batch(head, [tasks["购买打印纸"], bad])
        assert "所选待办有误，请刷新后重试" in main_text(head.get("/?view=todo").text)
    assert steps_of(db_read, tasks["购买打印纸"]).state == TaskState.READY


def test_another_persons_task_in_a_batch_is_reported_without_its_title(demo, browser, db_read):
    _, _, tasks = three_claims_at_the_unit_head(browser)
    outsider = browser("xx_head")  # 中心小学's head: may not see 农业农村办's claims
    post_batch(outsider, [tasks["购买打印纸"]])
    text = main_text(outsider.get("/?view=todo").text)
    assert f"未能处理：〈任务 {tasks['购买打印纸']}〉：任务不存在" in text and "购买打印纸" not in text
    assert steps_of(db_read, tasks["购买打印纸"]).state == TaskState.READY


# --- the API ------------------------------------------------------------------------------------------------

def test_the_api_approves_a_batch_and_answers_per_task(demo, browser, as_user, db_read):
    _, instances, tasks = three_claims_at_the_unit_head(browser)
    browser("nyb_clerk").submit(f"/instances/{instances['订阅农技期刊']}",
                                f"/instances/{instances['订阅农技期刊']}/withdraw", {})
    ids = [tasks["购买打印纸"], tasks["维修办公桌椅"], tasks["订阅农技期刊"], 999999, tasks["购买打印纸"]]
    response = as_user("nyb_head").post("/api/v1/tasks/batch-complete",
                                        json={"task_ids": ids, "decision": "approve", "comment": "同意"})
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["approved"], body["failed"]) == (2, 2)
    by_id = {r["task_id"]: r for r in body["results"]}
    assert [r["task_id"] for r in body["results"]] == ids[:4]  # in the order sent, each once
    paper = by_id[tasks["购买打印纸"]]
    assert paper["ok"] and paper["error"] is None
    assert (paper["title"], paper["step"]) == ("购买打印纸", "单位负责人审核")
    withdrawn = by_id[tasks["订阅农技期刊"]]
    assert not withdrawn["ok"] and withdrawn["title"] == "订阅农技期刊" and withdrawn["error"]["error"] == "conflict"
    assert by_id[999999] == {"task_id": 999999, "ok": False, "instance_id": None, "title": None, "step": None,
                             "error": {"error": "not_found", "message": "任务不存在", "details": {}}}
    assert steps_of(db_read, tasks["维修办公桌椅"]).decision == "approve"


def test_the_api_refuses_a_bad_batch_with_field_messages_and_does_nothing(demo, browser, as_user, db_read):
    _, _, tasks = three_claims_at_the_unit_head(browser)
    api = as_user("nyb_head")
    for body, field in [({"task_ids": [tasks["购买打印纸"]], "decision": "reject"}, "decision"),
                        ({"task_ids": [], "decision": "approve"}, "task_ids"),
                        ({"task_ids": list(range(1, 52)), "decision": "approve"}, "task_ids"),
                        ({"task_ids": ["x"], "decision": "approve"}, "task_ids.0"),
                        ({"task_ids": [10**30], "decision": "approve"}, "task_ids.0"),
                        ({"task_ids": [tasks["购买打印纸"]]}, "decision"),
                        ({"task_ids": [tasks["购买打印纸"]], "decision": "approve", "comment": "长" * 2001},
                         "comment")]:
        response = api.post("/api/v1/tasks/batch-complete", json=body)
        assert response.status_code == 400, (body, response.json)
        assert response.json["error"] == "validation_error" and field in response.json["details"], response.json
    assert steps_of(db_read, tasks["购买打印纸"]).state == TaskState.READY


def test_the_openapi_document_declares_exactly_the_batch_statuses(demo, client):
    operation = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/tasks/batch-complete"]["post"]
    assert sorted(operation["responses"]) == ["200", "400", "401", "413"]
