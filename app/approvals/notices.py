"""In-app notifications, written in the same transaction as the event they tell about.

Each also goes out by the enabled channels (log, email, SMS): app/outbox writes those messages in the
same transaction and delivers them after it commits.
"""
from datetime import datetime

from sqlalchemy.orm import Session

from app.models import Notification
from app.outbox.writing import queue_notifications


def notify(session: Session, user_ids, *, kind: str, title: str, now: datetime, body: str | None = None,
           instance_id: int | None = None, task_id: int | None = None) -> list[Notification]:
    """Add one notification per distinct user; the caller's commit sends them with its event."""
    rows = [Notification(user_id=user_id, kind=kind, title=title[:200], body=body, instance_id=instance_id,
                         task_id=task_id, created_at=now)
            for user_id in dict.fromkeys(u for u in user_ids if u is not None)]
    session.add_all(rows)
    queue_notifications(session, rows)
    return rows
