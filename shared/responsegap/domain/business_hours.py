"""Seconds inside a profile's business hours, in its own timezone, correct across DST."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from responsegap.domain.model import BusinessHours


@lru_cache(maxsize=65536)
def _open_intervals(timezone: str, day: date, hours: BusinessHours) -> tuple[tuple[int, int], ...]:
    """The UTC epoch intervals during which the profile is open on local ``day``.

    Built from wall-clock times with zoneinfo, so a day with a DST change is 23 or 25
    hours long and a local time that does not exist resolves the way zoneinfo does
    (fold=0: the offset in force before the change).
    """
    tz = ZoneInfo(timezone)
    out = []
    for start_minute, end_minute in hours.days[day.weekday()]:
        start = _local_epoch(day, start_minute, tz)
        end = _local_epoch(day, end_minute, tz)
        if end > start:
            out.append((start, end))
    return tuple(out)


def _local_epoch(day: date, minute: int, tz: ZoneInfo) -> int:
    if minute >= 1440:
        day, minute = day + timedelta(days=1), minute - 1440
    return int(datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz).timestamp())


def _local_date(epoch: int, timezone: str) -> date:
    return datetime.fromtimestamp(epoch, ZoneInfo(timezone)).date()


def business_seconds(start: int, end: int, timezone: str, hours: BusinessHours) -> int:
    """How many seconds of ``[start, end)`` fall inside business hours."""
    if end <= start or hours.is_empty:
        return 0
    total = 0
    day = _local_date(start, timezone) - timedelta(days=1)  # an interval can open the day before
    last = _local_date(end, timezone)
    while day <= last:
        for open_at, close_at in _open_intervals(timezone, day, hours):
            overlap = min(end, close_at) - max(start, open_at)
            if overlap > 0:
                total += overlap
        day += timedelta(days=1)
    return total


def in_business_hours(moment: int, timezone: str, hours: BusinessHours) -> bool:
    """Whether the profile is open at ``moment``."""
    day = _local_date(moment, timezone)
    return any(a <= moment < b for a, b in _open_intervals(timezone, day, hours))


def local_weekday_hour(moment: int, timezone: str) -> tuple[int, int]:
    """(weekday 0=Monday, hour 0-23) of ``moment`` on the profile's wall clock."""
    local = datetime.fromtimestamp(moment, ZoneInfo(timezone))
    return local.weekday(), local.hour
