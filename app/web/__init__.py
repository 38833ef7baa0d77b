"""Server-rendered pages (Jinja, phone-friendly). Thin: parse, call one use case, render."""
from flask import Blueprint

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static")


def init_app(app) -> None:
    from app.web import routes  # noqa: F401 - registers the views on bp

    app.register_blueprint(bp)
