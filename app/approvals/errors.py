"""What a use case refuses with. The API maps each to a status; pages show the message."""
from datetime import timedelta


class ApprovalError(Exception):
    def __init__(self, message: str, details: dict[str, list[str]] | None = None):
        self.message = message
        self.details = details or {}
        super().__init__(message)


class NotFound(ApprovalError):
    """Does not exist, or the user may not see it (the two are not told apart)."""


class Forbidden(ApprovalError):
    """The user may see it but may not do this."""


class Conflict(ApprovalError):
    """The state moved on: already done, claimed by someone else, instance finished, a race lost."""


class StepFailed(ApprovalError):
    """The engine could not carry the step through (a script error, a service failure nothing catches).

    Nothing was saved; `details["element"]` names the BPMN element for the process owner.
    """

    @classmethod
    def from_engine(cls, exc) -> "StepFailed":
        details = dict(getattr(exc, "details", None) or {})
        if exc.element_id:
            details["element"] = [exc.element_id]
        if exc.code:
            details["error_code"] = [exc.code]
        return cls(f"流程无法继续：{exc}", details)


class InvalidInput(ApprovalError):
    """The request itself is wrong; `details` names the fields."""


class TooSoon(ApprovalError):
    """Done again too soon (an urge within the interval); `retry_after` says how long to wait."""

    def __init__(self, message: str, retry_after: timedelta, details: dict[str, list[str]] | None = None):
        self.retry_after = retry_after
        super().__init__(message, details)


class TooLarge(ApprovalError):
    """An upload is over its size cap (the API answers 413)."""
