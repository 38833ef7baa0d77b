"""代理: a user away names one colleague at a time to stand in for them; only they may revoke it."""
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import clock
from app.inbox.proxies import active_proxies
from app.models import Proxy, User


def iso(moment):
    return moment.isoformat()


def body(proxy="cz_reviewer2", start=timedelta(0), days=7, **extra):
    now = clock.now()
    return {"proxy": proxy, "starts_at": iso(now + start), "ends_at": iso(now + start + timedelta(days=days)),
            **extra}


def proxy_count(db_session):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Proxy))


def ids(db_session, *usernames):
    found = dict(db_session.execute(select(User.username, User.id).where(User.username.in_(usernames))).all())
    return [found[u] for u in usernames]


def test_a_user_sets_a_proxy_and_both_of_them_see_it(demo, as_user):
    reviewer = as_user("cz_reviewer")
    response = reviewer.post("/api/v1/proxies", json=body(process_ids=["expense_claim"], reason="出差"))
    assert response.status_code == 201, response.json
    made = response.json
    assert (made["principal"]["username"], made["proxy"]["username"]) == ("cz_reviewer", "cz_reviewer2")
    assert (made["status"], made["process_ids"], made["reason"], made["revoked_at"]) == \
        ("active", ["expense_claim"], "出差", None)

    mine = reviewer.get("/api/v1/proxies").json
    assert [p["id"] for p in mine["as_principal"]] == [made["id"]] and mine["as_proxy"] == []
    theirs = as_user("cz_reviewer2").get("/api/v1/proxies").json
    assert [p["id"] for p in theirs["as_proxy"]] == [made["id"]] and theirs["as_principal"] == []
    assert as_user("duban").get("/api/v1/proxies").json == {"as_principal": [], "as_proxy": []}


def test_a_window_given_without_a_zone_is_read_as_beijing_time(demo, as_user):
    start = (clock.now() + timedelta(days=2)).replace(microsecond=0)
    local = start.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    response = as_user("cz_reviewer").post("/api/v1/proxies", json={
        "proxy": "cz_reviewer2", "starts_at": local.isoformat(), "ends_at": (local + timedelta(days=1)).isoformat()})
    assert response.status_code == 201, response.json
    assert datetime.fromisoformat(response.json["starts_at"]) == start
    assert response.json["status"] == "scheduled"


def test_only_the_principal_may_revoke_and_revoking_twice_changes_nothing(demo, as_user, db_session):
    made = as_user("cz_reviewer").post("/api/v1/proxies", json=body()).json
    assert as_user("cz_reviewer2").delete(f"/api/v1/proxies/{made['id']}").status_code == 403
    assert as_user("duban").delete(f"/api/v1/proxies/{made['id']}").status_code == 404
    assert as_user("duban").delete("/api/v1/proxies/999999").status_code == 404
    db_session.expire_all()
    assert db_session.get(Proxy, made["id"]).revoked_at is None

    first = as_user("cz_reviewer").delete(f"/api/v1/proxies/{made['id']}")
    assert first.status_code == 200
    assert first.json["status"] == "revoked" and first.json["revoked_at"] is not None
    again = as_user("cz_reviewer").delete(f"/api/v1/proxies/{made['id']}")
    assert again.json["revoked_at"] == first.json["revoked_at"]


def test_an_overlapping_window_is_refused_naming_the_field_and_a_revoked_or_adjacent_one_is_not(demo, as_user,
                                                                                               db_session):
    reviewer = as_user("cz_reviewer")
    first = reviewer.post("/api/v1/proxies", json=body(days=7)).json
    clash = reviewer.post("/api/v1/proxies", json=body(proxy="cz_head", start=timedelta(days=6), days=3))
    assert clash.status_code == 409
    assert clash.json["error"] == "conflict"
    assert "沈审核" in clash.json["details"]["starts_at"][0]
    assert proxy_count(db_session) == 1

    adjacent = {"proxy": "cz_head", "starts_at": first["ends_at"],
                "ends_at": iso(clock.now() + timedelta(days=10))}
    assert reviewer.post("/api/v1/proxies", json=adjacent).status_code == 201
    reviewer.delete(f"/api/v1/proxies/{first['id']}")
    assert reviewer.post("/api/v1/proxies", json=body(proxy="cz_head", days=5)).status_code == 201
    # someone else's windows are their own business
    assert as_user("cz_reviewer2").post("/api/v1/proxies", json=body(proxy="cz_head")).status_code == 201


