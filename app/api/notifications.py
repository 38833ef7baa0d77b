"""In-app notifications: the user's own list (newest first, unread filter, pages), mark one or all read.

A notification is only ever its addressee's: someone else's id answers 404, like an id that does not
exist. The list is app/inbox/notifications.py; marking read is app/approvals/notifications.py.
"""
from app.api import Blueprint
from app.api.schemas import NotificationListArgs, NotificationOut, NotificationPage, ReadAllResponse
from app.approvals.notifications import mark_all_read, mark_read
from app.auth.request import load_user
from app.extensions import db
from app.inbox.notifications import notification_dict, notifications_of, unread_count
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
