"""The platforms' published request limits, enforced per credential and endpoint (issue #15).

One :class:`PlatformLimits` answers, for a request of one credential on one endpoint, whether
the platform would serve it, and with which headers and refusal body, exactly in each
platform's own shape. The local platform server (X, Mastodon) and the contract-test fakes
(``tests/integration/connectors/limited.py``: every platform) share it, so both refuse where
the real platform would.

Limits come from ``domain.budget.DEFAULT_BUDGETS`` (the figures the planner plans with), so a
plan within budget meets no 429 here, and a plan beyond it meets the 429s the platform sends.
The Graph API has no per-request figure there (Business Use Case limits scale with the page's
engaged users), so its limit is :data:`GRAPH_CALLS_PER_HOUR` unless one is given.

The clock is injected (``clock() -> epoch seconds``): a benchmark runs a simulated day in
seconds. Windows are fixed and aligned to the epoch like the spend record's
(``EndpointLimit.window_start``), except YouTube's daily quota, which resets at midnight
Pacific time as Google documents. Shapes (headers, bodies) are copied from recorded answers;
sources in ``tests/fixtures/LIMITS_SOURCE.md``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from responsegap.domain.budget import DAY, DEFAULT_BUDGETS, EndpointLimit

# Graph Business Use Case: "calls within one hour" per page / IG account (the real figure is
# 4800 x engaged users per 24 h); a stand-in that a test or benchmark can override.
GRAPH_CALLS_PER_HOUR = 200
PACIFIC = ZoneInfo("America/Los_Angeles")
X_TOO_MANY = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}
YOUTUBE_QUOTA_MESSAGE = (
    "The request cannot be completed because you have exceeded your "
    '<a href="/youtube/v3/getting-started#quota">quota</a>.'
)
# Graph error codes for the limit a request hit: app (4), user (17), page (32), a spike on one
# call (613), Page and Instagram Business Use Case (80001, 80002).
GRAPH_LIMIT_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: (
        "(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more "
        "info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
    ),
    80002: (
        "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again. For "
        "more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
    ),
}


@dataclass(frozen=True, slots=True)
class Decision:
    """One request's fate: served or refused, and where its window stands after it."""

    allowed: bool
    limit: int
    used: int  # requests counted in the window, this one included when allowed
    reset: int  # epoch seconds the window ends
    window_seconds: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


@dataclass(frozen=True, slots=True)
class Refusal:
    """What the platform answers when a limit is hit: status, JSON body and headers."""

    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class LimitStats:
    requests: int = 0
    refused: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)
    refused_by_endpoint: dict[str, int] = field(default_factory=dict)


def youtube_day_start(moment: int) -> int:
    """Midnight Pacific time (DST included) at or before ``moment``: when the quota resets."""
    local = datetime.fromtimestamp(moment, PACIFIC)
    midnight = datetime(local.year, local.month, local.day, tzinfo=PACIFIC)
    return int(midnight.timestamp())


def _next_youtube_day(moment: int) -> int:
    start = datetime.fromtimestamp(youtube_day_start(moment), PACIFIC) + timedelta(days=1, hours=2)
    return int(datetime(start.year, start.month, start.day, tzinfo=PACIFIC).timestamp())


