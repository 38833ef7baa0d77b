"""The inbox views: 待办 todo, 已办 done, 我发起的 started, 抄送我的 cc. Filters, sorting and pages in SQL."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from app.inbox.visibility import visible_instances
from app.models import (
    CarbonCopy,
    HumanTask,
    Org,
    ProcessDefinition,
    ProcessInstance,
    TaskCandidate,
    TaskState,
    User,
)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # dates typed by users are China dates
VIEWS = ("todo", "done", "started", "cc")
SORT_KEYS = ("created_at", "updated_at", "amount", "due_at")


@dataclass(frozen=True)
class InboxFilter:
    process: str | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    text: str | None = None
    overdue_at: datetime | None = None  # only what is past its deadline at this moment (超时)
    sort: str = "-created_at"
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    per_page: int


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, LOCAL_TZ)


# Every inbox page is one of a few statement shapes (view, which filters are set, sort order) with the
# values as bind parameters. A shape is built once: constructing these joins costs more Python than
# PostgreSQL spends running them, and 待办 is read on every page (the badge count) and after every step.
FILTERS = ("process", "status", "date_from", "date_to", "amount_min", "amount_max", "text", "overdue_at")


def _shape(f: InboxFilter) -> tuple[tuple[str, ...], str]:
    return tuple(name for name in FILTERS if getattr(f, name) not in (None, "")), f.sort


def _params(f: InboxFilter, user_id: int) -> dict:
    params = {"user_id": user_id, "limit": f.per_page, "offset": (f.page - 1) * f.per_page,
              "process": f.process, "status": f.status, "amount_min": f.amount_min, "amount_max": f.amount_max,
              "overdue_at": f.overdue_at,
              "date_from": _start_of(f.date_from) if f.date_from else None,
              "date_to": _start_of(f.date_to + timedelta(days=1)) if f.date_to else None}
    if f.text:
        escaped = f.text.replace("/", "//").replace("%", "/%").replace("_", "/_")
        params["text"] = f"%{escaped}%"
    return params


def _overdue_task():
    """SQL: the waiting task is past its deadline (待办)."""
    return HumanTask.due_at < bindparam("overdue_at")


def _done_late():
    """SQL: the task was handled after its deadline (已办)."""
    return HumanTask.completed_at > HumanTask.due_at


def _overdue_instance():
    """SQL: the request waits at a task past its deadline (我发起的, 抄送我的)."""
    return exists().where(HumanTask.instance_id == ProcessInstance.id, HumanTask.state == TaskState.READY,
                          HumanTask.due_at < bindparam("overdue_at"))


def _instance_filters(query: Select, present: tuple[str, ...], when, overdue=_overdue_instance) -> Select:
    conditions = {
        "overdue_at": overdue,
        "process": lambda: ProcessInstance.process_id == bindparam("process"),
        "status": lambda: ProcessInstance.status == bindparam("status"),
        "date_from": lambda: when >= bindparam("date_from"),
        "date_to": lambda: when < bindparam("date_to"),
        "amount_min": lambda: ProcessInstance.amount >= bindparam("amount_min"),
        "amount_max": lambda: ProcessInstance.amount <= bindparam("amount_max"),
        "text": lambda: or_(ProcessInstance.title.ilike(bindparam("text"), escape="/"),
                            ProcessInstance.business_key.ilike(bindparam("text"), escape="/")),
    }
    return query.where(*(conditions[name]() for name in present))


def _order(query: Select, sort: str, columns: dict) -> Select:
    column = columns.get(sort.lstrip("-"), columns["created_at"])
    ordered = column.desc() if sort.startswith("-") else column.asc()
    return query.order_by(ordered.nulls_last(), columns["id"].desc())


def _paged(query: Select) -> Select:
    """One page and the total in one statement (a window count)."""
    return (query.add_columns(func.count().over().label("total"))
            .limit(bindparam("limit")).offset(bindparam("offset")))


def _page(session: Session, query: Select, f: InboxFilter, params: dict, wrap=None) -> Page:
    """Run a paged statement; a second statement counts only when asked past the last page."""
    rows = session.execute(query, params).all()
    if rows:
        items = [wrap(row) if wrap else row[0] for row in rows]
        return Page(items, rows[0].total, f.page, f.per_page)
    total = 0
    if f.page > 1:
        every_row = query.order_by(None).limit(None).offset(None).subquery()
        total = session.scalar(select(func.count()).select_from(every_row), params) or 0
    return Page([], total, f.page, f.per_page)


# Lists show names, not whole rows: no password hashes, no BPMN, no saved state.
def _user_columns(relationship):
    return joinedload(relationship).load_only(User.id, User.username, User.display_name)


INSTANCE_SUMMARY = (
    joinedload(ProcessInstance.org).load_only(Org.id, Org.code, Org.name),
    joinedload(ProcessInstance.definition).load_only(ProcessDefinition.id, ProcessDefinition.name,
                                                     ProcessDefinition.version),
    _user_columns(ProcessInstance.initiator),
)


def _task_query(*, completed: bool) -> Select:
    people = [_user_columns(HumanTask.assignee), _user_columns(HumanTask.added_by)] + \
        ([_user_columns(HumanTask.completed_by)] if completed else [])
    return (
        select(HumanTask)
        .join(HumanTask.instance)
        .options(contains_eager(HumanTask.instance).options(*INSTANCE_SUMMARY), *people)
    )


def _task_columns(when) -> dict:
    return {"created_at": when, "updated_at": ProcessInstance.updated_at, "amount": ProcessInstance.amount,
            "due_at": HumanTask.due_at, "id": HumanTask.id}


def may_act_on(user_id):
    """SQL: a READY task not waiting for sub-tasks that is the user's, or unclaimed with the user a candidate."""
    return and_(
        HumanTask.state == TaskState.READY,
        HumanTask.waiting_for.is_(None),
        or_(
            HumanTask.assignee_id == user_id,
            and_(HumanTask.assignee_id.is_(None),
                 exists().where(TaskCandidate.task_id == HumanTask.id, TaskCandidate.user_id == user_id)),
        ),
    )


