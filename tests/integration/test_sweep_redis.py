"""With Redis the scheduler claims due timers and rq workers fire them; Redis gone for a while loses nothing."""
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

from app.deadlines.sweep import LEASE, schedule_once
from app.jobs import RqQueue
from app.models import EventType, InstanceEvent
from tests.integration.office import payment_data
from tests.integration.test_deadlines import beijing, open_task

pytestmark = pytest.mark.redis
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def march():
    import time_machine

    with time_machine.travel(beijing(9, 30, 9), tick=False) as traveller:
        yield traveller


@pytest.fixture
def app(make_app):
    app = make_app(JOBS_MODE="rq", REDIS_URL=DEAD_REDIS)
    with app.app_context():
        yield app


@pytest.fixture
def live_redis():
    """The real Redis, on the test run's database (one per pytest worker, tests/conftest.py), emptied
    before and after."""
    import os

    url = os.environ["REDIS_URL"]
    connection = Redis.from_url(url)
    connection.flushdb()
    yield url
    connection.flushdb()


def escalations(office, iid) -> int:
    office.session.expire_all()
    return len(office.session.scalars(select(InstanceEvent).where(
        InstanceEvent.instance_id == iid, InstanceEvent.type == EventType.TASK_ESCALATED)).all())


def test_timers_due_while_redis_is_down_fire_once_it_is_back(office, funded, march, app, live_redis):
    _, (code, _) = funded
    iid = office.start("nyb_clerk", "payment", payment_data(code, "800.00"))["id"]
    office.act("nyb_head", iid)
    march.move_to(beijing(10, 13, 18, 0))  # the escalation (and a reminder) are due

    down = schedule_once(app, datetime.now(UTC))
    assert (down.claimed, down.fired, down.failed) == (1, 0, [iid])  # claimed, but no worker could get it
    assert escalations(office, iid) == 0 and open_task(office, iid, "finance_review").escalation_level == 0

    app.extensions["township_jobs"] = RqQueue(live_redis)  # Redis is back
    assert schedule_once(app, datetime.now(UTC)).claimed == 0  # the claim holds until its lease runs out
    march.move_to(beijing(10, 13, 18, 0) + LEASE + timedelta(seconds=1))
    up = schedule_once(app, datetime.now(UTC))
    assert (up.claimed, up.fired, up.failed) == (1, 1, [])
    connection = Redis.from_url(live_redis)
    SimpleWorker([Queue("township", connection=connection)], connection=connection).work(burst=True)
    assert escalations(office, iid) == 1
    assert open_task(office, iid, "finance_review").escalation_level == 1
    assert schedule_once(app, datetime.now(UTC)).claimed == 0  # fired: nothing left due now
