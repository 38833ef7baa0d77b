"""用户管理 for admins: disable (every session and token ends at once), enable, unlock failed logins.

An admin manages the users whose grants all lie in their township (or below); users elsewhere are
answered as unknown ones.
"""
from marshmallow import Schema, fields

from app import clock
from app.admin.people import disable_user, enable_user, unlock_user
from app.api import Blueprint
from app.api.schemas import UserRef
from app.auth.request import load_user
from app.extensions import db
from app.inbox.present import user_ref

bp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="用户管理（系统管理员）")


class UserAccountOut(Schema):
    user = fields.Nested(UserRef)
    active = fields.Boolean(metadata={"description": "false：已停用，不能登录"})


def _account(user) -> dict:
    return {"user": user_ref(user), "active": user.active}


@bp.post("/<username>/disable")
@bp.response(200, UserAccountOut)
@bp.errors(400, 401, 403, 404)
def disable(username):
    """停用用户：不能再登录，其全部网页会话和 API 令牌立即失效（仅本乡镇或上级的系统管理员；不能停用自己）。"""
    return _account(disable_user(db.session, load_user(), username))


@bp.post("/<username>/enable")
@bp.response(200, UserAccountOut)
@bp.errors(400, 401, 403, 404)
def enable(username):
    """重新启用用户；停用前的会话和令牌不会恢复，须重新登录。"""
    return _account(enable_user(db.session, load_user(), username))


@bp.post("/<username>/unlock")
@bp.response(200, UserAccountOut)
@bp.errors(400, 401, 403, 404)
def unlock(username):
    """解除登录锁定：此前的登录失败（各地址）不再计数。"""
    return _account(unlock_user(db.session, load_user(), username, clock.now()))
