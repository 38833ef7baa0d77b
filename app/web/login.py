"""GET/POST /login, POST /logout and GET/POST /password: the same checks and limits as the API.

Logging out ends every session and API token of the user, not only this browser's cookie: a copied
cookie would otherwise keep working until it expires.
"""
import math

from flask import current_app, flash, redirect, request, session, url_for

from app import clock
from app.api.auth import login_policy
from app.auth.login import BadCredentials, RateLimited, authenticate
from app.auth.password_change import PasswordChange, change_password
from app.auth.request import begin_session, client_ip, load_user
from app.auth.sessions import log_out_everywhere
from app.extensions import db
from app.web import bp
from app.web.errors import REFUSALS, refusal_status
from app.web.forms import Refusal, refusal
from app.web.guard import safe_next
from app.web.render import page

PASSWORD_FIELDS = ("current_password", "new_password", "confirm_password")


def _login_form(status: int = 200, message: str | None = None, username: str = "", headers=None):
    next_ = safe_next(request.values.get("next"))
    return page("login.html", status, headers, message=message, username=username, next=next_)


def _retry_after(exc: RateLimited) -> dict:
    return {"Retry-After": str(max(1, math.ceil(exc.retry_after.total_seconds())))}


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
        return _login_form(429, str(exc), username, _retry_after(exc))
    begin_session(user)  # a session planted before login does not carry over (session fixation)
    return redirect(safe_next(request.form.get("next")) or url_for("web.inbox"))


@bp.post("/logout")
def logout():
    if (user := load_user()) is not None:
        log_out_everywhere(db.session, user)
    session.clear()
    flash("你已退出登录（所有设备上的登录和 API 令牌均已失效）", "info")
    return redirect(url_for("web.login"))


def _password_form(refused: Refusal | None = None, status: int = 200, headers=None):
    return page("password.html", status, headers, refused=refused or Refusal("", ""))


@bp.get("/password")
def password():
    return _password_form()


@bp.post("/password")
def password_submit():
    form = request.form
    change = PasswordChange(form.get("current_password") or "", form.get("new_password") or "",
                            form.get("confirm_password") or "")
    user = load_user()
    try:
        change_password(db.session, user, change, ip=client_ip(), now=clock.now(), policy=login_policy(),
                        min_length=current_app.config["MIN_PASSWORD_LENGTH"])
    except REFUSALS as exc:
        # What was typed is never sent back: the fields stay empty.
        return _password_form(refusal("password", exc, PASSWORD_FIELDS), refusal_status(exc))
    except RateLimited as exc:
        return _password_form(Refusal("password", str(exc)), 429, _retry_after(exc))
    begin_session(user)  # this browser stays logged in; every other session and token has ended
    flash("密码已修改；其他设备上的登录和 API 令牌均已失效", "success")
    return redirect(url_for("web.inbox"))

