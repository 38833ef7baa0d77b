"""A simulated-bank answer whose job was lost is asked for again by the sweep once it is overdue, and settles once.

The job can be lost by a worker killed mid-answer, a web process killed between its commit and the hand-over
to Redis, or Redis flushed; the database still says the payment waits at the bank (在途).
"""
from datetime import timedelta

import pytest
import time_machine
from redis import Redis
from rq import Queue, SimpleWorker

from app import clock
from app.bank.simulated import ANSWER_AFTER
from app.deadlines.sweep import run_pass, schedule_once
from app.models import PaymentStatus
from tests.reliability import books
from tests.reliability.payments import at_the_bank

pytestmark = pytest.mark.redis
SETTLED = (PaymentStatus.PAID, PaymentStatus.RETURNED)


def later(delta: timedelta):
    return time_machine.travel(clock.now() + delta, tick=False)


def lose_the_answer(redis_url: str) -> None:
    Redis.from_url(redis_url).flushdb()


def test_the_sweep_answers_a_payment_whose_answer_was_lost_once_it_is_overdue(office, app, redis_url):
    [iid] = at_the_bank(office, 1)
    lose_the_answer(redis_url)
    with later(ANSWER_AFTER - timedelta(seconds=30)):
        run_pass(app)
    assert office.payment(iid).status == PaymentStatus.SUBMITTED  # not overdue: the bank may still answer

    with later(ANSWER_AFTER + timedelta(seconds=1)):
        run_pass(app)
    answered = office.payment(iid).status
    assert answered in SETTLED
    with later(3 * ANSWER_AFTER):
        run_pass(app)  # nothing waits any more: nothing moves twice
    assert office.payment(iid).status == answered
    assert books.payment_problems(office.session) == []


def test_with_redis_the_scheduler_hands_a_lost_answer_to_the_workers(office, app, redis_url):
    [iid] = at_the_bank(office, 1)
    lose_the_answer(redis_url)
    with later(ANSWER_AFTER + timedelta(seconds=1)):
        schedule_once(app, clock.now())
    connection = Redis.from_url(redis_url)
    queue = Queue("township", connection=connection)
    batch = office.payment(iid).batch_id
    assert [job.args for job in queue.jobs] == [("app.bank.simulated.answer_batch", batch, 0.3)]

    SimpleWorker([queue], connection=connection).work(burst=True)
    assert office.payment(iid).status in SETTLED
    assert books.payment_problems(office.session) == []


def test_a_real_bank_is_never_asked_again_it_calls_back_by_itself(office, app, redis_url):
    [iid] = at_the_bank(office, 1)
    lose_the_answer(redis_url)
    app.config["BANK_ADAPTER"] = "file"  # the treasury uploads the batch; the bank answers through the callback
    with later(ANSWER_AFTER + timedelta(seconds=1)):
        schedule_once(app, clock.now())
        run_pass(app)
    assert Queue("township", connection=Redis.from_url(redis_url)).count == 0
    assert office.payment(iid).status == PaymentStatus.SUBMITTED
