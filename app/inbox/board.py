"""The supervisors' board (督办看板): overdue and due-soon tasks, who holds them, and which step is slow.

Read side, no Flask, no commits. `open_board` reads the viewer's scope and the calendars once; each
section is then one statement, whatever the number of tasks:

- `overdue_tasks`: open tasks past due or due within `due_soon_hours`, most overdue first, one page;
- `summary`: overdue / due soon / escalated / empty-approver counts by township, unit, role and person,
  and the aging buckets, from one GROUP BY;
- `escalated_tasks`, `empty_approver_tasks`: open tasks up the escalation ladder, or that fell back
  because nobody held the role (Fallback);
- `step_times`: completed steps over a period, count, average and p90 hours per step, slowest first.

Scope is what the viewer may see of requests (app/inbox/visibility.py): every request made under an org
where they hold an oversight role. A task belongs to the request's org: its unit and that unit's township,
wherever the task's holders sit. A task with no assignee counts for nobody in particular (person None),
whoever its candidates are; its candidates are counted on the row.

Aging is counted in working days of the request's township (app/deadlines/calendar.py):
working_days_between(due_at, now). That depends only on the local date of due_at and falls as the date
rises, so "at least k working days overdue" is "due_at before local midnight of the k-th working day
counted back from today". Three such cutoffs per township make the bucket a comparison on due_at in SQL
(no row read into Python to count 100,000 tasks); the listed rows get the same figure from the calendar.
Buckets: "<1" (0 working days), "1-3" (1 to 3), "3-7" (over 3, up to 7), ">7" (8 or more).
"""
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Float, and_, case, cast, exists, false, func, literal, or_, select
from sqlalchemy.orm import Session

from app.approvals.errors import NotFound
from app.deadlines.calendar import CHINA, WorkCalendar, calendar_for, local_date
from app.models import (
    OVERSIGHT_ROLES,
    Fallback,
    HumanTask,
    Org,
    OrgKind,
    ProcessInstance,
    TaskCandidate,
    TaskKind,
    TaskState,
    User,
)

BUCKETS = ("<1", "1-3", "3-7", ">7")
THRESHOLDS = (1, 4, 8)  # working days overdue at which a task moves into the next bucket
BUCKET_NAMES = {"<1": "不足1个工作日", "1-3": "1-3个工作日", "3-7": "3-7个工作日", ">7": "7个工作日以上"}
FALLBACK_NAMES = {Fallback.HIGHER_HOLDER: "本级无人，由上级岗位办理", Fallback.ADMIN: "无人可办，已转管理员",
                  Fallback.NONE: "无人可办，等待督办转办"}
DEFAULT_PERIOD_DAYS = 30
LOOKBACK_DAYS = 400  # how far back the bucket cutoffs are searched (a calendar with no working day at all)
LONG_AGO = datetime(1970, 1, 1, tzinfo=CHINA)


def bucket_of(days: int) -> str:
    """The aging bucket of a task overdue by `days` working days."""
    return BUCKETS[sum(days >= t for t in THRESHOLDS)]


def is_overseer(user: User) -> bool:
    """The board is for the oversight roles (unit head, finance head, supervisor, auditor, admin)."""
    return any(g.role in OVERSIGHT_ROLES for g in user.grants)


@dataclass(frozen=True)
class BoardFilter:
    org: str | None = None  # a township or unit code: its subtree (within the viewer's scope)
    role: str | None = None  # the task's role code
    user: str | None = None  # a username: tasks assigned to them, or open to them as a candidate
    due_soon_hours: int = 24
    period_from: date | None = None  # step times: completed on or after this local date (default: 30 days)
    period_to: date | None = None  # ... up to this local date included (default: today)
    page: int = 1
    per_page: int = 50
    list_limit: int = 100  # rows of the escalated and empty-approver lists


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    display_name: str


@dataclass(frozen=True)
class BoardTask:
    id: int
    instance_id: int
    title: str
    business_key: str | None
    process_id: str
    bpmn_id: str
    name: str
    kind: str
    org: Org  # the request's org
    township: Org | None
    unit: Org | None
    role: str | None
    assignee: Person | None
    candidate_count: int
    created_at: datetime
    due_at: datetime | None
    overdue: bool
    overdue_working_days: int | None  # None unless overdue
    aging: str | None  # the bucket, None unless overdue
    escalation_level: int
    escalated_at: datetime | None
    escalated_to_role: str | None
    fallback: str | None


