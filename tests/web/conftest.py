"""Pages through a browser-like client: log in with the real form, post forms with their CSRF token.

The pages run on their own app object (same database): the `app` fixture holds an app context for
the whole test, and Flask reuses it for test-client requests, so `g` (where Flask-WTF caches the CSRF
token) would leak from one request and one user to the next. A second app gives every request its
own context, as in production, while the test keeps `app`/`db_session` for seeding.
"""
import re
from html import unescape

import pytest
from sqlalchemy.orm import Session

from app.admin.seed import DEMO_PASSWORD

CSRF_INPUT = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*\bvalue="([^"]+)"')


def csrf_token(html: str) -> str:
    """The hidden CSRF token of the first form on the page."""
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token input on the page"
    return unescape(match.group(1))


def field_block(html: str, name: str) -> str:
    """The markup of one form field (label, widget, its messages): <div|fieldset ... id="field-<name>">."""
    match = re.search(rf'<(div|fieldset)[^>]*\bid="field-{re.escape(name)}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no field {name!r} on the page"
    return match.group(2)


def main_text(html: str) -> str:
    """The page's <main> without tags, for "the user can read X" checks."""
    main = html[html.index("<main"):html.index("</main>")]
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))


class Browser:
    """One person's browser: a cookie jar, and forms posted the way the page offers them."""

    def __init__(self, client):
        self.client = client

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, data=None, **kw):
        return self.client.post(url, data=data or {}, **kw)

    def submit(self, page_url: str, action: str, data: dict, **kw):
        """Open `page_url`, take its CSRF token, post `data` to `action` as its form would."""
        page = self.client.get(page_url)
        assert page.status_code == 200, page.status_code
        return self.client.post(action, data={"csrf_token": csrf_token(page.text), **data}, **kw)

    def login(self, username: str, password: str = DEMO_PASSWORD, next_url: str | None = None):
        url = "/login" + (f"?next={next_url}" if next_url else "")
        data = {"username": username, "password": password}
        if next_url:
            data["next"] = next_url
        return self.submit(url, "/login", data)


@pytest.fixture
def web_app(make_app, app, files_dir):
    """The app the browsers talk to (see the module docstring); `app` is built first, for the fixtures."""
    return make_app(ATTACHMENT_DIR=files_dir)


@pytest.fixture
def browser(web_app):
    """browser() -> anonymous Browser; browser("nyb_clerk") -> logged in through /login."""

    def open_as(username: str | None = None) -> Browser:
        b = Browser(web_app.test_client())
        if username is not None:
            response = b.login(username)
            assert response.status_code == 302, f"login as {username} failed: {response.status_code}"
        return b

    return open_as


@pytest.fixture
def db_read(app):
    """Run a query in a fresh session: sees what the pages committed, nothing cached from before."""
    from app.extensions import db

    def read(statement, *, scalars: bool = True):
        with Session(db.engine) as session:
            result = session.scalars(statement) if scalars else session.execute(statement)
            return result.all()

    return read
