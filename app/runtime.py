"""Per-app objects the entry points share (engine, spec catalog, operators), and `deps()` to use them."""
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from app import clock
from app.approvals.deps import Deps
from app.approvals.hooks import Hooks
from app.engine import Engine
from app.extensions import db
from app.processes.definitions import DefinitionCatalog
from app.processes.operators import OperatorRegistry


@dataclass
class Runtime:
    engine: Engine
    catalog: DefinitionCatalog
    operators: OperatorRegistry
    hooks: Hooks


def runtime() -> Runtime:
    return current_app.extensions["township_runtime"]


def deps(now: datetime | None = None) -> Deps:
    """Dependencies for one use case, with the clock read once for the whole action."""
    rt = runtime()
    return Deps(db.session, rt.engine, rt.catalog, rt.operators, now or clock.now(), rt.hooks)
