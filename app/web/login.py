"""GET/POST /login and POST /logout: the same checks and rate limit as the API's token endpoint."""
from flask import flash, redirect, request, session, url_for

from app import clock
from app.api.auth import login_policy
from app.auth.login import BadCredentials, RateLimited, authenticate
from app.auth.request import client_ip, load_user
from app.extensions import db
from app.web import bp
from app.web.guard import safe_next
from app.web.render import page


def _login_form(status: int = 200, message: str | None = None, username: str = "", headers=None):
    next_ = safe_next(request.values.get("next"))
    return page("login.html", status, headers, message=message, username=username, next=next_)


@bp.get("/login")
def login():
    if load_user() is not None:
        return redirect(safe_next(request.args.get("next")) or url_for("web.inbox"))
    return _login_form()


@bp.post("/login")
def login_submit():
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    try:
        user = authenticate(db.session, username, password, client_ip(), clock.now(), login_policy())
    except BadCredentials as exc:
        return _login_form(401, str(exc), username)
    except RateLimited as exc:
        retry = str(max(1, int(exc.retry_after.total_seconds())))
        return _login_form(429, str(exc), username, {"Retry-After": retry})
    session.clear()  # a session planted before login must not carry over (session fixation)
    session["user_id"] = user.id
    session.permanent = True
    return redirect(safe_next(request.form.get("next")) or url_for("web.inbox"))


@bp.post("/logout")
def logout():
    session.clear()
    flash("你已退出登录", "info")
    return redirect(url_for("web.login"))
