"""The shared spend record: requests reserved per credential, endpoint and window (issue #15).

One item per credential, endpoint and fixed window, in the one table:

- ``pk`` = ``SPEND#{credential}#{endpoint}``, ``sk`` = ``WINDOW#{window_start:010d}``;
- ``spent``: requests reserved (or reported spent by the platform) in that window;
- ``limit``: the limit the last write was checked against (for reading the record by hand);
- ``expires_at``: TTL, ``window_start + ttl_seconds``; an old window is never read again.

A reservation is ONE conditional ``UpdateItem`` (``ADD spent :n`` only while
``spent <= limit - n``), so any number of poll Lambdas reserving on one credential at once
can never be granted more than the limit together: DynamoDB serialises writes to one item.
A correction from the platform's headers only raises ``spent`` (``SET`` under the condition
``spent < :observed``): what parallel pollers reserved is never handed back, and a header read
before their reservations cannot undo them.
"""

from __future__ import annotations

from typing import Protocol

from botocore.exceptions import ClientError

from responsegap.domain.budget import DAY, EndpointLimit
from responsegap.store.dynamo import PostStore

# Long enough for the longest window (a day: YouTube's quota) to be read while it runs.
DEFAULT_TTL_SECONDS = 2 * DAY


def spend_pk(credential: str, endpoint: str) -> str:
    if not credential or not endpoint:
        raise ValueError("credential and endpoint must not be empty")
    return f"SPEND#{credential}#{endpoint}"


def window_sk(window_start: int) -> str:
    return f"WINDOW#{max(window_start, 0):010d}"


class SpendLedger(Protocol):
    """What a poll needs of the spend record (the DynamoDB one, or a fake in a simulation)."""

    def reserve(
        self,
        credential: str,
        endpoint: str,
        n: int,
        limit: int,
        window_start: int,
        ttl: int = DEFAULT_TTL_SECONDS,
    ) -> bool: ...

    def correct(
        self,
        credential: str,
        endpoint: str,
        window_start: int,
        remaining: int,
        limit: int,
        ttl: int = DEFAULT_TTL_SECONDS,
    ) -> bool: ...


class SpendRecord:
    """The spend record in the table of ``posts`` (its client, table and request counters)."""

    def __init__(self, posts: PostStore) -> None:
        self.posts = posts

    def _key(self, credential: str, endpoint: str, window_start: int) -> dict[str, dict[str, str]]:
        return {"pk": {"S": spend_pk(credential, endpoint)}, "sk": {"S": window_sk(window_start)}}

    def reserve(
        self,
        credential: str,
        endpoint: str,
        n: int,
        limit: int,
        window_start: int,
        ttl: int = DEFAULT_TTL_SECONDS,
    ) -> bool:
        """Reserve ``n`` requests of ``limit`` in the window starting at ``window_start``.

        True when granted (``spent`` rose by ``n``); False when that would pass the limit, in
        which case nothing changed. ``ttl``: seconds after ``window_start`` the item expires.
        """
        if n < 0 or limit < 0 or ttl <= 0:
            raise ValueError("n and limit must not be negative, ttl must be positive")
        if n > limit:
            return False
        if n == 0:
            return True
        return self.posts._conditional(
            "update_item",
            Key=self._key(credential, endpoint, window_start),
            UpdateExpression="ADD spent :n SET #limit = :limit, expires_at = :expires",
            ConditionExpression="attribute_not_exists(spent) OR spent <= :room",
            ExpressionAttributeNames={"#limit": "limit"},
            ExpressionAttributeValues={
                ":n": {"N": str(n)},
                ":room": {"N": str(limit - n)},
                ":limit": {"N": str(limit)},
                ":expires": {"N": str(window_start + ttl)},
            },
        )

    def reserve_for(self, credential: str, limit: EndpointLimit, n: int, now: int) -> bool:
        """:meth:`reserve` in the window of ``limit`` that holds ``now``."""
        start = limit.window_start(now)
        return self.reserve(
            credential,
            limit.endpoint,
            n,
            limit.requests,
            start,
            ttl=max(DEFAULT_TTL_SECONDS, 2 * limit.window_seconds),
        )

    def correct(
        self,
        credential: str,
        endpoint: str,
        window_start: int,
        remaining: int,
        limit: int,
        ttl: int = DEFAULT_TTL_SECONDS,
    ) -> bool:
        """Raise ``spent`` to what the platform reports (``limit - remaining``), never lower it.

        Returns whether the record rose. ``limit`` and ``remaining`` are the headers' (X:
        ``x-rate-limit-limit`` / ``-remaining``); a window the headers call reset is the
        caller's to map to its ``window_start``.
        """
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        observed = max(0, limit - max(0, remaining))
        try:
            self.posts._write(
                "update_item",
                Key=self._key(credential, endpoint, window_start),
                UpdateExpression="SET spent = :observed, expires_at = :expires",
                ConditionExpression="attribute_not_exists(spent) OR spent < :observed",
                ExpressionAttributeValues={
                    ":observed": {"N": str(observed)},
                    ":expires": {"N": str(window_start + ttl)},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False  # already at or above what the platform reports
            raise
        return True

    def spent(self, credential: str, endpoint: str, window_start: int) -> int:
        """Requests recorded in the window (0 when nothing was reserved in it)."""
        item = self.posts._get(spend_pk(credential, endpoint), window_sk(window_start))
        return int(item["spent"]["N"]) if item and "spent" in item else 0

    def expires_at(self, credential: str, endpoint: str, window_start: int) -> int | None:
        item = self.posts._get(spend_pk(credential, endpoint), window_sk(window_start))
        return int(item["expires_at"]["N"]) if item and "expires_at" in item else None
