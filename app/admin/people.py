"""Add orgs and users with their role grants, refusing bad input field by field."""
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.approvals.errors import InvalidInput
from app.auth.passwords import hash_password
from app.models import ALLOWED_PARENT, Org, OrgKind, Role, RoleGrant, User, role_from_label

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
    if len(password or "") < min_password:
        errors["password"] = [f"密码至少 {min_password} 位"]
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
