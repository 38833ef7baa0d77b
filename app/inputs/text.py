"""Text rules for every string a request carries (query, form, path; JSON in bodies.py).

Refused: NUL (PostgreSQL cannot store it in text or jsonb) and lone surrogates (not Unicode, cannot be
encoded to UTF-8). Neither is ever typed by a person, so a 400 that names the field is the honest answer.

Stripped: bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C). They are
invisible, arrive innocently with text pasted from office documents and chat apps, and mean nothing in
our Chinese, left-to-right text; refusing them would stop a person over a character they cannot see
or find to delete. Kept, they let "发票\u202Egnp.exe" read as "发票exe.png". Attachment names already
drop them (app/storage/filetypes.py); now every free-text field does, before any view reads it.
"""
import re

from flask import Request, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import PathConverter, UnicodeConverter, ValidationError

from app.inputs.errors import InputRefused

BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_REFUSED = re.compile("[\x00\ud800-\udfff]")

NUL_MESSAGE = "不能包含空字符（U+0000）"
SURROGATE_MESSAGE = "包含无效的 Unicode 字符（不成对的代理项）"


def strip_bidi(value):
    """`value` without bidirectional controls when it is a string; anything else unchanged."""
    return BIDI_CONTROLS.sub("", value) if isinstance(value, str) else value


def refusal(value: str) -> str | None:
    """Why `value` cannot be accepted, or None."""
    found = _REFUSED.search(value)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == "\x00" else SURROGATE_MESSAGE


class CleanMultiDict(ImmutableMultiDict):
    """request.args, request.form and request.files: keys and string values without bidi controls."""

    def __init__(self, mapping=None):
        pairs = MultiDict(mapping).items(multi=True)
        super().__init__([(strip_bidi(k), strip_bidi(v)) for k, v in pairs])


class CheckedRequest(Request):
    parameter_storage_class = CleanMultiDict


class TextConverter(UnicodeConverter):
    """A path segment with a NUL names nothing: the route does not match (404)."""

    def to_python(self, value: str) -> str:
        if refusal(value):
            raise ValidationError()
        return value


class TextPathConverter(PathConverter):
    def to_python(self, value: str) -> str:
        if refusal(value):
            raise ValidationError()
        return value


def refuse_bad_text() -> None:
    """Before every view: a NUL or lone surrogate in the query or a form field is a 400 naming the field.

    An address no route matches stays a 404 (or 405), whatever its query says.
    """
    if request.routing_exception is not None:
        return
    for location, values in (("query", request.args), ("form", request.form)):
        for key, value in values.items(multi=True):
            if problem := refusal(key):
                raise InputRefused(location, "_schema", f"参数名{problem}")
            if isinstance(value, str) and (problem := refusal(value)):
                raise InputRefused(location, key, problem)
