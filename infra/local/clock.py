"""The demo's simulated clock, and the shift that makes 2017 conversations happen "now".

The platform server releases a post only once the simulated clock has passed its (shifted)
``created_at``, and every handler invocation is stamped with the same clock, so a week of
polling plays out in seconds while every component agrees on what time it is.

The shift is a whole number of weeks: weekday, time of day and every interval are kept,
so response times, business hours (in UTC profiles) and weekly buckets are exactly those of
the archive, which is what lets the demo's report be compared figure for figure with
``responsegap analyze`` on the original file.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

WEEK = 7 * 86400


class SimClock:
    """Epoch seconds under the demo's control; thread-safe (the platform server reads it)."""

    def __init__(self, start: int) -> None:
        self._now = int(start)
        self._lock = threading.Lock()

    def now(self) -> int:
        with self._lock:
            return self._now

    def __call__(self) -> float:
        # Lets the clock stand in wherever a ``clock: Callable[[], float]`` is accepted.
        return float(self.now())

    def advance(self, seconds: int) -> int:
        if seconds < 0:
            raise ValueError("the simulated clock never goes back")
        with self._lock:
            self._now += int(seconds)
            return self._now

    def set(self, moment: int) -> None:
        with self._lock:
            if moment < self._now:
                raise ValueError("the simulated clock never goes back")
            self._now = int(moment)

    def iso(self) -> str:
        return iso_z(self.now())


def iso_z(moment: int) -> str:
    """``2026-11-16T09:30:00Z``: the form EventBridge puts in an event's ``time``."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def monday_of(moment: int) -> int:
    """Monday 00:00 UTC of the ISO week containing ``moment``."""
    day = datetime.fromtimestamp(moment, UTC).date()
    monday = day - timedelta(days=day.weekday())
    return int(datetime(monday.year, monday.month, monday.day, tzinfo=UTC).timestamp())


def iso_week(moment: int) -> str:
    year, week, _ = datetime.fromtimestamp(moment, UTC).isocalendar()
    return f"{year}-W{week:02d}"


def week_start(week: str) -> int:
    """Monday 00:00 UTC of ``2017-W47``."""
    year, number = week.split("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    return int(datetime(monday.year, monday.month, monday.day, tzinfo=UTC).timestamp())


def last_full_week(moments: list[int]) -> int:
    """Monday 00:00 UTC of the last ISO week the data covers completely.

    The data's final week is usually cut short (the archive stops mid-week), so "last full
    week" is the week before the one holding the last post, unless that post falls in the
    last minutes of a Sunday.
    """
    last = max(moments)
    monday = monday_of(last)
    return monday if last >= monday + WEEK - 3600 else monday - WEEK


def weeks_shift(data_week: int, now: int) -> int:
    """Seconds (a whole number of weeks) moving ``data_week`` onto the week before ``now``'s."""
    target = monday_of(now) - WEEK
    return target - data_week
