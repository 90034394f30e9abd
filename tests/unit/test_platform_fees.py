"""The cost model's platform figures, recomputed here by hand from the published numbers."""

from __future__ import annotations

import math

import pytest

from infra import cost_model
from infra.platform_fees import DEFAULT_MIX, Traffic, plan_platforms, split_profiles

DAYS = 365.25 / 12


def test_profiles_split_by_the_mix_add_up() -> None:
    counts = split_profiles(1001, DEFAULT_MIX)
    assert sum(counts.values()) == 1001
    assert counts["x"] in (400, 401)


def test_x_fee_is_post_and_user_reads_once_a_day() -> None:
    plan = plan_platforms(
        1000, Traffic(posts_per_profile_day=185, x_users_per_post=0.42, x_rereads_per_post=0.1)
    )
    x = plan["x"]
    assert x.profiles == 400
    reads = 400 * 185 * 1.1 * DAYS  # every post once a UTC day, plus the recheck's re-reads
    users = 400 * 185 * 0.42 * DAYS
    assert x.fee_per_month == pytest.approx(reads * 0.005 + users * 0.010)
    # 2,477,612 post reads a month do not fit one app's 2,000,000 cap: two apps.
    assert x.credentials == 2
    # 200 profiles per app on 450 mention reads per 15 minutes: one poll each 400 s.
    assert x.interval_seconds == 400
    assert x.polls_per_day == pytest.approx(400 * 86400 / 400)


def test_budget_intervals_replace_the_unreachable_five_minutes() -> None:
    plan = plan_platforms(5000)
    assert plan["youtube"].profiles == 500
    assert plan["youtube"].interval_seconds == math.ceil(86400 * 500 / 10000)  # one project: 72 min
    assert plan["youtube"].polls_per_day == pytest.approx(10000)
    assert plan["mastodon"].interval_seconds == 300  # each account its own token
    assert plan["reddit"].interval_seconds == 300  # 250 profiles on 1,000 per 10 minutes fit
    assert all(p.fee_per_month == 0 for name, p in plan.items() if name != "x")
    for p in plan.values():
        if p.requests_allowed_per_day is not None:
            assert p.polls_per_day <= p.requests_allowed_per_day


def test_aws_is_billed_on_the_polls_the_budget_allows() -> None:
    usage = cost_model.Usage()
    polls = sum(p.polls_per_day for p in plan_platforms(5000).values())
    assert polls < 5000 * 288  # some platforms cannot give 5 minutes
    planned = cost_model.monthly(5000, usage, polls)
    unreachable = cost_model.monthly(5000, usage)
    assert planned["Lambda requests"][0] < unreachable["Lambda requests"][0]
    # Each poll the budget does not allow saves its own compute and its alert job's.
    saved_polls = (5000 * 288 - polls) * DAYS
    saved_gb_s = saved_polls * (0.5 * 1.0 + 0.5 * 0.05)
    saved = unreachable["Lambda compute (arm64)"][0] - planned["Lambda compute (arm64)"][0]
    assert saved == pytest.approx(saved_gb_s * 0.0000133334)
