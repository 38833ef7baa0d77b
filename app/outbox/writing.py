"""Writing the outbox: for each in-app notification, one message per enabled channel its addressee has an
address for (log: the username; email: User.email; SMS: User.phone) and has not turned off for that kind
of notice (NoticePreference; no row: every kind), in the notification's own transaction.

notify() (app/approvals/notices.py) hands its new rows to `queue_notifications`. The messages are made
when that transaction commits (a `before_commit` hook): by then the notifications have their ids, and
a step's own writes went to the database in the one flush the commit does anyway, not half-way through
the step. The commit carries notification and messages together; a rollback drops both; delivery is asked
for only after the commit (app.jobs.after_commit), so nothing is sent for work that did not happen.

Which channels are on and the site's address come from the app's settings (NOTIFY_CHANNELS,
PUBLIC_BASE_URL), registered per database engine by create_app through `configure`: a use case hands
only its session, and this package stays free of Flask.
"""
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from app.inbox.notifications import notification_link
from app.jobs import after_commit
from app.models import NoticePreference, Notification, OutboxMessage, OutboxStatus, User
from app.outbox.senders import channel_names, make_senders

PENDING = "township_outbox_pending"
DEFAULT_BASE_URL = "http://127.0.0.1:5000"
ADDRESS = {"log": lambda user: user.username, "email": lambda user: user.email, "sms": lambda user: user.phone}
# The channels a person chooses kinds for; the log is the operator's, and gets everything.
CHOSEN = {"email": lambda user: user.email_kinds, "sms": lambda user: user.sms_kinds}


@dataclass(frozen=True)
class OutboxSettings:
    channels: tuple[str, ...] = ("log",)
    base_url: str = DEFAULT_BASE_URL


_settings: WeakKeyDictionary = WeakKeyDictionary()


def configure(engine, config) -> OutboxSettings:
    """Register the app's channels and public address for sessions on `engine`; refuses a bad channel setting."""
    make_senders(config)  # a channel missing its settings fails at start-up, not at the first notice
    settings = OutboxSettings(tuple(channel_names(config)),
                              (config.get("PUBLIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"))
    _settings[engine] = settings
    return settings


def settings_for(session: Session) -> OutboxSettings:
    return _settings.get(session.get_bind(), OutboxSettings())


def queue_notifications(session: Session, rows: list[Notification]) -> None:
    """Have the outbox messages of these new notifications written when the session's transaction commits."""
    if rows:
        session.info.setdefault(PENDING, []).extend(rows)


def message_text(n: Notification, base_url: str) -> str:
    """Title, what the notice says, and the link straight to the task (or the request)."""
    path = notification_link(n)
    link = path and f"{'办理' if path.startswith('/tasks/') else '查看'}：{base_url}{path}"
    return "\n\n".join(part for part in (n.title, n.body, link) if part)


def wants(user, channel: str, kind: str) -> bool:
    """Whether the user takes this kind of notice by this channel (no choice saved: every kind)."""
    chosen = CHOSEN[channel](user) if channel in CHOSEN else None
    return chosen is None or kind in chosen


def messages_for(n: Notification, user, settings: OutboxSettings) -> list[OutboxMessage]:
    """One pending message per channel the user has an address for and wants this kind by, due at once."""
    text = message_text(n, settings.base_url)
    return [OutboxMessage(notification_id=n.id, channel=channel, recipient=address, subject=n.title, body=text,
                          status=OutboxStatus.PENDING, attempts=0, next_attempt_at=n.created_at,
                          created_at=n.created_at)
            for channel in settings.channels
            if (address := (ADDRESS[channel](user) or "").strip()) and wants(user, channel, n.kind)]


def _addressees(session: Session, user_ids: set[int]) -> dict:
    """Active users by id, with the columns that make addresses and their choices, in one query (a
    deactivated account gets no mail)."""
    rows = session.execute(select(User.id, User.username, User.email, User.phone, NoticePreference.email_kinds,
                                  NoticePreference.sms_kinds)
                           .outerjoin(NoticePreference, NoticePreference.user_id == User.id)
                           .where(User.id.in_(user_ids), User.active.is_(True)))
    return {row.id: row for row in rows}


@event.listens_for(Session, "before_commit")
def _write_outbox(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    session.flush()  # what commit would flush first: the notifications get their ids
    written = [n for n in pending if inspect(n).persistent]  # not those of a rolled-back savepoint
    users = _addressees(session, {n.user_id for n in written}) if written else {}
    settings = settings_for(session)
    messages = [m for n in written if n.user_id in users for m in messages_for(n, users[n.user_id], settings)]
    if not messages:
        return
    session.add_all(messages)
    session.flush()
    after_commit(session, "app.outbox.delivery.deliver", [m.id for m in messages])


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outer transaction, not a savepoint
        session.info.pop(PENDING, None)
