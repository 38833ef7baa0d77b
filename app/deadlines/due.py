"""Due times of user tasks: from the diagram, in working days of the request's township."""
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app.deadlines.calendar import WorkCalendar
from app.models import LocalHoliday, Org, OrgKind, ProcessInstance

DUE_PROPERTY = "due_working_days"  # user task property: the task is due within this many working days
MAX_DUE_WORKING_DAYS = 366


def township_id_of(session: Session, org_id: int) -> int | None:
    """The township an org is in (itself when it is one); None above the township level (a county)."""
    org, township = aliased(Org), aliased(Org)
    return session.scalar(select(township.id).join(org, org.path.startswith(township.path))
                          .where(org.id == org_id, township.kind == OrgKind.TOWNSHIP))


def instance_calendar(session: Session, instance_id: int) -> WorkCalendar:
    """The working-day calendar of the township a request was made in: its local days, in one statement
    (none for a request above the township level: the national calendar alone)."""
    org, township = aliased(Org), aliased(Org)
    rows = session.execute(
        select(LocalHoliday.day, LocalHoliday.is_workday)
        .join(township, township.id == LocalHoliday.township_id)
        .join(org, org.path.startswith(township.path))
        .join(ProcessInstance, ProcessInstance.org_id == org.id)
        .where(ProcessInstance.id == instance_id, township.kind == OrgKind.TOWNSHIP))
    return WorkCalendar(dict(rows.all()))


def due_from_property(properties: dict, calendar: WorkCalendar, opened_at: datetime) -> datetime | None:
    """A task's due time from its `due_working_days` property (checked at deploy), if it has one."""
    days = properties.get(DUE_PROPERTY)
    if days in (None, ""):
        return None
    return calendar.add_working_days(opened_at, int(days))


def property_problem(properties: dict) -> str | None:
    """What is wrong with a task's due property, for the deploy check."""
    days = str(properties.get(DUE_PROPERTY, "")).strip()
    if not days:
        return None
    if not days.isdigit() or not 1 <= int(days) <= MAX_DUE_WORKING_DAYS:
        return f"属性 {DUE_PROPERTY} 须为 1 到 {MAX_DUE_WORKING_DAYS} 的整数（工作日），实际为 {days!r}"
    return None