@dataclass(frozen=True)
class TaskList:
    items: list[BoardTask]
    total: int


@dataclass
class Counts:
    overdue: int = 0
    due_soon: int = 0
    escalated: int = 0
    empty_approver: int = 0

    def add(self, other: "Counts") -> None:
        self.overdue += other.overdue
        self.due_soon += other.due_soon
        self.escalated += other.escalated
        self.empty_approver += other.empty_approver


@dataclass(frozen=True)
class Group:
    key: object  # an Org, a role code, a Person, or None (no unit / no role / nobody assigned)
    counts: Counts


@dataclass(frozen=True)
class Summary:
    totals: Counts
    by_township: list[Group]
    by_unit: list[Group]
    by_role: list[Group]
    by_person: list[Group]
    aging: dict[str, int]  # bucket -> overdue tasks, every bucket present, in BUCKETS order


@dataclass(frozen=True)
class StepTime:
    process_id: str
    bpmn_id: str
    name: str
    count: int
    avg_hours: float
    p90_hours: float


@dataclass(frozen=True)
class Scope:
    """The orgs whose requests the viewer sees on the board, with each one's township and unit."""

    org_ids: tuple[int, ...]
    orgs: Mapping[int, Org]  # the orgs in scope and their ancestors
    township_of: Mapping[int, int | None]
    unit_of: Mapping[int, int | None]


@dataclass(frozen=True)
class Board:
    session: Session
    scope: Scope
    filter: BoardFilter
    now: datetime
    calendars: Mapping[int | None, WorkCalendar]  # per township id (None: above any township)
    cutoffs: Mapping[int | None, tuple[datetime, ...]] = field(default_factory=dict)  # per township, THRESHOLDS

    @property
    def soon(self) -> datetime:
        return self.now + timedelta(hours=self.filter.due_soon_hours)

    @property
    def period(self) -> tuple[date, date]:
        end = self.filter.period_to or local_date(self.now)
        return self.filter.period_from or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1), end

    def calendar_of(self, org_id: int) -> WorkCalendar:
        return self.calendars[self.scope.township_of.get(org_id)]


# --- scope and calendars -----------------------------------------------------------------------------------

def _nearest(org: Org, orgs: Mapping[int, Org], kind: str) -> int | None:
    return next((i for i in org.ancestor_ids() if i in orgs and orgs[i].kind == kind), None)


def board_scope(session: Session, viewer: User, org_code: str | None = None) -> Scope:
    """The orgs under the viewer's oversight grants (one statement), narrowed to `org_code`'s subtree.

    Raises NotFound when `org_code` names no org the viewer oversees.
    """
    paths = {g.org.path for g in viewer.grants if g.role in OVERSIGHT_ROLES}
    if not paths:
        return Scope((), {}, {}, {})
    ancestors = {i for g in viewer.grants if g.role in OVERSIGHT_ROLES for i in g.org.ancestor_ids()}
    orgs = {o.id: o for o in session.scalars(
        select(Org).where(or_(Org.id.in_(ancestors), *(Org.path.like(p + "%") for p in paths))))}
    inside = [o for o in orgs.values() if any(o.path.startswith(p) for p in paths)]
    if org_code is not None:
        top = next((o for o in inside if o.code == org_code), None)
        if top is None:
            raise NotFound("没有这个乡镇或单位，或你无权查看", {"org": ["不在你督办的范围内"]})
        inside = [o for o in inside if o.path.startswith(top.path)]
    return Scope(tuple(sorted(o.id for o in inside)), orgs,
                 {o.id: _nearest(o, orgs, OrgKind.TOWNSHIP) for o in inside},
                 {o.id: _nearest(o, orgs, OrgKind.UNIT) for o in inside})


