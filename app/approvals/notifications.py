"""Marking in-app notifications read: one (opening it) or all of the user's unread ones; 通知设置, the kinds
each user also gets by email and by SMS.

A notification is only ever its addressee's: someone else's id answers NotFound, like an id that does
not exist. Marking read is idempotent (the first read time stays) and touches the notification rows
only, in one small transaction. The notifications themselves are written by app/approvals/notices.py.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.approvals.deps import Deps, transaction
from app.approvals.errors import InvalidInput, NotFound
from app.approvals.notices import KINDS
from app.models import NoticePreference, Notification, User


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


# --- 通知设置: which kinds also go by email and by SMS ----------------------------------------------------

CHANNELS = {"email": "邮件", "sms": "短信"}  # what a person chooses for; in the app every notice arrives


@dataclass(frozen=True)
class Preferences:
    """The kinds each channel carries for one user, in the order of KINDS; saved_at None: never chosen."""

    email: list[str]
    sms: list[str]
    saved_at: datetime | None = None

    def by_channel(self) -> dict[str, list[str]]:
        return {"email": self.email, "sms": self.sms}


def channel_rows(user: User, enabled) -> list[dict]:
    """Each channel one chooses for: its name, whether the site has it on, whether the user has an address."""
    addresses = {"email": user.email, "sms": user.phone}
    return [{"channel": c, "label": label, "enabled": c in enabled, "has_address": bool((addresses[c] or "").strip())}
            for c, label in CHANNELS.items()]


def _in_order(kinds) -> list[str]:
    chosen = set(kinds)
    return [k for k in KINDS if k in chosen]


def preferences_of(session: Session, user_id: int) -> Preferences:
    """A read: the user's choices, or every kind by every channel when they never chose."""
    row = session.get(NoticePreference, user_id)
    if row is None:
        return Preferences(list(KINDS), list(KINDS))
    return Preferences(_in_order(row.email_kinds), _in_order(row.sms_kinds), row.updated_at)


def _checked(choices: dict) -> dict[str, list[str]]:
    """Each channel a list of known kinds; every problem named by its channel, nothing saved otherwise."""
    problems, chosen = {}, {}
    for channel in CHANNELS:
        kinds = choices.get(channel)
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            problems[channel] = ["须为通知类别的列表，如 [\"task\", \"paid\"]"]
        elif unknown := [k for k in kinds if k not in KINDS]:
            problems[channel] = [f"没有这种通知类别：{k}" for k in dict.fromkeys(unknown)]
        else:
            chosen[channel] = _in_order(kinds)
    if unknown_channels := [c for c in choices if c not in CHANNELS]:
        problems.update({c: ["不是可选的通知渠道（只有 email、sms）"] for c in unknown_channels})
    if problems:
        raise InvalidInput("通知设置有误", problems)
    return chosen


def save_preferences(deps: Deps, user: User, choices: dict) -> Preferences:
    """Replace the user's choices ({"email": [kinds], "sms": [kinds]}); the next notices follow them."""
    chosen = _checked(choices)
    session = deps.session
    with transaction(session):
        # The user's row first: two saves at once queue here instead of both inserting the preference.
        session.execute(select(User.id).where(User.id == user.id).with_for_update())
        row = session.get(NoticePreference, user.id)
        if row is None:
            row = NoticePreference(user_id=user.id)
            session.add(row)
        row.email_kinds, row.sms_kinds, row.updated_at = chosen["email"], chosen["sms"], deps.now
    return Preferences(chosen["email"], chosen["sms"], deps.now)
