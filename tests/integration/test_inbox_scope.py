"""Each demo user's inbox holds exactly what their role and scope allow; everything else is a 404.

The seeded requests (app/admin/seed.py): two 农业农村办 claims at its unit head, a 社会事务办 claim at
the finance office (a group task for both reviewers), a 中心小学 claim of 8600 元 at the township head,
a 卫生院 claim approved, a 镇政府办 claim rejected by its unit head.
"""
import pytest

from app.admin.seed import USERS, seed_requests

TODO = {
    "nyb_head": ["防汛物资运输费", "购买农技推广宣传资料"],
    "cz_reviewer": ["低保入户核查差旅费"],
    "cz_reviewer2": ["低保入户核查差旅费"],
    "zhenzhang": ["教室照明线路维修"],
}
DONE = {
    "nyb_clerk": ["防汛物资运输费", "购买农技推广宣传资料"],
    "swb_clerk": ["低保入户核查差旅费"],
    "xx_clerk": ["教室照明线路维修"],
    "wsy_clerk": ["打印机硒鼓"],
    "zfb_clerk": ["会议室投影仪维修"],
    "swb_head": ["低保入户核查差旅费"],
    "xx_head": ["教室照明线路维修"],
    "wsy_head": ["打印机硒鼓"],
    "zfb_head": ["会议室投影仪维修"],
    "cz_reviewer": ["打印机硒鼓", "教室照明线路维修"],
}
STARTED = {user: titles for user, titles in DONE.items() if user.endswith("_clerk")}
ALL_SIX = 6
# Instances each user may see: own, taken part in, or under an oversight role (unit head, finance head,
# supervisor, auditor, admin) – nothing across the township line.
VISIBLE = {
    "nyb_clerk": 2, "nyb_head": 2, "swb_head": 1, "zfb_head": 1, "xx_head": 1, "wsy_head": 1,
    "cz_reviewer": 3, "cz_reviewer2": 3,  # the pool was offered all three
    "zhenzhang": 1, "cz_head": ALL_SIX, "duban": ALL_SIX,
    "shenji": ALL_SIX, "admin": ALL_SIX, "deputy": 0, "shuji": 0, "liucheng": 0, "qs_clerk": 0,
    "qs_head": 0, "qs_reviewer": 0, "czs_head_unit": 0,
}


@pytest.fixture
def office(demo):
    seed_requests(demo)
    return demo


def titles(api, view):
    response = api.get(f"/api/v1/tasks?view={view}&sort=created_at")
    assert response.status_code == 200, response.json
    return sorted(item["instance"]["title"] for item in response.json["items"])


@pytest.mark.parametrize("username", [u for u, _, _ in USERS])
def test_each_user_sees_exactly_their_todo_done_and_started(office, as_user, username):
    api = as_user(username)
    assert titles(api, "todo") == sorted(TODO.get(username, []))
    assert titles(api, "done") == sorted(DONE.get(username, []))
    assert titles(api, "started") == sorted(STARTED.get(username, []))


@pytest.mark.parametrize("username,count", sorted(VISIBLE.items()))
def test_each_user_sees_only_the_instances_in_their_scope(office, as_user, username, count):
    response = as_user(username).get("/api/v1/instances?per_page=100")
    assert response.status_code == 200
    assert response.json["total"] == count


def test_a_user_from_another_township_gets_404_for_every_instance_and_task(office, as_user, db_session):
    from sqlalchemy import select

    from app.models import HumanTask, ProcessInstance

    outsider = as_user("qs_reviewer")
    for instance_id in db_session.scalars(select(ProcessInstance.id)):
        assert outsider.get(f"/api/v1/instances/{instance_id}").status_code == 404
    for task_id in db_session.scalars(select(HumanTask.id)):
        assert outsider.get(f"/api/v1/tasks/{task_id}").status_code == 404
        assert outsider.post(f"/api/v1/tasks/{task_id}/claim").status_code == 404
        response = outsider.post(f"/api/v1/tasks/{task_id}/complete", json={"decision": "approve"})
        assert response.status_code == 404


