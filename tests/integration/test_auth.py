"""Logging in for the API, tokens, rate limiting of failed logins, and the cookie session's CSRF guard."""
from datetime import timedelta

import time_machine

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


def test_the_sixth_failure_within_the_window_is_refused_even_with_the_right_password(demo, client):
    for _ in range(5):
        assert token_for(client, "nyb_head", "wrong-password").status_code == 401
    refused = token_for(client, "nyb_head")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert token_for(client, "nyb_clerk").status_code == 201  # other users are not locked out


def test_failures_age_out_of_the_window(demo, client):
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(5):
            token_for(client, "nyb_head", "wrong-password")
        assert token_for(client, "nyb_head").status_code == 429
        traveller.shift(timedelta(minutes=16))
        assert token_for(client, "nyb_head").status_code == 201


def test_many_failures_from_one_address_are_refused_across_usernames(demo, client):
    for i in range(30):
        token_for(client, f"guess{i}", "wrong-password", ip="10.9.9.9")
    assert token_for(client, "nyb_clerk", ip="10.9.9.9").status_code == 429
    assert token_for(client, "nyb_clerk", ip="10.0.0.2").status_code == 201


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
        session["user_id"] = clerk.id
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
