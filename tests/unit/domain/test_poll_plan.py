"""The poll planner: shares a credential's budget by activity, never above it, never starving."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from responsegap.domain.budget import DEFAULT_BUDGETS, Budget, EndpointLimit
from responsegap.domain.poll_plan import PlanSettings, ProfileDemand, plan_polls

X = DEFAULT_BUDGETS["x"]


def _crowd(
    n: int, credential: str = "x:default", platform: str = "x", interval: int = 300
) -> list[ProfileDemand]:
    return [ProfileDemand(f"{platform}#p{i}", platform, credential, interval) for i in range(n)]


def test_configured_intervals_that_fit_are_kept():
    plan = plan_polls(_crowd(100), {"x:default": X})
    assert {p.interval for p in plan.by_profile.values()} == {300}
    assert not any(p.budget_limited for p in plan.by_profile.values())


def test_a_burst_on_one_profile_shifts_polls_to_it_without_starving_the_others():
    quiet = plan_polls(_crowd(1_000), {"x:default": X})
    burst = _crowd(1_000)
    burst[7] = ProfileDemand("x#p7", "x", "x:default", 300, waiting=15, posts_per_hour=40)
    busy = plan_polls(burst, {"x:default": X})
    before, after = quiet.by_profile["x#p7"].interval, busy.by_profile["x#p7"].interval
    assert after < before  # the burst gets polled more often
    assert after >= 300  # never more often than configured
    others = [p for k, p in busy.by_profile.items() if k != "x#p7"]
    # Nobody starves: every other profile still gets a poll at least every max interval,
    # and no more slowly than the plan guarantees ahead of time.
    assert max(p.interval for p in others) <= PlanSettings().max_interval
    assert all(p.interval <= p.guaranteed_interval for p in busy.by_profile.values())
    # The others pay for it (here within the slack of rounding to the dispatch tick).
    assert sum(p.interval for p in others) >= sum(quiet.by_profile[p.profile_key].interval for p in others)
    assert busy.credentials[0].requests_per_window() <= busy.credentials[0].poll_allowance


def test_plan_stays_within_budget_and_says_when_max_interval_cannot_be_kept():
    plan = plan_polls(_crowd(5_000), {"x:default": X})
    credential = plan.credentials[0]
    assert credential.starved  # 5,000 hourly polls are 1,250 per 15 minutes; 450 are allowed
    assert credential.requests_per_window() <= credential.poll_allowance
    assert min(p.interval for p in credential.profiles) > PlanSettings().max_interval


def test_rechecks_keep_a_bounded_share_where_they_spend_the_poll_endpoint():
    mastodon = DEFAULT_BUDGETS["mastodon"]
    plan = plan_polls(_crowd(400, "mastodon:default", "mastodon"), {"mastodon:default": mastodon})
    credential = plan.credentials[0]
    assert credential.recheck_allowance == 60  # 20 % of 300 requests / 5 min
    assert credential.poll_allowance == 240
    assert credential.requests_per_window() <= 240


def test_separate_credentials_do_not_share_and_unmodelled_ones_keep_their_interval():
    plan = plan_polls(
        [*_crowd(1_000, "x:app-a"), ProfileDemand("x#solo", "x", "x:app-b", 300)],
        {"x:app-a": X, "x:app-b": X},
    )
    assert plan.by_profile["x#solo"].interval == 300
    assert plan.by_profile["x#p0"].interval > 300
    free = plan_polls([ProfileDemand("x#f", "x", "nowhere", 120)], {})
    assert free.by_profile["x#f"].interval == 120


@st.composite
def _scenario(draw):
    requests = draw(st.integers(1, 5_000))
    window = draw(st.sampled_from([60, 300, 900, 3_600, 86_400]))
    budget = Budget("mastodon", (EndpointLimit("any", requests, window),))
    demands = [
        ProfileDemand(
            f"mastodon#p{i}",
            "mastodon",
            "mastodon:c",
            draw(st.integers(60, 7_200)),
            waiting=draw(st.integers(0, 50)),
            posts_per_hour=draw(st.floats(0, 500)),
        )
        for i in range(draw(st.integers(1, 300)))
    ]
    plan_settings = PlanSettings(
        max_interval=draw(st.sampled_from([600, 3_600, 7_200])),
        recheck_share=draw(st.sampled_from([0.0, 0.2, 0.5])),
        floor_share=draw(st.sampled_from([0.0, 0.5, 1.0])),
    )
    return budget, demands, plan_settings


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scenario())
def test_total_planned_requests_never_exceed_the_budget(scenario):
    budget, demands, plan_settings = scenario
    plan = plan_polls(demands, {"mastodon:c": budget}, plan_settings)
    credential = plan.credentials[0]
    limit = budget.limits[0]
    planned = sum(limit.window_seconds / p.interval for p in credential.profiles)
    assert planned <= credential.poll_allowance + 1e-6
    assert credential.poll_allowance + credential.recheck_allowance <= limit.requests
    for demand in demands:
        planned_profile = plan.by_profile[demand.profile_key]
        assert planned_profile.interval >= demand.configured_interval
        assert planned_profile.interval <= planned_profile.guaranteed_interval
        if not credential.starved:
            slowest = max(plan_settings.max_interval, demand.configured_interval)
            # Intervals are whole dispatch ticks, rounded up.
            assert (
                planned_profile.guaranteed_interval <= -(-slowest // plan_settings.tick) * plan_settings.tick
            )
