"""Delivering the outbox: claim a message, send it, record what happened; retry later with backoff.

A deliverer claims a message with one conditional UPDATE (still pending and due -> due again only after
a lease, one attempt more) and commits before sending, so two deliverers (the after-commit job and the
periodic sweep, or two workers) never both send it: the second one's UPDATE finds it no longer due. The
lease outlasts any sender's timeout; a deliverer that dies mid-send leaves the message to be retried
when its lease runs out.

After the send, in its own transaction: sent (sent_at), or the error kept in last_error and the next
attempt set by BACKOFF (1 min, 5 min, 30 min, 2 h, 12 h after the failed one); a message that fails
once more after the last of those is FAILED and left alone. Every message has its own transactions, and
one sender's failure never stops the messages after it.
"""
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import OutboxMessage, OutboxStatus
from app.outbox.senders import Sender

log = logging.getLogger("township.outbox")
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
           timedelta(hours=12))
LEASE = timedelta(minutes=5)
MAX_ERROR = 2000
NO_UPDATE_SYNC = {"synchronize_session": False}


@dataclass(frozen=True)
class Claimed:
    """What a sender is handed: the message as claimed, read before the claim's commit (no session needed)."""

    id: int
    channel: str
    recipient: str
    subject: str
    body: str
    attempts: int


def claim(session: Session, message_id: int, now: datetime) -> Claimed | None:
    """Take the message for one attempt if it is pending and due; None when it is not (sent, failed, or taken)."""
    taken = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.next_attempt_at <= now)
        .values(next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1),
        execution_options=NO_UPDATE_SYNC,
    ).rowcount
    row = session.execute(select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.recipient,
                                 OutboxMessage.subject, OutboxMessage.body, OutboxMessage.attempts)
                          .where(OutboxMessage.id == message_id)).one() if taken else None
    session.commit()
    return Claimed(*row) if row else None


def _mark_sent(session: Session, message: Claimed, now: datetime) -> None:
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.id == message.id, OutboxMessage.status == OutboxStatus.PENDING)
                    .values(status=OutboxStatus.SENT, sent_at=now, last_error=None), execution_options=NO_UPDATE_SYNC)
    session.commit()


def _mark_failed(session: Session, message: Claimed, now: datetime, error: str) -> None:
    """Keep the error and schedule the next attempt, or give up after the last; only while the claim is ours."""
    retry = message.attempts <= len(BACKOFF)
    values = ({"next_attempt_at": now + BACKOFF[message.attempts - 1]} if retry else {"status": OutboxStatus.FAILED})
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.id == message.id, OutboxMessage.status == OutboxStatus.PENDING,
                           OutboxMessage.attempts == message.attempts)
                    .values(last_error=error[:MAX_ERROR], **values), execution_options=NO_UPDATE_SYNC)
    session.commit()


def deliver_one(session: Session, message_id: int, now: datetime, senders: Mapping[str, Sender]) -> bool:
    """Claim, send and record one message; True when this call sent it. Commits; never raises for a send."""
    message = claim(session, message_id, now)
    if message is None:
        return False
    try:
        sender = senders.get(message.channel)
        if sender is None:
            raise LookupError(f"no sender for channel {message.channel!r} (NOTIFY_CHANNELS)")
        sender.send(message)
    except Exception as exc:  # noqa: BLE001 - any failure of the outside world is retried, with its reason kept
        log.warning("outbox message %s (%s to %s), attempt %s failed: %s", message.id, message.channel,
                    message.recipient, message.attempts, exc)
        _mark_failed(session, message, now, f"{type(exc).__name__}: {exc}")
        return False
    _mark_sent(session, message, now)
    return True


def deliver_ids(session: Session, ids: Iterable[int], now: datetime, senders: Mapping[str, Sender]) -> int:
    """Deliver these messages (those still pending and due); how many were sent."""
    return sum(deliver_one(session, message_id, now, senders) for message_id in ids)


def deliver_due(session: Session, now: datetime, senders: Mapping[str, Sender], *, limit: int = 100) -> int:
    """Deliver up to `limit` messages due at `now`, oldest due first; how many were sent.

    What the periodic sweep calls: it retries failed sends when their backoff is over and picks up
    messages whose after-commit job was lost (Redis down, a worker killed). Commits the session once per
    message, so call it with no transaction of your own in progress.
    """
    ids = session.scalars(select(OutboxMessage.id)
                          .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
                          .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)).all()
    session.commit()
    return deliver_ids(session, ids, now, senders)


def deliver(ids: list[int]) -> None:
    """The after-commit job: deliver the messages one transaction just wrote, with the app's senders."""
    from flask import current_app

    from app import clock
    from app.extensions import db
    from app.outbox.senders import make_senders

    deliver_ids(db.session, ids, clock.now(), make_senders(current_app.config))
