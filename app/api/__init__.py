"""The JSON API under /api/v1: flask-smorest blueprints, marshmallow schemas, OpenAPI 3.

Views are thin: parse (webargs/marshmallow), call one use case, dump. Errors have one shape
(app/api/errors.py); request validation answers 400 with field messages.
"""
from http import HTTPStatus

import flask_smorest
from flask import request
from marshmallow import missing
from webargs.flaskparser import FlaskParser, abort, is_json_request

from app.api import errors
from app.api.schemas import ErrorSchema
from app.auth.request import auth_method, load_user
from app.extensions import csrf
from app.inputs.bodies import load_json

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        # Bounded, Decimal for fractions, the request text rules (app/inputs/bodies.py); unauthenticated too.
        if not is_json_request(req):
            return missing
        return load_json(req.get_data(cache=True).decode("utf-8"))

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        abort(400, exc=error, messages={"json": [f"请求体不是合法的 JSON：{error}"]})


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def __init__(self, *args, public: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        errors.install(self)
        if not public:
            self.before_request(require_user)

    def errors(self, *statuses: int):
        """Document error responses (all in the shape of ErrorSchema)."""

        def decorator(fn):
            for status in statuses:
                fn = self.alt_response(status, response=HTTPStatus(status).name)(fn)
            return fn

        return decorator


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema
    # Every status an operation answers is declared by it; a `default` response would let a client take
    # an undocumented status for a documented one (the fuzz test checks each status against its operation).
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        # flask-smorest answers every HTTP error; only /api/ gets JSON, pages keep their HTML.
        if not request.path.startswith("/api/"):
            return error
        return errors.http_error(error)


def require_user():
    """401 without a valid token or session; a cookie session must also carry the CSRF token."""
    user = load_user()
    if user is None:
        return errors.error_response(401, "需要登录：请携带 Authorization: Bearer 令牌", code="unauthorized")
    if auth_method() == "session" and request.method in UNSAFE_METHODS:
        csrf.protect()
    return None


api = Api()


def init_app(app) -> None:
    from app.api import (
        attachments,
        auth,
        bank,
        board,
        budget,
        copies,
        definitions,
        holidays,
        instances,
        ledger,
        notifications,
        operations,
        proxies,
        refdata,
        settings,
        tasks,
    )

    api.init_app(app)
    for module in (auth, definitions, instances, tasks, operations, attachments, copies, notifications, proxies,
                   refdata, settings, holidays, budget, ledger, bank, board):
        api.register_blueprint(module.bp)
    api.register_blueprint(bank.callbacks)  # public: authenticated by the bank's HMAC signature
    from app.api import users

    api.register_blueprint(users.bp)
