"""乡镇预算一体化审批: township budget approvals on BPMN.

create_app() is the only place that wires things together; importing any module connects to nothing.
"""
from decimal import Decimal

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import event

from app.config import ROOT, config_from_env


class JSONProvider(DefaultJSONProvider):
    """JSON in: numbers with a fraction become Decimal (money never passes through float)."""

    ensure_ascii = False

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_float", Decimal)
        return super().loads(s, **kwargs)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_app(config: dict | None = None) -> Flask:
    from app import api, cli, headers, inputs, jobs, web  # noqa: F401 - jobs registers its session hooks on import
    from app.api import errors as api_errors  # noqa: F401 - imported for its handlers
    from app.approvals.hooks import Hooks
    from app.bank import make_bank
    from app.budget.operators import budget_operators, register_hooks
    from app.deadlines.calendar import WorkCalendar
    from app.engine import Engine
    from app.extensions import csrf, db, end_session, migrate
    from app.models.types import render_for_migration
    from app.outbox.writing import configure as configure_outbox
    from app.processes.definitions import DefinitionCatalog
    from app.processes.operators import OperatorRegistry, default_operators
    from app.runtime import Runtime

    # No app-level static folder: the pages' blueprint serves /static from app/web/static.
    app = Flask(__name__, instance_path=str(ROOT / "instance"), static_folder=None)
    app.config.update(config_from_env())
    app.config.update(config or {})
    app.json = JSONProvider(app)
    inputs.init_app(app)  # before any route is added: it bounds path ids and checks request text
    headers.init_app(app)
    from app.auth.request import install_proxy_fix

    install_proxy_fix(app)  # PROXY_FIX_X_FOR: the client's address behind reverse proxies

    db.init_app(app)
    # Runs before Flask-SQLAlchemy's own teardown (teardowns run last-registered first).
    app.teardown_appcontext(lambda exc: end_session(failed=exc is not None))
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True,
                     render_item=render_for_migration)
    csrf.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
        configure_outbox(db.engine, app.config)  # channels and public address for notices sent outside the app

    operators = OperatorRegistry({**default_operators(), **budget_operators(make_bank(app.config)),
                                  **app.config["EXTRA_OPERATORS"]})
    hooks = Hooks()
    register_hooks(hooks)
    app.extensions["township_runtime"] = Runtime(
        engine=Engine(operators, calendar=WorkCalendar({})),  # national calendar where no township is known
        catalog=DefinitionCatalog(app.config["SPEC_CACHE_SIZE"]), operators=operators,
        hooks=hooks,
    )
    app.extensions.setdefault("township_jobs", None)  # made on first use: app.jobs.queue_for
    api.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    if app.config["SWEEP_THREAD"]:
        from app.deadlines.sweep import SweepThread

        app.extensions["township_sweep"] = SweepThread(app, app.config["SWEEP_INTERVAL"]).start()
    return app
