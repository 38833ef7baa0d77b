"""What the ledger raises. All are ServiceErrors, so a BPMN boundary error event can catch them by code."""
from decimal import Decimal

from app.engine.errors import ServiceError


class LedgerError(ServiceError):
    """A movement the ledger refuses; nothing was written. The message is for people (Chinese)."""

    default_code = "LEDGER_ERROR"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(code or self.default_code, message)


class InvalidAmount(LedgerError):
    """The amount is not a positive number of yuan with at most two decimals (below 10^16)."""

    default_code = "INVALID_AMOUNT"


class InsufficientBalance(LedgerError):
    """Taking `requested` out of an account that holds only `available`."""

    default_code = "INSUFFICIENT_BALANCE"

    def __init__(self, *, indicator_code: str, what: str, available: Decimal, requested: Decimal):
        self.indicator_code = indicator_code
        self.what = what
        self.available = available
        self.requested = requested
        super().__init__(f"指标 {indicator_code} 的{what}不足：现有 {available:,.2f} 元，本次需要 {requested:,.2f} 元")


class KeyReused(LedgerError):
    """The idempotency key was already used for a different movement."""

    default_code = "KEY_REUSED"

    def __init__(self, key: str, existing: str):
        self.key = key
        super().__init__(f"幂等键 {key} 已用于另一笔记账（{existing}），不能用于本次不同的记账")
