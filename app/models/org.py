"""Organisations, people and the roles they hold within an org scope."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.types import UtcDateTime


class OrgKind(StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    UNIT = "unit"  # 预算单位
    OFFICE = "office"  # 内设科室/站所 inside a unit


# Which kinds may sit under which: county -> township -> unit -> office (a county may have sub-counties
# only in the sense of 区县 under a city; we keep one county level).
ALLOWED_PARENT = {
    OrgKind.COUNTY: {None, OrgKind.COUNTY},
    OrgKind.TOWNSHIP: {OrgKind.COUNTY},
    OrgKind.UNIT: {OrgKind.TOWNSHIP},
    OrgKind.OFFICE: {OrgKind.UNIT, OrgKind.TOWNSHIP},
}


class Role(StrEnum):
    """Role codes exactly as lanes and grants use them; Chinese names in ROLE_NAMES."""

    CLERK = "clerk"
    UNIT_HEAD = "unit_head"
    FINANCE_REVIEWER = "finance_reviewer"
    FINANCE_HEAD = "finance_head"
    DEPUTY_HEAD = "deputy_head"
    FINANCE_DEPUTY = "finance_deputy"
    TOWNSHIP_HEAD = "township_head"
    PARTY_SECRETARY = "party_secretary"
    PARTY_COMMITTEE = "party_committee"
    CONGRESS = "congress"
    TREASURY = "treasury"
    SUPERVISOR = "supervisor"
    PROCESS_OWNER = "process_owner"
    AUDITOR = "auditor"
    ADMIN = "admin"


ROLE_NAMES = {
    Role.CLERK: "经办人",
    Role.UNIT_HEAD: "单位负责人",
    Role.FINANCE_REVIEWER: "财政所审核",
    Role.FINANCE_HEAD: "财政所所长",
    Role.DEPUTY_HEAD: "分管领导",
    Role.FINANCE_DEPUTY: "分管财政领导",
    Role.TOWNSHIP_HEAD: "镇长",
    Role.PARTY_SECRETARY: "党委书记",
    Role.PARTY_COMMITTEE: "党委会",
    Role.CONGRESS: "镇人大",
    Role.TREASURY: "国库支付",
    Role.SUPERVISOR: "督办",
    Role.PROCESS_OWNER: "流程管理员",
    Role.AUDITOR: "审计",
    Role.ADMIN: "系统管理员",
}

# Roles that see every instance in the subtree of the org they are granted at (read access only;
# acting on a task still needs the task's own role). Everyone else sees what they take part in.
OVERSIGHT_ROLES = frozenset(
    {Role.UNIT_HEAD, Role.FINANCE_HEAD, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN}
)


def role_from_label(label: str) -> Role | None:
    """Read a lane name: a role code or that role's Chinese name (surrounding blanks ignored)."""
    label = (label or "").strip()
    if label in Role.__members__.values():
        return Role(label)
    for role, name in ROLE_NAMES.items():
        if name == label:
            return role
    return None


class Org(Base):
    __tablename__ = "org"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org.id"))
    # Materialised ancestry "/1/4/9/" (self included): subtree = path LIKE '/1/4/%'.
    path: Mapped[str] = mapped_column(String(255), index=True, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Budget units only: "administrative" (行政单位) or "institution" (事业单位); picks the voucher pairs.
    unit_type: Mapped[str | None] = mapped_column(String(16))

    parent: Mapped["Org | None"] = relationship(remote_side=[id])

    def ancestor_ids(self) -> list[int]:
        """Ids from this org up to the root, nearest first."""
        return [int(x) for x in reversed(self.path.strip("/").split("/")) if x]


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Where notices go besides the app (the outbox's email and SMS senders); optional.
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Every login session and API token carries the version it began under; raising it (logout, a new
    # password, being disabled) ends them all at once (app/auth/sessions.py).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Failed logins before this moment no longer count towards a lock (an admin's unlock).
    login_reset_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    grants: Mapped[list["RoleGrant"]] = relationship(
        # Loaded with the acting user (app.auth.request); other users shown in lists never need them.
        back_populates="user", cascade="all, delete-orphan", order_by="RoleGrant.id"
    )


class RoleGrant(Base):
    """User U holds role R at org O: U acts as R for O and everything below it."""

    __tablename__ = "role_grant"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "org_id"),
        Index("ix_role_grant_role_org", "role", "org_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))

    user: Mapped[User] = relationship(back_populates="grants")
    org: Mapped[Org] = relationship(lazy="joined")
