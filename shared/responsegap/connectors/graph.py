"""What Facebook Pages and Instagram share: the Graph API's paging, errors, times and fields.

Both platforms answer through graph.facebook.com with the same envelope, so the rules that
turn its answers into typed errors live here once:

- rate limits arrive as HTTP 400/403 with ``error.code`` 4, 17, 32, 613 or 80001-80014
  (Business Use Case limits); the time to wait, when given, is in ``X-Business-Use-Case-Usage``
  as ``estimated_time_to_regain_access`` (minutes);
- ``error.code`` 190 (expired or revoked token), 102, 10 and 200-299 (permission removed) mean
  the stored token no longer works: :class:`CredentialsError`;
- ``error.code`` 100 with ``error_subcode`` 33 is "object does not exist": a post or comment
  deleted between two pages. Callers skip the object instead of failing the poll.

Docs: https://developers.facebook.com/docs/graph-api/guides/error-handling,
https://developers.facebook.com/docs/graph-api/results/ (cursor, time and offset paging),
https://developers.facebook.com/docs/graph-api/overview/rate-limiting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from responsegap.connectors.base import CredentialsError, MalformedPayload, RateLimited
from responsegap.connectors.http import PlatformHttp, retry_at_from_headers
from responsegap.connectors.paging import MAX_PAGES, Fields, require_account_id, require_credential
from responsegap.domain.model import Profile

GRAPH_BASE_URL = "https://graph.facebook.com/v21.0"
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
CREDENTIAL_CODES = frozenset({190, 102, 10, *range(200, 300)})
# Without a hint in the headers, a throttled app waits this long: the platform limits are
# counted over a rolling hour, and retrying sooner only extends the block.
DEFAULT_RATE_LIMIT_WAIT = 900
# Items created shortly before the previous poll's newest item can still appear late (the
# platform's indexes are eventually consistent), so each poll re-reads this margin; the store
# drops the identical duplicates.
OVERLAP_SECONDS = 60
# New comments keep arriving on content for days after it was published; each poll re-reads
# content published within this window before its watermark so those comments are found.
DEFAULT_LOOKBACK_SECONDS = 7 * 24 * 3600
# What a ``paging.next`` URL carries to move forward, by paging kind: cursor, time, offset.
_PAGING_PARAMS = ("after", "until", "__paging_token", "offset")


class GraphObjectGone(Exception):
    """The object was deleted (code 100, subcode 33); internal to the Graph connectors."""


class GraphClient:
    """GETs for one profile: token added here, errors typed, cursor pages followed."""

    def __init__(
        self, platform: str, profile_key: str, http: PlatformHttp, token: str, base_url: str | None
    ) -> None:
        self.platform = platform
        self.profile_key = profile_key
        self.http = http
        self._token = token
        self.base_url = (base_url or GRAPH_BASE_URL).rstrip("/")

    def get(self, path: str, params: Mapping[str, Any], *, gone_ok: bool = False) -> dict[str, Any]:
        """One GET. ``gone_ok``: a deleted object raises :class:`GraphObjectGone` for the caller to skip.

        Otherwise "does not exist" means the profile's own Page or account cannot be read with
        this token (Graph gives the same answer for missing permissions): a credentials error.
        """
        try:
            body = self.http.get_json(
                f"{self.base_url}/{path.lstrip('/')}",
                params={**params, "access_token": self._token},
                response_hook=self._classify_error,
            )
        except GraphObjectGone:
            if gone_ok:
                raise
            raise CredentialsError(
                self.profile_key,
                f"{self.platform} Graph API error code 100/33 on {path}: "
                "it does not exist or this token cannot read it",
            ) from None
        if not isinstance(body, dict):
            raise MalformedPayload(self.profile_key, f"{self.platform}: {path} did not return a JSON object")
        return body

    def pages(
        self,
        path: str,
        params: Mapping[str, Any],
        first: Mapping[str, Any] | None = None,
        *,
        gone_ok: bool = False,
    ) -> Iterator[list[dict[str, Any]]]:
        """The ``data`` of each page of an edge, following ``paging.next``.

        ``first`` is a page already in hand (an edge expanded inside its parent's fields);
        further pages are read from ``path``. The last page is the one without ``paging.next``
        (Graph API "Paginated Results"). Graph pages three ways, all documented: cursors
        (``paging.cursors.after``), time (``until`` and ``__paging_token`` in the ``next`` URL,
        no ``cursors``: a user's or group's ``/feed`` and ``/posts``) and offsets (``offset``).
        We take only those paging values from ``next`` and keep our own path, fields, ``since``
        and token, so the host and credential stay the ones we chose and the read window still
        ends at the old edge.
        """
        page: Mapping[str, Any] = first if first is not None else self.get(path, params, gone_ok=gone_ok)
        seen: set[tuple[tuple[str, str], ...]] = set()
        for _ in range(MAX_PAGES):
            data = page.get("data")
            if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
                raise MalformedPayload(
                    self.profile_key, f"{self.platform} payload: {path} 'data' is not a list of objects"
                )
            yield data
            paging = page.get("paging")
            if not isinstance(paging, dict) or not paging.get("next"):
                return
            forward = self._next_page(path, paging)
            if _before_window(forward, params):
                return  # a time-based page that would start before our ``since``: nothing more to read
            key = tuple(sorted(forward.items()))
            if key in seen:
                raise MalformedPayload(self.profile_key, f"{self.platform}: {path} repeated a paging cursor")
            seen.add(key)
            page = self.get(path, {**params, **forward}, gone_ok=gone_ok)
        raise MalformedPayload(self.profile_key, f"{self.platform}: {path} has more than {MAX_PAGES} pages")

    def _next_page(self, path: str, paging: Mapping[str, Any]) -> dict[str, str]:
        """The query values that move to the next page: the ``after`` cursor, else those of ``next``."""
        cursors = paging.get("cursors")
        after = cursors.get("after") if isinstance(cursors, dict) else None
        if isinstance(after, str) and after:
            return {"after": after}
        link = paging.get("next")
        query = parse_qs(urlsplit(link).query) if isinstance(link, str) else {}
        forward = {name: query[name][0] for name in _PAGING_PARAMS if query.get(name, [""])[0]}
        if not forward:
            raise MalformedPayload(
                self.profile_key,
                f"{self.platform} payload: {path} paging.next has no cursor, until or offset",
            )
        return forward

    def _classify_error(self, response: requests.Response) -> None:
        if not 400 <= response.status_code < 500:
            return  # successes and 5xx (retried) follow the shared policy
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            return
        if not isinstance(error, dict):
            return
        code = error.get("code")
        subcode = error.get("error_subcode")
        trace = error.get("fbtrace_id")
        where = f"{self.platform} Graph API error code {code}" + (f"/{subcode}" if subcode else "")
        where += f" (fbtrace_id {trace})" if trace else ""
        if code in RATE_LIMIT_CODES:
            retry_at = _graph_retry_at(response.headers, self.http.clock())
            raise RateLimited(self.profile_key, retry_at, f"{where}: rate limited; retry at {retry_at}")
        if code in CREDENTIAL_CODES:
            # Graph messages can quote a malformed token, so only the code goes in the message.
            raise CredentialsError(
                self.profile_key, f"{where}: access token expired, revoked or lacking permission; renew it"
            )
        if code == 100 and subcode == 33:
            raise GraphObjectGone(str(error.get("message", "")))
        if response.status_code in (401, 403, 429):
            return  # an unlisted code: the shared policy (credentials, rate limit) applies
        message = str(error.get("message", "")).replace(self._token, "***") if self._token else ""
        raise MalformedPayload(self.profile_key, f"{where}: HTTP {response.status_code}: {message[:200]}")


class GraphConnector:
    """What the Facebook and Instagram connectors share: the Graph client and the read window.

    Subclasses name the platform, what their ``account_id`` is, and their token's key.
    """

    platform = ""
    account_id_is = ""
    credential_key = ""

    def __init__(
        self,
        profile: Profile,
        http: PlatformHttp,
        credentials: Mapping[str, str],
        base_url: str | None = None,
        *,
        lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS,
    ) -> None:
        require_account_id(profile, self.account_id_is)
        token = require_credential(profile, credentials, self.credential_key)
        self.profile = profile
        self.http = http
        self.lookback_seconds = lookback_seconds
        self.graph = GraphClient(self.platform, profile.key, http, token, base_url or profile.base_url)
        self.fields = Fields(profile.key, self.platform)


def _before_window(forward: Mapping[str, str], params: Mapping[str, Any]) -> bool:
    """True when time-based paging has gone past our ``since`` (``until`` older than it)."""
    until, since = forward.get("until"), params.get("since")
    if until is None or since is None:
        return False
    try:
        return int(until) < int(since)
    except (TypeError, ValueError):
        return False


def _graph_retry_at(headers: Mapping[str, str], now: float) -> int:
    """``estimated_time_to_regain_access`` (minutes) from the BUC header, else the generic headers."""
    lowered = {k.lower(): v for k, v in headers.items()}
    minutes = 0
    raw = lowered.get("x-business-use-case-usage")
    if raw:
        try:
            usage = json.loads(raw)
        except ValueError:
            usage = {}
        for entries in usage.values() if isinstance(usage, dict) else ():
            for entry in entries if isinstance(entries, list) else ():
                value = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
                if isinstance(value, int | float) and value > minutes:
                    minutes = int(value)
    if minutes > 0:
        return int(now) + minutes * 60
    return retry_at_from_headers(headers, now, default_wait=DEFAULT_RATE_LIMIT_WAIT)


def window(cursor: Mapping[str, str], now: int, lookback: int) -> tuple[int, int]:
    """(emit_from, read_from): emit items created at or after ``emit_from``; read content from ``read_from``.

    The cursor's ``since`` is the newest creation time stored by the previous poll.
    """
    raw = cursor.get("since")
    since = int(raw) if raw and str(raw).isdigit() else 0
    emit_from = since - OVERLAP_SECONDS if since else now - lookback
    return emit_from, emit_from - lookback


def next_cursor(cursor: Mapping[str, str], newest: int, now: int) -> dict[str, str]:
    """The watermark never moves back, and never past now (a clock-skewed item must not hide others)."""
    raw = cursor.get("since")
    previous = int(raw) if raw and str(raw).isdigit() else 0
    return {"since": str(max(previous, min(newest, now)))} if max(previous, newest) else {}
