"""Where input enters: every request passes these checks before any view, API or page, sees it.

Malformed input is refused (or made harmless) once, here, instead of in each endpoint:

- ids.py    path ids beyond their column's range never match a route (404), so PostgreSQL is never
            asked for `integer = 2147483648`;
- text.py   NUL and lone surrogates are refused (400; 404 in the path), bidirectional controls are
            stripped from every query and form string;
- bodies.py the JSON decoder the API uses: bounded depth and number length, the same text rules.

Money ranges live with the money fields (app/api/schemas.py), where the column's size is known.
"""
from flask import Flask

from app.inputs.errors import InputRefused
from app.inputs.ids import IdRule
from app.inputs.text import CheckedRequest, TextConverter, TextPathConverter, refuse_bad_text

__all__ = ["InputRefused", "init_app"]


def init_app(app: Flask) -> None:
    """Must run before any blueprint is registered: rules and converters are bound when a route is added."""
    app.request_class = CheckedRequest
    app.url_rule_class = IdRule
    app.url_map.converters.update(default=TextConverter, string=TextConverter, path=TextPathConverter)
    app.before_request(refuse_bad_text)
