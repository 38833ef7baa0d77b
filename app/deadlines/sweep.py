"""The deadline sweep: find requests whose engine timers are due, and fire each in its own transaction.

The database is the source of truth. Every step writes `process_instance.next_timer_at` (the earliest
waiting timer); a sweep claims due rows with a conditional UPDATE that sets a lease
(`timer_claimed_until`), so two sweeps never take the same row, then fires each one through the engine
(`fire_due_timers`: lock the instance, let the engine run what is due, save). Firing is idempotent: the
engine decides what is due, so a row fired twice, or one whose task was just completed (its timers
went with it), changes nothing the second time. A claim that is never fired (a sweep that died, a job
Redis lost) simply expires and the row is claimed again.

Where it runs: without Redis, a thread inside the web process (`SWEEP_THREAD=1`, as `make run` sets);
with it, `flask timers scheduler` claims and enqueues one rq job per request for the workers
(`flask jobs worker`); `flask timers sweep` runs one pass by hand.
"""
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.approvals.deps import Deps
from app.approvals.timers import fire_due_timers
from app.models import InstanceStatus, ProcessInstance

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
BATCH = 500


@dataclass
class SweepResult:
    claimed: int = 0
    fired: int = 0
    failed: list[int] = field(default_factory=list)
    outbox_sent: int = 0


def _due(now: datetime):
    return (ProcessInstance.status == InstanceStatus.RUNNING, ProcessInstance.next_timer_at <= now,
            or_(ProcessInstance.timer_claimed_until.is_(None), ProcessInstance.timer_claimed_until < now))


def claim_due(session: Session, now: datetime, *, limit: int = BATCH, lease: timedelta = LEASE) -> list[int]:
    """Claim up to `limit` requests with a due timer, earliest first; commit; return their ids.

    PostgreSQL: one UPDATE over a SKIP LOCKED selection (rows a person is acting on right now are left
    for the next pass). SQLite has one writer at a time; each row's conditional UPDATE says who won it.
    """
    until = now + lease
    if session.get_bind().dialect.name == "postgresql":
        chosen = (select(ProcessInstance.id).where(*_due(now)).order_by(ProcessInstance.next_timer_at)
                  .limit(limit).with_for_update(skip_locked=True).scalar_subquery())
        ids = list(session.scalars(update(ProcessInstance).where(ProcessInstance.id.in_(chosen))
                                   .values(timer_claimed_until=until).returning(ProcessInstance.id)
                                   .execution_options(synchronize_session=False)))
    else:
        candidates = session.scalars(select(ProcessInstance.id).where(*_due(now))
                                     .order_by(ProcessInstance.next_timer_at).limit(limit)).all()
        ids = [i for i in candidates if session.execute(
            update(ProcessInstance).where(ProcessInstance.id == i, *_due(now)).values(timer_claimed_until=until)
            .execution_options(synchronize_session=False)).rowcount == 1]
    session.commit()
    return ids


def fire(deps: Deps, instance_id: int) -> bool:
    """Fire one claimed request's due timers in their own transaction; False (logged) when it failed.

    On failure the claim stays until its lease runs out, and a later sweep tries again.
    """
    try:
        fire_due_timers(deps, instance_id)
        return True
    except Exception:  # noqa: BLE001 - one broken request must not stop the sweep; the lease retries it
        log.exception("timers of request %s did not fire; retried after the lease", instance_id)
        deps.session.rollback()
        return False


def sweep_once(make_deps: Callable[[], Deps], now: datetime, *, limit: int = BATCH,
               deliver: Callable[[Session, datetime], int] | None = None) -> SweepResult:
    """One pass: claim what is due, fire each, then send what the outbox has waiting (if given)."""
    result = SweepResult()
    deps = make_deps()
    ids = claim_due(deps.session, now, limit=limit)
    result.claimed = len(ids)
    for instance_id in ids:
        if fire(make_deps(), instance_id):
            result.fired += 1
        else:
            result.failed.append(instance_id)
    if deliver is not None:
        result.outbox_sent = deliver(make_deps().session, now)
    return result


def lost_bank_answers(app, session: Session, now: datetime) -> list[tuple[int, float]]:
    """(batch, return share) for each simulated-bank batch whose answer job was lost; none for a real bank,
    which answers through its callback (and calls again if we did not take it)."""
    if app.config.get("BANK_ADAPTER", "simulated") != "simulated":
        return []
    from app.bank.simulated import unanswered_batches

    share = float(app.config.get("BANK_RETURN_SHARE", 0.1))
    return [(batch_id, share) for batch_id in unanswered_batches(session, now)]


class SweepThread:
    """The sweep inside the web process (no Redis): a daemon thread running a pass every `interval`."""

    def __init__(self, app, interval: float):
        self.app, self.interval = app, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="township-sweep", daemon=True)

    def start(self) -> "SweepThread":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.app.app_context():
                    run_pass(self.app)
            except Exception:  # noqa: BLE001 - the thread must outlive a bad pass (the database restarting…)
                log.exception("deadline sweep pass failed")


def run_pass(app) -> SweepResult:
    """A pass with the app's own wiring: fire in this process, then deliver the outbox."""
    from app import clock
    from app.bank.simulated import answer_batch
    from app.runtime import deps

    now = clock.now()
    result = sweep_once(deps, now, deliver=outbox_deliverer(app))
    for batch_id, share in lost_bank_answers(app, deps().session, now):
        try:
            answer_batch(batch_id, share)
        except Exception:  # noqa: BLE001 - asked again on the next pass
            log.exception("the simulated bank could not answer batch %s; asked again on the next pass", batch_id)
            deps().session.rollback()
    return result


def outbox_deliverer(app) -> Callable[[Session, datetime], int] | None:
    """The outbox's retry pass, when the outbox is installed (app/outbox)."""
    try:
        from app.outbox.delivery import deliver_due
        from app.outbox.senders import make_senders
    except ImportError:
        return None
    senders = make_senders(app.config)
    return lambda session, now: deliver_due(session, now, senders)


def fire_job(instance_id: int) -> None:
    """The rq job: fire one claimed request (app.jobs.run_job gives it the app)."""
    from app.runtime import deps

    if not fire(deps(), instance_id):
        raise RuntimeError(f"timers of request {instance_id} did not fire")  # rq records it; the lease retries


def schedule_once(app, now: datetime, *, limit: int = BATCH) -> SweepResult:
    """With Redis: claim what is due and hand each request to the rq workers, and each simulated-bank batch whose
    answer job was lost; then retry the outbox.

    If Redis is unreachable the claims simply expire and a later pass claims the rows again: nothing is
    lost, because nothing but the database says what is due.
    """
    from app.jobs import queue_for
    from app.runtime import deps

    result = SweepResult()
    ids = claim_due(deps().session, now, limit=limit)
    result.claimed = len(ids)
    queue = queue_for(app)
    for instance_id in ids:
        try:
            queue.enqueue("app.deadlines.sweep.fire_job", instance_id)
            result.fired += 1
        except Exception:  # noqa: BLE001 - Redis down: the claim's lease brings the row back later
            log.warning("could not hand request %s to the workers; it is retried after the lease", instance_id)
            result.failed.append(instance_id)
    for batch_id, share in lost_bank_answers(app, deps().session, now):
        try:
            queue.enqueue("app.bank.simulated.answer_batch", batch_id, share)
        except Exception:  # noqa: BLE001 - Redis down: the batch is still unanswered on the next pass
            log.warning("could not hand the bank's answer for batch %s to the workers", batch_id)
    deliver = outbox_deliverer(app)
    if deliver is not None:
        result.outbox_sent = deliver(deps().session, now)
    return result
