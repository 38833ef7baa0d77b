"""Logging in and out through the pages: the same checks and rate limit as the API, CSRF on the form."""
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from app import clock
from app.models import LoginAttempt
from tests.web.conftest import csrf_token, main_text


def test_an_anonymous_visitor_is_sent_to_the_login_page_and_comes_back_after(demo, browser):
    visitor = browser()
    response = visitor.get("/?view=done")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/?view%3Ddone"

    response = visitor.login("nyb_clerk", next_url="/?view=done")
    assert response.status_code == 302
    assert response.headers["Location"] == "/?view=done"
    page = visitor.get("/?view=done")
    assert page.status_code == 200
    assert "李经办" in page.text and "经办人（农业农村办）" in page.text


def test_every_page_needs_a_login_but_healthz_does_not(demo, browser):
    visitor = browser()
    for url in ("/", "/start", "/start/expense_claim", "/tasks/1", "/instances/1"):
        response = visitor.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url
    assert visitor.post("/tasks/1/claim").headers["Location"] == "/login"
    assert visitor.get("/healthz").json == {"status": "ok"}


def test_a_wrong_password_shows_a_message_and_keeps_the_username(demo, browser):
    visitor = browser()
    response = visitor.login("nyb_clerk", password="wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in main_text(response.text)
    assert 'value="nyb_clerk"' in response.text
    assert "wrong-password" not in response.text
    assert visitor.get("/").status_code == 302  # still not logged in


def test_the_sixth_wrong_password_is_refused_even_when_the_password_is_right(demo, browser):
    visitor = browser()
    with time_machine.travel(clock.now(), tick=False) as traveller:
        for _ in range(5):
            assert visitor.login("nyb_head", password="guess").status_code == 401
            traveller.shift(timedelta(minutes=1))  # past the progressive delay: only the lock is left
        response = visitor.login("nyb_head", password="guess")
        assert response.status_code == 429
        assert "登录失败次数过多" in main_text(response.text)
        assert int(response.headers["Retry-After"]) > 0

        right = visitor.login("nyb_head")
        assert right.status_code == 429
        assert visitor.get("/").status_code == 302


def test_a_quick_third_wrong_password_makes_the_next_try_wait_seconds(demo, browser):
    visitor = browser()
    with time_machine.travel(clock.now(), tick=False):
        for _ in range(3):
            assert visitor.login("nyb_head", password="guess").status_code == 401
        response = visitor.login("nyb_head")
        assert response.status_code == 429
        assert "请 1 秒后再试" in main_text(response.text)
        assert response.headers["Retry-After"] == "1"


def test_only_local_next_addresses_are_followed(demo, browser):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = browser().login("nyb_clerk", next_url=target)
        assert response.status_code == 302
        assert response.headers["Location"] == "/", target


def test_login_starts_a_new_session(demo, browser, web_app):
    visitor = browser()
    with visitor.client.session_transaction() as session:
        session["planted"] = "by an attacker"
    assert visitor.login("nyb_clerk").status_code == 302
    with visitor.client.session_transaction() as session:
        assert "planted" not in session
        assert session.permanent is True
        assert isinstance(session["user_id"], int)
        assert isinstance(session["session_version"], int)


def test_the_login_form_is_refused_without_its_csrf_token(demo, browser, db_read):
    visitor = browser()
    visitor.get("/login")
    response = visitor.post("/login", {"username": "nyb_clerk", "password": "demo-2026"})
    assert response.status_code == 400
    assert "请刷新页面后重试" in main_text(response.text)
    assert db_read(select(func.count()).select_from(LoginAttempt)) == [0]
    assert visitor.get("/").status_code == 302


def test_logging_out_ends_the_session(demo, browser):
    clerk = browser("nyb_clerk")
    page = clerk.get("/")
    assert clerk.post("/logout").status_code == 400  # no token: still logged in
    assert clerk.get("/").status_code == 200

    copied = browser()
    copied.client.set_cookie("session", clerk.client.get_cookie("session").value)
    response = clerk.post("/logout", {"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "你已退出登录" in clerk.get("/login").text
    assert clerk.get("/").status_code == 302
    assert copied.get("/").status_code == 302  # the cookie itself no longer works, wherever it is
