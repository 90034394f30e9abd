"""The normalised things every part of responsegap talks about: posts, profiles, brands.

Everything here is plain data with no I/O, so connectors, the store, the engine and the
report can all agree on it and tests can build it by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from responsegap.domain.alerts import BrandAlerts

PLATFORMS: tuple[str, ...] = (
    "x",
    "facebook",
    "instagram",
    "mastodon",
    "bluesky",
    "youtube",
    "reddit",
    "twcs",
)

_HANDLE = re.compile(r"^[a-z0-9_.:@\-]{1,190}$")
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?)")
# X handles are letters, digits and '_' only: "@AmericanAir.thanks" mentions @AmericanAir.
_MENTION_WORD = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,50})")
_WORD_HANDLE_PLATFORMS = frozenset({"x", "twcs"})


class ConfigError(ValueError):
    """A brand, profile or setting that cannot work; the message names the field."""


def normalise_handle(handle: str) -> str:
    """Handles compare case-insensitively and without the leading '@'."""
    return handle.strip().lstrip("@").lower()


def mentions_in(text: str, platform: str | None = None) -> tuple[str, ...]:
    """Lower-cased @handles in the order they appear, each once.

    Handles may hold '.' and '-' (Bluesky, Instagram, YouTube) except on X and its archive.
    """
    pattern = _MENTION_WORD if platform in _WORD_HANDLE_PLATFORMS else _MENTION
    seen: dict[str, None] = {}
    for match in pattern.finditer(text):
        seen.setdefault(match.group(1).lower(), None)
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class Post:
    """One post, comment or reply on a platform, normalised.

    ``created_at`` is whole seconds since the epoch (UTC): the coarsest platform (X and the
    archive) gives seconds, and every figure is reported in seconds.
    ``mentions`` are the lower-cased handles the post is addressed to, in order: explicit
    @mentions, plus the profile whose content a top-level comment sits on (connectors add it).
    """

    platform: str
    post_id: str
    author_id: str
    author_handle: str
    created_at: int
    text: str = ""
    in_reply_to_id: str | None = None
    in_reply_to_author_id: str | None = None
    mentions: tuple[str, ...] = ()
    application: str | None = None
    url: str | None = None
    conversation_id: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.post_id)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Opening hours per weekday (0 = Monday) as (start_minute, end_minute) in local time.

    ``end_minute`` may be 1440 for midnight. An empty day means closed all day.
    """

    days: tuple[tuple[tuple[int, int], ...], ...] = (
        ((540, 1020),),
        ((540, 1020),),
        ((540, 1020),),
        ((540, 1020),),
        ((540, 1020),),
        (),
        (),
    )

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ConfigError(f"business_hours needs 7 weekdays, got {len(self.days)}")
        for weekday, intervals in enumerate(self.days):
            previous_end = -1
            for start, end in sorted(intervals):
                if not (0 <= start < end <= 1440):
                    raise ConfigError(
                        f"business_hours weekday {weekday}: interval {start}-{end} is not within one day"
                    )
                if start < previous_end:
                    raise ConfigError(f"business_hours weekday {weekday}: intervals overlap")
                previous_end = end

    @property
    def is_empty(self) -> bool:
        return not any(self.days)

    @classmethod
    def parse(cls, spec: dict[str, str | list[str]] | None) -> BusinessHours:
        """Read ``{"mon": "09:00-17:00", "sat": ["10:00-12:00", "13:00-15:00"], "sun": []}``.

        Weekdays not named are closed. ``None`` gives the default, Monday to Friday 09:00-17:00.
        """
        if spec is None:
            return cls()
        if not isinstance(spec, dict):
            raise ConfigError("business_hours must be a mapping of weekday to 'HH:MM-HH:MM'")
        names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        unknown = set(spec) - set(names)
        if unknown:
            raise ConfigError(f"business_hours has unknown weekdays: {sorted(unknown)}")
        days: list[tuple[tuple[int, int], ...]] = []
        for name in names:
            value = spec.get(name) or []
            ranges = [value] if isinstance(value, str) else list(value)
            days.append(tuple(sorted(_parse_range(name, text) for text in ranges)))
        return cls(tuple(days))

    def to_spec(self) -> dict[str, list[str]]:
        names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        return {
            names[i]: [f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in day]
            for i, day in enumerate(self.days)
        }


