"""Headers every response carries, API and pages alike; the pages add their own in app/web/guard.py.

- `X-Content-Type-Options: nosniff`: a JSON error or an export is never sniffed into HTML or script.
- `Strict-Transport-Security` when the session cookie is HTTPS-only (SESSION_COOKIE_SECURE=1): a site
  that needs HTTPS for its cookie must not be reachable over plain HTTP by a downgraded link.
- No server software version: our responses never set `Server`; Werkzeug's development server
  (`make run`) announces "Werkzeug/x Python/y" by itself, so it is told to say only our name.
  gunicorn sends `Server: gunicorn` without a version and has no setting to change it (README).
"""
from flask import Flask
from werkzeug.serving import WSGIRequestHandler

HSTS = "max-age=31536000; includeSubDomains"  # one year, the usual value (Flask-Talisman's default too)
SERVER_NAME = "township-budget"


def init_app(app: Flask) -> None:
    hsts = app.config.get("SESSION_COOKIE_SECURE", False)

    @app.after_request
    def common_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    WSGIRequestHandler.version_string = _version_string


def _version_string(_handler) -> str:
    return SERVER_NAME
