"""The poll planner: each profile's next poll interval from its credential's budget (no I/O).

Profiles sharing a credential share its poll endpoint's budget (``A`` requests a window of
``W`` seconds, less a bounded share kept for rechecks where they spend the same endpoint).
The plan gives every profile a poll rate so that, averaged over a window, the polls of all
profiles on the credential make at most ``A`` requests:

1. When the configured intervals fit, every profile is polled at its configured interval.
2. Otherwise every profile first gets a floor: ``floor_share`` of an even share of the budget
   (never slower than ``max_interval``), so no profile starves and the report can say in
   advance how often each one is polled at least (:attr:`PlannedProfile.guaranteed_interval`).
3. The rest is shared in proportion to activity (``1 + customers waiting + posts an hour``):
   a burst on one profile shifts polls to it, never past its configured interval.
4. Intervals are rounded UP to the dispatch tick, so rounding never spends more.

If even ``max_interval`` for every profile does not fit, every profile gets the same
(longer) interval, and the plan says so (:attr:`CredentialPlan.starved`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from responsegap.domain.budget import (
    DAY,
    Budget,
    EndpointLimit,
    poll_endpoint,
    profile_credential,
    recheck_endpoint,
)
from responsegap.domain.budget_overrides import budget_for

DEFAULT_MAX_INTERVAL = 3600
DEFAULT_RECHECK_SHARE = 0.2
DEFAULT_FLOOR_SHARE = 0.5
DEFAULT_TICK = 60


@dataclass(frozen=True, slots=True)
class ProfileDemand:
    """What the planner knows of one profile: its credential, wish and recent activity."""

    profile_key: str
    platform: str
    credential: str
    configured_interval: int = 300
    waiting: int = 0  # customer posts still open (no human answer yet)
    posts_per_hour: float = 0.0  # recent traffic

    @property
    def weight(self) -> float:
        return 1.0 + max(0, self.waiting) + max(0.0, self.posts_per_hour)


@dataclass(frozen=True, slots=True)
class PlanSettings:
    max_interval: int = DEFAULT_MAX_INTERVAL  # quiet profiles back off to at most this
    recheck_share: float = DEFAULT_RECHECK_SHARE  # kept for rechecks on a shared endpoint
    floor_share: float = DEFAULT_FLOOR_SHARE  # of the even share, given to every profile
    tick: int = DEFAULT_TICK  # how often dispatch runs: intervals are multiples of it
    requests_per_poll: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.recheck_share < 1 or not 0 <= self.floor_share <= 1:
            raise ValueError("recheck_share must be in [0, 1) and floor_share in [0, 1]")
        if self.tick <= 0 or self.max_interval < self.tick or self.requests_per_poll <= 0:
            raise ValueError("tick, max_interval and requests_per_poll must be positive, max >= tick")


@dataclass(frozen=True, slots=True)
class PlannedProfile:
    profile_key: str
    credential: str
    configured_interval: int
    interval: int  # seconds between polls now
    guaranteed_interval: int  # the slowest this configuration ever polls it, whatever the activity

    @property
    def budget_limited(self) -> bool:
        """The budget cannot give this profile its configured interval in every case."""
        return self.guaranteed_interval > self.configured_interval


@dataclass(frozen=True, slots=True)
class CredentialPlan:
    credential: str
    platform: str
    limit: EndpointLimit | None  # the poll endpoint's limit; None: no modelled budget
    poll_allowance: int  # requests a window left for polls (the rest is the recheck share)
    recheck_allowance: int  # requests a window rechecks may spend on this endpoint or their own
    profiles: tuple[PlannedProfile, ...]
    even_interval: int  # every profile quiet: the interval an even share gives
    starved: bool  # even max_interval for every profile does not fit

    def requests_per_window(self) -> float:
        """Average requests a window the plan's polls make (never above ``poll_allowance``)."""
        if self.limit is None:
            return 0.0
        return sum(self.limit.window_seconds / p.interval for p in self.profiles)

    def requests_per_day(self, requests_per_poll: int = 1) -> float:
        return sum(requests_per_poll * DAY / p.interval for p in self.profiles)

    def per_round_cap(self, tick: int) -> int | None:
        """At most this many polls of the credential per dispatch round, so a window's budget
        is spread over it instead of spent in a storm at its start (None: no cap)."""
        if self.limit is None:
            return None
        return max(1, math.floor(self.poll_allowance * tick / self.limit.window_seconds))


@dataclass(frozen=True, slots=True)
class PollPlan:
    credentials: tuple[CredentialPlan, ...]
    by_profile: Mapping[str, PlannedProfile] = field(default_factory=dict)

    def interval(self, profile_key: str, default: int) -> int:
        planned = self.by_profile.get(profile_key)
        return planned.interval if planned else default

    def credential_of(self, profile_key: str) -> CredentialPlan | None:
        planned = self.by_profile.get(profile_key)
        if planned is None:
            return None
        return next(c for c in self.credentials if c.credential == planned.credential)


