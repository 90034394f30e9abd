"""What every platform connector promises, and the errors it may raise.

A connector turns one platform's API into normalised :class:`Post` objects for one
profile. It never stores anything: it returns posts plus the cursor that covers them, and
the caller saves that cursor only after the posts are stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from responsegap.domain.model import Post


class ConnectorError(Exception):
    """Base of connector failures. Messages name the profile, never a credential."""

    def __init__(self, profile_key: str, message: str) -> None:
        super().__init__(f"{profile_key}: {message}")
        self.profile_key = profile_key


class CredentialsError(ConnectorError):
    """The platform refused the profile's credentials (HTTP 401/403) or none are configured."""


class RateLimited(ConnectorError):
    """The platform asked us to slow down. ``retry_at`` is epoch seconds."""

    def __init__(self, profile_key: str, retry_at: int, message: str = "") -> None:
        super().__init__(profile_key, message or f"rate limited until {retry_at}")
        self.retry_at = retry_at


class PlatformUnavailable(ConnectorError):
    """5xx answers or timeouts persisted after the retries."""


class MalformedPayload(ConnectorError):
    """The platform answered with something that is not the documented shape."""


class AccountUnavailable(ConnectorError):
    """The platform says the profile's own account is suspended, deleted or not found.

    Not a quiet week and not a passing fault: every retry fails the same way until someone
    reinstates the account or fixes the profile, so the poll is recorded as failed and the
    queue message is not retried (``pipeline.poll``). ``reason`` is the platform's words.
    """

    def __init__(self, profile_key: str, account_id: str, reason: str) -> None:
        super().__init__(profile_key, f"account {account_id} is unavailable: {reason}")
        self.account_id = account_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PollResult:
    """Posts found since a cursor, and the cursor to save once they are stored."""

    posts: tuple[Post, ...]
    cursor: Mapping[str, str] = field(default_factory=dict)
    requests: int = 0


class Connector(Protocol):
    """One platform, one profile."""

    platform: str

    def fetch(self, cursor: Mapping[str, str]) -> PollResult:
        """Customer posts addressed to the profile and the profile's own replies since ``cursor``.

        Follows pagination to the end of the new data. Raises a :class:`ConnectorError`
        rather than returning part of a poll.
        """
        ...

    def fetch_replies(self, post: Post) -> PollResult:
        """Replies in the thread below ``post`` (used to recheck posts still unanswered)."""
        ...
