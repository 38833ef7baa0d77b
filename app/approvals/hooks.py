"""Extension points: what other parts of the system must do when a request ends badly or is rewound.

The budget domain plugs in here: a request that is rejected or withdrawn releases what it reserved
in the indicator ledger, and a return or a taken-back approval voids what the undone steps posted.
Hooks run inside the transaction of the action that caused them; raising fails that action.
"""
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from app.models import ProcessInstance

Closed = Callable[[Session, ProcessInstance, str, datetime], None]
Rewound = Callable[[Session, ProcessInstance, list[str], datetime], None]


class Hooks:
    def __init__(self):
        self._closed: list[Closed] = []
        self._rewound: list[Rewound] = []

    def on_closed(self, fn: Closed) -> Closed:
        """Register fn(session, instance, status, now) for a request ending rejected, withdrawn or cancelled."""
        self._closed.append(fn)
        return fn

    def on_rewound(self, fn: Rewound) -> Rewound:
        """Register fn(session, instance, removed_engine_task_ids, now) for a return or a taken-back approval."""
        self._rewound.append(fn)
        return fn

    def closed(self, session: Session, instance: ProcessInstance, status: str, now: datetime) -> None:
        for fn in self._closed:
            fn(session, instance, status, now)

    def rewound(self, session: Session, instance: ProcessInstance, removed: list[str], now: datetime) -> None:
        for fn in self._rewound:
            fn(session, instance, removed, now)
