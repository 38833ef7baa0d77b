"""The one place that reads the wall clock.

Everything else receives `now` as an argument (read once per user action), so a test pins time with
time-machine and every layer, SpiffWorkflow's timers included, sees the same instant.
"""
from datetime import UTC, datetime


def now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)
