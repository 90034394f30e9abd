"""Before a poll makes requests: reserve them from its credential's shared budget (issue #15).

A poll that cannot reserve is deferred to the start of the next window, like a platform's
429 (``poll.defer``), instead of making requests the platform would refuse and that would
spend the budget every other profile on the credential shares.
"""

from __future__ import annotations

from responsegap.domain.budget import DEFAULT_BUDGETS, EndpointLimit, default_credential
from responsegap.domain.model import Profile
from responsegap.store.spend import SpendLedger

# The endpoint a regular poll reads, where a platform's budget has more than one.
POLL_ENDPOINT = {"x": "mentions"}
REQUESTS_PER_POLL = 1  # a poll's first page; the platform's headers correct further pages


def budget_credential(profile: Profile) -> str:
    """The credential whose budget the profile spends: the token it names, else the default."""
    return profile.credentials or default_credential(profile.platform)


def poll_limit(platform: str) -> EndpointLimit | None:
    budget = DEFAULT_BUDGETS.get(platform)
    if budget is None:
        return None  # no published request budget modelled for this platform yet
    endpoint = POLL_ENDPOINT.get(platform)
    return budget.limit(endpoint) if endpoint else budget.limits[0]


def reserve_poll(spend: SpendLedger | None, profile: Profile, now: int) -> int | None:
    """None when the poll may go ahead (reserved, or no budget to keep); otherwise the moment
    the credential's next window starts, when the poll should be retried."""
    limit = poll_limit(profile.platform) if spend is not None else None
    if spend is None or limit is None:
        return None
    start = limit.window_start(now)
    granted = spend.reserve(
        budget_credential(profile),
        limit.endpoint,
        REQUESTS_PER_POLL,
        limit.requests,
        start,
        ttl=max(2 * limit.window_seconds, 2 * 86400),
    )
    return None if granted else start + limit.window_seconds
