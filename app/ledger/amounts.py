"""Checks on what a caller hands the ledger: amounts, keys, months. Pure functions, no database."""
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from app.ledger.errors import InvalidAmount, LedgerError

CENT = Decimal("0.01")
LIMIT = Decimal(10) ** 16  # NUMERIC(18,2) holds less than this
KEY_MAX = 120  # ledger_transfer.idempotency_key
MEMO_MAX = 200


def check_amount(value, *, allow_negative: bool = False) -> Decimal:
    """Return `value` as a Decimal of yuan with two places, or raise InvalidAmount.

    Accepted: Decimal, int, or a decimal string ("1200.50"). Refused: float (binary fractions are not
    money), bool, NaN and infinities, zero, negatives (unless `allow_negative`, for 调整), more than two
    decimals, and anything of 10^16 yuan or more.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InvalidAmount(f"金额须为精确的十进制数（Decimal），不接受 {type(value).__name__}：{value!r}")
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise InvalidAmount(f"金额不是有效数字：{value!r}") from None
    if not amount.is_finite():
        raise InvalidAmount(f"金额不是有效数字：{value}")
    if amount == 0 or (amount < 0 and not allow_negative):
        raise InvalidAmount(f"金额须大于 0：{value}" if not allow_negative else "调整金额不能为 0")
    if abs(amount) >= LIMIT:
        raise InvalidAmount(f"金额过大（须小于 10^16 元）：{value}")
    if amount != amount.quantize(CENT):
        raise InvalidAmount(f"金额最多两位小数（精确到分）：{value}")
    return amount.quantize(CENT)


def check_key(key) -> str:
    if not isinstance(key, str) or not key.strip():
        raise LedgerError("每笔记账须有幂等键（非空字符串）")
    if len(key) > KEY_MAX:
        raise LedgerError(f"幂等键过长（最多 {KEY_MAX} 个字符）：{key[:40]}…")
    return key


def check_memo(memo) -> str | None:
    if memo is not None and (not isinstance(memo, str) or len(memo) > MEMO_MAX):
        raise LedgerError(f"摘要须为不超过 {MEMO_MAX} 个字符的文字")
    return memo


def check_now(now) -> datetime:
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise ValueError("now must be an aware datetime (app.clock.now())")
    return now


def month_start(month) -> date:
    """The plan month an account carries: the first day of the month of `month` (a date)."""
    if not isinstance(month, date):
        raise LedgerError(f"用款计划月份须为日期：{month!r}")
    return date(month.year, month.month, 1)
