"""GET /notifications (mine, newest first, in pages), POST open one (marks it read, then goes to its task or
request) and POST read-all; GET/POST /notifications/preferences (通知设置: which kinds also by email, SMS).

The list and the unread count are app/inbox/notifications.py, marking read app/approvals/notifications.py:
the same code as the API's.
"""
from flask import current_app, flash, redirect, request, url_for

from app.approvals.errors import InvalidInput
from app.approvals.notices import KINDS
from app.approvals.notifications import (
    CHANNELS,
    Preferences,
    channel_rows,
    mark_all_read,
    mark_read,
    preferences_of,
    save_preferences,
)
from app.auth.request import load_user
from app.extensions import db
from app.inbox.notifications import notification_dict, notifications_of
from app.models import Notification
from app.outbox.senders import channel_names
from app.runtime import deps
from app.web import bp
from app.web.render import page

PER_PAGE = 20
MAX_PAGE = 100000


def _page_number() -> int:
    try:
        return min(max(int(request.args.get("page", 1)), 1), MAX_PAGE)
    except (TypeError, ValueError):
        return 1


@bp.get("/notifications")
def notifications():
    user = load_user()
    number = _page_number()
    found = notifications_of(db.session, user.id, page=number, per_page=PER_PAGE)
    pages = max(1, -(-found.total // PER_PAGE))
    return page("notifications.html", items=[notification_dict(n) for n in found.items], total=found.total,
                page_number=number, pages=pages,
                prev_url=url_for("web.notifications", page=number - 1) if number > 1 else None,
                next_url=url_for("web.notifications", page=number + 1) if number < pages else None)


def _target(n: Notification) -> str:
    """A copy opens its request; anything about a task opens the task; the rest opens its request, if any."""
    if n.task_id is not None and n.kind != "cc":
        return url_for("web.task", task_id=n.task_id)
    if n.instance_id is not None:
        return url_for("web.instance", instance_id=n.instance_id)
    return url_for("web.notifications")


@bp.post("/notifications/<int:notification_id>/open")
def open_notification(notification_id):
    return redirect(_target(mark_read(deps(), load_user(), notification_id)))


@bp.post("/notifications/read-all")
def read_all_notifications():
    updated = mark_all_read(deps(), load_user())
    flash(f"已将 {updated} 条通知标为已读" if updated else "没有未读通知", "success")
    return redirect(url_for("web.notifications"))


def preferences_page(chosen: Preferences, refused: InvalidInput | None = None, status: int = 200):
    user = load_user()
    problems = [m for messages in (refused.details or {}).values() for m in messages] if refused else []
    return page("notice_preferences.html", status, kinds=KINDS, chosen=chosen.by_channel(),
                channels=channel_rows(user, set(channel_names(current_app.config))), saved_at=chosen.saved_at,
                refused=refused.message if refused else None, problems=problems)


@bp.get("/notifications/preferences")
def notice_preferences():
    return preferences_page(preferences_of(db.session, load_user().id))


@bp.post("/notifications/preferences")
def save_notice_preferences():
    choices = {channel: request.form.getlist(channel) for channel in CHANNELS}
    try:
        save_preferences(deps(), load_user(), choices)
    except InvalidInput as exc:
        return preferences_page(Preferences(choices["email"], choices["sms"]), exc, 400)
    flash("通知设置已保存", "success")
    return redirect(url_for("web.notice_preferences"))
