"""POST /api/v1/auth/token: trade a username and password for a bearer token."""
from flask import current_app
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import Unauthorized

from app import clock
from app.api import Blueprint
from app.api.schemas import MeResponse, TokenRequest, TokenResponse
from app.auth.login import LoginPolicy, authenticate
from app.auth.request import auth_method, bearer_token, client_ip, load_user
from app.auth.tokens import issue_token, revoke_token
from app.extensions import db
from app.inbox.present import org_ref, user_ref
from app.models import ROLE_NAMES

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="登录与令牌", public=True)


def login_policy() -> LoginPolicy:
    c = current_app.config
    return LoginPolicy(c["LOGIN_WINDOW"], c["LOGIN_MAX_FAILURES_PER_USER"], c["LOGIN_MAX_FAILURES_PER_IP"],
                       c["PASSWORD_HASH_PROFILE"])


@bp.post("/token")
@bp.arguments(TokenRequest)
@bp.response(201, TokenResponse)
@bp.errors(401, 429)
def create_token(body):
    """取得 API 令牌。连续失败过多会被暂时拒绝（429，带 Retry-After）。"""
    now = clock.now()
    user = authenticate(db.session, body["username"], body["password"], client_ip(), now, login_policy())
    token, expires_at = issue_token(db.session, user, now, current_app.config["TOKEN_TTL"])
    return {"token": token, "expires_at": expires_at}


@bp.get("/me")
@bp.response(200, MeResponse)
@bp.errors(401)
def me():
    """当前用户、角色；用会话（cookie）访问时另给出写操作所需的 csrf_token。"""
    user = load_user()
    if user is None:
        raise Unauthorized()
    return {
        "user": user_ref(user),
        "roles": [{"role": g.role, "role_name": ROLE_NAMES.get(g.role, g.role), "org": org_ref(g.org)}
                  for g in user.grants],
        "csrf_token": generate_csrf() if auth_method() == "session" else None,
    }


@bp.delete("/token")
@bp.response(204)
@bp.errors(401)
def delete_token():
    """注销当前令牌。"""
    if (token := bearer_token()) is not None:
        revoke_token(db.session, token)
