"""Who is making this request: a bearer token (API) or a login session (pages, and the API from them)."""
from flask import request, session
from sqlalchemy.orm import selectinload
from werkzeug.middleware.proxy_fix import ProxyFix

from app import clock
from app.auth.tokens import user_for_token
from app.extensions import db
from app.models import RoleGrant, User

# The acting user's grants decide what they see and may do: load them with the user, in one go.
WITH_GRANTS = selectinload(User.grants).joinedload(RoleGrant.org)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def load_user() -> User | None:
    """Resolve the request's user once per request; `auth_method()` says how ('bearer' or 'session').

    Kept on the request object, not on `g`: an app context may outlive one request (tests, CLI).
    """
    if hasattr(request, "township_user"):
        return request.township_user
    user, method = None, None
    if (token := bearer_token()) is not None:
        user, method = user_for_token(db.session, token, clock.now()), "bearer"
    elif (user_id := session.get("user_id")) is not None:
        found = db.session.get(User, user_id, options=[WITH_GRANTS])
        # A cookie from before the user's last logout (or password change, or being disabled) is dead.
        if found is not None and found.active and session.get("session_version") == found.session_version:
            user, method = found, "session"
    request.township_user, request.township_auth = user, method
    return user


def auth_method() -> str | None:
    load_user()
    return request.township_auth


def begin_session(user: User) -> None:
    """Log `user` in on this browser: a fresh cookie (nothing planted before carries over), their version."""
    session.clear()
    session["user_id"] = user.id
    session["session_version"] = user.session_version
    session.permanent = True


def client_ip() -> str:
    # The TCP peer, unless PROXY_FIX_X_FOR trusts that many proxies' X-Forwarded-For (install_proxy_fix).
    return request.remote_addr or "unknown"


def install_proxy_fix(app) -> None:
    """Behind PROXY_FIX_X_FOR reverse proxies, take the client's address from X-Forwarded-For.

    Without it the header is ignored: a client could otherwise name any address and dodge the login limits.
    """
    if count := app.config.get("PROXY_FIX_X_FOR", 0):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count)
