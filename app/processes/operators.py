"""The registry of service-task operators: BPMN names an operator, Python implements it.

An operator is `fn(call: ServiceCall, **params) -> JSON-able result`. It runs inside the transaction
of the step that reached it, wrapped in a savepoint: when it fails, its own writes are undone and the
failure becomes a BPMN error (caught by a boundary event, or failing the whole step).
"""
from collections.abc import Callable, Iterator, Mapping

from app.db import savepoint
from app.engine import ServiceCall

Operator = Callable[..., object]


class OperatorRegistry(Mapping):
    def __init__(self, operators: Mapping[str, Operator] | None = None):
        self._operators: dict[str, Operator] = {}
        for name, fn in (operators or {}).items():
            self.register(name, fn)

    def register(self, name: str, fn: Operator) -> None:
        if name in self._operators:
            raise ValueError(f"service operator {name!r} registered twice")
        self._operators[name] = _in_savepoint(fn)

    def __getitem__(self, name: str) -> Operator:
        return self._operators[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._operators)

    def __len__(self) -> int:
        return len(self._operators)


def _in_savepoint(fn: Operator) -> Operator:
    def run(call: ServiceCall, **params):
        session = getattr(call.context, "session", None)
        if session is None:
            return fn(call, **params)
        with savepoint(session):
            return fn(call, **params)

    run.__name__ = getattr(fn, "__name__", "operator")
    run.__doc__ = fn.__doc__
    return run


def default_operators() -> dict[str, Operator]:
    """Operators every deployment has. The budget domain (ledger, controls, bank) registers its own."""
    # Imported here: the operators are use-case code (they write history), which imports this module.
    from app.approvals.copies import cc_send
    from app.deadlines.actions import escalate, remind

    return {"cc.send": cc_send, "deadline.remind": remind, "deadline.escalate": escalate}
