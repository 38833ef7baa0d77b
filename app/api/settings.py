"""乡镇设置: the control-rule thresholds and switches of one township (read: oversight roles; write: admins)."""
from marshmallow import INCLUDE, Schema, fields
from sqlalchemy import select

from app import clock
from app.api import Blueprint
from app.api.schemas import OrgRef, UserRef
from app.approvals.errors import Forbidden, NotFound
from app.auth.request import load_user
from app.controls.settings import may_read, sees, settings_for, stored_overrides, update_settings
from app.extensions import db
from app.inbox.present import org_ref, user_ref
from app.models import Org, OrgKind, User

bp = Blueprint("township_settings", __name__, url_prefix="/api/v1/townships",
               description="乡镇控制规则与审批额度设置")


class SettingsPatch(Schema):
    """A partial settings document: only the keys to change; null puts a key back to its default."""

    class Meta:
        unknown = INCLUDE


class SettingsOut(Schema):
    township = fields.Nested(OrgRef)
    settings = fields.Dict(metadata={"description": "生效的设置：默认值与本乡镇的修改合并后的结果；金额为元的字符串"})
    overrides = fields.Dict(metadata={"description": "本乡镇保存的修改（未修改的项取默认值）"})
    updated_at = fields.DateTime(allow_none=True)
    updated_by = fields.Nested(UserRef, allow_none=True)


def _township(code: str, user: User) -> Org:
    """The township by code, if the user may read its settings: 404 when unknown or unseen, 403 otherwise."""
    township = db.session.scalar(select(Org).where(Org.code == code, Org.kind == OrgKind.TOWNSHIP))
    if township is None or not sees(user, township):
        raise NotFound("没有这个乡镇")
    if not may_read(user, township):
        raise Forbidden("只有系统管理员、财政所所长、督办和流程管理员可以查看乡镇设置")
    return township


def _body(township: Org) -> dict:
    row = stored_overrides(db.session, township.id)
    return {"township": org_ref(township), "settings": settings_for(db.session, township.id),
            "overrides": row.settings if row is not None else {},
            "updated_at": row.updated_at if row is not None else None,
            "updated_by": user_ref(db.session.get(User, row.updated_by_id)) if row and row.updated_by_id else None}


@bp.get("/<code>/settings")
@bp.response(200, SettingsOut)
@bp.errors(401, 403, 404)
def get_settings(code):
    """本乡镇生效的控制规则与审批额度设置（系统管理员、财政所所长、督办、流程管理员，本乡镇或上级）。"""
    return _body(_township(code, load_user()))


@bp.put("/<code>/settings")
@bp.arguments(SettingsPatch)
@bp.response(200, SettingsOut)
@bp.errors(400, 401, 403, 404, 409, 413)
def put_settings(patch, code):
    """修改设置（仅系统管理员）：只需给出要改的项，如 {"tiers": {"t2": "6000"}}；值为 null 的项恢复默认。

    合并后整体校验（金额为大于 0、最多两位小数的字符串，档次严格递增，未知项、C01/C03/C06/C17 降级均拒绝），
    不通过答 400 并按字段路径（如 tiers.t2）列出问题，什么也不保存。
    """
    user = load_user()
    township = _township(code, user)
    update_settings(db.session, township.id, patch, user, clock.now())
    return _body(township)
