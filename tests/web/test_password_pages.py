"""Changing one's password on the page: reachable from every page's header, field-level Chinese messages,
nothing typed ever echoed back, every other login ended."""
import pytest

from app.admin.seed import DEMO_PASSWORD
from tests.web.conftest import field_block, main_text

NEW_PASSWORD = "桂花-香了-2026"


def change(browser, current=DEMO_PASSWORD, new=NEW_PASSWORD, confirm=None):
    return browser.submit("/password", "/password", {
        "current_password": current, "new_password": new,
        "confirm_password": new if confirm is None else confirm})


@pytest.mark.parametrize("username", ["nyb_clerk", "cz_head", "admin", "shenji"])
def test_every_logged_in_user_finds_the_page_in_the_header(demo, browser, username):
    page = browser(username).get("/")
    header = page.text[page.text.index("<header"):page.text.index("</header>")]
    assert 'href="/password"' in header and "修改密码" in header


def test_the_page_needs_a_login(demo, browser):
    visitor = browser()
    assert visitor.get("/password").headers["Location"] == "/login?next=/password"


def test_a_new_password_keeps_this_browser_and_ends_every_other_login(demo, browser):
    here, elsewhere = browser("nyb_clerk"), browser("nyb_clerk")
    response = change(here)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "密码已修改" in main_text(here.get("/").text)
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    assert browser().login("nyb_clerk").status_code == 401  # the old password
    assert browser().login("nyb_clerk", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"new": "12345678"}, "new_password", "这是最常见的密码之一，很容易被猜中，请换一个"),
    ({"new": "aaaaaaaa"}, "new_password", "密码不能由同一个字符重复组成"),
    ({"new": "nyb_clerk1"}, "new_password", "密码不能包含用户名"),
    ({"new": "short"}, "new_password", "密码至少 8 位"),
    ({"confirm": "桂花-香了-2025"}, "confirm_password", "两次输入的新密码不一致"),
    ({"current": "not-my-password"}, "current_password", "当前密码不正确"),
])
def test_each_problem_is_shown_at_its_field_and_nothing_is_echoed(demo, browser, fields, field, message):
    clerk = browser("nyb_clerk")
    response = change(clerk, **fields)
    assert response.status_code == 400
    assert "密码没有修改" in main_text(response.text)
    block = field_block(response.text, f"password-{field}")
    assert message in block and 'aria-invalid="true"' in block
    for typed in (DEMO_PASSWORD, NEW_PASSWORD, *fields.values()):
        assert f'value="{typed}"' not in response.text
    assert clerk.get("/").status_code == 200  # still logged in, nothing changed
    assert browser().login("nyb_clerk").status_code == 302


def test_guessing_the_current_password_on_the_page_is_slowed_down(demo, browser):
    import time_machine

    from app import clock

    clerk = browser("nyb_clerk")
    with time_machine.travel(clock.now(), tick=False):
        for _ in range(3):
            assert change(clerk, current="guess-guess").status_code == 400
        limited = change(clerk)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
        assert "登录失败次数过多" in main_text(limited.text)


def test_the_form_is_refused_without_its_csrf_token(demo, browser):
    clerk = browser("nyb_clerk")
    response = clerk.post("/password", {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD,
                                        "confirm_password": NEW_PASSWORD})
    assert response.status_code == 400
    assert browser().login("nyb_clerk").status_code == 302  # unchanged
