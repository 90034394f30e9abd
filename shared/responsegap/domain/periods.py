"""Reporting periods: ``[start, end)`` in epoch seconds; weeks start Monday 00:00 local time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from responsegap.domain.model import ConfigError


@dataclass(frozen=True, slots=True)
class Period:
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"period end {self.end} is not after start {self.start}")

    def __contains__(self, moment: int) -> bool:
        return self.start <= moment < self.end


def parse_iso_week(text: str) -> tuple[int, int]:
    """``2026-W47`` -> (2026, 47)."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", text.strip())
    if not match:
        raise ConfigError(f"week {text!r} is not like 2026-W47")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError as error:
        raise ConfigError(f"week {text!r} does not exist") from error
    return year, week


def week_period(week: str, timezone: str) -> Period:
    """The ISO week, Monday 00:00 to the next Monday 00:00, on ``timezone``'s wall clock."""
    year, number = parse_iso_week(week)
    tz = ZoneInfo(timezone)
    monday = date.fromisocalendar(year, number, 1)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
    following = monday + timedelta(days=7)
    end = datetime(following.year, following.month, following.day, tzinfo=tz)
    return Period(int(start.timestamp()), int(end.timestamp()))


def week_of(moment: int, timezone: str) -> str:
    """The ISO week (``2026-W47``) containing ``moment`` on ``timezone``'s wall clock."""
    local = datetime.fromtimestamp(moment, ZoneInfo(timezone))
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def previous_week(week: str, count: int = 1) -> str:
    year, number = parse_iso_week(week)
    monday = date.fromisocalendar(year, number, 1) - timedelta(days=7 * count)
    y, w, _ = monday.isocalendar()
    return f"{y}-W{w:02d}"


def parse_instant(text: str) -> int:
    """An ISO 8601 date or time; without an offset it is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise ConfigError(f"{text!r} is not an ISO 8601 date or time") from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo("UTC"))
    return int(parsed.timestamp())


def iso(moment: int) -> str:
    return datetime.fromtimestamp(moment, ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
