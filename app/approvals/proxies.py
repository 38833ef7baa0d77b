"""代理: while away, a user names a colleague to do the tasks that arrive for them in a time window.

One proxy at a time: a principal's active windows never overlap, so "who stands in for X now" has one
answer. Setting and revoking lock the principal's user row (SELECT ... FOR UPDATE), so two requests
at once cannot both pass the overlap check. Tasks already open keep their people; assignment reads
the proxies (app.inbox.proxies.active_proxies) when a task opens.
"""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, false, or_, select
from sqlalchemy.orm import Session

from app.approvals.deps import Deps, transaction
from app.approvals.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Org, OrgKind, ProcessDefinition, Proxy, RoleGrant, User

MAX_WINDOW = timedelta(days=180)
MAX_PAST = timedelta(days=1)  # a window may start a little in the past: "since this morning"
MAX_REASON = 200
MAX_PROCESSES = 50
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def _local(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _lock_user(session: Session, user_id: int) -> None:
    """Serialise every proxy change of one principal on their user row."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update())


def _working_scope(session: Session, principal: User) -> list[str]:
    """The org paths a proxy of `principal` must hold a role under: their townships, or for county staff
    (no township) their own orgs."""
    grant_paths = [g.org.path for g in principal.grants]
    townships = [path for path in session.scalars(select(Org.path).where(Org.kind == OrgKind.TOWNSHIP))
                 if any(p.startswith(path) for p in grant_paths)]
    return townships or grant_paths


def _proxy_user(session: Session, principal: User, username, errors: dict) -> User | None:
    """The proxy named, active and working where the principal works (a township in common).

    Unknown, inactive and elsewhere get one answer, found by one statement: a principal must not learn
    who works in another township (as for cc, transfer, delegate and signers, app/approvals/targets.py).
    """
    if not isinstance(username, str) or not username.strip():
        errors["proxy"] = ["请填写代理人的用户名"]
        return None
    name = username.strip()
    if name == principal.username:
        errors["proxy"] = ["不能指定自己为代理人"]
        return None
    nearby = exists().where(RoleGrant.user_id == User.id, RoleGrant.org_id == Org.id,
                            or_(false(), *(Org.path.startswith(path) for path in _working_scope(session, principal))))
    proxy = session.scalar(select(User).where(User.username == name, User.active.is_(True), nearby))
    if proxy is None:
        errors["proxy"] = [f"{name}：用户不存在、已停用，或不在你所在的乡镇"]
    return proxy


def _check_window(starts_at, ends_at, now: datetime, errors: dict) -> None:
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime) or value.tzinfo is None:
            errors[name] = ["须为带时区的时间（ISO 8601，如 2026-03-01T08:00:00+08:00）"]
    if errors.keys() & {"starts_at", "ends_at"}:
        return
    if starts_at < now - MAX_PAST:
        errors["starts_at"] = ["开始时间最早只能是一天前"]
    if ends_at <= starts_at:
        errors["ends_at"] = ["结束时间须晚于开始时间"]
    elif ends_at - starts_at > MAX_WINDOW:
        errors["ends_at"] = [f"代理期限最长 {MAX_WINDOW.days} 天"]


def _check_processes(session: Session, process_ids, errors: dict) -> list[str] | None:
    if process_ids is None:
        return None
    if not isinstance(process_ids, list) or not all(isinstance(p, str) for p in process_ids):
        errors["process_ids"] = ["须为流程 id 列表"]
        return None
    wanted = list(dict.fromkeys(process_ids))
    if not wanted:
        errors["process_ids"] = ["不能为空列表；不限流程请不填"]
        return None
    if len(wanted) > MAX_PROCESSES:
        errors["process_ids"] = [f"最多 {MAX_PROCESSES} 个流程"]
        return None
    deployed = set(session.scalars(
        select(ProcessDefinition.process_id).where(ProcessDefinition.process_id.in_(wanted))))
    unknown = [p for p in wanted if p not in deployed]
    if unknown:
        errors["process_ids"] = [f"{p}：没有部署这个流程" for p in unknown]
    return wanted


def _overlapping(session: Session, principal_id: int, starts_at: datetime, ends_at: datetime) -> Proxy | None:
    return session.scalar(
        select(Proxy).where(Proxy.principal_id == principal_id, Proxy.revoked_at.is_(None),
                            Proxy.starts_at < ends_at, Proxy.ends_at > starts_at)
        .order_by(Proxy.starts_at).limit(1)
    )


def set_proxy(deps: Deps, user: User, proxy_username: str, starts_at: datetime, ends_at: datetime,
              process_ids: list[str] | None = None, reason: str | None = None) -> Proxy:
    """Name `proxy_username` to act for `user` in [starts_at, ends_at), for every process or those listed."""
    session = deps.session
    with transaction(session):
        _lock_user(session, user.id)
        errors: dict[str, list[str]] = {}
        proxy = _proxy_user(session, user, proxy_username, errors)
        _check_window(starts_at, ends_at, deps.now, errors)
        processes = _check_processes(session, process_ids, errors)
        if reason is not None and len(reason) > MAX_REASON:
            errors["reason"] = [f"不能超过 {MAX_REASON} 个字符"]
        if errors:
            raise InvalidInput("代理设置有误", errors)
        clash = _overlapping(session, user.id, starts_at, ends_at)
        if clash is not None:
            message = (f"与已设置的代理（{clash.proxy.display_name}，{_local(clash.starts_at)} 至 "
                       f"{_local(clash.ends_at)}）时间重叠；同一时间只能有一位代理人，请先撤销")
            raise Conflict("代理时间重叠", {"starts_at": [message], "ends_at": [message]})
        row = Proxy(principal_id=user.id, proxy_id=proxy.id, starts_at=starts_at, ends_at=ends_at,
                    process_ids=processes, reason=reason or None, created_at=deps.now)
        session.add(row)
    return row


def revoke_proxy(deps: Deps, user: User, proxy_id: int) -> Proxy:
    """The principal ends a proxy (now, or before it starts); revoking twice changes nothing."""
    session = deps.session
    with transaction(session):
        _lock_user(session, user.id)
        row = session.get(Proxy, proxy_id, with_for_update=True, populate_existing=True)
        if row is None or user.id not in (row.principal_id, row.proxy_id):
            raise NotFound("代理设置不存在")
        if row.principal_id != user.id:
            raise Forbidden("只有委托人可以撤销代理")
        if row.revoked_at is None:
            row.revoked_at = deps.now
    return row
