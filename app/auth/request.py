"""Who is making this request: a bearer token (API) or a login session (pages, and the API from them)."""
from flask import request, session
from sqlalchemy.orm import selectinload

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
        if found is not None and found.active:
            user, method = found, "session"
    request.township_user, request.township_auth = user, method
    return user


def auth_method() -> str | None:
    load_user()
    return request.township_auth


def client_ip() -> str:
    # Behind a reverse proxy, configure werkzeug's ProxyFix so remote_addr is the client's.
    return request.remote_addr or "unknown"
