"""Contract-test fakes that enforce the platforms' published limits (``infra.local.platform_limits``).

``enforce(rsps, limits, platform, url, body)`` registers a ``responses`` callback that counts
each request against the credential's window and answers either ``body`` with the platform's
rate-limit headers, or the platform's own refusal (429, YouTube's 403 ``quotaExceeded``,
Graph's error codes) once the window is full.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import responses

from infra.local.platform_limits import PlatformLimits, headers_for, refusal_for


def endpoint_of(platform: str, url: str) -> str:
    """The budget endpoint a request spends (X counts each endpoint apart; others one limit)."""
    path = urlsplit(url).path
    if platform == "x":
        if path.endswith("/mentions"):
            return "mentions"
        if path.endswith("/tweets/search/recent"):
            return "search_recent"
        return "user_tweets"
    return "list" if platform == "youtube" else "any"


def credential_of(request: Any) -> str:
    """The token a request carries (header or ``access_token`` query), as the platform keys it."""
    value = request.headers.get("Authorization", "")
    if value:
        return value.split(" ", 1)[-1]
    token = (request.params or {}).get("access_token")
    return str(token or "anonymous")


def enforce(
    rsps: responses.RequestsMock,
    limits: PlatformLimits,
    platform: str,
    url: str | re.Pattern[str],
    body: Any | Callable[[Any], Any],
    *,
    method: str = responses.GET,
    object_id: str = "",
    graph_code: int = 0,
) -> None:
    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        now = int(limits.clock())
        decision = limits.take(platform, credential_of(request), endpoint_of(platform, request.url))
        if not decision.allowed:
            refusal = refusal_for(platform, decision, now, object_id, graph_code)
            return refusal.status, refusal.headers, json.dumps(refusal.body)
        payload = body(request) if callable(body) else body
        return 200, headers_for(platform, decision, now, object_id), json.dumps(payload)

    rsps.add_callback(method, url, callback=callback, content_type="application/json")
