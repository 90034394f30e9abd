"""When a customer post is overdue and who is told: METRICS.md "Overdue posts and alerts".

Plain data and pure functions, no I/O: the alert pipeline (``responsegap.pipeline.alert``)
reads the posts and marks, this module says which of them are due.

- A post is **overdue** once it has waited longer than its profile's alert threshold with no
  human response. The threshold is the profile's SLA unless set apart, and a profile may
  have a separate one for posts that arrive out of business hours.
- A post containing one of the brand's **urgent terms** is due at once, whatever its age, and
  the alert names the term.
- During a profile's **quiet period** its alerts are held; the first run after the period
  ends sends them as one digest (urgent posts are sent at once unless the brand says
  ``urgent_during_quiet: false``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from responsegap.domain.business_hours import business_seconds, calendar, in_business_hours
from responsegap.domain.model import BusinessHours, ConfigError, Post, Profile

TARGET_KINDS = ("sns", "slack", "teams", "webhook")
# Chat targets post to a URL kept in SSM; the SNS target is the stack's alert topic.
URL_KINDS = frozenset({"slack", "teams", "webhook"})
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
_TARGET_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


@dataclass(frozen=True, slots=True)
class AlertTarget:
    """Where a brand's digests go. ``url_parameter`` names the SSM SecureString holding a chat
    webhook's URL (the URL is a secret: whoever has it can post to the channel)."""

    name: str
    kind: str
    url_parameter: str = ""

    def __post_init__(self) -> None:
        if not _TARGET_NAME.fullmatch(self.name):
            raise ConfigError(f"alert target name {self.name!r} must be 1-64 letters, digits, '_', '.', '-'")
        if self.kind not in TARGET_KINDS:
            raise ConfigError(f"alert target {self.name!r}: type must be one of {', '.join(TARGET_KINDS)}")
        if self.kind in URL_KINDS and not self.url_parameter:
            raise ConfigError(f"alert target {self.name!r} ({self.kind}) needs url_parameter")
        if self.kind == "sns" and self.url_parameter:
            raise ConfigError(f"alert target {self.name!r}: an sns target takes no url_parameter")


@dataclass(frozen=True, slots=True)
class ProfileAlertRules:
    """One profile's alert rules; ``None`` thresholds fall back (out of hours -> in hours -> SLA)."""

    threshold_seconds: int | None = None
    out_of_hours_threshold_seconds: int | None = None
    quiet: BusinessHours | None = None

    def __post_init__(self) -> None:
        for name in ("threshold_seconds", "out_of_hours_threshold_seconds"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                raise ConfigError(f"{name} must be a positive whole number of seconds, not {value!r}")


@dataclass(frozen=True, slots=True)
class BrandAlerts:
    """A brand's alerting: its targets, urgent terms, and rules per profile key."""

    targets: tuple[AlertTarget, ...] = ()
    urgent_terms: tuple[str, ...] = ()
    urgent_during_quiet: bool = True
    profiles: tuple[tuple[str, ProfileAlertRules], ...] = field(default=())

    def __post_init__(self) -> None:
        names = [t.name for t in self.targets]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"alert target names must be unique: {duplicates} repeated")
        for term in self.urgent_terms:
            if not normalise_term(term):
                raise ConfigError(f"urgent term {term!r} is empty once spaces are removed")

    @property
    def enabled(self) -> bool:
        return bool(self.targets)

    def rules_for(self, profile_key: str) -> ProfileAlertRules:
        for key, rules in self.profiles:
            if key == profile_key:
                return rules
        return ProfileAlertRules()


@dataclass(frozen=True, slots=True)
class Assessment:
    """Why and since when a post is due for an alert."""

    overdue_at: int  # created_at + the threshold that applies
    due_at: int  # overdue_at, or created_at for an urgent post
    out_of_hours: bool
    urgent_term: str | None
    threshold_seconds: int


def thresholds(profile: Profile, rules: ProfileAlertRules) -> tuple[int, int]:
    """(in hours, out of hours) alert thresholds in seconds."""
    in_hours = rules.threshold_seconds or profile.sla_seconds
    return in_hours, rules.out_of_hours_threshold_seconds or in_hours


def arrived_out_of_hours(post: Post, profile: Profile) -> bool:
    return not in_business_hours(post.created_at, profile.timezone, profile.business_hours)


def assess(
    post: Post, profile: Profile, rules: ProfileAlertRules, urgent_terms: tuple[str, ...]
) -> Assessment:
    """The post's overdue moment, and when it becomes due (at once when urgent)."""
    out_of_hours = arrived_out_of_hours(post, profile)
    in_hours, outside = thresholds(profile, rules)
    threshold = outside if out_of_hours else in_hours
    overdue_at = post.created_at + threshold
    term = urgent_term(post.text, urgent_terms)
    return Assessment(
        overdue_at=overdue_at,
        due_at=post.created_at if term else overdue_at,
        out_of_hours=out_of_hours,
        urgent_term=term,
        threshold_seconds=threshold,
    )


def is_due(assessment: Assessment, confirmed_at: int) -> bool:
    """Due once a poll that started at or after the due moment found no answer.

    ``confirmed_at`` is the start of the profile's last successful poll: a reply sent just
    before the threshold is then already stored, so nobody is alerted about a post that was
    answered in time. An urgent post is due as soon as it is stored.
    """
    if assessment.urgent_term:
        return True
    return assessment.due_at <= confirmed_at


def is_quiet(moment: int, profile: Profile, rules: ProfileAlertRules) -> bool:
    return rules.quiet is not None and in_business_hours(moment, profile.timezone, rules.quiet)


