"""Resolve a lane to the people who may act: holders of its role nearest the instance's org.

Walking up from the instance's org gives "the unit_head of the requesting unit, the finance_reviewer
of its township, county roles above" without hard-coding levels, and lets an office grant a role at
a unit (a 分管领导 for one unit) or once for the whole township. Separation of duties (C17) removes
people before the walk: the applicant, and whoever decided another step of the same request. When the
nearest holders are above the request's own unit or township, or only an admin is left, the task is
flagged (empty approver); it is never approved by itself.
"""
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session, aliased

from app.inbox.proxies import away_at, proxy_applies
from app.models import Decision, Fallback, HumanTask, Org, OrgKind, Proxy, Role, RoleGrant, TaskKind, TaskState, User

# Roles held inside a budget unit; every other role belongs to the township (or the county above).
UNIT_ROLES = frozenset({Role.CLERK, Role.UNIT_HEAD})
LEVEL = {OrgKind.OFFICE: 0, OrgKind.UNIT: 1, OrgKind.TOWNSHIP: 2, OrgKind.COUNTY: 3}


def is_above_usual_level(role: str, org_kind: str) -> bool:
    """A unit role found above the unit, or a township role found at the county: someone else's desk."""
    usual = LEVEL[OrgKind.UNIT] if role in UNIT_ROLES else LEVEL[OrgKind.TOWNSHIP]
    return LEVEL[OrgKind(org_kind)] > usual


@dataclass(frozen=True)
class Candidates:
    scope_org_id: int | None  # where the holders were found; None when nobody holds the role
    user_ids: tuple[int, ...]
    fallback: str | None = None  # Fallback, when not the role's holders at the expected level
    proxies: dict[int, int] = field(default_factory=dict)  # holder -> their proxy while away (代理)


@dataclass(frozen=True)
class Exclusion:
    """Who may not take the task (C17): these users, and whoever decided another step of a request.

    `deciders_of` is (instance id, step id): people who approved or rejected any other step of that
    instance are left out too.
    """

    user_ids: frozenset[int] = frozenset()
    deciders_of: tuple[int, str] | None = None

    def params(self) -> dict:
        instance_id, step = self.deciders_of or (None, None)
        return {"excluded": sorted(self.user_ids), "instance_id": instance_id, "step": step}


def _allowed(column, with_deciders: bool):
    """SQL: `column` is not excluded (bind parameters `excluded`, and `instance_id`/`step` for deciders)."""
    condition = column.not_in(bindparam("excluded", expanding=True))
    if not with_deciders:
        return condition
    deciders = select(HumanTask.completed_by_id).where(
        HumanTask.instance_id == bindparam("instance_id"), HumanTask.state == TaskState.COMPLETED,
        HumanTask.bpmn_id != bindparam("step"), HumanTask.kind != TaskKind.DELEGATE,
        HumanTask.completed_by_id.is_not(None),
        HumanTask.decision.in_([Decision.APPROVE, Decision.REJECT]))
    return and_(condition, column.not_in(deciders))


@cache
def _holders_query(*, with_proxies: bool, with_deciders: bool):
    """Active holders of a role on the path above an org, with their proxies when asked.

    Built once per shape with bind parameters (role, org_id, now, excluded, instance_id, step): this
    runs for every task that opens, and building the statement costs more than running it.
    """
    org_path = select(Org.path).where(Org.id == bindparam("org_id")).scalar_subquery()
    proxy_user = aliased(User)
    away = and_(Proxy.principal_id == RoleGrant.user_id, away_at(bindparam("now"))) if with_proxies \
        else Proxy.id.is_(None)
    return (
        select(RoleGrant.user_id, Org.id, Org.path, Org.kind, proxy_user.id, Proxy.process_ids)
        .join(Org, Org.id == RoleGrant.org_id)
        .join(User, User.id == RoleGrant.user_id)
        .outerjoin(Proxy, away)
        .outerjoin(proxy_user, and_(proxy_user.id == Proxy.proxy_id, proxy_user.active.is_(True),
                                    _allowed(proxy_user.id, with_deciders)))
        .where(RoleGrant.role == bindparam("role"), User.active.is_(True), org_path.like(Org.path + "%"),
               _allowed(RoleGrant.user_id, with_deciders))
    )


def _holders(session: Session, role: str, org_id: int, exclude: Exclusion, process_id: str | None,
             now: datetime | None) -> list[tuple[int, int, str, str, int | None]]:
    """(user, org, org path, org kind, proxy user) for every active holder of `role` on the path."""
    query = _holders_query(with_proxies=now is not None, with_deciders=exclude.deciders_of is not None)
    rows = session.execute(query, {"role": role, "org_id": org_id, "now": now, **exclude.params()}).all()
    return [(u, o, p, kind, proxy if proxy is not None and proxy_applies(processes, process_id) else None)
            for u, o, p, kind, proxy, processes in rows]


def resolve_candidates(session: Session, role: str, org_id: int, *, exclude: Exclusion = Exclusion(),
                       process_id: str | None = None, now: datetime | None = None) -> Candidates:
    """Active holders of `role` at the nearest org on the path from `org_id` up, minus `exclude`.

    With `now`, each holder's active proxy for `process_id` comes along. Falls back to the nearest
    admin when nobody holds the role; flags it (Candidates.fallback) whenever it is not the usual holder.
    """
    rows = _holders(session, role, org_id, exclude, process_id, now)
    fallback = None
    if not rows and role != Role.ADMIN:
        rows = _holders(session, Role.ADMIN, org_id, exclude, process_id, now)
        fallback = Fallback.ADMIN if rows else Fallback.NONE
    if not rows:
        return Candidates(None, (), fallback or Fallback.NONE)
    nearest = max(len(path) for _, _, path, _, _ in rows)
    chosen = [r for r in rows if len(r[2]) == nearest]
    if fallback is None and is_above_usual_level(role, chosen[0][3]):
        fallback = Fallback.HIGHER_HOLDER
    proxies = {u: proxy for u, _, _, _, proxy in chosen if proxy is not None}
    return Candidates(chosen[0][1], tuple(sorted({u for u, *_ in chosen})), fallback, proxies)


def orgs_of_role(user: User, role: str) -> list[Org]:
    """The orgs where `user` holds `role` (grants are loaded with the acting user)."""
    return [g.org for g in user.grants if g.role == role]