def plan_polls(
    demands: Iterable[ProfileDemand],
    budgets: Mapping[str, Budget | None],
    settings: PlanSettings | None = None,
) -> PollPlan:
    """The plan for every profile; ``budgets`` maps each credential to its budget (None or
    absent: not modelled, so its profiles keep their configured interval)."""
    settings = settings or PlanSettings()
    groups: dict[str, list[ProfileDemand]] = {}
    for demand in demands:
        groups.setdefault(demand.credential, []).append(demand)
    plans = tuple(
        _plan_credential(credential, members, budgets.get(credential), settings)
        for credential, members in sorted(groups.items())
    )
    by_profile = {p.profile_key: p for plan in plans for p in plan.profiles}
    return PollPlan(plans, by_profile)


def _plan_credential(
    credential: str, members: list[ProfileDemand], budget: Budget | None, settings: PlanSettings
) -> CredentialPlan:
    platform = members[0].platform
    if budget is None:
        profiles = tuple(
            PlannedProfile(
                d.profile_key, credential, d.configured_interval, d.configured_interval, d.configured_interval
            )
            for d in members
        )
        interval = max(d.configured_interval for d in members)
        return CredentialPlan(credential, platform, None, 0, 0, profiles, interval, False)
    limit = poll_endpoint(budget)
    shares_endpoint = recheck_endpoint(budget).endpoint == limit.endpoint
    reserved = math.floor(limit.requests * settings.recheck_share) if shares_endpoint else 0
    allowance = max(1, limit.requests - reserved)
    # Rechecks on an endpoint of their own (X search) may spend its whole limit; on the poll
    # endpoint they get the share the polls leave them.
    recheck_allowance = reserved if shares_endpoint else recheck_endpoint(budget).requests
    # Polls a second the credential allows (a poll makes requests_per_poll requests).
    capacity = allowance / limit.window_seconds / settings.requests_per_poll
    tick = settings.tick
    wanted = [1.0 / d.configured_interval for d in members]
    slowest = [1.0 / max(settings.max_interval, d.configured_interval) for d in members]
    n = len(members)
    even_rate = capacity / n
    starved = sum(slowest) > capacity
    if sum(wanted) <= capacity:
        profiles = tuple(
            PlannedProfile(
                d.profile_key, credential, d.configured_interval, d.configured_interval, d.configured_interval
            )
            for d in members
        )
        even = max(d.configured_interval for d in members)
        return CredentialPlan(
            credential, platform, limit, allowance, recheck_allowance, profiles, even, False
        )
    if starved:
        rates = [min(w, even_rate) for w in wanted]
        floors = rates
    else:
        floors = [
            min(w, max(s, even_rate * settings.floor_share)) for w, s in zip(wanted, slowest, strict=True)
        ]
        rates = _water_fill(floors, wanted, [d.weight for d in members], capacity)
    even = [min(w, even_rate) for w in wanted]
    profiles = tuple(
        PlannedProfile(
            d.profile_key,
            credential,
            d.configured_interval,
            _interval(rate, tick),
            _interval(floor, tick),
        )
        for d, rate, floor in zip(members, rates, floors, strict=True)
    )
    return CredentialPlan(
        credential,
        platform,
        limit,
        allowance,
        recheck_allowance,
        profiles,
        max(_interval(r, tick) for r in even),
        starved,
    )


def _water_fill(floors: list[float], caps: list[float], weights: list[float], capacity: float) -> list[float]:
    """Give each its floor, then share what is left by weight, none above its cap."""
    rates = list(floors)
    left = capacity - sum(floors)
    open_ = {i for i in range(len(rates)) if caps[i] > rates[i]}
    while left > 1e-12 and open_:
        total = sum(weights[i] for i in open_)
        saturated = set()
        for i in open_:
            share = left * weights[i] / total
            if rates[i] + share >= caps[i]:
                saturated.add(i)
        if not saturated:
            for i in open_:
                rates[i] += left * weights[i] / total
            break
        for i in saturated:
            left -= caps[i] - rates[i]
            rates[i] = caps[i]
        open_ -= saturated
    return rates


def _interval(rate: float, tick: int) -> int:
    """Seconds between polls for ``rate`` polls a second, rounded UP to a whole tick."""
    if rate <= 0:
        raise ValueError("a planned rate is always positive")
    # A hair of tolerance so 1/300 becomes 300, not 360, after floating-point division.
    return tick * math.ceil(1.0 / (rate * tick) - 1e-9)


def brand_demands(brands: Iterable[Any]) -> list[ProfileDemand]:
    """Every enabled profile of ``brands`` (Brands) as the planner sees it when all are quiet."""
    return [
        ProfileDemand(
            profile.key,
            profile.platform,
            profile_credential(
                profile.platform, profile.handle, profile.budget_credential, profile.credentials
            ),
            profile.poll_interval_seconds,
        )
        for brand in brands
        for profile in brand.profiles
        if profile.enabled
    ]


def plan_brands(
    brands: Iterable[Any], overrides: Mapping[str, Budget] | None = None, settings: PlanSettings | None = None
) -> PollPlan:
    """The all-quiet plan of every profile of ``brands``: each profile's guaranteed interval
    on the budgets of the brands file (``overrides``) or the published defaults."""
    wanted = brand_demands(brands)
    platform_of = {d.credential: d.platform for d in wanted}
    budgets = {c: budget_for(c, p, overrides or {}) for c, p in platform_of.items()}
    return plan_polls(wanted, budgets, settings)
