"""Typed messages that travel between the pipeline's functions, and the scheduler's event.

Every queue body is JSON written by :meth:`to_json` and read back by ``from_json``, which
rejects anything else with :class:`BadMessage` (the record then fails, is retried and ends
in the dead-letter queue, where the alarm shows it) instead of guessing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from responsegap.domain.periods import parse_instant, parse_iso_week

ProfileJobKind = Literal["poll", "recheck"]
ReportJobKind = Literal["brand", "rollup"]


class BadMessage(ValueError):
    """A queue body or scheduler event that is not one of ours."""


def _load(body: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(body, Mapping):
        return dict(body)
    try:
        data = json.loads(body)
    except (TypeError, json.JSONDecodeError) as error:
        raise BadMessage(f"message body is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise BadMessage("message body is not a JSON object")
    return data


def _int(data: Mapping[str, Any], name: str, default: int = 0) -> int:
    value = data.get(name, default)
    if isinstance(value, bool):
        raise BadMessage(f"{name} must be a whole number")
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise BadMessage(f"{name} must be a whole number, not {value!r}") from error


def _str(data: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadMessage(f"{name} is missing or not a string")
    return value.strip()


@dataclass(frozen=True, slots=True)
class ScheduledRun:
    """What EventBridge Scheduler delivers: the template's ``Input`` with its context attributes.

    ``scheduled_time`` is the slot the run belongs to (not when it started), so a retried
    invocation (``attempt`` > 1) works on the same round and ``next_poll_at`` lines up with
    the next slot exactly.
    """

    job: str
    scheduled_time: int
    execution_id: str = ""
    attempt: int = 1

    @classmethod
    def from_event(cls, event: Mapping[str, Any] | None, now: float | None = None) -> ScheduledRun:
        data = dict(event or {})
        raw_time = data.get("scheduled_time")
        # A manual `sam local invoke` without the attribute still runs, as of now.
        scheduled = int(now if now is not None else time.time())
        if isinstance(raw_time, str) and raw_time and not raw_time.startswith("<"):
            try:
                scheduled = parse_instant(raw_time)
            except ValueError as error:
                raise BadMessage(f"scheduled_time {raw_time!r} is not ISO 8601") from error
        attempt_raw = data.get("attempt", 1)
        try:
            attempt = int(attempt_raw)
        except (TypeError, ValueError):
            attempt = 1
        return cls(
            job=str(data.get("job", "")),
            scheduled_time=scheduled,
            execution_id=str(data.get("execution_id", "")),
            attempt=attempt,
        )


@dataclass(frozen=True, slots=True)
class ProfileJob:
    """One message on the poll queue: poll a profile, or recheck its open posts.

    ``next_poll_at`` is the directory slot dispatch set, so a poll that must wait longer than
    SQS can delay (15 minutes) moves that slot forward conditionally. ``delays`` counts
    rate-limit re-sends, for logs.
    """

    profile_key: str
    brand_id: str
    kind: ProfileJobKind = "poll"
    next_poll_at: int = 0
    dispatched_at: int = 0
    delays: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, body: str | Mapping[str, Any]) -> ProfileJob:
        data = _load(body)
        kind = data.get("kind", "poll")
        if kind not in ("poll", "recheck"):
            raise BadMessage(f"kind {kind!r} is not poll or recheck")
        profile_key = _str(data, "profile_key")
        platform, _, handle = profile_key.partition("#")
        if not platform or not handle:
            raise BadMessage(f"profile_key {profile_key!r} is not 'platform#handle'")
        return cls(
            profile_key=profile_key,
            brand_id=_str(data, "brand_id"),
            kind=kind,
            next_poll_at=_int(data, "next_poll_at"),
            dispatched_at=_int(data, "dispatched_at"),
            delays=_int(data, "delays"),
        )


@dataclass(frozen=True, slots=True)
class ReportJob:
    """One message on the report queue: a brand's weekly report, or the leaders' roll-up."""

    week: str
    as_of: int
    kind: ReportJobKind = "brand"
    brand_id: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @property
    def idempotency_data(self) -> dict[str, str]:
        # as_of is deliberately left out: a retry hours later is still the same report.
        return {"kind": self.kind, "brand_id": self.brand_id, "week": self.week}

    @classmethod
    def from_json(cls, body: str | Mapping[str, Any]) -> ReportJob:
        data = _load(body)
        kind = data.get("kind", "brand")
        if kind not in ("brand", "rollup"):
            raise BadMessage(f"kind {kind!r} is not brand or rollup")
        week = _str(data, "week")
        try:
            parse_iso_week(week)
        except ValueError as error:
            raise BadMessage(str(error)) from error
        brand_id = _str(data, "brand_id", required=kind == "brand")
        return cls(week=week, as_of=_int(data, "as_of"), kind=kind, brand_id=brand_id)


@dataclass(frozen=True, slots=True)
class AlertJob:
    """One message on the alert queue: a poll of ``profile_key`` stored what it found at ``sent_at``.

    The alert function runs the brand's alert step for it, unless a run of that brand started
    after ``sent_at`` (that run already saw what the poll stored), or the poll stored nothing
    and no post of the brand can have become due since the last run.
    """

    brand_id: str
    profile_key: str = ""
    sent_at: int = 0
    changed_posts: int = -1  # posts the poll stored or updated; -1: not known (always run)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, body: str | Mapping[str, Any]) -> AlertJob:
        data = _load(body)
        return cls(
            brand_id=_str(data, "brand_id"),
            profile_key=_str(data, "profile_key", required=False),
            sent_at=_int(data, "sent_at"),
            changed_posts=_int(data, "changed_posts", -1),
        )