class PlatformLimits:
    """Counts requests per (platform, credential, endpoint, window) and refuses past the limit.

    ``limits`` overrides the defaults: ``{("x", "mentions"): EndpointLimit(...)}``.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        limits: Mapping[tuple[str, str], EndpointLimit] | None = None,
        graph_calls_per_hour: int = GRAPH_CALLS_PER_HOUR,
    ) -> None:
        self.clock = clock
        self.overrides = dict(limits or {})
        self.graph_limit = EndpointLimit("any", graph_calls_per_hour, 3600)
        self.stats = LimitStats()
        self._used: dict[tuple[str, str, str, int], int] = {}
        self._lock = threading.Lock()

    def limit_for(self, platform: str, endpoint: str) -> EndpointLimit:
        if (platform, endpoint) in self.overrides:
            return self.overrides[(platform, endpoint)]
        if platform in ("facebook", "instagram"):
            return self.graph_limit
        budget = DEFAULT_BUDGETS[platform]
        known = {limit.endpoint: limit for limit in budget.limits}
        if endpoint in known:
            return known[endpoint]
        if len(budget.limits) == 1:
            return budget.limits[0]  # one limit for every endpoint (Mastodon's "any")
        first = budget.limits[0]  # an endpoint the budget does not name: its own window
        return EndpointLimit(endpoint, first.requests, first.window_seconds)

    def window(self, platform: str, limit: EndpointLimit, now: int) -> tuple[int, int]:
        """(start, reset) of the window holding ``now``."""
        if platform == "youtube" and limit.window_seconds == DAY:
            return youtube_day_start(now), _next_youtube_day(now)
        start = limit.window_start(now)
        return start, start + limit.window_seconds

    def take(self, platform: str, credential: str, endpoint: str) -> Decision:
        """Count one request; refused (not counted) when the window is already full."""
        now = int(self.clock())
        limit = self.limit_for(platform, endpoint)
        start, reset = self.window(platform, limit, now)
        key = (platform, credential, limit.endpoint, start)
        label = f"{platform}:{limit.endpoint}"
        with self._lock:
            self.stats.requests += 1
            self.stats.by_endpoint[label] = self.stats.by_endpoint.get(label, 0) + 1
            used = self._used.get(key, 0)
            if used >= limit.requests:
                self.stats.refused += 1
                self.stats.refused_by_endpoint[label] = self.stats.refused_by_endpoint.get(label, 0) + 1
                return Decision(False, limit.requests, used, reset, limit.window_seconds)
            self._used[key] = used + 1
            return Decision(True, limit.requests, used + 1, reset, limit.window_seconds)

    def used(self, platform: str, credential: str, endpoint: str) -> int:
        """Requests counted in the current window (for tests and the benchmark)."""
        limit = self.limit_for(platform, endpoint)
        start, _ = self.window(platform, limit, int(self.clock()))
        return self._used.get((platform, credential, limit.endpoint, start), 0)


# --- each platform's headers and refusal, as it sends them ------------------------------------


def x_headers(decision: Decision) -> dict[str, str]:
    """X API v2: on every answer, epoch-seconds reset; no Retry-After, even on a 429."""
    return {
        "x-rate-limit-limit": str(decision.limit),
        "x-rate-limit-remaining": str(decision.remaining),
        "x-rate-limit-reset": str(decision.reset),
    }


def mastodon_headers(decision: Decision) -> dict[str, str]:
    """Mastodon: ``X-RateLimit-Reset`` is an ISO 8601 time with milliseconds."""
    reset = datetime.fromtimestamp(decision.reset, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": reset,
    }


def reddit_headers(decision: Decision, now: int) -> dict[str, str]:
    """Reddit: used and remaining (floats, as sent), reset in seconds from now."""
    return {
        "X-Ratelimit-Used": str(decision.used),
        "X-Ratelimit-Remaining": f"{float(decision.remaining):.1f}",
        "X-Ratelimit-Reset": str(max(0, decision.reset - now)),
    }


def bluesky_headers(decision: Decision) -> dict[str, str]:
    """Bluesky (atproto PDS): ``ratelimit-*`` with an epoch reset and the policy ``N;w=S``."""
    return {
        "ratelimit-limit": str(decision.limit),
        "ratelimit-remaining": str(decision.remaining),
        "ratelimit-reset": str(decision.reset),
        "ratelimit-policy": f"{decision.limit};w={decision.window_seconds}",
    }


def graph_headers(decision: Decision, object_id: str, kind: str, now: int) -> dict[str, str]:
    """Graph API: usage as whole percentages, per page / IG account and for the app."""
    percent = min(100, (100 * decision.used) // max(1, decision.limit))
    minutes = 0 if decision.allowed else max(1, -(-(decision.reset - now) // 60))
    usage = {
        object_id: [
            {
                "type": kind,
                "call_count": percent,
                "total_cputime": max(0, percent // 4),
                "total_time": max(0, percent // 3),
                "estimated_time_to_regain_access": minutes,
            }
        ]
    }
    app = {"call_count": max(0, percent // 2), "total_time": max(0, percent // 6), "total_cputime": 0}
    return {
        "X-Business-Use-Case-Usage": json.dumps(usage, separators=(",", ":")),
        "X-App-Usage": json.dumps(app, separators=(",", ":")),
    }


def headers_for(platform: str, decision: Decision, now: int, object_id: str = "") -> dict[str, str]:
    if platform == "x":
        return x_headers(decision)
    if platform == "mastodon":
        return mastodon_headers(decision)
    if platform == "reddit":
        return reddit_headers(decision, now)
    if platform == "bluesky":
        return bluesky_headers(decision)
    if platform in ("facebook", "instagram"):
        kind = "pages" if platform == "facebook" else "instagram"
        return graph_headers(decision, object_id or "0", kind, now)
    return {}  # YouTube reports no quota in headers: only the 403 tells


def refusal_for(
    platform: str, decision: Decision, now: int, object_id: str = "", graph_code: int = 0
) -> Refusal:
    """The answer a platform gives a request past its limit."""
    headers = headers_for(platform, decision, now, object_id)
    if platform == "x":
        return Refusal(429, dict(X_TOO_MANY), headers)
    if platform == "mastodon":
        return Refusal(429, {"error": "Too many requests"}, headers)
    if platform == "reddit":
        return Refusal(429, {"message": "Too Many Requests", "error": 429}, headers)
    if platform == "bluesky":
        return Refusal(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, headers)
    if platform == "youtube":
        body = {
            "error": {
                "code": 403,
                "message": YOUTUBE_QUOTA_MESSAGE,
                "errors": [
                    {"message": YOUTUBE_QUOTA_MESSAGE, "domain": "youtube.quota", "reason": "quotaExceeded"}
                ],
            }
        }
        return Refusal(403, body, headers)
    if platform in ("facebook", "instagram"):
        code = graph_code or (32 if platform == "facebook" else 80002)
        error: dict[str, Any] = {
            "message": GRAPH_LIMIT_MESSAGES.get(code, GRAPH_LIMIT_MESSAGES[32]),
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "AKmF0x7yH2pQ",
        }
        if code in (80001, 80002, 613):
            error["is_transient"] = True
        if code == 80002:
            error["error_subcode"] = 2446079
        return Refusal(400 if code != 4 else 403, {"error": error}, headers)
    raise KeyError(f"no refusal shape for {platform}")
