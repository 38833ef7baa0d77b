"""Crash safety: the web process and the rq worker SIGKILLed mid-work, again and again, lose and double nothing.

Real processes (gunicorn serving app:create_app(), the rq worker of `flask jobs worker`), real signals,
PostgreSQL and Redis; the clock is the only thing faked, to let a sweep's lease run out. After the
kills, everything restarts and finishes what is left (a client retrying what it did not see succeed,
the sweep, a worker), and then: every request exactly once, every task open or done and never both,
each payment reserved once and posted or released once, one voucher per paid payment, the indicator's
balances adding up, the trial balance balanced, and each instance's engine state agreeing with its
inbox rows.
"""
import os
import random
import threading
import time
from collections import Counter
from datetime import timedelta
from statistics import median

import pytest
import time_machine
from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from app import clock
from app.deadlines.sweep import LEASE, schedule_once
from app.models import EventType, InstanceEvent, Org, Payment, PaymentStatus, ProcessInstance
from tests.integration.office import payment_data
from tests.reliability import books
from tests.reliability.clients import Api, Traffic, approve_to_the_bank, start_once
from tests.reliability.conftest import BANK_SECRET
from tests.reliability.payments import INDICATOR, at_the_bank, waiting_for_review
from tests.reliability.processes import Gunicorn, Worker, burst_worker, tail

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
KILLS = 20  # per kind of work hit
USERS = ("nyb_clerk", "nyb_head", "cz_reviewer", "deputy", "guoku")
RNG = random.Random(int(os.environ.get("CRASH_SEED", "20261208")))


def indicator(office):
    return office.indicator(INDICATOR)


def assert_books(office, deps, *, expect_payments: int):
    session = office.session
    session.expire_all()
    township = session.scalar(select(Org).where(Org.code == "SFZ"))
    problems = (books.payment_problems(session) + books.indicator_problems(session, indicator(office))
                + books.trial_balance_problems(session, township.id, 2026))
    assert problems == []
    titles = session.scalars(select(ProcessInstance.title).where(ProcessInstance.process_id == "payment")).all()
    assert len(titles) == len(set(titles)) == expect_payments  # every request started once, none twice
    assert books.engine_disagreements(deps()) == {}


# --- the web process -------------------------------------------------------------------------------------------

def kill_when(traffic: Traffic, kind: str, server: Gunicorn, kills: int, *, alive) -> str | None:
    """Wait for a request of `kind` to be some way into the server, then SIGKILL its workers; once in a drive the
    master goes down with them and gunicorn starts again from nothing."""
    delay = RNG.uniform(0.05, 0.8) * traffic.typical(kind)
    while alive():
        if traffic.aimed(kind, delay):
            if kills == KILLS // 2:
                server.kill_all()
                server.start()
            else:
                old = server.kill_workers()
                server.wait_ready(gone=old)
            return kind
        time.sleep(0.001)
    return None


def drive(traffic: Traffic, server: Gunicorn, kind: str, work, threads: int) -> int:
    """Run `work(i)` for every i on `threads` client threads while killing the server mid-`kind` KILLS times."""
    errors, kills = [], 0
    queue = list(range(len(work)))
    lock = threading.Lock()

    def client():
        while True:
            with lock:
                if not queue:
                    return
                i = queue.pop(0)
            try:
                work[i]()
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)
                return

    pool = [threading.Thread(target=client, name=f"client-{n}") for n in range(threads)]
    for t in pool:
        t.start()

    def alive():
        return any(t.is_alive() for t in pool)

    began = time.monotonic()
    while kills < KILLS and alive():
        if kill_when(traffic, kind, server, kills, alive=alive):
            kills += 1
    print(f"{kind}: {kills} kills in {time.monotonic() - began:.1f}s")
    for t in pool:
        t.join(timeout=120)
    assert not errors, errors
    return kills


def test_the_web_process_killed_mid_completion_and_mid_posting_loses_and_doubles_nothing(
        office, deps, env, tmp_path, as_user):
    tokens = {u: as_user(u).token for u in USERS}
    server = Gunicorn(env, tmp_path / "gunicorn.log").start()
    traffic = Traffic()
    api = Api(server.port, traffic, tokens, BANK_SECRET)
    # Enough work that KILLS kills land mid-request even on a loaded machine (16 ran out at 13 under CI's two
    # workers); the loop stops killing at KILLS and the clients finish the rest.
    payments = [payment_data(INDICATOR, "100.00", title=f"灌溉渠道维修材料款（第{n}笔）") for n in range(32)]
    refs: dict[int, str] = {}

    def through(n):
        return lambda: refs.__setitem__(n, approve_to_the_bank(api, "nyb_clerk", start_once(api, "nyb_clerk",
                                                                                          payments[n])))
    began = time.monotonic()
    try:
        completion_kills = drive(traffic, server, "complete", [through(n) for n in range(len(payments))], threads=3)
        assert len(refs) == len(payments)
        answers = {}

        def settle(n):
            def answer():
                answers[n] = api.bank_says(refs[n], "returned" if n % 4 == 0 else "paid")
                if n % 2 == 1:  # 退票: the money comes back after it was paid
                    answers[-n] = api.bank_says(refs[n], "returned")
            return answer
        posting_kills = drive(traffic, server, "posting", [settle(n) for n in range(len(payments))], threads=2)
        print(f"web kills took {time.monotonic() - began:.1f}s; typical", {k: round(traffic.typical(k), 3)
                                                                          for k in traffic.took}, "lost", traffic.lost)
    except BaseException:
        print(tail(server.log, 80))
        raise
    finally:
        server.kill_all()
    assert traffic.server_errors == []
    assert (completion_kills, posting_kills) == (KILLS, KILLS), traffic.lost
    assert set(answers.values()) <= {200, 409}

    office.session.expire_all()
    statuses = office.session.scalars(select(Payment.status)).all()
    assert sorted(statuses) == sorted([PaymentStatus.RETURNED if n % 4 != 2 else PaymentStatus.PAID
                                       for n in range(len(payments))])
    assert_books(office, deps, expect_payments=len(payments))


