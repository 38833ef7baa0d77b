"""Who stands in for whom right now (代理). The one rule for "away now" is `away_at`; task assignment
joins it into its candidate query (app/inbox/assignment.py), the rest reads `active_proxies`."""
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, joinedload

from app.models import Proxy, User


def away_at(now: datetime):
    """SQL on Proxy: its window contains `now` and it was not revoked."""
    return and_(Proxy.revoked_at.is_(None), Proxy.starts_at <= now, Proxy.ends_at > now)


def proxy_applies(process_ids: list | None, process_id: str | None) -> bool:
    """A proxy without a process list covers every process; one with a list covers only those."""
    return process_ids is None or process_id in process_ids


def active_proxies(session: Session, principal_ids: Iterable[int], process_id: str | None,
                   now: datetime) -> dict[int, int]:
    """principal id -> proxy user id, for the principals away at `now` for `process_id`.

    A proxy counts when its window [starts_at, ends_at) contains `now`, it is not revoked, it covers
    the process, and the proxy user is active. Windows of one principal do not overlap (set_proxy
    refuses that); should two ever match, the one set last wins.
    """
    ids = list(dict.fromkeys(principal_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Proxy.principal_id, Proxy.proxy_id, Proxy.process_ids)
        .join(User, User.id == Proxy.proxy_id)
        .where(Proxy.principal_id.in_(ids), away_at(now), User.active.is_(True))
        .order_by(Proxy.created_at, Proxy.id)
    ).all()
    return {principal: proxy for principal, proxy, processes in rows if proxy_applies(processes, process_id)}


def proxy_status(proxy: Proxy, now: datetime) -> str:
    """revoked, ended, active (the window contains now) or scheduled."""
    if proxy.revoked_at is not None:
        return "revoked"
    if proxy.ends_at <= now:
        return "ended"
    return "active" if proxy.starts_at <= now else "scheduled"


def proxies_of(session: Session, user: User, limit: int = 100) -> tuple[list[Proxy], list[Proxy]]:
    """(proxies the user set for themselves, proxies where the user stands in), newest first."""
    people = [joinedload(r).load_only(User.id, User.username, User.display_name)
              for r in (Proxy.principal, Proxy.proxy)]

    def newest(condition) -> list[Proxy]:
        return list(session.scalars(
            select(Proxy).options(*people).where(condition)
            .order_by(Proxy.starts_at.desc(), Proxy.id.desc()).limit(limit)
        ))

    return newest(Proxy.principal_id == user.id), newest(Proxy.proxy_id == user.id)
