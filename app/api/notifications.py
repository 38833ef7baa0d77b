"""In-app notifications: the user's own list (newest first, unread filter, pages), mark one or all read.

A notification is only ever its addressee's: someone else's id answers 404, like an id that does not
exist. Marking read is idempotent; it touches the notification row only, in one small transaction.
"""
from sqlalchemy import func, select, update

from app import clock
from app.api import Blueprint
from app.api.schemas import NotificationListArgs, NotificationOut, NotificationPage, ReadAllResponse
from app.approvals.deps import transaction
from app.approvals.errors import NotFound
from app.auth.request import load_user
from app.extensions import db
from app.models import Notification

bp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications", description="站内通知")


def notification_dict(n: Notification) -> dict:
    return {"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "instance_id": n.instance_id,
            "task_id": n.task_id, "created_at": n.created_at, "read_at": n.read_at}


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).where(Notification.user_id == user_id,
                                                        Notification.read_at.is_(None)))


@bp.get("")
@bp.arguments(NotificationListArgs, location="query")
@bp.response(200, NotificationPage)
@bp.errors(400, 401)
def list_notifications(args):
    """我的通知，最新在前；unread=true 只列未读。另给出未读总数 unread_count。"""
    user = load_user()
    query = select(Notification).where(Notification.user_id == user.id)
    if args["unread"]:
        query = query.where(Notification.read_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc())
                              .limit(args["per_page"]).offset((args["page"] - 1) * args["per_page"]))
    return {"items": [notification_dict(n) for n in rows], "total": total, "page": args["page"],
            "per_page": args["per_page"], "unread_count": unread_count(user.id)}


@bp.post("/<int:notification_id>/read")
@bp.response(200, NotificationOut)
@bp.errors(401, 404)
def read_one(notification_id):
    """把一条通知标为已读（已读的保持原已读时间）。别人的通知一律 404。"""
    user = load_user()
    with transaction(db.session):
        row = db.session.scalar(select(Notification).where(Notification.id == notification_id,
                                                           Notification.user_id == user.id))
        if row is None:
            raise NotFound("通知不存在")
        if row.read_at is None:
            row.read_at = clock.now()
    return notification_dict(row)


@bp.post("/read-all")
@bp.response(200, ReadAllResponse)
@bp.errors(401)
def read_all():
    """把我的全部未读通知标为已读。"""
    user = load_user()
    with transaction(db.session):
        updated = db.session.execute(
            update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=clock.now()), execution_options={"synchronize_session": False}
        ).rowcount
    return {"updated": updated, "unread_count": unread_count(user.id)}