def bucket_cutoffs(calendar: WorkCalendar, now: datetime) -> tuple[datetime, ...]:
    """For each threshold k, the instant c with: a task due before `now` is k+ working days overdue iff due < c.

    Found with the calendar's own working_days_between, probing one local date a day back from today.
    """
    today, found = local_date(now), []
    for back in range(1, LOOKBACK_DAYS + 1):
        day = today - timedelta(days=back)
        days = calendar.working_days_between(datetime.combine(day, time(12), CHINA), now)
        while len(found) < len(THRESHOLDS) and days >= THRESHOLDS[len(found)]:
            found.append(datetime.combine(day + timedelta(days=1), time.min, CHINA))
        if len(found) == len(THRESHOLDS):
            break
    return tuple(found) + (LONG_AGO,) * (len(THRESHOLDS) - len(found))


def open_board(session: Session, viewer: User, f: BoardFilter, now: datetime) -> Board:
    """The viewer's board at `now`: scope (one statement) and one calendar per township in it."""
    scope = board_scope(session, viewer, f.org)
    townships = sorted(set(scope.township_of.values()), key=lambda t: (t is not None, t or 0))
    calendars = {t: calendar_for(session, t) for t in townships}
    cutoffs = {t: bucket_cutoffs(c, now) for t, c in calendars.items()}
    return Board(session, scope, f, now, calendars, cutoffs)


# --- SQL pieces --------------------------------------------------------------------------------------------

def _conditions(board: Board, *, open_tasks: bool = True) -> list[ColumnElement[bool]]:
    """Scope, role and person filters on HumanTask joined to its ProcessInstance."""
    f = board.filter
    conditions = [ProcessInstance.org_id.in_(board.scope.org_ids) if board.scope.org_ids else false()]
    if f.role:
        conditions.append(HumanTask.role == f.role)
    if f.user:
        user_id = select(User.id).where(User.username == f.user).scalar_subquery()
        if open_tasks:
            conditions.append(or_(HumanTask.assignee_id == user_id, and_(
                HumanTask.assignee_id.is_(None),
                exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.user_id == user_id))))
        else:
            conditions.append(HumanTask.completed_by_id == user_id)
    if open_tasks:
        conditions.append(HumanTask.state == TaskState.READY)
    return conditions


def _bucket(board: Board) -> ColumnElement[int]:
    """SQL: the aging bucket index (0..3) of an overdue task, by its township's cutoffs."""
    def by(cutoffs):
        return case(*((HumanTask.due_at < c, len(cutoffs) - i) for i, c in enumerate(reversed(cutoffs))), else_=0)

    orgs_by_cutoffs: dict[tuple, list[int]] = defaultdict(list)
    for org_id in board.scope.org_ids:
        orgs_by_cutoffs[board.cutoffs[board.scope.township_of[org_id]]].append(org_id)
    groups = list(orgs_by_cutoffs.items())
    if not groups:
        return literal(0)
    *others, (last, _) = groups
    if not others:
        return by(last)
    return case(*((ProcessInstance.org_id.in_(ids), by(c)) for c, ids in others), else_=by(last))


TASK_COLUMNS = (HumanTask.id, HumanTask.instance_id, HumanTask.bpmn_id, HumanTask.name, HumanTask.kind,
                HumanTask.role, HumanTask.assignee_id, HumanTask.created_at, HumanTask.due_at,
                HumanTask.escalation_level, HumanTask.escalated_at, HumanTask.escalated_to_role, HumanTask.fallback,
                ProcessInstance.title, ProcessInstance.business_key, ProcessInstance.process_id, ProcessInstance.org_id)


def _task_list(board: Board, condition, order: Iterable[str], limit: int, offset: int = 0) -> TaskList:
    """One page of open tasks with the total, the assignee and the number of candidates: one statement.

    The page is cut in a subquery first, so the candidates are counted for its rows only.
    """
    if not board.scope.org_ids:
        return TaskList([], 0)
    order = list(order)

    def ordering(cols):
        return [cols[name.lstrip("-")].desc() if name.startswith("-") else cols[name].asc() for name in order]

    inner = (select(*TASK_COLUMNS, func.count().over().label("total"))
             .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
             .where(*_conditions(board), condition)
             .order_by(*ordering({c.key: c for c in TASK_COLUMNS})).limit(limit).offset(offset).subquery())
    candidates = select(func.count()).where(TaskCandidate.task_id == inner.c.id).scalar_subquery()
    rows = board.session.execute(
        select(inner, User.username, User.display_name, candidates.label("candidate_count"))
        .outerjoin(User, User.id == inner.c.assignee_id).order_by(*ordering(inner.c))).all()
    if not rows and offset:
        total = board.session.scalar(select(func.count()).select_from(HumanTask)
                                     .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                                     .where(*_conditions(board), condition))
        return TaskList([], total or 0)
    return TaskList([_board_task(board, row) for row in rows], rows[0].total if rows else 0)