def test_an_auditor_may_read_a_task_but_not_act_on_it(office, as_user):
    [item] = as_user("zhenzhang").get("/api/v1/tasks?view=todo").json["items"]
    auditor = as_user("shenji")
    detail = auditor.get(f"/api/v1/tasks/{item['task']['id']}")
    assert detail.status_code == 200 and detail.json["can_act"] is False
    response = auditor.post(f"/api/v1/tasks/{item['task']['id']}/complete", json={"decision": "approve"})
    assert response.status_code == 403
    assert as_user("zhenzhang").get(f"/api/v1/tasks/{item['task']['id']}").json["state"] == "ready"


def test_a_group_task_goes_to_every_finance_reviewer_until_one_claims_it(office, as_user):
    first, second = as_user("cz_reviewer"), as_user("cz_reviewer2")
    [item] = first.get("/api/v1/tasks?view=todo").json["items"]
    task_id = item["task"]["id"]
    claimed = first.post(f"/api/v1/tasks/{task_id}/claim")
    assert claimed.status_code == 200 and claimed.json["assignee"]["username"] == "cz_reviewer"
    assert titles(first, "todo") == ["低保入户核查差旅费"]
    assert titles(second, "todo") == []
    assert second.post(f"/api/v1/tasks/{task_id}/complete", json={"decision": "approve"}).status_code == 409
    assert second.post(f"/api/v1/tasks/{task_id}/claim").status_code == 409
    assert first.post(f"/api/v1/tasks/{task_id}/unclaim").status_code == 200
    assert titles(second, "todo") == ["低保入户核查差旅费"]


def test_unclaiming_a_task_one_has_not_claimed_is_a_conflict(office, as_user):
    reviewer = as_user("cz_reviewer")
    [item] = reviewer.get("/api/v1/tasks?view=todo").json["items"]
    response = reviewer.post(f"/api/v1/tasks/{item['task']['id']}/unclaim")
    assert response.status_code == 409


def test_the_inbox_filters_sorts_and_pages(office, as_user):
    head = as_user("nyb_head")
    items = head.get("/api/v1/tasks?view=todo&sort=amount").json["items"]
    assert [i["instance"]["amount"] for i in items] == ["1280.00", "4500.00"]
    assert [i["instance"]["amount"] for i in head.get("/api/v1/tasks?view=todo&sort=-amount").json["items"]] \
        == ["4500.00", "1280.00"]
    assert head.get("/api/v1/tasks?view=todo&amount_min=2000").json["total"] == 1
    assert head.get("/api/v1/tasks?view=todo&amount_max=2000&amount_min=1000").json["total"] == 1
    assert head.get("/api/v1/tasks?view=todo&q=防汛").json["total"] == 1
    assert head.get("/api/v1/tasks?view=todo&q=%25").json["total"] == 0  # % is text, not a wildcard
    assert head.get("/api/v1/tasks?view=todo&process=expense_claim").json["total"] == 2
    assert head.get("/api/v1/tasks?view=todo&process=payment").json["total"] == 0
    assert head.get("/api/v1/tasks?view=todo&status=approved").json["total"] == 0
    page = head.get("/api/v1/tasks?view=todo&per_page=1&page=2").json
    assert (page["total"], page["page"], len(page["items"])) == (2, 2, 1)
    clerk = as_user("zfb_clerk")
    assert clerk.get("/api/v1/tasks?view=started&status=rejected").json["total"] == 1


def test_the_date_range_is_read_in_china_time(office, as_user, db_session):
    from app import clock
    from app.inbox.queries import LOCAL_TZ

    today = clock.now().astimezone(LOCAL_TZ).date()
    head = as_user("nyb_head")
    assert head.get(f"/api/v1/tasks?view=todo&date_from={today}&date_to={today}").json["total"] == 2
    assert head.get("/api/v1/tasks?view=todo&date_to=2000-01-01").json["total"] == 0


@pytest.mark.parametrize("query", ["view=archive", "page=0", "per_page=1000", "sort=title", "amount_min=-1",
                                   "date_from=yesterday", "status=lost"])
def test_bad_inbox_parameters_get_400_with_the_field_named(office, as_user, query):
    response = as_user("nyb_head").get(f"/api/v1/tasks?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json["details"]
