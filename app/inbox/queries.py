"""The inbox views: 待办 todo, 已办 done, 我发起的 started, 抄送我的 cc. Filters, sorting and pages in SQL."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, exists, func, or_, select
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


def _instance_filters(query: Select, f: InboxFilter, when) -> Select:
    conditions = []
    if f.process:
        conditions.append(ProcessInstance.process_id == f.process)
    if f.status:
        conditions.append(ProcessInstance.status == f.status)
    if f.date_from:
        conditions.append(when >= _start_of(f.date_from))
    if f.date_to:
        conditions.append(when < _start_of(f.date_to + timedelta(days=1)))
    if f.amount_min is not None:
        conditions.append(ProcessInstance.amount >= f.amount_min)
    if f.amount_max is not None:
        conditions.append(ProcessInstance.amount <= f.amount_max)
    if f.text:
        conditions.append(or_(ProcessInstance.title.icontains(f.text, autoescape=True),
                              ProcessInstance.business_key.icontains(f.text, autoescape=True)))
    return query.where(*conditions)


def _order(query: Select, f: InboxFilter, columns: dict) -> Select:
    key = f.sort.lstrip("-")
    column = columns.get(key, columns["created_at"])
    ordered = column.desc() if f.sort.startswith("-") else column.asc()
    id_column = columns["id"]
    return query.order_by(ordered.nulls_last(), id_column.desc())


def _page(session: Session, query: Select, f: InboxFilter) -> Page:
    """One page and the total in one statement (a window count); a second only past the last page."""
    rows = session.execute(
        query.add_columns(func.count().over().label("total")).limit(f.per_page).offset((f.page - 1) * f.per_page)
    ).all()
    if rows:
        return Page([row[0] for row in rows], rows[0].total, f.page, f.per_page)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) if f.page > 1 else 0
    return Page([], total or 0, f.page, f.per_page)


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


def may_act_on(user_id: int):
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


def todo(session: Session, user: User, f: InboxFilter) -> Page:
    query = _task_query(completed=False).where(may_act_on(user.id))
    query = _instance_filters(query, f, HumanTask.created_at)
    return _page(session, _order(query, f, _task_columns(HumanTask.created_at)), f)


def done(session: Session, user: User, f: InboxFilter) -> Page:
    query = _task_query(completed=True).where(HumanTask.completed_by_id == user.id,
                                              HumanTask.state == TaskState.COMPLETED)
    query = _instance_filters(query, f, HumanTask.completed_at)
    return _page(session, _order(query, f, _task_columns(HumanTask.completed_at)), f)


def _instance_page(session: Session, condition, f: InboxFilter) -> Page:
    query = select(ProcessInstance).where(condition).options(*INSTANCE_SUMMARY)
    query = _instance_filters(query, f, ProcessInstance.created_at)
    columns = {"created_at": ProcessInstance.created_at, "updated_at": ProcessInstance.updated_at,
               "amount": ProcessInstance.amount, "due_at": ProcessInstance.updated_at, "id": ProcessInstance.id}
    return _page(session, _order(query, f, columns), f)


def started(session: Session, user: User, f: InboxFilter) -> Page:
    return _instance_page(session, ProcessInstance.initiator_id == user.id, f)


@dataclass(frozen=True)
class CopyRow:
    """A row of the cc view: the copy and its instance (CarbonCopy has no relationship to it)."""

    copy: CarbonCopy
    instance: ProcessInstance


def cc(session: Session, user: User, f: InboxFilter) -> Page:
    """Requests copied to the user, newest copy first; the same filters and sorts as the other views."""
    query = (select(CarbonCopy, ProcessInstance)
             .join(ProcessInstance, ProcessInstance.id == CarbonCopy.instance_id)
             .where(CarbonCopy.user_id == user.id)
             .options(_user_columns(CarbonCopy.sent_by), *INSTANCE_SUMMARY))
    query = _instance_filters(query, f, CarbonCopy.created_at)
    columns = {"created_at": CarbonCopy.created_at, "updated_at": ProcessInstance.updated_at,
               "amount": ProcessInstance.amount, "due_at": ProcessInstance.updated_at, "id": CarbonCopy.id}
    query = _order(query, f, columns)
    rows = session.execute(
        query.add_columns(func.count().over().label("total")).limit(f.per_page).offset((f.page - 1) * f.per_page)
    ).all()
    if rows:
        return Page([CopyRow(row[0], row[1]) for row in rows], rows[0].total, f.page, f.per_page)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) if f.page > 1 else 0
    return Page([], total or 0, f.page, f.per_page)


def visible(session: Session, user: User, f: InboxFilter) -> Page:
    """Every instance the user may see (their own, their tasks', and those under their oversight)."""
    return _instance_page(session, visible_instances(session, user), f)


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
