"""The working-day calendar on real 2026 dates from chinese-calendar: 调休 Sundays and Saturdays worked,
Mid-Autumn and National Day off, local days on top, Monday to Friday for years the package does not know,
and moments in UTC in and out (Beijing time has no daylight saving)."""
import logging
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.deadlines import calendar
from app.deadlines.calendar import CHINA, OFFICE_CLOSE, WorkCalendar, national_is_workday

NATIONAL = WorkCalendar()


def beijing(day: str, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in 示范镇, as the database holds it (UTC)."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time().replace(hour=hour, minute=minute),
                            tzinfo=CHINA).astimezone(UTC)


def close_of(day: str) -> datetime:
    """17:30 Beijing time on `day`, in UTC: 09:30Z."""
    return datetime.combine(date.fromisoformat(day), OFFICE_CLOSE, tzinfo=CHINA).astimezone(UTC)


# -- the national calendar of 2026 -----------------------------------------------------------------------

@pytest.mark.parametrize("day,working", [
    ("2026-09-18", True),  # Friday
    ("2026-09-19", False),  # Saturday
    ("2026-09-20", True),  # Sunday worked for National Day (调休)
    ("2026-09-25", False),  # Mid-Autumn, a Friday
    ("2026-09-27", False),  # Mid-Autumn, a Sunday
    ("2026-10-01", False),  # National Day
    ("2026-10-07", False),  # the last day of the Golden Week, a Wednesday
    ("2026-10-08", True),
    ("2026-10-10", True),  # Saturday worked for National Day (调休)
    ("2026-10-11", False),  # an ordinary Sunday
])
def test_the_national_calendar_knows_holidays_and_make_up_workdays(day, working):
    assert NATIONAL.is_workday(date.fromisoformat(day)) is working


