"""Marking in-app notifications read: one (opening it) or all of the user's unread ones.

A notification is only ever its addressee's: someone else's id answers NotFound, like an id that does
not exist. Marking read is idempotent (the first read time stays) and touches the notification rows
only, in one small transaction. The notifications themselves are written by app/approvals/notices.py.
"""
from sqlalchemy import select, update

from app.approvals.deps import Deps, transaction
from app.approvals.errors import NotFound
from app.models import Notification, User


def mark_read(deps: Deps, user: User, notification_id: int) -> Notification:
    """Mark one of the user's own notifications read; reading it again changes nothing."""
    session = deps.session
    with transaction(session):
        row = session.scalar(select(Notification).where(Notification.id == notification_id,
                                                        Notification.user_id == user.id).with_for_update())
        if row is None:
            raise NotFound("通知不存在")
        if row.read_at is None:
            row.read_at = deps.now
    return row


def mark_all_read(deps: Deps, user: User) -> int:
    """Mark every unread notification of the user read; how many were."""
    session = deps.session
    with transaction(session):
        updated = session.execute(
            update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=deps.now), execution_options={"synchronize_session": False}
        ).rowcount
    return updated
