"""Add orgs and users with their role grants, refusing bad input field by field; disable, enable, unlock users."""
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.approvals.errors import Forbidden, InvalidInput, NotFound
from app.auth.passwords import hash_password
from app.auth.policy import password_problems
from app.auth.sessions import end_sessions
from app.models import ALLOWED_PARENT, Org, OrgKind, Role, RoleGrant, User, role_from_label

log = logging.getLogger(__name__)
ORG_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
# Roles that belong to a budget unit (or an office inside one), never to a township or county.
UNIT_ROLES = {Role.CLERK, Role.UNIT_HEAD}


def add_org(session: Session, code: str, name: str, kind: str, parent_code: str | None = None) -> Org:
    """Create an org under its parent; commits."""
    errors: dict[str, list[str]] = {}
    if not ORG_CODE.match(code or ""):
        errors["code"] = ["代码须为 1-32 位字母、数字、- 或 _"]
    elif session.scalar(select(Org).where(Org.code == code)):
        errors["code"] = [f"代码 {code} 已存在"]
    if not (name or "").strip() or len(name) > 100:
        errors["name"] = ["名称须为 1-100 个字符"]
    if kind not in {k.value for k in OrgKind}:
        errors["kind"] = ["类型须为 county、township、unit 或 office"]
    parent = None
    if parent_code:
        parent = session.scalar(select(Org).where(Org.code == parent_code))
        if parent is None:
            errors["parent"] = [f"上级单位 {parent_code} 不存在"]
    if "kind" not in errors and "parent" not in errors:
        parent_kind = OrgKind(parent.kind) if parent else None
        if parent_kind not in ALLOWED_PARENT[OrgKind(kind)]:
            allowed = "、".join(k.value if k else "（无上级）" for k in ALLOWED_PARENT[OrgKind(kind)])
            errors["parent"] = [f"{kind} 的上级须为：{allowed}"]
    if errors:
        raise InvalidInput("单位信息有误", errors)
    org = Org(code=code, name=name.strip(), kind=kind, parent=parent)
    session.add(org)
    session.flush()
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    session.commit()
    return org


@dataclass(frozen=True)
class GrantSpec:
    role: str
    org_code: str


def parse_grant(text: str) -> GrantSpec:
    """'finance_reviewer@SFZ' (or '财政所审核@SFZ') -> GrantSpec; InvalidInput when malformed."""
    role_text, at, org_code = (text or "").partition("@")
    role = role_from_label(role_text)
    if not at or role is None or not org_code:
        raise InvalidInput("角色格式有误", {"role": [f"{text!r} 应为 角色@单位代码，如 clerk@SFZ-NYB"]})
    return GrantSpec(role, org_code)


def add_user(session: Session, username: str, password: str, grants: list[GrantSpec], *, display_name: str | None,
             now: datetime, hash_profile: str, min_password: int = 8) -> User:
    """Create a user holding `grants`; commits. Every problem is reported, nothing half-created."""
    errors: dict[str, list[str]] = {}
    if not USERNAME.match(username or ""):
        errors["username"] = ["用户名须为 3-64 位小写字母、数字、. _ -，以字母或数字开头"]
    elif session.scalar(select(User).where(User.username == username)):
        errors["username"] = [f"用户 {username} 已存在"]
    if problems := password_problems(password, username, min_password):
        errors["password"] = problems
    if not grants:
        errors["role"] = ["至少授予一个角色（--role 角色@单位代码）"]
    orgs = {}
    for grant in grants:
        org = orgs.get(grant.org_code) or session.scalar(select(Org).where(Org.code == grant.org_code))
        if org is None:
            errors.setdefault("role", []).append(f"单位 {grant.org_code} 不存在")
            continue
        orgs[grant.org_code] = org
        if grant.role in UNIT_ROLES and org.kind not in (OrgKind.UNIT, OrgKind.OFFICE):
            errors.setdefault("role", []).append(f"{grant.role} 只能授予在预算单位或科室，{org.name} 是 {org.kind}")
    if errors:
        raise InvalidInput("用户信息有误", errors)
    user = User(username=username, display_name=(display_name or username).strip()[:64],
                password_hash=hash_password(password, hash_profile), active=True, created_at=now)
    user.grants = [RoleGrant(role=g.role, org=orgs[g.org_code]) for g in dict.fromkeys(grants)]
    session.add(user)
    session.commit()
    return user


# ------------------------------------------------------------------------------- managing accounts


def _admin_orgs(actor: User) -> list[Org]:
    return [g.org for g in actor.grants if g.role == Role.ADMIN]


def _managed_user(session: Session, actor: User | None, username: str) -> User:
    """The user an admin may manage: every grant of theirs at or under the admin's org.

    `actor` None is the command line, which may manage anyone. Users of other townships are answered
    exactly as unknown ones (404), so usernames cannot be probed.
    """
    if actor is not None and not _admin_orgs(actor):
        raise Forbidden("只有系统管理员可以管理用户")
    user = session.scalar(select(User).where(User.username == (username or "")[:64]))
    if user is None or actor is None:
        if user is None:
            raise NotFound(f"没有用户 {username}")
        return user
    under = [any(g.org.path.startswith(org.path) for org in _admin_orgs(actor)) for g in user.grants]
    if not any(under):
        raise NotFound(f"没有用户 {username}")
    if not all(under):
        raise Forbidden(f"{username} 还在其他乡镇任职，须由上级系统管理员处理")
    return user


def _who(actor: User | None) -> str:
    return actor.username if actor is not None else "the command line"


def disable_user(session: Session, actor: User | None, username: str) -> User:
    """停用: the user can no longer log in, and every session and token of theirs ends now; commits."""
    user = _managed_user(session, actor, username)
    if actor is not None and user.id == actor.id:
        raise InvalidInput("不能停用自己的账号", {"username": ["不能停用自己的账号"]})
    user.active = False
    end_sessions(session, user)
    session.commit()
    log.info("user %s disabled by %s; every session and token ended", user.username, _who(actor))
    return user


def enable_user(session: Session, actor: User | None, username: str) -> User:
    """启用 again; sessions from before the user was disabled stay ended; commits."""
    user = _managed_user(session, actor, username)
    user.active = True
    end_sessions(session, user)  # also those of a user disabled by hand in the database
    session.commit()
    log.info("user %s enabled by %s", user.username, _who(actor))
    return user


def unlock_user(session: Session, actor: User | None, username: str, now: datetime) -> User:
    """解锁: the user's failed logins so far stop counting, from every address; commits."""
    user = _managed_user(session, actor, username)
    user.login_reset_at = now
    session.commit()
    log.info("failed logins of %s cleared by %s", user.username, _who(actor))
    return user