# --- the rq worker ------------------------------------------------------------------------------------------

FIRE, ANSWER = "app.deadlines.sweep.fire_job", "app.bank.simulated.answer_batch"


class Jobs:
    """What the worker is running now, read from Redis (rq's registry and the worker's own record)."""

    def __init__(self, url: str):
        self.conn = Redis.from_url(url)
        self.queue = Queue("township", connection=self.conn)
        self.pids: dict[str, int] = {}
        self.abandoned: set[str] = set()

    def running(self, pid: int) -> Job | None:
        for job_id in StartedJobRegistry(queue=self.queue).get_job_ids(cleanup=False):
            if job_id in self.abandoned:
                continue
            try:
                job = Job.fetch(job_id, connection=self.conn)
            except NoSuchJobError:
                continue
            if job.get_status() == JobStatus.STARTED and self._pid(job.worker_name) == pid:
                return job
        return None

    def _pid(self, name: str | None) -> int | None:
        if name and name not in self.pids and (raw := self.conn.hget(f"rq:worker:{name}", "pid")):
            self.pids[name] = int(raw)
        return self.pids.get(name)


def kill_mid_jobs(jobs: Jobs, worker: Worker, catch_up, budget: float) -> Counter:
    """SIGKILL the worker a moment into a timer firing or a bank answer until each was hit KILLS times.

    A kill counts when the job was still running as the worker died. When the queue runs dry, `catch_up`
    is the sweep coming round again once the leases of what the killed workers held ran out.
    """
    kills, idle, dry, deadline = Counter(), 0, 0, time.monotonic() + budget
    took = {FIRE: [0.1], ANSWER: [0.1]}  # how long the jobs that outran a kill took
    while min(kills[FIRE], kills[ANSWER]) < KILLS and time.monotonic() < deadline:
        job = jobs.running(worker.pid)
        if job is None:
            idle = idle + 1 if jobs.queue.count == 0 else 0
            if idle > 20:
                catch_up()
                dry = dry + 1 if jobs.queue.count == 0 else 0
                if dry >= 3:
                    break  # the sweep found nothing more to do: whatever was not finished is stuck
                idle = 0
            time.sleep(0.002)
            continue
        dry = 0
        path = job.args[0]
        if path not in (FIRE, ANSWER) or kills[path] >= KILLS:
            time.sleep(0.002)
            continue
        time.sleep(RNG.uniform(0.05, 0.7) * median(took[path]))
        worker.kill()
        if job.get_status(refresh=True) == JobStatus.STARTED:
            kills[path] += 1
            jobs.abandoned.add(job.id)
        elif job.ended_at and job.started_at:  # done before the kill landed: aim earlier next time
            took[path].append((job.ended_at - job.started_at).total_seconds())
    return kills


def escalations(session, instance_ids) -> dict[int, int]:
    session.expire_all()
    rows = session.execute(select(InstanceEvent.instance_id, func.count()).where(
        InstanceEvent.instance_id.in_(instance_ids), InstanceEvent.type == EventType.TASK_ESCALATED)
        .group_by(InstanceEvent.instance_id)).all()
    return {i: dict(rows).get(i, 0) for i in instance_ids}


def test_the_rq_worker_killed_mid_sweep_and_mid_bank_answer_loses_and_doubles_nothing(
        office, deps, app, env, redis_url, tmp_path):
    t0 = time.monotonic()
    reviews = waiting_for_review(office, 5)
    banked = at_the_bank(office, 10)
    print(f"set up in {time.monotonic() - t0:.1f}s")
    office.session.expire_all()
    assert {p.status for p in office.session.scalars(select(Payment).where(Payment.instance_id.in_(banked)))} \
        == {PaymentStatus.SUBMITTED}
    passes = iter(range(1, 1000))

    def sweep():
        """The scheduler's pass (`flask timers scheduler`), a lease later each time: claims, hands to the workers."""
        with time_machine.travel(clock.now() + next(passes) * (LEASE + timedelta(seconds=1)), tick=False):
            schedule_once(app, clock.now())

    schedule_once(app, clock.now())  # what is due now: every review's timers
    jobs, worker = Jobs(redis_url), Worker(env, tmp_path / "worker.log").start()
    began = time.monotonic()
    try:
        kills = kill_mid_jobs(jobs, worker, sweep, budget=60)
    finally:
        worker.kill_all()
    print(f"worker kills took {time.monotonic() - began:.1f}s: {dict(kills)}")
    office.session.expire_all()
    waiting = office.session.scalars(select(Payment.bank_ref).where(Payment.status == PaymentStatus.SUBMITTED)).all()
    assert (kills[FIRE], kills[ANSWER]) == (KILLS, KILLS), f"ran out of work; still at the bank: {waiting}"

    for _ in range(3):  # restarted: the sweep comes round, a worker runs what it hands over
        sweep()
        burst_worker(env, tmp_path / "worker.log")
    print(f"recovered in {time.monotonic() - t0:.1f}s")
    assert escalations(office.session, reviews) == {i: 1 for i in reviews}  # escalated once each, none lost
    due = office.session.scalars(select(ProcessInstance.id).where(ProcessInstance.id.in_(reviews),
                                                                 ProcessInstance.next_timer_at <= clock.now())).all()
    assert due == []  # no timer left behind
    assert_books(office, deps, expect_payments=len(reviews) + len(banked))
