"""Fixtures: one database built by running the migrations, emptied after every test.

DATABASE_URL points the suite at PostgreSQL (CI does); without it a SQLite file in a temp dir is used.
REDIS_URL is used by the tests marked `redis`. Password hashing uses argon2's cheapest profile here.

Speed without weaker tests: each app configuration is built once per worker and handed out again
(its per-app caches and test-set extensions reset between tests); the seeded states (`demo`, `office`,
`funded`) are built once through the real seed code and processes, captured row by row, and restored
into the emptied tables for every later test that asks for them. Tables are emptied with DELETE and
their sequences reset, which on PostgreSQL costs a fraction of a TRUNCATE of every table. Under
pytest-xdist every worker gets its own database (and Redis db), so race tests keep real commits.
"""
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, make_url, select, text

from app import create_app
from app.config import ROOT
from app.db import Base

REPO = Path(__file__).resolve().parent.parent
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", … under pytest -n; None when run alone


def _per_worker_environment() -> None:
    """Point this xdist worker at its own database and Redis db, for the app and any subprocess alike."""
    if WORKER is None:
        return
    index = int(WORKER.removeprefix("gw"))
    if ON_POSTGRES:
        url = make_url(os.environ["DATABASE_URL"])
        os.environ["DATABASE_URL"] = url.set(database=f"{url.database}_{WORKER}").render_as_string(False)
        admin = create_engine(url.set(drivername="postgresql+psycopg", database="postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                               {"n": f"{url.database}_{WORKER}"}):
                conn.execute(text(f'CREATE DATABASE "{url.database}_{WORKER}"'))
        admin.dispose()
    if os.environ.get("REDIS_URL"):
        parts = urlsplit(os.environ["REDIS_URL"])
        db = (int(parts.path.strip("/") or 0) - index) % 16  # 15, 14, …: each worker flushes only its own
        os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{db}"))


_per_worker_environment()


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL")
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(skip_redis)


def _database_url(tmp_path_factory) -> str:
    from app.config import database_url

    if ON_POSTGRES:
        return database_url()
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _fresh_schema(url: str) -> None:
    """Start from nothing, so the migrations alone build the schema."""
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def test_config(url: str, **overrides) -> dict:
    engine_options = {}
    if url.startswith("postgresql"):
        # Tests need no durability; skipping the commit fsync makes the suite several times faster.
        engine_options = {"connect_args": {"options": "-c synchronous_commit=off"}}
    from app.config import json_dumps

    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"json_serializer": json_dumps, "pool_pre_ping": True, **engine_options},
        "PASSWORD_HASH_PROFILE": "CHEAPEST",
        "SECRET_KEY": "test-secret",
        "BPMN_DIR": ROOT / "bpmn",
        "FORMS_DIR": ROOT / "forms",
        "JOBS_MODE": "inline",  # jobs run right after the commit that asked for them, in the test's thread
        "BANK_ADAPTER": "file",  # the bank answers only through the callback API, when a test says so
        "BANK_CALLBACK_SECRET": "test-bank-secret",
        **overrides,
    }


class Tables:
    """Empty, capture and restore every table of the schema through one engine of the test database."""

    def __init__(self, url: str):
        self.engine = create_engine(url, **({"connect_args": {"options": "-c synchronous_commit=off"}}
                                            if url.startswith("postgresql") else {}))
        self.postgres = self.engine.dialect.name == "postgresql"
        self.tables = Base.metadata.sorted_tables
        self._empty_sql = self._delete_all_sql()

    def _delete_all_sql(self) -> str:
        deletes = "; ".join(f'DELETE FROM "{t.name}"' for t in reversed(self.tables))
        if not self.postgres:
            return deletes
        # Foreign keys are not checked while emptying (the replica role skips their triggers), so no order
        # matters; every sequence starts again at 1, as after TRUNCATE … RESTART IDENTITY.
        return ("SET LOCAL session_replication_role = replica; " + deletes +
                "; SELECT setval(c.oid::regclass, 1, false) FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = current_schema()")

    def empty(self) -> None:
        with self.engine.begin() as conn:
            if self.postgres:
                conn.exec_driver_sql(self._empty_sql)
            else:
                for statement in self._empty_sql.split("; "):
                    conn.exec_driver_sql(statement)

    def counts(self) -> tuple[int, ...]:
        """Rows per table, in one round trip: how a seeding step knows the state it starts from."""
        probe = " UNION ALL ".join(f'SELECT {i}, count(*) FROM "{t.name}"' for i, t in enumerate(self.tables))
        with self.engine.connect() as conn:
            return tuple(n for _, n in sorted(conn.exec_driver_sql(probe).all()))

    def capture(self) -> "Snapshot":
        with self.engine.connect() as conn:
            rows = {t.name: [dict(r) for r in conn.execute(select(t)).mappings()] for t in self.tables}
            sequences = []
            if self.postgres:
                sequences = conn.execute(text(
                    "SELECT schemaname || '.' || sequencename, coalesce(last_value, 1), last_value IS NOT NULL"
                    " FROM pg_sequences WHERE schemaname = current_schema()")).all()
        counts = tuple(len(rows[t.name]) for t in self.tables)
        return Snapshot({name: r for name, r in rows.items() if r}, [tuple(s) for s in sequences], counts)

    def restore(self, snapshot: "Snapshot") -> None:
        """Put the snapshot's rows back into emptied tables, sequences where they were."""
        self.empty()
        with self.engine.begin() as conn:
            if self.postgres:
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for table in self.tables:
                if table.name in snapshot.rows:
                    conn.execute(table.insert(), snapshot.rows[table.name])
            for name, value, called in snapshot.sequences:
                conn.execute(text("SELECT setval(CAST(:n AS regclass), :v, :c)"), {"n": name, "v": value, "c": called})