def test_a_task_created_on_friday_due_in_three_working_days_counts_the_make_up_sunday():
    due = NATIONAL.add_working_days(beijing("2026-09-18"), 3)  # Sun 20 (调休), Mon 21, Tue 22
    assert due == close_of("2026-09-22") == datetime(2026, 9, 22, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("n,due", [
    (1, "2026-09-28"),  # Mid-Autumn 25-27 skipped
    (3, "2026-09-30"),
    (4, "2026-10-08"),  # the Golden Week 10-01..10-07 skipped
    (5, "2026-10-09"),
    (6, "2026-10-10"),  # the make-up Saturday is a working day
    (7, "2026-10-12"),  # Sunday 10-11 is not
])
def test_deadlines_cross_mid_autumn_national_day_and_the_make_up_saturday(n, due):
    assert NATIONAL.add_working_days(beijing("2026-09-24"), n) == close_of(due)


def test_a_task_opened_on_a_day_off_counts_from_the_next_working_day():
    assert NATIONAL.add_working_days(beijing("2026-10-03"), 1) == close_of("2026-10-09")  # as if opened 10-08
    assert NATIONAL.add_working_days(beijing("2026-09-19"), 1) == close_of("2026-09-21")  # as if opened Sun 20
    assert NATIONAL.add_working_days(beijing("2026-09-18"), 1) == close_of("2026-09-20")  # Friday: the Sunday


def test_the_time_of_day_does_not_matter_only_the_local_date():
    assert NATIONAL.add_working_days(beijing("2026-09-18", 0, 1), 3) == \
        NATIONAL.add_working_days(beijing("2026-09-18", 23, 59), 3) == close_of("2026-09-22")


def test_next_workday_is_the_first_working_day_strictly_after():
    assert NATIONAL.next_workday(date(2026, 9, 18)) == date(2026, 9, 20)
    assert NATIONAL.next_workday(date(2026, 9, 30)) == date(2026, 10, 8)
    assert NATIONAL.next_workday(date(2026, 10, 9)) == date(2026, 10, 10)
    assert NATIONAL.next_workday(date(2026, 10, 10)) == date(2026, 10, 12)


# -- local days ------------------------------------------------------------------------------------------

def test_a_local_day_off_is_skipped():
    township = WorkCalendar({date(2026, 9, 21): False})  # 示范镇's own day off, a Monday
    assert not township.is_workday(date(2026, 9, 21))
    assert township.add_working_days(beijing("2026-09-18"), 3) == close_of("2026-09-23")
    assert NATIONAL.is_workday(date(2026, 9, 21))


def test_a_local_make_up_workday_counts():
    township = WorkCalendar({date(2026, 9, 19): True})  # 调休上班 on a Saturday
    assert township.add_working_days(beijing("2026-09-18"), 3) == close_of("2026-09-21")
    assert township.next_workday(date(2026, 9, 18)) == date(2026, 9, 19)


def test_a_local_row_overrides_the_national_calendar_both_ways():
    township = WorkCalendar({date(2026, 10, 10): False, date(2026, 10, 5): True})
    assert not township.is_workday(date(2026, 10, 10))  # the national make-up Saturday, cancelled here
    assert township.is_workday(date(2026, 10, 5))  # a Golden Week day worked here
    assert township.add_working_days(beijing("2026-09-30"), 1) == close_of("2026-10-05")
    assert township.add_working_days(beijing("2026-10-09"), 1) == close_of("2026-10-12")


def test_the_calendar_keeps_its_own_copy_of_the_overrides():
    days = {date(2026, 9, 21): False}
    township = WorkCalendar(days)
    days[date(2026, 9, 21)] = True
    assert not township.is_workday(date(2026, 9, 21))
    with pytest.raises(TypeError):
        township.overrides[date(2026, 9, 22)] = False  # type: ignore[index]


# -- years chinese-calendar does not cover -------------------------------------------------------------------

@pytest.fixture
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(calendar, "_warned_years", set())
    national_is_workday.cache_clear()
    yield
    national_is_workday.cache_clear()


def test_a_year_the_library_does_not_know_falls_back_to_monday_to_friday_with_one_warning(fresh_warnings, caplog):
    caplog.set_level(logging.WARNING, logger="app.deadlines.calendar")
    assert NATIONAL.is_workday(date(2041, 1, 1))  # a Tuesday; whatever the holiday, unknown here
    assert not NATIONAL.is_workday(date(2041, 1, 5))  # a Saturday
    due = NATIONAL.add_working_days(beijing("2041-01-04"), 2)  # Friday: Monday 7, Tuesday 8
    assert due == close_of("2041-01-08")
    warnings = [r for r in caplog.records if "2041" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


def test_each_uncovered_year_is_warned_about_once(fresh_warnings, caplog):
    caplog.set_level(logging.WARNING, logger="app.deadlines.calendar")
    assert NATIONAL.working_days_between(beijing("2040-12-30"), beijing("2041-01-02")) == 3  # Mon 31, Tue 1, Wed 2
    assert NATIONAL.is_workday(date(2003, 5, 6))  # before the package's first year too
    years = sorted(y for r in caplog.records for y in (2003, 2040, 2041) if str(y) in r.getMessage())
    assert years == [2003, 2040, 2041]


def test_a_local_row_still_wins_in_an_uncovered_year(fresh_warnings):
    township = WorkCalendar({date(2041, 1, 1): False})  # 元旦, entered by the township until the package knows
    assert township.add_working_days(beijing("2040-12-31"), 1) == close_of("2041-01-02")


def test_the_crossing_into_an_uncovered_year_keeps_counting(fresh_warnings):
    last = max(y for y in range(2026, 2100) if _covered(y))
    due = NATIONAL.add_working_days(beijing(f"{last}-12-31"), 10)
    assert due.astimezone(CHINA).year == last + 1
    assert due.astimezone(CHINA).time() == OFFICE_CLOSE


def _covered(year: int) -> bool:
    import chinese_calendar

    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


# -- zones: UTC in, UTC out --------------------------------------------------------------------------------

def test_a_utc_evening_is_already_the_next_day_in_china():
    late_thursday_utc = datetime(2026, 9, 17, 20, 0, tzinfo=UTC)  # Friday 04:00 in 示范镇
    due = NATIONAL.add_working_days(late_thursday_utc, 1)
    assert due == datetime(2026, 9, 20, 9, 30, tzinfo=UTC)  # the 调休 Sunday, 17:30 Beijing
    assert due.tzinfo is UTC and due.utcoffset() == timedelta(0)
    friday_night_utc = datetime(2026, 9, 18, 16, 30, tzinfo=UTC)  # Saturday 00:30 in 示范镇: a day off
    assert NATIONAL.add_working_days(friday_night_utc, 1) == datetime(2026, 9, 21, 9, 30, tzinfo=UTC)


def test_any_aware_zone_gives_the_same_deadline_and_naive_moments_are_refused():
    moment = beijing("2026-09-18")
    elsewhere = moment.astimezone(timezone(timedelta(hours=-5)))
    assert NATIONAL.add_working_days(elsewhere, 3) == NATIONAL.add_working_days(moment, 3)
    with pytest.raises(ValueError):
        NATIONAL.add_working_days(datetime(2026, 9, 18, 10, 0), 3)
    with pytest.raises(ValueError):
        NATIONAL.working_days_between(datetime(2026, 9, 18), moment)


def test_the_same_hour_every_season_beijing_has_no_daylight_saving():
    for day in ("2026-01-05", "2026-03-30", "2026-07-06", "2026-11-02"):
        assert NATIONAL.add_working_days(beijing(day), 1).time() == datetime.min.time().replace(hour=9, minute=30)


def test_is_workday_takes_an_aware_moment_at_its_date_in_china():
    assert NATIONAL.is_workday(datetime(2026, 9, 19, 16, 30, tzinfo=UTC))  # Sunday 20, 00:30: a 调休 day
    assert not NATIONAL.is_workday(datetime(2026, 9, 19, 15, 30, tzinfo=UTC))  # Saturday 19, 23:30


@pytest.mark.parametrize("n", [0, -1, True, 1.5, "3", calendar.MAX_WORKING_DAYS + 1])
def test_the_number_of_working_days_must_be_a_sensible_positive_integer(n):
    with pytest.raises(ValueError):
        NATIONAL.add_working_days(beijing("2026-09-18"), n)


# -- how late a task is --------------------------------------------------------------------------------

def test_working_days_between_counts_the_working_days_after_the_start_up_to_the_end():
    due = close_of("2026-09-30")
    assert NATIONAL.working_days_between(due, beijing("2026-09-30", 18)) == 0  # late the same evening
    assert NATIONAL.working_days_between(due, beijing("2026-10-07")) == 0  # the holiday does not count
    assert NATIONAL.working_days_between(due, beijing("2026-10-08", 9)) == 1
    assert NATIONAL.working_days_between(due, beijing("2026-10-10")) == 3  # 10-08, 10-09, the make-up 10-10
    assert NATIONAL.working_days_between(due, beijing("2026-10-12")) == 4


def test_working_days_between_is_zero_when_the_end_is_not_after_the_start():
    due = close_of("2026-10-09")
    assert NATIONAL.working_days_between(due, due) == 0
    assert NATIONAL.working_days_between(due, beijing("2026-09-18")) == 0


def test_working_days_between_respects_local_days():
    township = WorkCalendar({date(2026, 10, 9): False, date(2026, 10, 11): True})
    assert township.working_days_between(close_of("2026-09-30"), beijing("2026-10-12")) == 4  # 8, 10, 11, 12


@pytest.mark.parametrize("start", ["2026-09-18", "2026-09-24", "2026-09-30", "2026-10-09"])
@pytest.mark.parametrize("n", [1, 2, 5, 10])
def test_a_deadline_is_exactly_n_working_days_after_a_working_day(start, n):
    opened = beijing(start)
    assert NATIONAL.working_days_between(opened, NATIONAL.add_working_days(opened, n)) == n
