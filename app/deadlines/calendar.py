"""The working-day calendar for deadlines: China's official calendar, then the township's own days.

National days come from the chinese-calendar package: weekends, the public holidays and the 调休
make-up workdays the State Council announces each year (a Sunday before National Day may be a working
day, a Saturday after it too). On top of that each township keeps a table of local days (LocalHoliday):
`is_workday=False` a local day off, `is_workday=True` a 调休上班 on a day otherwise off. A local row
always wins. For a year the package does not know yet (it raises NotImplementedError), Monday to Friday
are working days and a warning is logged once per year: add that year's holidays as local days, or
upgrade the package, until it does.

Deadlines are counted in local dates (Asia/Shanghai, no daylight saving) and end at the office's close:
"within n working days" of a moment is 17:30 on the n-th working day after its local date; a moment on
a day off counts as if it came on the next working day (the way 行政许可 counts a filing on a holiday),
so a Saturday filing with n=1 is due Tuesday, not Monday. Moments go in and come out aware; out is UTC.

No Flask here; `calendar_for` is the only function that touches the database (one query).
"""
import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import LocalHoliday

log = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
OFFICE_CLOSE = time(17, 30)
MAX_WORKING_DAYS = 1000  # about four years: a larger n is a mistake (and a loop nobody should run)

_warned_years: set[int] = set()


def _warn_uncovered(year: int) -> None:
    if year not in _warned_years:
        _warned_years.add(year)
        log.warning("chinese-calendar has no official calendar for %s: counting Monday to Friday as working days; "
                    "add the year's holidays as local days or upgrade chinesecalendar", year)


@lru_cache(maxsize=8192)
def national_is_workday(day: date) -> bool:
    """China's official calendar (weekends, holidays, 调休); Monday to Friday for a year it does not cover."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        _warn_uncovered(day.year)
        return day.weekday() < 5


def local_date(moment: datetime) -> date:
    """The date of an aware moment in China. A naive datetime is refused: its zone would be a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"需要带时区的时间，{moment!r} 没有时区")
    return moment.astimezone(CHINA).date()


def _as_date(day: date) -> date:
    return local_date(day) if isinstance(day, datetime) else day


class WorkCalendar:
    """Working days: a township's local overrides {date: is_workday} first, then the national calendar."""

    def __init__(self, overrides: Mapping[date, bool] | None = None):
        self._overrides: Mapping[date, bool] = MappingProxyType(dict(overrides or {}))

    @property
    def overrides(self) -> Mapping[date, bool]:
        return self._overrides

    def __repr__(self) -> str:
        return f"WorkCalendar({len(self._overrides)} local days)"

    def is_workday(self, day: date) -> bool:
        """Is `day` a working day here? (An aware datetime is taken at its date in China.)"""
        day = _as_date(day)
        local = self._overrides.get(day)
        return local if local is not None else national_is_workday(day)

    def next_workday(self, day: date) -> date:
        """The first working day strictly after `day`."""
        day = _as_date(day) + timedelta(days=1)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """The deadline "within n working days" of `start`: 17:30 China time on the n-th working day after
        start's local date (after the next working day if start falls on a day off), as an aware UTC datetime.
        """
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_WORKING_DAYS:
            raise ValueError(f"工作日数须为 1 到 {MAX_WORKING_DAYS} 的整数，实际为 {n!r}")
        day = local_date(start)
        if not self.is_workday(day):
            day = self.next_workday(day)
        for _ in range(n):
            day = self.next_workday(day)
        return datetime.combine(day, OFFICE_CLOSE, tzinfo=CHINA).astimezone(UTC)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """How many working days d have start's local date < d <= end's local date (0 if end <= start).

        The supervisors' board buckets an overdue task by working_days_between(due_at, now).
        """
        first, last = local_date(start), local_date(end)
        if end <= start:
            return 0
        return sum(self.is_workday(first + timedelta(days=i)) for i in range(1, (last - first).days + 1))


def calendar_for(session: Session, township_id: int | None) -> WorkCalendar:
    """The calendar of a township: the national one with its LocalHoliday rows (one query); None: national only."""
    if township_id is None:
        return WorkCalendar()
    rows = session.execute(select(LocalHoliday.day, LocalHoliday.is_workday)
                           .where(LocalHoliday.township_id == township_id))
    return WorkCalendar({day: is_workday for day, is_workday in rows})
