"""What every use case is handed: the session, the engine and catalog, the clock reading.

Entry points (API, pages, CLI, jobs) build one per action; use cases never reach for globals.
"""
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy.orm import Session

from app.approvals.hooks import Hooks
from app.engine import Engine
from app.processes.definitions import DefinitionCatalog
from app.processes.operators import OperatorRegistry


@dataclass
class Deps:
    session: Session
    engine: Engine
    catalog: DefinitionCatalog
    operators: OperatorRegistry
    now: datetime
    hooks: Hooks = field(default_factory=Hooks)


@contextmanager
def transaction(session: Session):
    """Commit when the block finishes, roll back when it raises: one action, one commit."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@dataclass(frozen=True)
class StepContext:
    """Handed through the engine to service operators: they run in the caller's transaction."""

    session: Session
    now: datetime
    instance_id: int
    actor_id: int | None

    @cached_property
    def _calendar(self):
        from app.deadlines.due import instance_calendar

        return instance_calendar(self.session, self.instance_id)

    def work_calendar(self):
        """The request's township calendar, for `workdays(n)` in timer expressions (read once per step)."""
        return self._calendar