INSTANCE_COLUMNS = {"created_at": ProcessInstance.created_at, "updated_at": ProcessInstance.updated_at,
                    "amount": ProcessInstance.amount, "due_at": ProcessInstance.updated_at, "id": ProcessInstance.id}
COPY_COLUMNS = {**INSTANCE_COLUMNS, "created_at": CarbonCopy.created_at, "id": CarbonCopy.id}


@lru_cache(maxsize=512)
def _statement(view: str, present: tuple[str, ...], sort: str) -> Select:
    """The paged statement of one view and shape; values come as bind parameters (see _params)."""
    me = bindparam("user_id")
    if view == "todo":
        query, when = _task_query(completed=False).where(may_act_on(me)), HumanTask.created_at
        columns = _task_columns(when)
    elif view == "done":
        query = _task_query(completed=True).where(HumanTask.completed_by_id == me,
                                                  HumanTask.state == TaskState.COMPLETED)
        when = HumanTask.completed_at
        columns = _task_columns(when)
    elif view == "started":
        query = select(ProcessInstance).where(ProcessInstance.initiator_id == me).options(*INSTANCE_SUMMARY)
        when, columns = ProcessInstance.created_at, INSTANCE_COLUMNS
    else:  # cc
        query = (select(CarbonCopy, ProcessInstance)
                 .join(ProcessInstance, ProcessInstance.id == CarbonCopy.instance_id)
                 .where(CarbonCopy.user_id == me)
                 .options(_user_columns(CarbonCopy.sent_by), *INSTANCE_SUMMARY))
        when, columns = CarbonCopy.created_at, COPY_COLUMNS
    overdue = {"todo": _overdue_task, "done": _done_late}.get(view, _overdue_instance)
    return _paged(_order(_instance_filters(query, present, when, overdue), sort, columns))


def _view(session: Session, view: str, user: User, f: InboxFilter, wrap=None) -> Page:
    present, sort = _shape(f)
    return _page(session, _statement(view, present, sort), f, _params(f, user.id), wrap)


def todo(session: Session, user: User, f: InboxFilter) -> Page:
    return _view(session, "todo", user, f)


def done(session: Session, user: User, f: InboxFilter) -> Page:
    return _view(session, "done", user, f)


def started(session: Session, user: User, f: InboxFilter) -> Page:
    return _view(session, "started", user, f)


@dataclass(frozen=True)
class CopyRow:
    """A row of the cc view: the copy and its instance (CarbonCopy has no relationship to it)."""

    copy: CarbonCopy
    instance: ProcessInstance


def cc(session: Session, user: User, f: InboxFilter) -> Page:
    """Requests copied to the user, newest copy first; the same filters and sorts as the other views."""
    return _view(session, "cc", user, f, wrap=lambda row: CopyRow(row[0], row[1]))


def visible(session: Session, user: User, f: InboxFilter) -> Page:
    """Every instance the user may see (their own, their tasks', and those under their oversight).

    Not a cached shape: the condition depends on the user's grants (which orgs they oversee).
    """
    present, sort = _shape(f)
    query = select(ProcessInstance).where(visible_instances(session, user)).options(*INSTANCE_SUMMARY)
    query = _paged(_order(_instance_filters(query, present, ProcessInstance.created_at), sort, INSTANCE_COLUMNS))
    return _page(session, query, f, _params(f, user.id))


def open_tasks_of(session: Session, instance_ids: list[int]) -> dict[int, list[HumanTask]]:
    """READY tasks per instance, for "where is my request now" in lists and details."""
    if not instance_ids:
        return {}
    rows = session.scalars(
        select(HumanTask).options(_user_columns(HumanTask.assignee), _user_columns(HumanTask.added_by))
        .where(HumanTask.instance_id.in_(instance_ids), HumanTask.state == TaskState.READY)
        .order_by(HumanTask.id)
    )
    found: dict[int, list[HumanTask]] = {i: [] for i in instance_ids}
    for task in rows:
        found[task.instance_id].append(task)
    return found