@pytest.mark.parametrize("overrides, field", [
    ({"proxy": "nobody"}, "proxy"),
    ({"proxy": "cz_reviewer"}, "proxy"),  # oneself
    ({"proxy": "retired"}, "proxy"),  # inactive
    ({"proxy": "qs_reviewer"}, "proxy"),  # another township: would see and act on requests not theirs
    ({"days": 0}, "ends_at"),
    ({"days": -1}, "ends_at"),
    ({"days": 181}, "ends_at"),
    ({"start": timedelta(days=-2)}, "starts_at"),
    ({"process_ids": ["no_such_process"]}, "process_ids"),
    ({"process_ids": []}, "process_ids"),
    ({"reason": "长" * 201}, "reason"),
    ({"starts_at": "tomorrow"}, "starts_at"),
    ({"proxy": None}, "proxy"),
    ({"colour": "red"}, "colour"),
])
def test_bad_input_answers_400_naming_the_field_and_saves_nothing(demo, as_user, db_session, overrides, field):
    retired = db_session.scalar(select(User).where(User.username == "cz_head"))
    retired.username, retired.active = "retired", False
    db_session.commit()
    keys = {k: overrides.pop(k) for k in ("proxy", "start", "days") if k in overrides}
    response = as_user("cz_reviewer").post("/api/v1/proxies", json={**body(**keys), **overrides})
    assert response.status_code == 400, response.json
    assert field in response.json["details"], response.json
    assert proxy_count(db_session) == 0


def test_every_wrong_field_is_reported_at_once(demo, as_user, db_session):
    response = as_user("cz_reviewer").post("/api/v1/proxies", json=body(
        proxy="nobody", days=200, process_ids=["expense_claim", "nope"]))
    assert response.status_code == 400
    assert set(response.json["details"]) == {"proxy", "ends_at", "process_ids"}
    assert response.json["details"]["process_ids"] == ["nope：没有部署这个流程"]


def test_a_window_starting_up_to_a_day_ago_and_lasting_180_days_is_accepted(demo, as_user):
    response = as_user("cz_reviewer").post("/api/v1/proxies", json=body(start=timedelta(hours=-23), days=180))
    assert response.status_code == 201, response.json


def test_active_proxies_name_who_stands_in_now_for_the_process(demo, db_session):
    now = clock.now()
    a, b, c, d, e, p1, p2 = ids(db_session, "cz_reviewer", "cz_reviewer2", "cz_head", "deputy", "zhenzhang",
                                "duban", "admin")
    day = timedelta(days=1)
    db_session.add_all([
        Proxy(principal_id=a, proxy_id=p1, starts_at=now - day, ends_at=now + day, created_at=now),
        Proxy(principal_id=b, proxy_id=p1, starts_at=now + day, ends_at=now + 2 * day, created_at=now),  # later
        Proxy(principal_id=c, proxy_id=p1, starts_at=now - day, ends_at=now + day, created_at=now,
              revoked_at=now),
        Proxy(principal_id=d, proxy_id=p2, starts_at=now - day, ends_at=now + day, created_at=now,
              process_ids=["payment"]),
        Proxy(principal_id=e, proxy_id=p2, starts_at=now - day, ends_at=now, created_at=now),  # just ended
    ])
    db_session.commit()
    assert active_proxies(db_session, [a, b, c, d, e], "expense_claim", now) == {a: p1}
    assert active_proxies(db_session, [a, b, c, d, e], "payment", now) == {a: p1, d: p2}
    assert active_proxies(db_session, [b], "expense_claim", now + day) == {b: p1}
    assert active_proxies(db_session, [], "payment", now) == {}

    db_session.get(User, p1).active = False
    db_session.commit()
    assert active_proxies(db_session, [a, d], "payment", now) == {d: p2}


@pytest.mark.postgres
@pytest.mark.parametrize("attempt", range(5))
def test_two_overlapping_proxies_set_at_once_leave_exactly_one(app, demo, as_user, db_session, attempt):
    token = as_user("cz_reviewer").token
    bodies = [body(proxy="cz_reviewer2", days=5), body(proxy="cz_head", start=timedelta(days=2), days=5)]
    barrier = threading.Barrier(2)
    results = [None, None]

    def act(i):
        client = app.test_client()
        barrier.wait()
        results[i] = client.post("/api/v1/proxies", json=bodies[i],
                                 headers={"Authorization": f"Bearer {token}"}).status_code

    threads = [threading.Thread(target=act, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == [201, 409]
    assert proxy_count(db_session) == 1
