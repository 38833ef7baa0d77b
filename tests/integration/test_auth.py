"""Logging in for the API, tokens, the bounded lockout of failed logins, and the cookie session's CSRF guard."""
from datetime import timedelta

import pytest
import time_machine
from argon2 import extract_parameters

from app import clock
from app.admin.seed import DEMO_PASSWORD
from tests.integration.test_approval_flow import CLAIM


def token_for(client, username, password=DEMO_PASSWORD, ip="10.0.0.1"):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_a_user_trades_password_for_a_token_and_uses_it(demo, client):
    response = token_for(client, "nyb_clerk")
    assert response.status_code == 201
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {response.json['token']}"})
    assert me.status_code == 200
    assert me.json["user"]["username"] == "nyb_clerk"
    assert me.json["roles"] == [
        {"role": "clerk", "role_name": "经办人", "org": {"code": "SFZ-NYB", "name": "农业农村办"}}]
    assert me.json["csrf_token"] is None


def test_a_wrong_password_and_an_unknown_user_look_the_same(demo, client):
    wrong, unknown = token_for(client, "nyb_clerk", "nope-nope"), token_for(client, "nobody", "nope-nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json["message"] == unknown.json["message"] == "用户名或密码错误"


def test_five_failures_lock_that_user_at_that_address_even_with_the_right_password(demo, client):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        for _ in range(5):
            assert token_for(client, "nyb_head", "wrong-password").status_code == 401
            traveller.shift(timedelta(minutes=1))  # past the progressive delay: only the lock is left
        refused = token_for(client, "nyb_head")
        assert refused.status_code == 429 and refused.json["error"] == "rate_limited"
        assert 9 * 60 < int(refused.headers["Retry-After"]) <= 11 * 60  # 15 min after the first failure
        assert "分钟后再试" in refused.json["message"]
        assert token_for(client, "nyb_head", ip="10.0.0.7").status_code == 201  # same user, another address
        assert token_for(client, "nyb_clerk").status_code == 201  # other users are not locked out


def test_the_lock_ends_when_the_failures_age_out_of_the_window(demo, client):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        for _ in range(5):
            token_for(client, "nyb_head", "wrong-password")
            traveller.shift(timedelta(minutes=1))
        assert token_for(client, "nyb_head").status_code == 429
        traveller.shift(timedelta(minutes=11))  # the first failure is now 16 minutes old
        assert token_for(client, "nyb_head").status_code == 201


def test_tries_after_the_third_failure_wait_longer_each_time(demo, client):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        for _ in range(2):
            assert token_for(client, "nyb_head", "wrong-password").status_code == 401
        for n, expected_wait in enumerate((1, 2, 4, 8, 16, 32, 60, 60)):
            # From changing addresses, so no address reaches the lock: the delay alone is left.
            assert token_for(client, "nyb_head", "wrong-password", ip=f"10.0.1.{n}").status_code == 401
            too_soon = token_for(client, "nyb_head")
            assert too_soon.status_code == 429, expected_wait
            assert int(too_soon.headers["Retry-After"]) == expected_wait
            assert "秒后再试" in too_soon.json["message"]
            traveller.shift(timedelta(seconds=expected_wait))
        assert token_for(client, "nyb_head").status_code == 201


def test_guessing_from_many_addresses_is_slowed_not_locked_and_the_user_waits_a_minute_at_most(demo, client):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        for i in range(12):  # two each from six addresses: no pair reaches the lock
            assert token_for(client, "nyb_head", "wrong-password", ip=f"10.8.0.{i // 2}").status_code == 401
            traveller.shift(timedelta(seconds=61))
        assert token_for(client, "nyb_head", "wrong-password", ip="10.8.1.1").status_code == 401
        refused = token_for(client, "nyb_head", ip="10.0.0.1")  # the user, from their own desk
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 60
        traveller.shift(timedelta(seconds=60))
        assert token_for(client, "nyb_head", ip="10.0.0.1").status_code == 201


def test_a_success_clears_the_count(demo, client):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        for _ in range(4):
            token_for(client, "nyb_head", "wrong-password")
            traveller.shift(timedelta(minutes=1))
        assert token_for(client, "nyb_head").status_code == 201
        for _ in range(2):  # a fresh count: two free tries, no lock
            assert token_for(client, "nyb_head", "wrong-password").status_code == 401
        assert token_for(client, "nyb_head").status_code == 201


def test_many_failures_from_one_address_slow_it_down_but_not_its_known_users(demo, client):
    office = "10.9.9.9"
    with time_machine.travel(clock.now(), tick=False) as traveller:
        assert token_for(client, "nyb_clerk", ip=office).status_code == 201  # has logged in from here before
        for i in range(30):
            token_for(client, f"guess{i}", "wrong-password", ip=office)
        refused = token_for(client, "swb_clerk", ip=office)  # never logged in from here
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 1
        assert token_for(client, "nyb_clerk", ip=office).status_code == 201
        assert token_for(client, "swb_clerk", ip="10.0.0.2").status_code == 201
        traveller.shift(timedelta(seconds=1))
        assert token_for(client, "swb_clerk", ip=office).status_code == 201  # a delay, not a lock


def _lock(client, traveller, username="nyb_head"):
    for _ in range(5):
        token_for(client, username, "wrong-password")
        traveller.shift(timedelta(minutes=1))
    assert token_for(client, username).status_code == 429


def test_an_admin_unlocks_a_user_of_their_township(demo, client, as_user):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        _lock(client, traveller)
        elsewhere = as_user("qs_head")  # not an admin
        assert elsewhere.post("/api/v1/users/nyb_head/unlock").status_code == 403
        unlocked = as_user("admin").post("/api/v1/users/nyb_head/unlock")
        assert unlocked.status_code == 200
        assert unlocked.json == {"user": {"id": unlocked.json["user"]["id"], "username": "nyb_head",
                                          "display_name": "周主任"}, "active": True}
        assert token_for(client, "nyb_head").status_code == 201


def test_the_command_line_unlocks_a_user(demo, client, app):
    with time_machine.travel(clock.now(), tick=False) as traveller:
        _lock(client, traveller)
        result = app.test_cli_runner().invoke(args=["user", "unlock", "nyb_head"])
        assert result.exit_code == 0 and "已解除 nyb_head 的登录锁定" in result.output
        assert token_for(client, "nyb_head").status_code == 201
        assert app.test_cli_runner().invoke(args=["user", "unlock", "nobody"]).exit_code == 1


def test_without_proxy_fix_a_forwarded_address_is_ignored(demo, client, db_session):
    from sqlalchemy import select

    from app.models import LoginAttempt

    client.post("/api/v1/auth/token", json={"username": "nyb_head", "password": "wrong-password"},
                headers={"X-Forwarded-For": "203.0.113.5"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert db_session.scalars(select(LoginAttempt.ip)).all() == ["10.0.0.1"]


def test_with_proxy_fix_the_client_address_comes_from_the_trusted_proxy(demo, make_app, db_session):
    from sqlalchemy import select

    from app.models import LoginAttempt

    behind_proxy = make_app(PROXY_FIX_X_FOR=1).test_client()
    for forwarded in ("198.51.100.9, 203.0.113.5", "203.0.113.6"):  # the proxy appends the peer it saw
        behind_proxy.post("/api/v1/auth/token", json={"username": "nyb_head", "password": "wrong-password"},
                          headers={"X-Forwarded-For": forwarded}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert db_session.scalars(select(LoginAttempt.ip).order_by(LoginAttempt.id)).all() == [
        "203.0.113.5", "203.0.113.6"]


def test_requests_without_a_valid_token_get_401(demo, client):
    assert client.get("/api/v1/tasks").status_code == 401
    response = client.get("/api/v1/tasks", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"


def test_a_token_expires(demo, client, app):
    token = token_for(client, "nyb_clerk").json["token"]
    with time_machine.travel(clock.now() + app.config["TOKEN_TTL"] + timedelta(seconds=1), tick=False):
        assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_revoked_token_stops_working(demo, client):
    token = token_for(client, "nyb_clerk").json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/tasks", headers=headers).status_code == 401


def test_a_deactivated_user_can_neither_log_in_nor_use_a_token(demo, client, db_session):
    from sqlalchemy import select

    from app.models import User

    token = token_for(client, "nyb_clerk").json["token"]
    user = db_session.scalar(select(User).where(User.username == "nyb_clerk"))
    user.active = False
    db_session.commit()
    assert token_for(client, "nyb_clerk").status_code == 401
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_only_the_token_hash_is_stored(demo, client, db_session):
    from sqlalchemy import select

    from app.models import ApiToken

    token = token_for(client, "nyb_clerk").json["token"]
    stored = db_session.scalars(select(ApiToken.token_sha256)).all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_a_cookie_session_must_send_the_csrf_token_to_write(demo, client, db_session):
    from sqlalchemy import select

    from app.models import ProcessInstance, User

    clerk = db_session.scalar(select(User).where(User.username == "nyb_clerk"))
    with client.session_transaction() as session:
        session["user_id"], session["session_version"] = clerk.id, clerk.session_version
    body = {"process_id": "expense_claim", "data": {**CLAIM}}
    refused = client.post("/api/v1/instances", json=body)
    assert refused.status_code == 400 and refused.json["error"] == "csrf_failed"
    assert db_session.scalar(select(ProcessInstance.id)) is None

    csrf = client.get("/api/v1/auth/me").json["csrf_token"]
    accepted = client.post("/api/v1/instances", json=body, headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 201


def test_a_malformed_json_body_is_a_400(demo, as_user):
    response = as_user("nyb_clerk").post("/api/v1/instances", data=b"{not json",
                                         headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json["error"] == "validation_error"


def test_nan_amounts_are_refused(demo, as_user):
    response = as_user("nyb_clerk").post(
        "/api/v1/instances", data=b'{"process_id": "expense_claim", "data": {"amount": NaN}}',
        headers={"Content-Type": "application/json"})
    assert response.status_code == 400


@pytest.fixture
def argon2_work(monkeypatch):
    """Every argon2 computation a login makes, as (kind, parameters): the real ones, counted."""
    import argon2._password_hasher as hasher_module
    from argon2 import extract_parameters

    work = []

    def spy(kind, real):
        def counted(*args, **kwargs):
            if kind == "verify":
                work.append((kind, extract_parameters(args[0].decode("ascii"))))
            else:
                work.append((kind, (kwargs["time_cost"], kwargs["memory_cost"], kwargs["parallelism"])))
            return real(*args, **kwargs)
        return counted

    monkeypatch.setattr(hasher_module, "verify_secret", spy("verify", hasher_module.verify_secret))
    monkeypatch.setattr(hasher_module, "hash_secret", spy("hash", hasher_module.hash_secret))
    return work


def test_an_unknown_username_costs_exactly_one_verification_like_a_known_one(demo, client, db_session, argon2_work):
    from sqlalchemy import select

    from app.models import User

    stored = db_session.scalar(select(User.password_hash).where(User.username == "nyb_clerk"))
    for username, ip in (("nyb_clerk", "10.0.0.1"), ("nobody", "10.0.0.2"), ("nobody-else", "10.0.0.3")):
        argon2_work.clear()
        assert token_for(client, username, "wrong-password", ip=ip).status_code == 401
        assert argon2_work == [("verify", extract_parameters(stored))], username


def test_a_disabled_user_costs_the_same_verification(demo, client, db_session, argon2_work):
    from sqlalchemy import select

    from app.models import User

    clerk = db_session.scalar(select(User).where(User.username == "nyb_clerk"))
    clerk.active = False
    db_session.commit()
    assert token_for(client, "nyb_clerk").status_code == 401
    assert [kind for kind, _ in argon2_work] == ["verify"]