@dataclass(frozen=True)
class Snapshot:
    rows: dict[str, list[dict]]
    sequences: list[tuple]
    counts: tuple[int, ...]
    result: object = None  # what the seeding fixture returned, handed out again on restore
    clock: object = None  # the pinned clock's time when seeding finished, if a clock was pinned


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = _database_url(tmp_path_factory)
    _fresh_schema(url)
    app = create_app(test_config(url))
    with app.app_context():
        alembic_cfg = AlembicConfig(str(REPO / "migrations" / "alembic.ini"))
        alembic_cfg.set_main_option("script_location", str(REPO / "migrations"))
        command.upgrade(alembic_cfg, "head")
        from app.extensions import db

        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def tables(database_url):
    t = Tables(database_url)
    yield t
    t.engine.dispose()


@pytest.fixture(scope="session")
def _snapshots() -> dict[str, Snapshot]:
    return {}


def _clock_key(traveller):
    """Where a pinned clock stands (its destination and whether it ticks): a seeded state is only valid for
    the clock it was made on. time_machine has no public accessor for this; without it, no snapshot."""
    try:
        return traveller._destination_timestamp_ns, traveller._tick
    except AttributeError:
        return None


@pytest.fixture
def seeded(tables, _snapshots):
    """seeded(name, build, after=None, traveller=None) -> build()'s result.

    The first time, `build` runs (it must commit) and the database is captured; later, the capture is
    restored instead. Either only from the state it was built from: empty tables, or those of the
    snapshot named `after` (compared by rows per table), and on the same pinned clock; from anywhere else
    `build` simply runs. With `traveller` (a pinned clock) the clock is then moved to where seeding left it.
    """

    def use(name: str, build, *, after: str | None = None, traveller=None):
        key = (name, after, _clock_key(traveller) if traveller is not None else "wall clock")
        start = _snapshots[after].counts if after in _snapshots else (0,) * len(tables.tables)
        from_start = None not in key and (after is None or after in _snapshots) and tables.counts() == start
        snapshot = _snapshots.get(key)
        if from_start and snapshot is not None:
            tables.restore(snapshot)
            if traveller is not None:
                traveller.move_to(snapshot.clock)
            _snapshots[name] = snapshot
            return snapshot.result
        result = build()
        if from_start:
            from app import clock

            captured = tables.capture()
            _snapshots[key] = _snapshots[name] = Snapshot(
                captured.rows, captured.sequences, captured.counts, result,
                clock.now() if traveller is not None else None)
        else:
            _snapshots.pop(name, None)  # a later step must not take this state for the captured one
        return result

    return use


def _cache_key(overrides: dict):
    """A key for app configurations made of plain values; None (build afresh) for anything else."""
    plain = (str, int, float, bool, type(None), Path, timedelta, Decimal)
    if all(isinstance(v, plain) for v in overrides.values()):
        return tuple(sorted((k, repr(v)) for k, v in overrides.items()))
    return None


