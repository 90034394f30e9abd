"""HTTP for connectors: one ``requests.Session``, timeouts, backoff, rate limits, clear errors.

Every connector goes through :class:`PlatformHttp`, so the behaviour on 429, 5xx, timeouts
and refused credentials is the same on every platform and is tested once.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import requests

from responsegap.connectors.base import (
    CredentialsError,
    MalformedPayload,
    PlatformUnavailable,
    RateLimited,
)

DEFAULT_TIMEOUT = (3.05, 15.0)
# Reset headers differ by platform: X and Bluesky send epoch seconds, Reddit seconds to
# wait, Mastodon an ISO 8601 time. Anything above this is taken as an epoch time.
_EPOCH_THRESHOLD = 1_000_000_000
# Called with each raw response; may raise a ConnectorError (see ``request_json``).
ResponseHook = Callable[[requests.Response], None]
_RESET_HEADERS = ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset")
_REMAINING_HEADERS = ("x-rate-limit-remaining", "x-ratelimit-remaining", "ratelimit-remaining")


def retry_at_from_headers(headers: Mapping[str, str], now: float, default_wait: int = 60) -> int:
    """When the platform says we may call again, as epoch seconds (never in the past)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    candidates: list[float] = []
    retry_after = lowered.get("retry-after")
    if retry_after:
        candidates.append(_parse_when(retry_after.strip(), now, relative=True))
    for name in _RESET_HEADERS:
        if name in lowered:
            candidates.append(_parse_when(lowered[name].strip(), now, relative=False))
    valid = [c for c in candidates if c == c and c > 0]  # drop NaN from unparseable values
    when = max(valid) if valid else now + default_wait
    return int(max(when, now + 1) + 0.999)


def _parse_when(value: str, now: float, relative: bool) -> float:
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if number >= _EPOCH_THRESHOLD:
            return number
        return now + max(number, 0.0)
    parsed = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        return float("nan")
    return parsed.timestamp()


class PlatformHttp:
    """GETs and POSTs JSON for one profile, with the shared failure policy.

    - 429, or a 403/420 that carries rate-limit headers with nothing remaining:
      :class:`RateLimited` with the time to come back; no retry here (the poller waits).
    - 5xx, timeouts, connection resets: retried with full-jitter backoff, then
      :class:`PlatformUnavailable`.
    - 401/403: :class:`CredentialsError` naming the profile, never the token.
    - A body that is not JSON: :class:`MalformedPayload`.
    """

    def __init__(
        self,
        profile_key: str,
        session: requests.Session | None = None,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.profile_key = profile_key
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.requests_made = 0

    def get_json(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        response_hook: ResponseHook | None = None,
    ) -> Any:
        return self.request_json("GET", url, params=params, headers=headers, response_hook=response_hook)

    def post_json(
        self,
        url: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        response_hook: ResponseHook | None = None,
    ) -> Any:
        return self.request_json(
            "POST", url, json=json, data=data, headers=headers, auth=auth, response_hook=response_hook
        )

    def request_json(
        self, method: str, url: str, *, response_hook: ResponseHook | None = None, **kwargs: Any
    ) -> Any:
        """One JSON call with the shared failure policy.

        ``response_hook``, when given, sees every response before the shared status handling
        and may raise a :class:`ConnectorError`: platforms that report rate limits or expired
        tokens in the body (Graph API 400s, YouTube 403 ``quotaExceeded``) or in headers on
        successful answers (Reddit's remaining budget) classify them there. Returning lets the
        shared policy apply as before.
        """
        last_problem = "no attempt made"
        for attempt in range(1, self.max_attempts + 1):
            self.requests_made += 1
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except (requests.Timeout, requests.ConnectionError) as error:
                last_problem = f"{type(error).__name__} calling {_safe_url(url)}"
                self._backoff(attempt)
                continue
            if response_hook is not None:
                response_hook(response)
            status = response.status_code
            if status == 429 or (status in (403, 420) and _limit_exhausted(response.headers)):
                retry_at = retry_at_from_headers(response.headers, self.clock())
                raise RateLimited(
                    self.profile_key, retry_at, f"HTTP {status} from {_safe_url(url)}; retry at {retry_at}"
                )
            if status in (401, 403):
                raise CredentialsError(
                    self.profile_key,
                    f"credentials refused by {_safe_url(url)} (HTTP {status}); "
                    "check the profile's stored credentials",
                )
            if status >= 500:
                last_problem = f"HTTP {status} from {_safe_url(url)}"
                self._backoff(attempt)
                continue
            if status >= 400:
                raise MalformedPayload(
                    self.profile_key, f"HTTP {status} from {_safe_url(url)}: {_snippet(response, kwargs)}"
                )
            try:
                return response.json()
            except (ValueError, RecursionError) as error:  # RecursionError: absurdly nested JSON
                raise MalformedPayload(
                    self.profile_key, f"{_safe_url(url)} did not return JSON: {_snippet(response, kwargs)}"
                ) from error
        raise PlatformUnavailable(self.profile_key, f"{last_problem} after {self.max_attempts} attempts")

    def _backoff(self, attempt: int) -> None:
        if attempt >= self.max_attempts:
            return
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1)))
        self.sleep(self.rng.uniform(0, ceiling))


def _limit_exhausted(headers: Mapping[str, str]) -> bool:
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in _REMAINING_HEADERS:
        if name in lowered:
            try:
                return float(lowered[name]) <= 0
            except ValueError:
                return False
    return False


def _safe_url(url: str) -> str:
    """The URL without its query string: tokens sometimes travel there (YouTube's key)."""
    return url.split("?", 1)[0]


_SECRET_FIELD = ("token", "secret", "password", "key", "authorization", "code", "jwt")


def _request_secrets(request_kwargs: Mapping[str, Any]) -> set[str]:
    """Credential values sent with a request, so an error body that echoes one can be cleaned."""
    found: set[str] = set()
    for part in ("headers", "params", "data", "json"):
        values = request_kwargs.get(part)
        if not isinstance(values, Mapping):
            continue
        for name, value in values.items():
            if isinstance(value, str) and any(word in str(name).lower() for word in _SECRET_FIELD):
                found.add(value)
                found.update(piece for piece in value.split() if len(piece) >= 8)  # "Bearer <token>"
    auth = request_kwargs.get("auth")
    if isinstance(auth, tuple):
        found.update(str(v) for v in auth if v)
    return {value for value in found if len(value) >= 6}


def _snippet(response: requests.Response, request_kwargs: Mapping[str, Any] | None = None) -> str:
    """The start of an error body, for the message. Platforms sometimes echo the request back,
    so every credential sent with it is blanked out before the body is quoted."""
    text = response.text[:400]
    for secret in sorted(_request_secrets(request_kwargs or {}), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    text = " ".join(text.split())[:200]
    return text if text else "(empty body)"
