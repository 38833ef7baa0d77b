"""Who is making this request: a bearer token (API) or a login session (pages, and the API from them)."""
from flask import g, request, session

from app import clock
from app.auth.tokens import user_for_token
from app.extensions import db
from app.models import User


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def load_user() -> User | None:
    """Resolve and remember the request's user in g.user; g.auth_method says how ('bearer'/'session')."""
    if "user" in g:
        return g.user
    g.user, g.auth_method = None, None
    if (token := bearer_token()) is not None:
        g.user, g.auth_method = user_for_token(db.session, token, clock.now()), "bearer"
    elif (user_id := session.get("user_id")) is not None:
        user = db.session.get(User, user_id)
        if user is not None and user.active:
            g.user, g.auth_method = user, "session"
    return g.user


def client_ip() -> str:
    # Behind a reverse proxy, configure werkzeug's ProxyFix so remote_addr is the client's.
    return request.remote_addr or "unknown"
