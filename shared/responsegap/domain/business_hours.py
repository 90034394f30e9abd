"""Seconds inside a profile's business hours, in its own timezone, correct across DST.

Reports call these hundreds of thousands of times, so a :class:`BusinessCalendar` keeps
what it has worked out: local date and hour per 15-minute slice of UTC (every modern UTC
offset is a multiple of 15 minutes, so a slice never straddles a local hour), and the UTC
opening intervals per local day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from responsegap.domain.model import BusinessHours

_SLICE = 900


class BusinessCalendar:
    """One profile's timezone and opening hours."""

    __slots__ = ("_days", "_open_minutes", "_slices", "hours", "timezone", "tz")

    def __init__(self, timezone: str, hours: BusinessHours) -> None:
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)
        self.hours = hours
        self._slices: dict[int, tuple[int, int, int]] = {}
        self._days: dict[int, tuple[tuple[int, int], ...]] = {}
        self._open_minutes: dict[int, bool] = {}

    def local(self, moment: int) -> tuple[int, int, int]:
        """(local date ordinal, weekday 0=Monday, hour) of ``moment``."""
        index = moment // _SLICE
        found = self._slices.get(index)
        if found is None:
            local = datetime.fromtimestamp(index * _SLICE, self.tz)
            found = self._slices[index] = (local.toordinal(), local.weekday(), local.hour)
        return found

    def open_intervals(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        """UTC epoch intervals during which the profile is open on local day ``ordinal``.

        Built from wall-clock times with zoneinfo, so a day with a DST change is 23 or 25
        hours long; a local time that does not exist resolves as zoneinfo does (fold=0).
        """
        found = self._days.get(ordinal)
        if found is None:
            day = date.fromordinal(ordinal)
            found = tuple(
                (start, end)
                for start, end in (
                    (_local_epoch(day, a, self.tz), _local_epoch(day, b, self.tz))
                    for a, b in self.hours.days[day.weekday()]
                )
                if end > start
            )
            self._days[ordinal] = found
        return found

    def business_seconds(self, start: int, end: int) -> int:
        """How many seconds of ``[start, end)`` fall inside business hours."""
        if end <= start or self.hours.is_empty:
            return 0
        total = 0
        # Opening intervals end by 24:00 of their own day, so only the days from start's to
        # end's can overlap.
        for ordinal in range(self.local(start)[0], self.local(end)[0] + 1):
            for open_at, close_at in self.open_intervals(ordinal):
                overlap = (end if end < close_at else close_at) - (start if start > open_at else open_at)
                if overlap > 0:
                    total += overlap
        return total

    def is_open(self, moment: int) -> bool:
        # Opening hours are whole minutes, so one answer holds for a whole minute.
        minute = moment // 60
        found = self._open_minutes.get(minute)
        if found is None:
            start = minute * 60
            found = self._open_minutes[minute] = any(
                a <= start < b for a, b in self.open_intervals(self.local(start)[0])
            )
        return found


def _local_epoch(day: date, minute: int, tz: ZoneInfo) -> int:
    if minute >= 1440:
        day, minute = day + timedelta(days=1), minute - 1440
    return int(datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz).timestamp())


@lru_cache(maxsize=1024)
def calendar(timezone: str, hours: BusinessHours) -> BusinessCalendar:
    return BusinessCalendar(timezone, hours)


def business_seconds(start: int, end: int, timezone: str, hours: BusinessHours) -> int:
    """How many seconds of ``[start, end)`` fall inside business hours."""
    return calendar(timezone, hours).business_seconds(start, end)


def in_business_hours(moment: int, timezone: str, hours: BusinessHours) -> bool:
    """Whether the profile is open at ``moment``."""
    return calendar(timezone, hours).is_open(moment)


def local_weekday_hour(moment: int, timezone: str) -> tuple[int, int]:
    """(weekday 0=Monday, hour 0-23) of ``moment`` on the profile's wall clock."""
    _, weekday, hour = calendar(timezone, BusinessHours()).local(moment)
    return weekday, hour
