"""Small helpers every connector shares: reading a payload field by field, paging, ids.

``Fields`` is the one place a connector checks the documented shape of a payload: a missing
field or a wrong type raises :class:`MalformedPayload` naming the platform and the field, so
connectors need no scattered try/excepts and a changed API fails loudly instead of storing
half-empty posts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from responsegap.connectors.base import CredentialsError, MalformedPayload
from responsegap.domain.model import ConfigError, Profile

T = TypeVar("T")
# Far more pages than any poll needs; only a platform repeating its cursor gets here.
MAX_PAGES = 500
# A profile's first poll (no cursor yet) reads this far back, not the whole history: years of
# mentions would cost hundreds of pages, more than one rate-limit window allows, and a poll
# that cannot finish is retried from the start forever.
FIRST_POLL_LOOKBACK = 24 * 3600
_MISSING = object()


class Fields:
    """Typed access to one platform's payloads for one profile."""

    def __init__(self, profile_key: str, platform: str) -> None:
        self.profile_key = profile_key
        self.platform = platform

    def fail(self, where: str, problem: str) -> MalformedPayload:
        return MalformedPayload(self.profile_key, f"{self.platform} payload: {where} {problem}")

    def get(
        self, obj: Any, key: str, kind: type[T] | tuple[type, ...], where: str, *, required: bool = True
    ) -> Any:
        """``obj[key]`` checked against ``kind``; ``None`` when absent (or null) and not required."""
        if not isinstance(obj, dict):
            raise self.fail(where, f"is {type(obj).__name__}, expected an object")
        value = obj.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise self.fail(f"{where}.{key}", "is missing")
            return None
        # bool is an int in Python; a JSON true where a number is documented is still wrong.
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(f"{where}.{key}", f"is {type(value).__name__}, expected {names}")
        return value

    def text(self, obj: Any, key: str, where: str, *, required: bool = True) -> str | None:
        value = self.get(obj, key, str, where, required=required)
        if required and not value:
            raise self.fail(f"{where}.{key}", "is empty")
        return value

    def items(self, obj: Any, key: str, where: str, *, required: bool = True) -> list[Any]:
        return self.get(obj, key, list, where, required=required) or []

    def instant(self, obj: Any, key: str, where: str) -> int:
        """An ISO 8601 time field as epoch seconds (platforms send ms or µs; we keep seconds)."""
        raw = self.text(obj, key, where)
        try:
            parsed = datetime.fromisoformat(_trim_fraction(raw.replace("Z", "+00:00")))
        except ValueError as error:
            raise self.fail(f"{where}.{key}", f"{raw!r} is not an ISO 8601 time") from error
        if parsed.tzinfo is None:  # documented as UTC when the offset is left off
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp())


def iso_utc(moment: float) -> str:
    """Epoch seconds as ``2026-11-23T10:00:00.000Z``, the form X and the AT Protocol use."""
    return datetime.fromtimestamp(int(moment), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _trim_fraction(text: str) -> str:
    # fromisoformat before 3.11 trips on 1-5 or 7+ fraction digits; AT Protocol allows any.
    return re.sub(r"(\.\d{1,6})\d*", r"\1", text)


def id_order(post_id: str) -> tuple[int, str]:
    """Sort key for platform ids that are numbers in strings (X, Mastodon): length, then text.

    Mastodon documents its ids as strings to compare this way; it also orders X snowflakes.
    """
    return (len(post_id), post_id)


def newest_id(*ids: str | None) -> str | None:
    present = [i for i in ids if i]
    return max(present, key=id_order) if present else None


def pages(
    first: Callable[[str | None], tuple[T, str | None]], *, where: str, profile_key: str
) -> Iterator[T]:
    """Call ``first(token)`` from ``None`` on, yielding each page, until it returns no next token.

    The caller may stop early (by breaking) when a page reaches data it has already seen. A
    token seen twice means the platform is looping: that raises rather than polling forever.
    """
    token: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page, token = first(token)
        yield page
        if not token:
            return
        if token in seen:
            raise MalformedPayload(profile_key, f"{where}: pagination token repeated")
        seen.add(token)
    raise MalformedPayload(profile_key, f"{where}: more than {MAX_PAGES} pages in one poll")


def require_account_id(profile: Profile, what: str) -> str:
    """The brand account's platform id, which every connector needs to read its timelines."""
    if not profile.account_id:
        raise ConfigError(f"profile {profile.key}: account_id must be {what}")
    return profile.account_id


def require_credential(profile: Profile, credentials: Mapping[str, str], name: str) -> str:
    """One credential value; the error names the profile and the key, never a value."""
    value = credentials.get(name, "")
    if not value:
        raise CredentialsError(profile.key, f"no {name} in the profile's credentials")
    return value
