"""What the platforms allow and charge for N profiles: the poll interval each platform's budget
gives, the requests and polls a day that makes, and the monthly platform fee (issue #15).

The AWS side (``infra.cost_model``) is billed on the polls this plan allows, not on the
unreachable "every 5 minutes": a poll the budget refuses is never made.

Traffic: the median brand profile of the real sample ``infra/data/twcs/twcs-random-5000.csv``
(5,000 tweets drawn at random from the 2,811,774 of the full Kaggle file, 2017-10-01..12-03):
**185 posts a day** (customer posts attributed by the first brand @mention, plus the brand's
own; mean 383, p90 975, largest 4,771), busiest hour 1.53x the mean hour. Distinct authors per
UTC day are 0.42 per post (``twcs-head-public.csv``, whole conversations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from responsegap.domain.budget import DAY, DEFAULT_BUDGETS, EndpointLimit, achievable_interval

DAYS_PER_MONTH = 30.4375
FEES_LOOKED_UP = "2026-12-04"

# X API v2 pay-per-usage (docs.x.com/x-api/getting-started/pricing, read 2026-12-04): "Posts:
# Read $0.005 per resource", "User: Read $0.010 per resource", "All resources are deduplicated
# within a 24-hour UTC day window". Monthly Post-read cap: the pricing page says 3 million per
# billing cycle, docs.x.com/x-api/fundamentals/post-cap says 2 million; the lower is used.
X_PRICE_PER_POST = 0.005
X_PRICE_PER_USER = 0.010
X_POST_CAP_PER_APP = 2_000_000
X_SOURCES = (
    "docs.x.com/x-api/getting-started/pricing (Posts: Read $0.005, User: Read $0.010 per "
    "resource; deduplicated per 24-hour UTC day; cap 3M Post reads per cycle)",
    "docs.x.com/x-api/fundamentals/post-cap (pay-per-usage cap 2 million Post reads a month)",
    "postproxy.dev/blog/x-api-pricing-2026 and blotato.com/blog/twitter-api-pricing (2026: "
    "pay-per-use the default since 2026-02-06; Enterprise from ~$42,000/month, not public)",
)

# Assumed share of profiles per platform (not measured: responsegap has no deployment data).
DEFAULT_MIX: dict[str, float] = {
    "x": 0.40,
    "facebook": 0.15,
    "instagram": 0.15,
    "youtube": 0.10,
    "mastodon": 0.10,
    "bluesky": 0.05,
    "reddit": 0.05,
}
WANTED_INTERVAL = 300  # what the template's dispatch offers: every 5 minutes


@dataclass(frozen=True, slots=True)
class Traffic:
    posts_per_profile_day: float = 185  # twcs-random-5000 median brand (module doc)
    x_users_per_post: float = 0.42  # distinct authors per post per UTC day (twcs-head-public)
    # Posts a recheck's conversation search reads again on a later UTC day (charged again):
    # assumption, threads still open across midnight.
    x_rereads_per_post: float = 0.10
    requests_per_poll: int = 1  # budget_gate.REQUESTS_PER_POLL: the poll endpoint's first page


@dataclass(frozen=True, slots=True)
class PlatformPlan:
    platform: str
    profiles: int
    credentials: int
    interval_seconds: int
    polls_per_day: float
    requests_allowed_per_day: float | None
    fee_per_month: float
    note: str


def split_profiles(profiles: int, mix: dict[str, float]) -> dict[str, int]:
    """Whole profiles per platform, summing to ``profiles`` (largest remainders)."""
    total = sum(mix.values())
    exact = {p: profiles * share / total for p, share in mix.items()}
    counts = {p: math.floor(v) for p, v in exact.items()}
    for p in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[
        : profiles - sum(counts.values())
    ]:
        counts[p] += 1
    return counts


def _shared(limit: EndpointLimit, profiles: int, credentials: int, per_poll: int) -> int:
    return achievable_interval(limit, math.ceil(profiles / credentials), per_poll, WANTED_INTERVAL)


def plan_platforms(
    profiles: int, traffic: Traffic | None = None, mix: dict[str, float] | None = None
) -> dict[str, PlatformPlan]:
    """Per platform: credentials, achievable interval, polls a day and the monthly fee."""
    t = traffic or Traffic()
    counts = split_profiles(profiles, mix or DEFAULT_MIX)
    out: dict[str, PlatformPlan] = {}
    for platform, n in counts.items():
        if n == 0:
            continue
        budget = DEFAULT_BUDGETS.get(platform)
        fee = 0.0
        if platform == "x":
            reads_month = n * t.posts_per_profile_day * (1 + t.x_rereads_per_post) * DAYS_PER_MONTH
            credentials = max(1, math.ceil(reads_month / X_POST_CAP_PER_APP))
            limit = budget.limit("mentions") if budget else None
            fee = reads_month * X_PRICE_PER_POST + (
                n * t.posts_per_profile_day * t.x_users_per_post * DAYS_PER_MONTH * X_PRICE_PER_USER
            )
            note = f"{credentials} app(s) for the {X_POST_CAP_PER_APP:,} post-read cap" + (
                "; more than one app: Enterprise is X's route" if credentials > 1 else ""
            )
        elif platform == "mastodon":
            credentials, limit = n, budget.limits[0] if budget else None
            note = "one token per account (each brand's own)"
        elif platform in ("youtube", "bluesky", "reddit"):
            credentials, limit = 1, budget.limits[0] if budget else None
            note = {
                "youtube": "one Google Cloud project (quota resets midnight Pacific)",
                "bluesky": "one egress IP",
                "reddit": "one OAuth client (1,000 / 10 min assumed)",
            }[platform]
        else:
            credentials, limit = n, None
            note = "Graph per-page usage limits: not modelled, 5 min assumed"
        if limit is None:
            interval = WANTED_INTERVAL
            allowed = None
        else:
            interval = _shared(limit, n, credentials, t.requests_per_poll)
            allowed = limit.requests_per_day() * credentials
        out[platform] = PlatformPlan(
            platform,
            n,
            credentials,
            interval,
            n * DAY / interval,
            allowed,
            fee,
            note,
        )
    return out
