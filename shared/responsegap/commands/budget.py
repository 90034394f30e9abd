"""``responsegap budget plan [--brands FILE]``: what each credential's budget allows, ahead of time.

Per credential and profile: the interval the planner gives when every profile is quiet (its
guaranteed interval), requests and posts per day, and the monthly platform fee at the unit
prices of the budget (``docs/budgets.md``). A profile whose configured interval the budget
cannot give is marked, so nobody finds out from a report full of gaps.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from responsegap.brands_file import BrandsFile, load_brands_file
from responsegap.domain.budget import DAY
from responsegap.domain.budget_overrides import budget_for
from responsegap.domain.poll_plan import PlanSettings, PollPlan, brand_demands, plan_brands

DEFAULT_BRANDS = Path("infra/brands.example.yaml")
# The median brand of the bundled real samples gets about 185 customer posts a day
# (infra/cost.md); a plan needs some traffic to price reads, and this is the real figure.
DEFAULT_POSTS_PER_DAY = 185.0
DAYS_PER_MONTH = 30.4375


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("budget", help="what each platform credential's budget allows")
    actions = parser.add_subparsers(dest="action", required=True)
    plan = actions.add_parser("plan", help="per credential and profile: achievable interval, requests, fee")
    plan.add_argument("--brands", type=Path, default=DEFAULT_BRANDS, help="brands YAML (budgets: overrides)")
    plan.add_argument(
        "--posts-per-day", type=float, default=DEFAULT_POSTS_PER_DAY, help="customer posts per profile a day"
    )
    plan.add_argument(
        "--users-per-post",
        type=float,
        default=1.0,
        help="user objects billed per post read (X bills author expansions; 0 if none are expanded)",
    )
    plan.add_argument("--max-interval", type=int, default=3600, help="slowest a quiet profile is polled")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    brands = load_brands_file(args.brands, allow_local_endpoints=True)
    settings = PlanSettings(max_interval=args.max_interval)
    plan = plan_for(brands, settings)
    print_plan(brands, plan, args.posts_per_day, args.users_per_post, sys.stdout)
    return 0


def plan_for(brands: BrandsFile, settings: PlanSettings | None = None) -> PollPlan:
    return plan_brands(brands.brands, brands.budgets, settings)


def print_plan(
    brands: BrandsFile, plan: PollPlan, posts_per_day: float, users_per_post: float, out: TextIO
) -> None:
    platform_of = {d.credential: d.platform for d in brand_demands(brands.brands)}
    total_fee = 0.0
    unreachable = 0
    for credential in plan.credentials:
        budget = budget_for(credential.credential, credential.platform, brands.budgets)
        limit = credential.limit
        allowed = (
            "not modelled" if limit is None else f"{limit.requests:,} per {_minutes(limit.window_seconds)}"
        )
        out.write(f"{credential.credential} ({platform_of[credential.credential]}): {allowed}")
        if limit is not None:
            out.write(
                f", {credential.poll_allowance:,} for polls, {credential.recheck_allowance:,} for rechecks"
            )
        out.write("\n")
        if credential.starved:
            out.write("  the budget cannot poll every profile even once per maximum interval\n")
        for profile in credential.profiles:
            interval = profile.guaranteed_interval
            requests_day = DAY / interval
            fee = _monthly_fee(budget, posts_per_day, users_per_post)
            total_fee += fee
            note = ""
            if profile.budget_limited:
                unreachable += 1
                note = f"  (configured {_minutes(profile.configured_interval)}: not reachable on this budget)"
            out.write(
                f"  {profile.profile_key}: every {_minutes(interval)}, {requests_day:,.1f} requests/day, "
                f"{posts_per_day:,.0f} posts/day, ${fee:,.2f}/month{note}\n"
            )
    profiles = sum(len(c.profiles) for c in plan.credentials)
    out.write(
        f"plan: {profiles} profiles on {len(plan.credentials)} credentials, "
        f"{unreachable} slower than configured, platform fees ${total_fee:,.2f}/month\n"
    )


def _monthly_fee(budget, posts_per_day: float, users_per_post: float) -> float:
    if budget is None:
        return 0.0
    daily = posts_per_day * (budget.price_per_post + users_per_post * budget.price_per_user)
    return daily * DAYS_PER_MONTH


def _minutes(seconds: int) -> str:
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds // 3600} h"
    return f"{seconds / 60:g} min"


__all__: Iterable[str] = ("plan_for", "print_plan", "register", "run")
