"""In-app notifications: the user's own list (newest first, unread filter, pages), mark one or all read;
通知设置, the kinds of notice the user also gets by email and by SMS.

A notification is only ever its addressee's: someone else's id answers 404, like an id that does not
exist. The list is app/inbox/notifications.py; marking read and the settings are app/approvals/notifications.py.
"""
from flask import current_app
from marshmallow import Schema, fields

from app.api import Blueprint
from app.api.schemas import NotificationListArgs, NotificationOut, NotificationPage, ReadAllResponse
from app.approvals.notices import KINDS
from app.approvals.notifications import channel_rows, mark_all_read, mark_read, preferences_of, save_preferences
from app.auth.request import load_user
from app.extensions import db
from app.inbox.notifications import notification_dict, notifications_of, unread_count
from app.outbox.senders import channel_names
from app.runtime import deps

bp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications", description="站内通知")


@bp.get("")
@bp.arguments(NotificationListArgs, location="query")
@bp.response(200, NotificationPage)
@bp.errors(400, 401)
def list_notifications(args):
    """我的通知，最新在前；unread=true 只列未读。另给出未读总数 unread_count。"""
    user = load_user()
    found = notifications_of(db.session, user.id, page=args["page"], per_page=args["per_page"],
                             unread_only=args["unread"])
    return {"items": [notification_dict(n) for n in found.items], "total": found.total, "page": found.page,
            "per_page": found.per_page, "unread_count": unread_count(db.session, user.id)}


@bp.post("/<int:notification_id>/read")
@bp.response(200, NotificationOut)
@bp.errors(400, 401, 404)
def read_one(notification_id):
    """把一条通知标为已读（已读的保持原已读时间）。别人的通知一律 404。"""
    return notification_dict(mark_read(deps(), load_user(), notification_id))


@bp.post("/read-all")
@bp.response(200, ReadAllResponse)
@bp.errors(400, 401)
def read_all():
    """把我的全部未读通知标为已读。"""
    user = load_user()
    updated = mark_all_read(deps(), user)
    return {"updated": updated, "unread_count": unread_count(db.session, user.id)}


KIND_LIST = "、".join(KINDS)


class PreferencesIn(Schema):
    email = fields.List(fields.String(), required=True,
                        metadata={"description": f"也发邮件的通知类别（{KIND_LIST}）；[] 为都不发"})
    sms = fields.List(fields.String(), required=True, metadata={"description": "也发短信的通知类别；[] 为都不发"})


class KindOut(Schema):
    kind = fields.String()
    label = fields.String(metadata={"description": "中文名称，如 新待办到达"})


class ChannelOut(Schema):
    channel = fields.String(metadata={"description": "email 或 sms"})
    label = fields.String(metadata={"description": "邮件、短信"})
    enabled = fields.Boolean(metadata={"description": "本站是否开通该渠道（NOTIFY_CHANNELS）"})
    has_address = fields.Boolean(metadata={"description": "本人是否登记了邮箱或手机号"})


class PreferencesOut(PreferencesIn):
    saved_at = fields.DateTime(allow_none=True, metadata={"description": "上次保存时间；null：从未设置，各类都发"})
    kinds = fields.List(fields.Nested(KindOut))
    channels = fields.List(fields.Nested(ChannelOut))


def _preferences_body(user, chosen) -> dict:
    return {**chosen.by_channel(), "saved_at": chosen.saved_at,
            "kinds": [{"kind": k, "label": label} for k, label in KINDS.items()],
            "channels": channel_rows(user, set(channel_names(current_app.config)))}


@bp.get("/preferences")
@bp.response(200, PreferencesOut)
@bp.errors(401)
def get_preferences():
    """我的通知设置：哪些类别的通知也发邮件、也发短信（站内通知总是都有）。从未设置时各类都发。"""
    user = load_user()
    return _preferences_body(user, preferences_of(db.session, user.id))


@bp.put("/preferences")
@bp.arguments(PreferencesIn)
@bp.response(200, PreferencesOut)
@bp.errors(400, 401, 413)
def put_preferences(choices):
    """保存我的通知设置：{"email": [类别…], "sms": [类别…]}，整体替换。未知类别答 400 并按渠道列出，什么也不保存。"""
    user = load_user()
    return _preferences_body(user, save_preferences(deps(), user, choices))
