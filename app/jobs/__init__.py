"""Background jobs: functions named by dotted path that take ids and open their own transaction.

Jobs are only ever handed over after the transaction that asked for them commits (`after_commit`):
a job never runs for work that was rolled back, nor before its rows exist. Where they run:
- "rq": with REDIS_URL, on rq workers (`flask jobs worker`, or plain `rq worker township`): each job is
  `run_job(path, *args)`, which gives the function an app (built once per worker from the environment);
- "thread": without Redis (`make run`), on one worker thread inside the web process;
- "inline": in tests, right after the commit, in the committing thread.
"""
import importlib
import logging
import queue
import threading
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
PENDING = "township_jobs_pending"


def resolve(path: str) -> Callable:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class InlineQueue:
    def __init__(self, app):
        self.app = app

    def enqueue(self, path: str, *args) -> None:
        with self.app.app_context():
            resolve(path)(*args)


class ThreadQueue:
    """One daemon thread running jobs in order, each in a fresh app context (and so its own session)."""

    def __init__(self, app):
        self.app = app
        self._jobs: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="township-jobs", daemon=True)
        self._thread.start()

    def enqueue(self, path: str, *args) -> None:
        self._jobs.put((path, args))

    def _work(self) -> None:
        while True:
            path, args = self._jobs.get()
            try:
                with self.app.app_context():
                    resolve(path)(*args)
            except Exception:  # noqa: BLE001 - logged with its traceback; the next job still runs
                log.exception("job %s%r failed", path, args)
            finally:
                self._jobs.task_done()

    def join(self) -> None:
        self._jobs.join()


class RqQueue:
    def __init__(self, redis_url: str, name: str = "township"):
        from redis import Redis
        from rq import Queue

        self.queue = Queue(name, connection=Redis.from_url(redis_url))

    def enqueue(self, path: str, *args) -> None:
        # rq retries a failed job later; the job itself is idempotent (it re-reads state by id).
        from rq import Retry

        self.queue.enqueue(run_job, path, *args, retry=Retry(max=3, interval=[10, 60, 300]))


_worker_app = None


def run_job(path: str, *args) -> None:
    """An rq job: run `path(*args)` inside an app context (the worker's own app, made once)."""
    global _worker_app
    from flask import current_app, has_app_context

    if has_app_context():  # `flask jobs worker`: the command's app; a fresh context, so a fresh session
        app = current_app._get_current_object()
    else:  # a plain `rq worker`: build the app from the environment, once
        if _worker_app is None:
            from app import create_app

            _worker_app = create_app()
        app = _worker_app
    with app.app_context():
        resolve(path)(*args)


def make_queue(app):
    mode = app.config.get("JOBS_MODE") or ("rq" if app.config.get("REDIS_URL") else "thread")
    if mode == "rq":
        return RqQueue(app.config["REDIS_URL"])
    if mode == "inline":
        return InlineQueue(app)
    return ThreadQueue(app)


def after_commit(session: Session, path: str, *args) -> None:
    """Enqueue `path(*args)` once the session's current transaction commits; forget it on rollback."""
    session.info.setdefault(PENDING, []).append((path, args))


def queue_for(app):
    """The app's queue, made on first use (a CLI command that enqueues nothing starts no thread)."""
    with _lock:
        if app.extensions.get(EXTENSION) is None:
            app.extensions[EXTENSION] = make_queue(app)
    return app.extensions[EXTENSION]


EXTENSION = "township_jobs"
_lock = threading.Lock()


@event.listens_for(Session, "after_commit")
def _send_after_commit(session):
    if session.get_nested_transaction() is not None:
        return  # a savepoint released (SQLAlchemy calls after_commit for those too): the work is not final yet
    pending = session.info.pop(PENDING, [])
    if pending:
        from flask import current_app

        jobs = queue_for(current_app._get_current_object())
        for path, args in pending:
            try:
                jobs.enqueue(path, *args)
            except Exception:  # noqa: BLE001 - the commit stands; what matters is retried from the database
                log.exception("job %s%r could not be queued (Redis down?)", path, args)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session, previous_transaction):
    if previous_transaction.parent is None:  # the outer transaction, not a savepoint
        session.info.pop(PENDING, None)
