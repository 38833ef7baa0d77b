"""站内通知: each user lists and reads only their own notifications; the unread count follows."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.approvals.notices import notify
from app.models import Notification, User


@pytest.fixture
def notices(demo, db_session):
    """Three notifications for cz_reviewer a minute apart (oldest first) and one for cz_reviewer2."""
    ids = dict(db_session.execute(select(User.username, User.id)
                                  .where(User.username.in_(["cz_reviewer", "cz_reviewer2"]))).all())
    start = clock.now() - timedelta(minutes=10)
    rows = [notify(db_session, [ids["cz_reviewer"]], kind="urge", title=f"催办 {i}", body=f"第 {i} 次",
                   now=start + timedelta(minutes=i))[0] for i in range(3)]
    other = notify(db_session, [ids["cz_reviewer2"]], kind="cc", title="抄送", now=start)[0]
    db_session.commit()
    return [r.id for r in rows], other.id


def listing(api, query=""):
    response = api.get(f"/api/v1/notifications{query}")
    assert response.status_code == 200, response.json
    return response.json


def read_at(db_session, notification_id):
    db_session.expire_all()
    return db_session.get(Notification, notification_id).read_at


def test_a_user_lists_only_their_own_notifications_newest_first_with_the_unread_count(notices, as_user):
    mine, _ = notices
    body = listing(as_user("cz_reviewer"))
    assert [n["id"] for n in body["items"]] == list(reversed(mine))
    assert [n["title"] for n in body["items"]] == ["催办 2", "催办 1", "催办 0"]
    assert body["items"][0]["body"] == "第 2 次" and body["items"][0]["read_at"] is None
    assert (body["total"], body["unread_count"], body["page"], body["per_page"]) == (3, 3, 1, 20)
    assert [n["kind"] for n in listing(as_user("cz_reviewer2"))["items"]] == ["cc"]
    assert listing(as_user("duban"))["items"] == []


def test_marking_one_read_keeps_its_first_read_time_and_lowers_the_unread_count(notices, as_user, db_session):
    mine, _ = notices
    api = as_user("cz_reviewer")
    first = api.post(f"/api/v1/notifications/{mine[1]}/read")
    assert first.status_code == 200, first.json
    assert first.json["id"] == mine[1] and first.json["read_at"] is not None
    again = api.post(f"/api/v1/notifications/{mine[1]}/read")
    assert again.json["read_at"] == first.json["read_at"]
    body = listing(api)
    assert body["unread_count"] == 2
    assert [n["id"] for n in listing(api, "?unread=true")["items"]] == [mine[2], mine[0]]


def test_unread_true_lists_only_unread_and_pages_split_the_list(notices, as_user):
    mine, _ = notices
    api = as_user("cz_reviewer")
    api.post(f"/api/v1/notifications/{mine[2]}/read")
    unread = listing(api, "?unread=true&per_page=1")
    assert ([n["id"] for n in unread["items"]], unread["total"], unread["unread_count"]) == ([mine[1]], 2, 2)
    second = listing(api, "?unread=true&per_page=1&page=2")
    assert [n["id"] for n in second["items"]] == [mine[0]]
    assert listing(api, "?unread=true&per_page=1&page=3")["items"] == []
    assert listing(api, "?unread=false")["total"] == 3


def test_someone_elses_notification_answers_404_and_stays_unread(notices, as_user, db_session):
    _, others = notices
    response = as_user("cz_reviewer").post(f"/api/v1/notifications/{others}/read")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
    assert read_at(db_session, others) is None
    assert as_user("cz_reviewer").post("/api/v1/notifications/999999/read").status_code == 404


def test_read_all_marks_only_my_unread_notifications(notices, as_user, db_session):
    mine, others = notices
    api = as_user("cz_reviewer")
    api.post(f"/api/v1/notifications/{mine[0]}/read")
    kept = read_at(db_session, mine[0])
    response = api.post("/api/v1/notifications/read-all")
    assert response.status_code == 200
    assert response.json == {"updated": 2, "unread_count": 0}
    assert read_at(db_session, mine[0]) == kept
    assert all(read_at(db_session, i) is not None for i in mine)
    assert read_at(db_session, others) is None
    assert listing(as_user("cz_reviewer2"))["unread_count"] == 1
    assert api.post("/api/v1/notifications/read-all").json == {"updated": 0, "unread_count": 0}


@pytest.mark.parametrize("query, field", [("?page=0", "page"), ("?per_page=101", "per_page"),
                                          ("?unread=perhaps", "unread"), ("?per_page=x", "per_page")])
def test_bad_list_arguments_answer_400_naming_the_field(notices, as_user, query, field):
    response = as_user("cz_reviewer").get(f"/api/v1/notifications{query}")
    assert response.status_code == 400
    assert field in response.json["details"]


def test_bad_input_to_read_changes_nothing(notices, as_user, db_session):
    mine, _ = notices
    response = as_user("cz_reviewer").post("/api/v1/notifications/abc/read")
    assert response.status_code == 404
    assert all(read_at(db_session, i) is None for i in mine)


def test_notifications_need_a_login(notices, client):
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post("/api/v1/notifications/read-all").status_code == 401


def test_the_use_cases_behind_the_api_and_the_pages_list_and_mark_read(notices, as_user, deps, db_session):
    """One list query and one pair of mark-read writes serve the API and the pages (app/inbox, app/approvals)."""
    from app.approvals.errors import NotFound
    from app.approvals.notifications import mark_all_read, mark_read
    from app.inbox.notifications import notification_dict, notifications_of, unread_count

    mine, others = notices
    reviewer = db_session.scalar(select(User).where(User.username == "cz_reviewer"))
    found = notifications_of(db_session, reviewer.id, page=1, per_page=2)
    assert ([n.id for n in found.items], found.total) == ([mine[2], mine[1]], 3)
    api_items = listing(as_user("cz_reviewer"), "?per_page=2")["items"]
    assert [{**notification_dict(n), "created_at": n.created_at.isoformat()} for n in found.items] == api_items

    first = mark_read(deps(), reviewer, mine[0])
    assert first.read_at is not None and mark_read(deps(), reviewer, mine[0]).read_at == first.read_at
    with pytest.raises(NotFound):
        mark_read(deps(), reviewer, others)
    assert read_at(db_session, others) is None
    assert unread_count(db_session, reviewer.id) == 2 == listing(as_user("cz_reviewer"))["unread_count"]
    assert [n.id for n in notifications_of(db_session, reviewer.id, unread_only=True).items] == [mine[2], mine[1]]

    assert mark_all_read(deps(), reviewer) == 2
    assert read_at(db_session, mine[0]) == first.read_at  # the first read time stays
    assert unread_count(db_session, reviewer.id) == 0
    assert as_user("cz_reviewer2").post("/api/v1/notifications/read-all").json == {"updated": 1, "unread_count": 0}
