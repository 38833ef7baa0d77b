"""Fixtures of the crash tests: the demo office with an indicator, the environment the server processes get."""
import os

import pytest
from redis import Redis

from app.admin.seed import seed_reference
from tests.integration.office import Office
from tests.integration.test_budget_api import BudgetBook
from tests.reliability.payments import INDICATOR

BANK_SECRET = "crash-test-bank-secret"


@pytest.fixture
def redis_url():
    url = os.environ["REDIS_URL"]
    Redis.from_url(url).flushdb()
    yield url
    Redis.from_url(url).flushdb()


@pytest.fixture
def app(make_app, redis_url):
    """The test's own app (setup, sweeps, reading the books) wired as production: rq jobs, the simulated bank."""
    app = make_app(JOBS_MODE="rq", REDIS_URL=redis_url, BANK_ADAPTER="simulated", BANK_RETURN_SHARE=0.3,
                   BANK_CALLBACK_SECRET=BANK_SECRET)
    with app.app_context():
        yield app


@pytest.fixture
def env(database_url, redis_url):
    """The environment of every server process: the test database and Redis, rq jobs, the simulated bank."""
    return {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "JOBS_MODE": "rq",
            "SECRET_KEY": "crash-test-secret", "BANK_ADAPTER": "simulated", "BANK_RETURN_SHARE": "0.3",
            "BANK_CALLBACK_SECRET": BANK_SECRET, "NOTIFY_CHANNELS": "log", "PASSWORD_HASH_PROFILE": "CHEAPEST",
            "SWEEP_THREAD": "0"}


@pytest.fixture
def office(demo, as_user, db_session, client):
    """示范镇 with its code tables, a 1,000,000 元 indicator of 农业农村办, and tiers high enough that every
    payment here goes the T0 way (unit head, finance office, deputy, treasury)."""
    seed_reference(demo)
    book = BudgetBook(db_session)
    project = book.project("SFZ-NYB", "P2026NYB99", "灌溉渠道维修")
    book.indicator(project, INDICATOR, "1000000.00")
    book.commit()
    resp = as_user("admin").put("/api/v1/townships/SFZ/settings",
                                json={"tiers": {"t1": "100000", "t2": "200000", "t3": "300000"}})
    assert resp.status_code == 200, resp.get_json()
    return Office(as_user, db_session, client)
