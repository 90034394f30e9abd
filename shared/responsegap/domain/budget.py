"""Platform request budgets as data, and the poll interval a shared budget allows (no I/O).

Figures are the platforms' published defaults as stated in issue #15; they are overridable
per credential, because plans and limits change (sources: docs/budgets.md).
Every profile polls on one credential (default ``<platform>:default``); profiles sharing a
credential share its budget, so the achievable interval grows with the number of profiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from responsegap.domain.model import ConfigError

FIFTEEN_MINUTES = 15 * 60
FIVE_MINUTES = 5 * 60
TEN_MINUTES = 10 * 60
HOUR = 3600
DAY = 24 * 3600


@dataclass(frozen=True, slots=True)
class EndpointLimit:
    """``requests`` allowed per ``window_seconds`` on one endpoint of one credential."""

    endpoint: str
    requests: int
    window_seconds: int

    def __post_init__(self) -> None:
        if self.requests <= 0 or self.window_seconds <= 0:
            raise ConfigError(f"{self.endpoint}: limit and window must be positive")

    def window_start(self, moment: int) -> int:
        """Start of the fixed window holding ``moment`` (the spend record's key part)."""
        return moment - moment % self.window_seconds

    def requests_per_day(self) -> float:
        return self.requests * DAY / self.window_seconds


@dataclass(frozen=True, slots=True)
class Budget:
    """One credential's budget: per-endpoint windows and the unit prices it is billed at."""

    platform: str
    limits: tuple[EndpointLimit, ...]
    price_per_post: float = 0.0
    price_per_user: float = 0.0
    monthly_post_cap: int | None = None
    notes: str = ""
    # True where the platform counts the limit per account (Graph: per page / IG account), so
    # each profile spends its own budget unless it names a shared credential.
    per_account: bool = False
    _by_endpoint: dict[str, EndpointLimit] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_endpoint", {limit.endpoint: limit for limit in self.limits})

    def limit(self, endpoint: str) -> EndpointLimit:
        try:
            return self._by_endpoint[endpoint]
        except KeyError as error:
            raise ConfigError(f"{self.platform} budget has no endpoint {endpoint!r}") from error


# Published defaults; sources in docs/budgets.md. X: per app for a bearer token, 15-minute
# windows (mentions: 450/15 min per app, 180 per user; most recent 800 only).
DEFAULT_BUDGETS: dict[str, Budget] = {
    "x": Budget(
        "x",
        (
            EndpointLimit("mentions", 450, FIFTEEN_MINUTES),
            EndpointLimit("search_recent", 450, FIFTEEN_MINUTES),
            EndpointLimit("users_lookup", 300, FIFTEEN_MINUTES),
        ),
        price_per_post=0.005,
        price_per_user=0.010,
        monthly_post_cap=3_000_000,
        notes="pay-per-use; each resource charged once per UTC day; mentions keep the latest 800",
    ),
    # 10,000 units a day per Google Cloud project; a list call costs 1 unit.
    "youtube": Budget("youtube", (EndpointLimit("list", 10_000, DAY),)),
    "mastodon": Budget("mastodon", (EndpointLimit("any", 300, FIVE_MINUTES),)),
    "bluesky": Budget("bluesky", (EndpointLimit("any", 3_000, FIVE_MINUTES),)),
    "reddit": Budget("reddit", (EndpointLimit("any", 1_000, TEN_MINUTES),)),
    # Graph Business Use Case limits are per page / IG account and published as a formula
    # ("calls within 24 hours = 4800 x engaged users", or x impressions for Instagram), seen
    # only as percentages in X-Business-Use-Case-Usage. Modelled as an ESTIMATE: the formula
    # at one engaged user, 4,800 / 24 h = 200 calls an hour per account (docs/budgets.md).
    "facebook": Budget(
        "facebook",
        (EndpointLimit("any", 200, HOUR),),
        per_account=True,
        notes="estimate: BUC 4800 x engaged users / 24 h, at one engaged user; per page",
    ),
    "instagram": Budget(
        "instagram",
        (EndpointLimit("any", 200, HOUR),),
        per_account=True,
        notes="estimate: BUC 4800 x impressions / 24 h, at one impression; per IG account",
    ),
}

# The endpoint a regular poll reads and the one a recheck reads, where a budget has several;
# elsewhere both spend the budget's first (single) limit.
POLL_ENDPOINT = {"x": "mentions"}
RECHECK_ENDPOINT = {"x": "search_recent"}


def default_credential(platform: str) -> str:
    return f"{platform}:default"


def poll_endpoint(budget: Budget) -> EndpointLimit:
    endpoint = POLL_ENDPOINT.get(budget.platform)
    return budget.limit(endpoint) if endpoint else budget.limits[0]


def recheck_endpoint(budget: Budget) -> EndpointLimit:
    endpoint = RECHECK_ENDPOINT.get(budget.platform)
    return budget.limit(endpoint) if endpoint else budget.limits[0]


def profile_credential(
    platform: str, handle: str, budget_credential: str | None = None, credentials: str | None = None
) -> str:
    """The credential whose budget a profile spends: the one it names (brands file
    ``budget_credential``), else its token's SSM path, else the account itself where the
    platform counts per account (Graph), else ``<platform>:default``."""
    if budget_credential:
        return budget_credential
    if credentials:
        return credentials
    default = DEFAULT_BUDGETS.get(platform)
    if default is not None and default.per_account:
        return f"{platform}:{handle}"
    return default_credential(platform)


def achievable_interval(
    limit: EndpointLimit, profiles: int, requests_per_poll: int = 1, wanted_seconds: int = 300
) -> int:
    """Shortest interval (seconds, never below ``wanted_seconds``) at which ``profiles``
    profiles, each making ``requests_per_poll`` requests per poll, stay within ``limit``."""
    if profiles <= 0:
        return wanted_seconds
    polls_per_window = limit.requests / requests_per_poll
    needed = math.ceil(limit.window_seconds * profiles / polls_per_window)
    return max(wanted_seconds, needed)
