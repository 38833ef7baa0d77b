"""The read side of in-app notifications: a user's own list (newest first, unread only on request, in pages)
and their unread count. Only ever the addressee's own rows. Reads only; no commits.

The writes (mark one or all read) are use cases in app/approvals/notifications.py.
"""
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.inbox.queries import Page
from app.models import Notification


def notification_link(n: Notification) -> str | None:
    """The page that answers the notice: a copy opens its request, anything about a task opens the task."""
    if n.task_id is not None and n.kind != "cc":
        return f"/tasks/{n.task_id}"
    return f"/instances/{n.instance_id}" if n.instance_id is not None else None


def notification_dict(n: Notification) -> dict:
    return {"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "instance_id": n.instance_id,
            "task_id": n.task_id, "link": notification_link(n), "created_at": n.created_at, "read_at": n.read_at}


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).where(Notification.user_id == user_id,
                                                     Notification.read_at.is_(None)))


def notifications_of(session: Session, user_id: int, *, page: int = 1, per_page: int = 20,
                     unread_only: bool = False) -> Page:
    """One page of the user's notifications, newest first, and how many there are in all."""
    mine = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        mine = mine.where(Notification.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(mine.subquery()))
    rows = session.scalars(mine.order_by(Notification.created_at.desc(), Notification.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(rows), total, page, per_page)
