"""Resolve a lane to the people who may act: holders of its role nearest the instance's org.

Walking up from the instance's org gives "the unit_head of the requesting unit, the finance_reviewer
of its township, county roles above" without hard-coding levels, and lets an office grant a role at
a unit (a 分管领导 for one unit) or once for the whole township.
"""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Org, RoleGrant, User


@dataclass(frozen=True)
class Candidates:
    scope_org_id: int | None  # where the holders were found; None when nobody holds the role
    user_ids: tuple[int, ...]


def resolve_candidates(session: Session, role: str, org_id: int) -> Candidates:
    """Active holders of `role` at the nearest org on the path from `org_id` to the root."""
    org_path = select(Org.path).where(Org.id == org_id).scalar_subquery()
    rows = session.execute(
        select(RoleGrant.user_id, Org.id, Org.path)
        .join(Org, Org.id == RoleGrant.org_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.role == role, User.active.is_(True), org_path.like(Org.path + "%"))
    ).all()
    if not rows:
        return Candidates(None, ())
    nearest = max(len(path) for _, _, path in rows)
    holders = [(user_id, oid) for user_id, oid, path in rows if len(path) == nearest]
    return Candidates(holders[0][1], tuple(sorted({u for u, _ in holders})))


def orgs_of_role(user: User, role: str) -> list[Org]:
    """The orgs where `user` holds `role` (grants are loaded with the user)."""
    return [g.org for g in user.grants if g.role == role]
