"""Plain data the engine hands to the rest of the app. No SpiffWorkflow object leaves app/engine."""
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ReadyTask:
    """A user task waiting for a person."""

    spiff_id: str
    process_id: str  # the process the task belongs to: the main one or a called one
    bpmn_id: str
    name: str
    lane: str | None
    properties: dict = field(default_factory=dict)
    due_at: datetime | None = None  # earliest interrupting boundary timer on it, if any


@dataclass(frozen=True)
class WaitingTimer:
    spiff_id: str
    bpmn_id: str
    due_at: datetime
    interrupting: bool
    attached_to_spiff_id: str | None


@dataclass(frozen=True)
class ServiceCall:
    """What a service operator learns about the call besides its parameters.

    `context` is whatever the caller passed to the engine (the use case's session, clock, instance);
    the engine only carries it. `idempotency_key` is stable for this task in this instance, so a
    retried step posts once.
    """

    context: object
    instance_key: str
    spiff_task_id: str
    bpmn_id: str
    operator: str
    # A copy of the process data where the service task runs: the domain's operators read the request
    # from it (the diagram's parameters are for what a process owner configures, like cc roles).
    data: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def idempotency_key(self) -> str:
        return f"{self.instance_key}:{self.spiff_task_id}"


@dataclass(frozen=True)
class ServiceRecord:
    """One service task run during a step, for the history."""

    bpmn_id: str
    operator: str
    error_code: str | None = None
    message: str | None = None
