"""Logout, a new password and being disabled end every session and token of the user at once.

A copied cookie is the attacker's view: it is replayed from a second client after the owner acted.
"""
import pytest
from sqlalchemy import select

from app.admin.seed import DEMO_PASSWORD
from app.models import ApiToken, User
from tests.web.conftest import Browser, csrf_token

NEW_PASSWORD = "桂花-香了-2026"


@pytest.fixture
def pages(make_app, app):
    """A second app for the pages (see tests/web/conftest.py): browser("nyb_clerk") logs in through /login."""
    web = make_app()

    def open_as(username=None, password=DEMO_PASSWORD):
        browser = Browser(web.test_client())
        if username is not None:
            assert browser.login(username, password).status_code == 302
        return browser

    return open_as


def copy_of(browser: Browser, pages) -> Browser:
    """Another client holding the same session cookie, as a thief who copied it would."""
    thief = pages()
    cookie = browser.client.get_cookie("session")
    thief.client.set_cookie("session", cookie.value)
    return thief


def token_for(client, username, password=DEMO_PASSWORD):
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 201, response.json
    return response.json["token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_copied_cookie_stops_working_when_its_owner_logs_out(demo, pages):
    clerk = pages("nyb_clerk")
    thief = copy_of(clerk, pages)
    assert thief.get("/").status_code == 200  # the copy works while the owner is logged in

    page = clerk.get("/")
    assert clerk.post("/logout", {"csrf_token": csrf_token(page.text)}).status_code == 302
    assert thief.get("/").status_code == 302
    assert thief.get("/api/v1/auth/me").status_code == 401


def test_logging_out_of_the_pages_ends_the_users_api_tokens_too(demo, pages, client):
    token = token_for(client, "nyb_clerk")
    other_users_token = token_for(client, "nyb_head")
    clerk = pages("nyb_clerk")
    clerk.submit("/", "/logout", {})
    assert client.get("/api/v1/tasks", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/tasks", headers=bearer(other_users_token)).status_code == 200


def test_the_api_logout_ends_every_session_and_token_of_the_user(demo, pages, client, db_session):
    first, second = token_for(client, "nyb_clerk"), token_for(client, "nyb_clerk")
    browser = pages("nyb_clerk")
    assert client.post("/api/v1/auth/logout", headers=bearer(first)).status_code == 204
    assert client.get("/api/v1/tasks", headers=bearer(second)).status_code == 401
    assert browser.get("/").status_code == 302
    db_session.expire_all()
    clerk = db_session.scalar(select(User).where(User.username == "nyb_clerk"))
    assert db_session.scalars(select(ApiToken).where(ApiToken.user_id == clerk.id)).all() == []
    assert client.post("/api/v1/auth/logout", headers=bearer(first)).status_code == 401


def test_the_api_logout_from_a_cookie_session_needs_the_csrf_token(demo, pages):
    browser = pages("nyb_clerk")
    assert browser.client.post("/api/v1/auth/logout").status_code == 400
    assert browser.get("/").status_code == 200
    csrf = browser.get("/api/v1/auth/me").json["csrf_token"]
    assert browser.client.post("/api/v1/auth/logout", headers={"X-CSRFToken": csrf}).status_code == 204
    assert browser.get("/").status_code == 302


def test_deleting_one_token_leaves_the_others(demo, client):
    first, second = token_for(client, "nyb_clerk"), token_for(client, "nyb_clerk")
    assert client.delete("/api/v1/auth/token", headers=bearer(first)).status_code == 204
    assert client.get("/api/v1/tasks", headers=bearer(first)).status_code == 401
    assert client.get("/api/v1/tasks", headers=bearer(second)).status_code == 200


def test_a_cookie_signed_before_session_versions_is_not_accepted(demo, pages, db_session):
    clerk = db_session.scalar(select(User).where(User.username == "nyb_clerk"))
    old = pages()
    with old.client.session_transaction() as session:
        session["user_id"] = clerk.id  # what /login wrote before this change
    assert old.get("/").status_code == 302


# ------------------------------------------------------------------------------------------ password


def change(client, token, current=DEMO_PASSWORD, new=NEW_PASSWORD):
    return client.post("/api/v1/auth/password", json={"current_password": current, "new_password": new},
                       headers=bearer(token))


def test_a_new_password_ends_every_other_session_and_token(demo, pages, client):
    token, other = token_for(client, "nyb_clerk"), token_for(client, "nyb_clerk")
    browser = pages("nyb_clerk")
    assert change(client, token).status_code == 204
    for used in (token, other):
        assert client.get("/api/v1/tasks", headers=bearer(used)).status_code == 401
    assert browser.get("/").status_code == 302
    assert client.post("/api/v1/auth/token", json={"username": "nyb_clerk", "password": DEMO_PASSWORD}
                       ).status_code == 401
    assert client.get("/api/v1/tasks", headers=bearer(token_for(client, "nyb_clerk", NEW_PASSWORD))
                      ).status_code == 200


@pytest.mark.parametrize(("new", "message"), [
    ("12345678", "这是最常见的密码之一，很容易被猜中，请换一个"),
    ("aaaaaaaa", "密码不能由同一个字符重复组成"),
    ("nyb_clerk", "密码不能包含用户名"),
    ("NYB_CLERK-2026", "密码不能包含用户名"),
    ("asdfghjk", "密码不能是连续的数字或键盘上相邻的字母"),
    ("23456789", "密码不能是连续的数字或键盘上相邻的字母"),
    ("87654321", "这是最常见的密码之一，很容易被猜中，请换一个"),
    ("iloveyou", "这是最常见的密码之一，很容易被猜中，请换一个"),
    ("short-1", "密码至少 8 位"),
    ("x" * 300, "密码最多 256 位"),
    (DEMO_PASSWORD, "新密码不能与当前密码相同"),
])
def test_a_weak_new_password_is_refused_field_by_field_and_nothing_changes(demo, client, new, message):
    token = token_for(client, "nyb_clerk")
    refused = change(client, token, new=new)
    assert refused.status_code == 400
    assert refused.json["error"] == "validation_error"
    assert refused.json["details"] == {"new_password": [message]}
    assert client.get("/api/v1/tasks", headers=bearer(token)).status_code == 200  # nothing ended
    token_for(client, "nyb_clerk")  # the old password still works


def test_a_wrong_current_password_is_refused_and_counts_as_a_failed_login(demo, client):
    import time_machine

    from app import clock

    token = token_for(client, "nyb_clerk")
    with time_machine.travel(clock.now(), tick=False):
        refused = change(client, token, current="not-my-password")
        assert refused.status_code == 400
        assert refused.json["details"] == {"current_password": ["当前密码不正确"]}
        change(client, token, current="not-my-password")
        change(client, token, current="not-my-password")
        limited = change(client, token)  # the third failure: the next try waits
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert client.get("/api/v1/tasks", headers=bearer(token)).status_code == 200


def test_changing_the_password_needs_a_login_and_a_well_formed_body(demo, client):
    assert client.post("/api/v1/auth/password", json={"current_password": "a", "new_password": "b"}
                       ).status_code == 401
    token = token_for(client, "nyb_clerk")
    missing = client.post("/api/v1/auth/password", json={"new_password": NEW_PASSWORD}, headers=bearer(token))
    assert missing.status_code == 400 and set(missing.json["details"]) == {"current_password"}


def test_a_cookie_session_that_changes_the_password_stays_logged_in(demo, pages):
    browser = pages("nyb_clerk")
    thief = copy_of(browser, pages)
    csrf = browser.get("/api/v1/auth/me").json["csrf_token"]
    response = browser.client.post("/api/v1/auth/password", headers={"X-CSRFToken": csrf},
                                   json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 204
    assert browser.get("/").status_code == 200
    assert thief.get("/").status_code == 302


def test_new_users_get_the_same_password_policy(demo, app):
    result = app.test_cli_runner().invoke(args=["user", "add", "new_clerk", "--password", "12345678",
                                                "--role", "clerk@SFZ-NYB"])
    assert result.exit_code == 1 and "这是最常见的密码之一" in result.output


# ---------------------------------------------------------------------------------- admin disables


def test_an_admin_disabling_a_user_ends_their_sessions_and_tokens_at_once(demo, pages, client, as_user):
    token = token_for(client, "nyb_clerk")
    browser = pages("nyb_clerk")
    disabled = as_user("admin").post("/api/v1/users/nyb_clerk/disable")
    assert disabled.status_code == 200 and disabled.json["active"] is False
    assert client.get("/api/v1/tasks", headers=bearer(token)).status_code == 401
    assert browser.get("/").status_code == 302
    assert client.post("/api/v1/auth/token", json={"username": "nyb_clerk", "password": DEMO_PASSWORD}
                       ).status_code == 401

    enabled = as_user("admin").post("/api/v1/users/nyb_clerk/enable")
    assert enabled.status_code == 200 and enabled.json["active"] is True
    assert client.get("/api/v1/tasks", headers=bearer(token)).status_code == 401  # not brought back
    assert browser.get("/").status_code == 302
    token_for(client, "nyb_clerk")


def test_a_user_disabled_in_the_database_and_enabled_again_does_not_get_old_tokens_back(demo, client, as_user,
                                                                                       db_session):
    token = token_for(client, "nyb_clerk")
    clerk = db_session.scalar(select(User).where(User.username == "nyb_clerk"))
    clerk.active = False
    db_session.commit()
    assert as_user("admin").post("/api/v1/users/nyb_clerk/enable").status_code == 200
    assert client.get("/api/v1/tasks", headers=bearer(token)).status_code == 401


def test_admins_manage_only_their_townships_users_and_others_look_unknown(demo, as_user, db_session):
    from app.admin.people import GrantSpec, add_user

    add_user(db_session, "qs_admin", "青山-管理-2026", [GrantSpec("admin", "QSZ")], display_name="青山管理员",
             now=demo.now, hash_profile="CHEAPEST")
    qs_admin = as_user("qs_admin")
    for verb in ("disable", "enable", "unlock"):
        other = qs_admin.post(f"/api/v1/users/nyb_clerk/{verb}")
        unknown = qs_admin.post(f"/api/v1/users/nobody/{verb}")
        assert other.status_code == unknown.status_code == 404, verb
        assert other.json["error"] == unknown.json["error"] == "not_found"
        assert other.json["message"] == "没有用户 nyb_clerk" and unknown.json["message"] == "没有用户 nobody"
    assert as_user("nyb_head").post("/api/v1/users/nyb_clerk/disable").status_code == 403  # not an admin
    db_session.expire_all()
    assert db_session.scalar(select(User.active).where(User.username == "nyb_clerk")) is True


def test_an_admin_cannot_disable_themselves(demo, as_user):
    refused = as_user("admin").post("/api/v1/users/admin/disable")
    assert refused.status_code == 400 and refused.json["details"] == {"username": ["不能停用自己的账号"]}


def test_the_command_line_disables_a_user_and_ends_their_tokens(demo, app, client):
    token = token_for(client, "nyb_clerk")
    result = app.test_cli_runner().invoke(args=["user", "disable", "nyb_clerk"])
    assert result.exit_code == 0 and "已停用 nyb_clerk" in result.output
    assert client.get("/api/v1/tasks", headers=bearer(token)).status_code == 401
    assert "（停用）" in app.test_cli_runner().invoke(args=["user", "list"]).output