def _parse_range(day: str, text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", str(text))
    if not match:
        raise ConfigError(f"business_hours {day}: {text!r} is not 'HH:MM-HH:MM'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or not (0 <= start < end <= 1440):
        raise ConfigError(f"business_hours {day}: {text!r} is not a range within one day")
    return start, end


def check_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise ConfigError(f"unknown timezone {name!r}") from error


@dataclass(frozen=True, slots=True)
class Profile:
    """One account of a brand on one platform."""

    brand_id: str
    platform: str
    handle: str
    account_id: str = ""
    timezone: str = "UTC"
    business_hours: BusinessHours = field(default_factory=BusinessHours)
    sla_seconds: int = 3600
    base_url: str | None = None
    credentials: str | None = None
    poll_interval_seconds: int = 300
    enabled: bool = True
    # The credential whose request budget the profile spends (issue #15, docs/budgets.md);
    # None: its token's SSM path, else the platform's default credential.
    budget_credential: str | None = None

    def __post_init__(self) -> None:
        if self.platform not in PLATFORMS:
            raise ConfigError(f"profile {self.handle!r}: unknown platform {self.platform!r}")
        if not _HANDLE.match(self.handle) or self.handle != normalise_handle(self.handle):
            raise ConfigError(f"profile handle {self.handle!r} must be lower-case without '@'")
        check_timezone(self.timezone)
        if self.sla_seconds <= 0:
            raise ConfigError(f"profile {self.handle!r}: sla_seconds must be positive")
        if self.poll_interval_seconds < 60:
            raise ConfigError(f"profile {self.handle!r}: poll_interval_seconds must be at least 60")

    @property
    def key(self) -> str:
        """Stable identity of the profile across the system: ``platform#handle``."""
        return f"{self.platform}#{self.handle}"


@dataclass(frozen=True, slots=True)
class BrandAccount:
    """A profile of some brand known to the system, whether or not it is being judged.

    METRICS.md "Things": a post by any brand profile is never a customer post, so a weekly
    report that judges one brand still needs every other brand's accounts.
    """

    brand_id: str
    platform: str
    handle: str
    account_id: str = ""

    @classmethod
    def of(cls, profile: Profile) -> BrandAccount:
        return cls(profile.brand_id, profile.platform, profile.handle, profile.account_id)


@dataclass(frozen=True, slots=True)
class Brand:
    """A company or department; its profiles are judged together and reported together.

    ``bot_accounts`` are ``platform:handle`` of brand accounts that only ever post
    automatically: their posts are brand posts, and always automated.
    ``automation_apps`` adds to the built-in list of posting apps known to be automatic.
    ``alerts`` (optional): where overdue posts are alerted and the rules per profile.
    ``agents``: whether agent figures (METRICS.md "Agent") are reported for this brand.
    """

    brand_id: str
    name: str
    profiles: tuple[Profile, ...] = ()
    timezone: str = "UTC"
    recipients: tuple[str, ...] = ()
    bot_accounts: tuple[str, ...] = ()
    automation_apps: tuple[str, ...] = ()
    report_weekday: int = 0
    report_hour: int = 7
    alerts: BrandAlerts | None = None
    # False where staff agreements forbid per-agent figures: then no agent is reported at all.
    agents: bool = True

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", self.brand_id):
            raise ConfigError(f"brand id {self.brand_id!r} must be 1-64 letters, digits, '_', '.' or '-'")
        check_timezone(self.timezone)
        if not (0 <= self.report_weekday <= 6 and 0 <= self.report_hour <= 23):
            raise ConfigError(f"brand {self.brand_id!r}: report_weekday 0-6 and report_hour 0-23")
        for profile in self.profiles:
            if profile.brand_id != self.brand_id:
                raise ConfigError(
                    f"profile {profile.key} belongs to {profile.brand_id!r}, not {self.brand_id!r}"
                )
        for bot in self.bot_accounts:
            platform, _, handle = bot.partition(":")
            if platform not in PLATFORMS or not handle:
                raise ConfigError(f"brand {self.brand_id!r}: bot account {bot!r} must be 'platform:handle'")
