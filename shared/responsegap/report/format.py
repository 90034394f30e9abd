"""How numbers read in the report: durations like ``2h 10m``, percentages, week-over-week changes.

One place for wording so the subject, the HTML, the plain text and the roll-up agree.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

NOT_AVAILABLE = "n/a"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
PLATFORM_NAMES = {
    "x": "X",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "youtube": "YouTube",
    "reddit": "Reddit",
    "twcs": "Twitter archive",
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def number(value: object) -> float | None:
    """A figure as float, or None. Snapshots read back from DynamoDB carry ``Decimal``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    return None


def duration(seconds: object) -> str:
    """``45s``, ``12m``, ``2h 10m``, ``3d 4h``; minutes are rounded, not truncated."""
    value = number(seconds)
    if value is None:
        return NOT_AVAILABLE
    total = round(value)
    if total < 60:
        return f"{total}s"
    minutes = round(value / 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def percent(rate: object) -> str:
    """A 0..1 rate as a whole percentage; a rate that is not 0 or 1 never rounds to 0% or 100%."""
    value = number(rate)
    if value is None:
        return NOT_AVAILABLE
    shown = math.floor(value * 100 + 0.5)  # half up, as people round (62.5% -> 63%), not banker's
    # "100%" with one post unanswered would tell a leader there is nothing to do.
    if shown == 100 and value < 1:
        shown = 99
    if shown == 0 and value > 0:
        shown = 1
    return f"{shown}%"


def ratio(part: object, whole: object) -> float | None:
    p, w = number(part), number(whole)
    if p is None or not w:
        return None
    return p / w


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def oneline(text: object, limit: int = 0) -> str:
    """Untrusted text on one line: control characters out, whitespace collapsed, cut at ``limit``."""
    cleaned = " ".join(_CONTROL.sub(" ", str(text or "")).split())
    if limit and len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned


def hour_range(hour: int) -> str:
    return f"{hour:02d}:00–{(hour + 1) % 24:02d}:00"


@dataclass(frozen=True, slots=True)
class Change:
    """A week-over-week change, said with an arrow and words so it never relies on colour.

    ``tone`` is ``better``, ``worse``, ``same`` or ``none`` (nothing to compare with).
    """

    arrow: str
    words: str
    tone: str

    @property
    def text(self) -> str:
        return f"{self.arrow} {self.words}".strip()


NO_CHANGE_DATA = Change("", "no figures for the week before", "none")


def rate_change(current: object, previous: object) -> Change:
    """Change of a rate in percentage points; higher is better."""
    now, before = number(current), number(previous)
    if now is None or before is None:
        return NO_CHANGE_DATA
    points = math.floor((now - before) * 100 + 0.5)
    if points == 0:
        return Change("→", f"same as the week before ({percent(before)})", "same")
    direction = "up" if points > 0 else "down"
    return Change(
        "▲" if points > 0 else "▼",
        f"{direction} {abs(points)} pts from {percent(before)}",
        "better" if points > 0 else "worse",
    )


def duration_change(current: object, previous: object) -> Change:
    """Change of a waiting time; shorter is better. Under 5% or a minute counts as the same."""
    now, before = number(current), number(previous)
    if now is None or before is None:
        return NO_CHANGE_DATA
    difference = now - before
    if abs(difference) < 60 or (before and abs(difference) / before < 0.05):
        return Change("→", f"about the same (was {duration(before)})", "same")
    if difference > 0:
        return Change("▲", f"slower by {duration(difference)} (was {duration(before)})", "worse")
    return Change("▼", f"faster by {duration(-difference)} (was {duration(before)})", "better")


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)
