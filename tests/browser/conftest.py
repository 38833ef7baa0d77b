"""Real-browser tests: the real app served on loopback, driven by Playwright through Debian's chromium.

The server is the app of the suite (tests/conftest.py's test_config, its test database, its tables emptied
after each test), served by werkzeug in a thread on a free port; one server and one chromium per worker,
a fresh browser context (cookies, storage) per person per test. `playwright install` cannot download on
these machines, so chromium is Debian's (`apt-get install chromium fonts-noto-cjk`; CHROMIUM overrides the
path). Without chromium the tests skip with the reason, except in CI (CI=true), where they fail.

A failing test leaves a screenshot of every page it opened in test-artifacts/screenshots/ (named after
the test; the path is printed with the failure), for CI to keep.
"""
import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from app.admin.seed import DEMO_PASSWORD
from tests.integration.conftest import funded, march, office  # noqa: F401  (the walk's seeded year)

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
DESKTOP = {"viewport": {"width": 1440, "height": 900}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
# A journey step waits for the page at most this long: a page takes well under a second here.
STEP_TIMEOUT_MS = 10_000


def _no_browser(reason: str):
    if IN_CI:
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs chromium with apt-get)")
    pytest.skip(f"{reason}: browser tests skipped (apt-get install chromium fonts-noto-cjk to run them)")


@pytest.fixture(scope="session")
def chromium():
    """One headless chromium per worker."""
    if not CHROMIUM.exists():
        _no_browser(f"no chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("Playwright for Python is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


class _Dispatch:
    """The WSGI app the server thread calls: whichever app the current test gave it."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # a line per request would bury a failure's own output
        pass


@pytest.fixture(scope="session")
def _server():
    dispatch = _Dispatch()
    server = make_server("127.0.0.1", 0, dispatch, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield dispatch, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def live_app(make_app, files_dir):
    """The app the browsers talk to: the suite's pooled test app, attachments in the test's own dir."""
    return make_app(ATTACHMENT_DIR=files_dir)


@pytest.fixture
def live_server(demo, live_app, _server):
    """The seeded demo served on loopback: its base URL ("http://127.0.0.1:PORT")."""
    dispatch, base_url = _server
    dispatch.app = live_app
    yield base_url
    dispatch.app = None


class People:
    """Opens one browser context per person, logged in through the real /login form; remembers every page."""

    def __init__(self, chromium, base_url: str, device: dict):
        self.chromium, self.base_url, self.device = chromium, base_url, device
        self.pages = []  # (label, page), for the screenshots of a failure
        self.errors = []  # what the browser's console reported as errors, on any page

    def __call__(self, username: str | None = None, password: str = DEMO_PASSWORD):
        context = self.chromium.new_context(base_url=self.base_url, **self.device)
        context.set_default_timeout(STEP_TIMEOUT_MS)
        page = context.new_page()
        who = username or "anonymous"
        self.pages.append((who, page))
        # A script error or a CSP refusal (the pages' policy is strict) shows as a console error.
        page.on("console", lambda m: self.errors.append(f"{who} {page.url}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"{who} {page.url}: {exc}"))
        if username is not None:
            login(page, username, password)
        return page

    def close(self):
        for _, page in self.pages:
            page.context.close()


def fits_the_screen(page) -> None:
    """Nothing scrolls sideways: the page is no wider than the screen (phone first, 390 px)."""
    width, screen = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= screen, f"{page.url} is {width} px wide on a {screen} px screen"


def login(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in as a person would: the form's 用户名 and 密码, then 登录; waits until the inbox shows."""
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


@pytest.fixture
def phone(chromium, live_server):
    """phone("nyb_clerk") -> a Page on a 390×844 touch screen (zh-CN), logged in as that person."""
    people = People(chromium, live_server, PHONE)
    yield people
    people.close()
    assert not people.errors, "the browser reported errors:\n" + "\n".join(people.errors)


@pytest.fixture
def desktop(chromium, live_server):
    """desktop("guoku") -> a Page on a 1440×900 screen (zh-CN), logged in as that person."""
    people = People(chromium, live_server, DESKTOP)
    yield people
    people.close()
    assert not people.errors, "the browser reported errors:\n" + "\n".join(people.errors)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and report.when == "call":
        saved = _screenshots(item)
        if saved:
            report.sections.append(("screenshots", "\n".join(str(p) for p in saved)))
    return report


def _screenshots(item) -> list[Path]:
    """A full-page PNG of every page the failed test opened, while they are still open."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("/")[-1]).strip("_")
    saved = []
    for fixture in ("phone", "desktop"):
        people = item.funcargs.get(fixture)
        for index, (who, page) in enumerate(getattr(people, "pages", [])):
            path = SCREENSHOTS / f"{name}-{fixture}-{index}-{who}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                page.screenshot(path=str(path), full_page=True, timeout=5_000)
            except Exception as exc:  # a crashed page must not hide the test's own failure
                print(f"no screenshot of {who}'s page: {exc}")
                continue
            print(f"screenshot: {path}")
            saved.append(path)
    return saved
