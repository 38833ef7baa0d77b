"""Server-rendered pages (Jinja, phone-friendly). Thin: parse, call one use case, render.

Everything works with plain links and form POSTs; htmx (static/vendor, not committed) only makes
navigation smoother when it is there.
"""
from flask import Blueprint

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")


def init_app(app) -> None:
    from app.web import routes  # noqa: F401 - registers the views, guards, filters and error pages on bp

    app.register_blueprint(bp)