def quiet_ends_at(moment: int, profile: Profile, rules: ProfileAlertRules) -> int:
    """When the quiet period holding ``moment`` ends (``moment`` itself when not quiet)."""
    if rules.quiet is None:
        return moment
    days = calendar(profile.timezone, rules.quiet)
    end = moment
    for _ in range(16):  # a period may run on over midnight into the next day's
        ordinal = days.local(end)[0]
        later = [b for o in (ordinal - 1, ordinal) for a, b in days.open_intervals(o) if a <= end < b]
        if not later:
            return end
        end = max(later)
    return end


def was_held(assessment: Assessment, now: int, profile: Profile, rules: ProfileAlertRules) -> bool:
    """Whether a quiet period fell between the post becoming due and ``now`` (its alert was held)."""
    if rules.quiet is None or now <= assessment.due_at:
        return False
    return is_quiet(assessment.due_at, profile, rules) or (
        business_seconds(assessment.due_at, now, profile.timezone, rules.quiet) > 0
    )


def normalise_term(text: str) -> str:
    """Compatibility-folded, case-folded, single-spaced: fullwidth or styled letters match too."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@lru_cache(maxsize=256)
def _term_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    cleaned = sorted({normalise_term(t) for t in terms if normalise_term(t)}, key=len, reverse=True)
    if not cleaned:
        return None
    # Whole words or phrases: "unsafe" is found in "UNSAFE!" but not in "unsafely".
    alternatives = "|".join(r"\s+".join(re.escape(w) for w in term.split()) for term in cleaned)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def urgent_term(text: str, terms: tuple[str, ...]) -> str | None:
    """The first urgent term (as configured, normalised) the text contains, or None."""
    pattern = _term_pattern(tuple(terms))
    if pattern is None or not text:
        return None
    found = pattern.search(normalise_term(text))
    return " ".join(found.group(0).split()) if found else None


def parse_quiet(spec: object, where: str = "quiet") -> BusinessHours:
    """Quiet periods as weekday -> ``"HH:MM-HH:MM"`` (or a list), in the profile's timezone.

    A range that ends before it starts runs overnight: ``fri: "22:00-07:00"`` is Friday 22:00
    to Saturday 07:00. ``daily`` applies to every weekday. Overlapping ranges are merged.
    """
    if not isinstance(spec, dict) or not spec:
        raise ConfigError(f"{where} must be a mapping of weekday to 'HH:MM-HH:MM', like fri: '22:00-07:00'")
    unknown = sorted(str(k) for k in spec if k not in (*WEEKDAY_NAMES, "daily"))
    if unknown:
        raise ConfigError(f"{where} has unknown days {unknown}; use mon..sun or daily")
    minutes: list[list[tuple[int, int]]] = [[] for _ in WEEKDAY_NAMES]
    for day, value in spec.items():
        ranges = [value] if isinstance(value, str) else value
        if not isinstance(ranges, list) or not all(isinstance(r, str) for r in ranges):
            raise ConfigError(f"{where}.{day} must be 'HH:MM-HH:MM' or a list of them")
        days = range(7) if day == "daily" else (WEEKDAY_NAMES.index(day),)
        for text in ranges:
            start, end = _quiet_range(text, f"{where}.{day}")
            for weekday in days:
                if end > start:
                    minutes[weekday].append((start, end))
                else:  # overnight: to midnight, then from midnight of the next day
                    minutes[weekday].append((start, 1440))
                    if end:
                        minutes[(weekday + 1) % 7].append((0, end))
    return BusinessHours(tuple(_merged(day) for day in minutes))


def _quiet_range(text: str, where: str) -> tuple[int, int]:
    match = _RANGE.fullmatch(text)
    if not match:
        raise ConfigError(f"{where}: {text!r} is not 'HH:MM-HH:MM'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start >= 1440 or end > 1440 or start == end:
        raise ConfigError(f"{where}: {text!r} is not a range of the clock (00:00-24:00, start != end)")
    return start, end


def _merged(intervals: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


def alerts_to_json(alerts: BrandAlerts) -> dict[str, object]:
    """The stored form of a brand's alerting (read back by :func:`alerts_from_json`)."""
    return {
        "targets": [
            {"name": t.name, "kind": t.kind, "url_parameter": t.url_parameter} for t in alerts.targets
        ],
        "urgent_terms": list(alerts.urgent_terms),
        "urgent_during_quiet": alerts.urgent_during_quiet,
        "profiles": {
            key: {
                "threshold_seconds": rules.threshold_seconds,
                "out_of_hours_threshold_seconds": rules.out_of_hours_threshold_seconds,
                "quiet": rules.quiet.to_spec() if rules.quiet is not None else None,
            }
            for key, rules in alerts.profiles
        },
    }


def alerts_from_json(data: dict[str, object]) -> BrandAlerts:
    targets = data.get("targets") or []
    profiles = data.get("profiles") or {}
    assert isinstance(targets, list) and isinstance(profiles, dict)
    return BrandAlerts(
        targets=tuple(AlertTarget(t["name"], t["kind"], t.get("url_parameter") or "") for t in targets),
        urgent_terms=tuple(data.get("urgent_terms") or ()),  # type: ignore[arg-type]
        urgent_during_quiet=bool(data.get("urgent_during_quiet", True)),
        profiles=tuple(
            (
                key,
                ProfileAlertRules(
                    threshold_seconds=rules.get("threshold_seconds"),
                    out_of_hours_threshold_seconds=rules.get("out_of_hours_threshold_seconds"),
                    quiet=BusinessHours.parse(rules["quiet"]) if rules.get("quiet") else None,
                ),
            )
            for key, rules in profiles.items()
        ),
    )