def _board_task(board: Board, row) -> BoardTask:
    scope, now = board.scope, board.now
    overdue = row.due_at is not None and row.due_at < now
    days = board.calendar_of(row.org_id).working_days_between(row.due_at, now) if overdue else None
    township, unit = scope.township_of.get(row.org_id), scope.unit_of.get(row.org_id)
    return BoardTask(
        id=row.id, instance_id=row.instance_id, title=row.title, business_key=row.business_key,
        process_id=row.process_id, bpmn_id=row.bpmn_id, name=row.name, kind=row.kind, org=scope.orgs[row.org_id],
        township=scope.orgs.get(township) if township else None, unit=scope.orgs.get(unit) if unit else None,
        role=row.role, assignee=Person(row.assignee_id, row.username, row.display_name) if row.assignee_id else None,
        candidate_count=row.candidate_count, created_at=row.created_at, due_at=row.due_at, overdue=overdue,
        overdue_working_days=days, aging=bucket_of(days) if overdue else None,
        escalation_level=row.escalation_level, escalated_at=row.escalated_at,
        escalated_to_role=row.escalated_to_role, fallback=row.fallback,
    )


# --- the sections ------------------------------------------------------------------------------------------

def overdue_tasks(board: Board) -> TaskList:
    """Open tasks past due or due within the next `due_soon_hours`, most overdue first (one page)."""
    f = board.filter
    return _task_list(board, HumanTask.due_at < board.soon, ("due_at", "id"), f.per_page, (f.page - 1) * f.per_page)


def escalated_tasks(board: Board) -> TaskList:
    """Open tasks up the escalation ladder, highest level first, then longest escalated."""
    return _task_list(board, HumanTask.escalation_level > 0, ("-escalation_level", "escalated_at", "id"),
                      board.filter.list_limit)


def empty_approver_tasks(board: Board) -> TaskList:
    """Open tasks that went to a fallback because nobody held the role (空岗), oldest first."""
    return _task_list(board, HumanTask.fallback.is_not(None), ("created_at", "id"), board.filter.list_limit)


def _count(condition) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def summary(board: Board) -> Summary:
    """Counts by township, unit, role and person, and the aging buckets: one GROUP BY statement."""
    if not board.scope.org_ids:
        return _summary([], board)
    overdue = HumanTask.due_at < board.now
    due_soon = and_(HumanTask.due_at >= board.now, HumanTask.due_at < board.soon)
    escalated, empty = HumanTask.escalation_level > 0, HumanTask.fallback.is_not(None)
    bucket = _bucket(board)
    rows = board.session.execute(
        select(ProcessInstance.org_id, HumanTask.role, HumanTask.assignee_id, User.username, User.display_name,
               _count(overdue).label("overdue"), _count(due_soon).label("due_soon"),
               _count(escalated).label("escalated"), _count(empty).label("empty_approver"),
               *(_count(and_(overdue, bucket == i)).label(f"aging{i}") for i in range(len(BUCKETS))))
        .select_from(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .outerjoin(User, User.id == HumanTask.assignee_id)
        .where(*_conditions(board), or_(HumanTask.due_at < board.soon, escalated, empty))
        .group_by(ProcessInstance.org_id, HumanTask.role, HumanTask.assignee_id, User.username, User.display_name)
    ).all()
    return _summary(rows, board)


def _summary(rows, board: Board) -> Summary:
    scope = board.scope
    totals, aging = Counts(), dict.fromkeys(BUCKETS, 0)
    groups: dict[str, dict] = {name: {} for name in ("township", "unit", "role", "person")}
    for row in rows:
        counts = Counts(row.overdue, row.due_soon, row.escalated, row.empty_approver)
        totals.add(counts)
        for i, name in enumerate(BUCKETS):
            aging[name] += getattr(row, f"aging{i}")
        township, unit = scope.township_of.get(row.org_id), scope.unit_of.get(row.org_id)
        person = Person(row.assignee_id, row.username, row.display_name) if row.assignee_id else None
        for name, key in (("township", scope.orgs.get(township) if township else None),
                          ("unit", scope.orgs.get(unit) if unit else None), ("role", row.role), ("person", person)):
            groups[name].setdefault(key, Counts()).add(counts)
    return Summary(totals, *(_ranked(groups[n]) for n in ("township", "unit", "role", "person")), aging)


def _label(key) -> str:
    return getattr(key, "code", None) or getattr(key, "username", None) or (key or "")


def _ranked(groups: dict) -> list[Group]:
    """Worst first: most overdue, then due soon, escalated, empty approver; ties by code, username or role."""
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1].overdue, -kv[1].due_soon, -kv[1].escalated,
                                                     -kv[1].empty_approver, kv[0] is None, _label(kv[0])))
    return [Group(key, counts) for key, counts in ordered]


