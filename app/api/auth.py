"""/api/v1/auth: trade a username and password for a bearer token, log out everywhere, change one's password."""
from flask import abort, current_app
from flask_wtf.csrf import generate_csrf
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import Unauthorized

from app import clock
from app.api import Blueprint, require_user
from app.api.schemas import MeResponse, TokenRequest, TokenResponse
from app.auth.login import LoginPolicy, authenticate
from app.auth.password_change import PasswordChange, change_password
from app.auth.passwords import dummy_hash
from app.auth.request import auth_method, bearer_token, begin_session, client_ip, load_user
from app.auth.sessions import log_out_everywhere
from app.auth.tokens import issue_token, revoke_token
from app.extensions import db
from app.inbox.present import org_ref, user_ref
from app.models import ROLE_NAMES

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="登录与令牌", public=True)
# The unknown-username check verifies against this hash: made at start, so no login pays for making it.
bp.record_once(lambda state: dummy_hash(state.app.config["PASSWORD_HASH_PROFILE"]))


class PasswordChangeRequest(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024), metadata={
        "description": "至少 8 位；不能含用户名，不能是常见密码、同一字符重复或连续的数字、字母"})


def login_policy() -> LoginPolicy:
    c = current_app.config
    return LoginPolicy(window=c["LOGIN_WINDOW"], lock_after=c["LOGIN_LOCK_AFTER"],
                       delay_after_per_user=c["LOGIN_DELAY_AFTER_PER_USER"],
                       delay_after_per_ip=c["LOGIN_DELAY_AFTER_PER_IP"], max_delay=c["LOGIN_MAX_DELAY"],
                       known_address_for=c["LOGIN_KNOWN_ADDRESS_FOR"], hash_profile=c["PASSWORD_HASH_PROFILE"])


def _signed_in():
    """The acting user (this blueprint is public, so each signed-in view asks); 401 and CSRF as elsewhere."""
    if (refused := require_user()) is not None:
        abort(refused)
    return load_user()


@bp.post("/token")
@bp.arguments(TokenRequest)
@bp.response(201, TokenResponse)
@bp.errors(401, 413, 429)
def create_token(body):
    """取得 API 令牌。连续失败会被放慢或暂时拒绝（429，带 Retry-After）：同一用户名在同一地址失败 5 次锁定 15 分钟。"""
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
    """注销当前令牌（只此一个；退出全部登录用 POST /auth/logout）。"""
    if (token := bearer_token()) is not None:
        revoke_token(db.session, token)


@bp.post("/logout")
@bp.response(204)
@bp.errors(400, 401)
def logout():
    """退出登录：本人的全部网页会话和全部 API 令牌立即失效。"""
    log_out_everywhere(db.session, _signed_in())


@bp.post("/password")
@bp.arguments(PasswordChangeRequest)
@bp.response(204)
@bp.errors(400, 401, 413, 429)
def password(body):
    """修改本人密码：须给出当前密码；新密码至少 8 位，不能含用户名、不能是常见密码或连续字符。

    修改后本人的其他会话和全部 API 令牌（包括这次所用的）立即失效；用网页会话调用时，本浏览器保持登录。
    当前密码错误按登录失败计数。
    """
    user = _signed_in()
    change_password(db.session, user, PasswordChange(body["current_password"], body["new_password"]),
                    ip=client_ip(), now=clock.now(), policy=login_policy(),
                    min_length=current_app.config["MIN_PASSWORD_LENGTH"])
    if auth_method() == "session":
        begin_session(user)
