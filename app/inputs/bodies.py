"""The JSON decoder for request bodies: bounded, exact, and under the same text rules as forms.

The standard decoder recurses once per nesting level and hands every number token to int() or
Decimal: 1000 levels of `[` end in RecursionError, and a 5000-digit integer in ValueError (Python
refuses int() of more than 4300 digits) - both 500s, reachable before login. Our bodies are shallow
forms, so a small depth and a number length far above any real value are refused with a 400.
Numbers with a fraction become Decimal (money never passes through float); NaN and Infinity are refused.
"""
import json
import re
from decimal import Decimal

from app.inputs.errors import InputRefused
from app.inputs.text import refusal, strip_bidi

MAX_DEPTH = 32
MAX_NUMBER_LENGTH = 64  # characters of one number token; NUMERIC(18,2) needs 19

_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)  # strings are skipped whole


def _too_deep(text: str) -> bool:
    if text.count("[") + text.count("{") <= MAX_DEPTH:  # the common case: no scan needed
        return False
    depth = 0
    for token in _STRUCTURE.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _number(convert):
    def parse(token: str):
        if len(token) > MAX_NUMBER_LENGTH:
            raise InputRefused("json", "", f"数字过长（超过 {MAX_NUMBER_LENGTH} 个字符）")
        return convert(token)

    return parse


def _reject_constant(name: str):
    raise json.JSONDecodeError(f"JSON 不允许 {name}", name, 0)


def _cleaned(value, path: str = ""):
    """`value` with bidi controls stripped from every string and key; InputRefused for NUL or a lone surrogate."""
    if isinstance(value, str):
        if problem := refusal(value):
            raise InputRefused("json", path, problem)
        return strip_bidi(value)
    if isinstance(value, list):
        return [_cleaned(item, f"{path}.{i}" if path else str(i)) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {_cleaned_key(key, path): _cleaned(item, f"{path}.{key}" if path else key)
                for key, item in value.items()}
    return value


def _cleaned_key(key: str, path: str) -> str:
    if problem := refusal(key):
        raise InputRefused("json", path, f"字段名{problem}")
    return strip_bidi(key)


def load_json(text: str):
    """Decode a request body (already text). json.JSONDecodeError for bad syntax, InputRefused for the rest."""
    if _too_deep(text):
        raise InputRefused("json", "", f"JSON 嵌套过深（最多 {MAX_DEPTH} 层）")
    value = json.loads(text, parse_float=_number(Decimal), parse_int=_number(int),
                       parse_constant=_reject_constant)
    return _cleaned(value)