def _period_bounds(board: Board) -> tuple[datetime, datetime]:
    start, end = board.period
    return datetime.combine(start, time.min, CHINA), datetime.combine(end + timedelta(days=1), time.min, CHINA)


def step_times(board: Board) -> list[StepTime]:
    """Completed steps (kind step) over the period, per (process, step id, name): count, average and p90 hours
    from opening to completion, slowest first. p90 is percentile_cont(0.9): linear between the two nearest
    values. PostgreSQL computes it in SQL; SQLite has no percentile_cont, so there the durations come back
    and the same definition runs in Python.
    """
    if not board.scope.org_ids:
        return []
    start, end = _period_bounds(board)
    where = (*_conditions(board, open_tasks=False), HumanTask.kind == TaskKind.STEP,
             HumanTask.state == TaskState.COMPLETED, HumanTask.completed_at >= start, HumanTask.completed_at < end)
    keys = (HumanTask.bpmn_process_id, HumanTask.bpmn_id, HumanTask.name)
    base = select(*keys).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(*where)
    if board.session.get_bind().dialect.name == "postgresql":
        hours = cast(func.extract("epoch", HumanTask.completed_at - HumanTask.created_at), Float) / 3600.0
        rows = board.session.execute(base.add_columns(func.count(), func.avg(hours),
                                                      func.percentile_cont(0.9).within_group(hours))
                                     .group_by(*keys)).all()
        found = [StepTime(p, b, n, count, round(float(avg), 2), round(float(p90), 2))
                 for p, b, n, count, avg, p90 in rows]
    else:
        durations: dict[tuple, list[float]] = defaultdict(list)
        for p, b, n, opened, done in board.session.execute(
                base.add_columns(HumanTask.created_at, HumanTask.completed_at)):
            durations[(p, b, n)].append((done - opened).total_seconds() / 3600)
        found = [StepTime(*key, len(v), round(sum(v) / len(v), 2), round(percentile_cont(v, 0.9), 2))
                 for key, v in durations.items()]
    return sorted(found, key=lambda s: (-s.avg_hours, -s.p90_hours, s.process_id, s.bpmn_id, s.name))


def percentile_cont(values: Iterable[float], fraction: float) -> float:
    """PostgreSQL's percentile_cont: the value at position fraction * (n - 1) of the sorted values, interpolated."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class BoardReport:
    """Every section of the board, as the API and the workbook show it."""

    as_of: datetime
    due_soon_hours: int
    period: tuple[date, date]
    overdue: TaskList
    summary: Summary
    escalated: TaskList
    empty_approver: TaskList
    step_times: list[StepTime]


def board_report(session: Session, viewer: User, f: BoardFilter, now: datetime) -> BoardReport:
    """The whole board: scope, calendars, then one statement per section."""
    board = open_board(session, viewer, f, now)
    return BoardReport(now, f.due_soon_hours, board.period, overdue_tasks(board), summary(board),
                       escalated_tasks(board), empty_approver_tasks(board), step_times(board))
