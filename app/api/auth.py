"""POST /api/v1/auth/token: trade a username and password for a bearer token."""
from flask import current_app

from app import clock
from app.api import Blueprint
from app.api.schemas import TokenRequest, TokenResponse
from app.auth.login import LoginPolicy, authenticate
from app.auth.request import bearer_token, client_ip
from app.auth.tokens import issue_token, revoke_token
from app.extensions import db

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


@bp.delete("/token")
@bp.response(204)
@bp.errors(401)
def delete_token():
    """注销当前令牌。"""
    if (token := bearer_token()) is not None:
        revoke_token(db.session, token)
