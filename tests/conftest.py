"""Fixtures: one database built by running the migrations, emptied after every test.

DATABASE_URL points the suite at PostgreSQL (CI does); without it a SQLite file in a temp dir is used.
REDIS_URL is used by the tests marked `redis`. Password hashing uses argon2's cheapest profile here.
"""
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, text

from app import create_app
from app.config import ROOT
from app.db import Base

REPO = Path(__file__).resolve().parent.parent
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))


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


def _empty_tables(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(t.name for t in Base.metadata.sorted_tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(table.delete())


@pytest.fixture
def make_app(database_url):
    """Build an app on the test database with extra config; every app built is emptied afterwards."""
    built = []

    def build(**overrides):
        app = create_app(test_config(database_url, **overrides))
        app.extensions["test_overrides"] = overrides
        built.append(app)
        return app

    yield build
    for app in built:
        _empty_tables(app)
        from app.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()


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


@pytest.fixture
def demo(app, deps):
    """The seeded demo township with bpmn/ deployed, no requests yet."""
    from app.admin.seed import seed_people
    from app.approvals.deploy import deploy_processes
    from app.engine import BpmnSource

    d = deps()
    seed_people(d, app.config["PASSWORD_HASH_PROFILE"])
    sources = [BpmnSource(p.name, p.read_bytes()) for p in sorted((ROOT / "bpmn").glob("*.bpmn"))]
    deploy_processes(d, sources, forms_dir=ROOT / "forms")
    return d


CLAIM = {"title": "购买办公用品", "amount": "1200.00", "expense_type": "办公费", "payee": "镇供销社"}


@pytest.fixture
def claim_data():
    """Application data for a demo expense claim (amount as a decimal string, as JSON clients send it)."""
    from decimal import Decimal

    return {**CLAIM, "amount": Decimal(CLAIM["amount"])}
