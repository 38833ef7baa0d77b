"""Render a page in the layout: who is logged in, their roles, their waiting tasks and unread notifications."""
from flask import render_template

from app.auth.request import load_user
from app.extensions import db
from app.inbox import queries
from app.inbox.notifications import unread_count
from app.models import ROLE_NAMES, User


def role_labels(user: User) -> list[str]:
    return [f"{ROLE_NAMES.get(g.role, g.role)}（{g.org.name}）" for g in user.grants]


def todo_count(user: User) -> int:
    return queries.todo(db.session, user, queries.InboxFilter(per_page=1)).total


def page(template: str, status: int = 200, headers: dict | None = None, **context):
    user = load_user()
    context.update(current_user=user, nav_roles=role_labels(user) if user else [],
                   nav_todo=todo_count(user) if user else 0,
                   nav_unread=unread_count(db.session, user.id) if user else 0)
    return render_template(template, **context), status, headers or {}
