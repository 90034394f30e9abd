"""Every request of a poll beyond its first is reserved before it is made; what the platform's
headers report corrects the spend record afterwards (issue #15).

``budget_gate.reserve_poll`` reserved the poll's first request. :class:`PageGate` sits in the
connector's ``PlatformHttp.before_request``: it lets that first request of the poll endpoint
through and reserves each further one (next pages, the brand's own timeline, retries) on the
endpoint the URL spends. A refused reservation raises :class:`BudgetSpent` (a
:class:`RateLimited`): the poll stops paging, stores nothing and keeps its cursor, so the
pages not read are read by the deferred poll; nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from responsegap.connectors.base import RateLimited
from responsegap.connectors.http import RateLimitReport
from responsegap.domain.budget import DEFAULT_BUDGETS, EndpointLimit
from responsegap.domain.model import Profile
from responsegap.pipeline.budget_gate import budget_credential, poll_limit
from responsegap.store.spend import SpendLedger


class BudgetSpent(RateLimited):
    """The credential's window has no request left for this poll's next page."""


def endpoint_limit(platform: str, url: str) -> EndpointLimit | None:
    """The budget limit a request to ``url`` spends (None: a call no budget models, a login)."""
    budget = DEFAULT_BUDGETS.get(platform)
    if budget is None:
        return None
    path = urlsplit(url).path
    if platform == "x":
        name = (
            "mentions"
            if path.endswith("/mentions")
            else "search_recent"
            if path.endswith("/tweets/search/recent")
            else "user_tweets"
            if path.endswith("/tweets")
            else None
        )
        if name is None:
            return None
        try:
            return budget.limit(name)
        except Exception:
            return None
    if platform == "reddit" and "access_token" in path:
        return None
    if platform == "bluesky" and "com.atproto.server" in path:
        return None  # session calls have limits of their own
    return budget.limits[0]


class PageGate:
    """``PlatformHttp.before_request`` for one poll of one profile."""

    def __init__(self, spend: SpendLedger, profile: Profile, clock: Callable[[], float]) -> None:
        self.spend = spend
        self.profile = profile
        self.credential = budget_credential(profile)
        self.clock = clock
        self.first = poll_limit(profile.platform)  # reserved by reserve_poll already
        self.reserved = 0

    def __call__(self, url: str) -> None:
        limit = endpoint_limit(self.profile.platform, url)
        if limit is None:
            return
        if self.first is not None and limit.endpoint == self.first.endpoint:
            self.first = None  # the poll's first request: reserve_poll took it
            return
        now = int(self.clock())
        start = limit.window_start(now)
        granted = self.spend.reserve(
            self.credential,
            limit.endpoint,
            1,
            limit.requests,
            start,
            ttl=max(2 * limit.window_seconds, 2 * 86400),
        )
        if not granted:
            retry_at = start + limit.window_seconds
            raise BudgetSpent(
                self.profile.key, retry_at, f"credential budget spent mid-poll; retry at {retry_at}"
            )
        self.reserved += 1

    def correct(self, reports: dict[str, RateLimitReport]) -> int:
        """Raise the spend record to what the platform reported; returns corrections made."""
        made = 0
        now = int(self.clock())
        for report in reports.values():
            limit = endpoint_limit(self.profile.platform, report.url)
            if limit is None or report.remaining is None:
                continue
            reported_limit = report.limit if report.limit is not None else limit.requests
            # the platform's limit may be lower than ours (another plan); count what it says is spent
            spent = max(0, reported_limit - report.remaining)
            made += self.spend.correct(
                self.credential,
                limit.endpoint,
                limit.window_start(now),
                remaining=max(0, limit.requests - spent),
                limit=limit.requests,
                ttl=max(2 * limit.window_seconds, 2 * 86400),
            )
        return made