class AppPool:
    """Apps built once per configuration and slot (a test asking for two apps of one configuration gets
    two distinct objects, as production gives every process its own)."""

    def __init__(self, url: str):
        self.url = url
        self.apps: dict = {}

    def get(self, key, slot: int, overrides: dict):
        app = self.apps.get((key, slot)) if key is not None else None
        if app is None:
            app = create_app(test_config(self.url, **overrides))
            app.extensions["test_pristine"] = dict(app.extensions)
            if key is not None:
                self.apps[(key, slot)] = app
        return app

    @staticmethod
    def reset(app) -> None:
        """What a test may have left in an app: sessions, cached specs of ids now gone, swapped extensions."""
        from app.extensions import db

        with app.app_context():
            db.session.remove()
        pristine = app.extensions["test_pristine"]
        app.extensions.clear()
        app.extensions.update(pristine, test_pristine=pristine)
        app.extensions["township_runtime"].catalog.clear()

    def close(self) -> None:
        from app.extensions import db

        for app in self.apps.values():
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture(scope="session")
def _app_pool(database_url):
    pool = AppPool(database_url)
    yield pool
    pool.close()


@pytest.fixture
def make_app(_app_pool, tables):
    """Build an app on the test database with extra config; the tables are emptied after the test."""
    slots, used = Counter(), []

    def build(**overrides):
        key = _cache_key(overrides)
        app = _app_pool.get(key, slots[key], overrides)
        slots[key] += 1
        app.extensions["test_overrides"] = overrides
        used.append((app, key is not None))
        return app

    yield build
    for app, pooled in used:
        AppPool.reset(app)
        if not pooled:
            from app.extensions import db

            with app.app_context():
                db.engine.dispose()
    tables.empty()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def db_session(app):
    from app.extensions import db

    return db.session


@pytest.fixture
def client(app, make_app):
    """A test client on its own app object (same database).

    The `app` fixture holds an app context for the whole test so test code can use db_session;
    Flask would reuse that context for test-client requests, sharing `g` and the session between
    requests and users. A second app gives every request its own context, as in production.
    Test code reading the database after a request should call db_session.expire_all().
    """
    return make_app(**app.extensions["test_overrides"]).test_client()


@pytest.fixture(scope="session")
def _files_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("attachments")


@pytest.fixture
def files_dir(_files_root):
    """Where the attachment store writes during a test (never the repository's instance/): one folder for
    the session, so apps configured with it are built once, emptied before every test."""
    shutil.rmtree(_files_root, ignore_errors=True)
    return _files_root


@pytest.fixture
def deps(app):
    from app.runtime import deps as make_deps

    return make_deps


@dataclass
class ApiClient:
    """Speaks to the API as one user, with a bearer token issued directly (no login rate limit)."""

    client: object
    token: str
    user: object

    def _headers(self, headers=None):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, url, **kw):
        return self.client.get(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, url, **kw):
        return self.client.post(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def put(self, url, **kw):
        return self.client.put(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, url, **kw):
        return self.client.delete(url, headers=self._headers(kw.pop("headers", None)), **kw)


@pytest.fixture
def as_user(app, client):
    """as_user("nyb_clerk") -> ApiClient for that user."""
    from sqlalchemy import select

    from app import clock
    from app.auth.tokens import issue_token
    from app.extensions import db
    from app.models import User

    def make(username: str) -> ApiClient:
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None, f"no user {username}"
        token, _ = issue_token(db.session, user, clock.now(), app.config["TOKEN_TTL"])
        return ApiClient(client, token, user)

    return make


def _seed_demo(app, deps) -> None:
    from app.admin.seed import seed_people
    from app.approvals.deploy import deploy_processes
    from app.engine import BpmnSource

    seed_people(deps, app.config["PASSWORD_HASH_PROFILE"])
    sources = [BpmnSource(p.name, p.read_bytes()) for p in sorted((ROOT / "bpmn").glob("*.bpmn"))]
    deploy_processes(deps, sources, forms_dir=ROOT / "forms")


@pytest.fixture
def demo(app, deps, seeded):
    """The seeded demo township with bpmn/ deployed, no requests yet."""
    from app.extensions import db

    seeded("demo", lambda: _seed_demo(app, deps()))
    db.session.expire_all()
    return deps()


CLAIM = {"title": "购买办公用品", "amount": "1200.00", "expense_type": "办公费", "payee": "镇供销社"}


@pytest.fixture
def claim_data():
    """Application data for a demo expense claim (amount as a decimal string, as JSON clients send it)."""
    from decimal import Decimal

    return {**CLAIM, "amount": Decimal(CLAIM["amount"])}
