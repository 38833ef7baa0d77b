"""What the engine raises. Each error carries enough to point a process owner at the element."""
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class BpmnProblem:
    """One problem in one BPMN file, located as precisely as the source allows.

    `message` is Chinese; `detail` keeps what a library or the XML schema said in its own words.
    """

    message: str
    file: str | None = None
    element_id: str | None = None
    element_name: str | None = None
    line: int | None = None
    detail: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}

    def __str__(self) -> str:
        where = ":".join(str(x) for x in (self.file, self.line) if x)
        element = f" [{self.element_id}{' ' + self.element_name if self.element_name else ''}]"
        detail = f"（原文：{self.detail}）" if self.detail else ""
        return f"{where}{element if self.element_id else ''}: {self.message}{detail}"


class InvalidBpmn(Exception):
    """The file cannot be deployed; `problems` lists every finding, not only the first."""

    def __init__(self, problems: list[BpmnProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class BpmnTooLarge(InvalidBpmn):
    """The upload is over the size cap (HTTP 413)."""


class ScriptRejected(Exception):
    """An expression or script uses something the sandbox forbids, or exceeds its work budget."""


class ServiceError(Exception):
    """Raised by a service operator for a business failure a BPMN boundary error event may catch.

    `code` matches the errorCode of a <bpmn:error>; uncaught, the step fails and nothing is saved.
    `details` names the fields of the request at fault ({field: [messages]}), for the API's answer.
    """

    def __init__(self, code: str, message: str, details: dict[str, list[str]] | None = None):
        self.code = code
        self.message = message
        self.details = details or {}
        super().__init__(f"{code}: {message}")


class EngineError(Exception):
    """Running the process failed (a script error, an uncaught service error, a broken state)."""

    def __init__(self, message: str, *, element_id: str | None = None, code: str | None = None,
                 details: dict[str, list[str]] | None = None):
        self.element_id = element_id
        self.code = code
        self.details = details or {}
        super().__init__(message)
