"""Every enforcing fake answers past its limit as the platform does, and every connector reads
that answer into :class:`RateLimited` with the moment the platform names (issue #15)."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from infra.local.platform_limits import PlatformLimits, _next_youtube_day, youtube_day_start
from responsegap.connectors import make_connector
from responsegap.connectors.base import RateLimited
from responsegap.connectors.http import PlatformHttp
from responsegap.connectors.youtube import next_pacific_midnight
from responsegap.domain.budget import DEFAULT_BUDGETS, EndpointLimit
from responsegap.domain.model import Profile
from responsegap.domain.periods import parse_instant
from tests.integration.connectors.limited import enforce

FIXTURES = Path(__file__).parents[2] / "fixtures"
NOW = parse_instant("2026-11-23T12:03:20Z")
CURSOR = {"since": str(NOW - 3600)}


def fixture(platform: str, name: str) -> Any:
    return json.loads((FIXTURES / platform / name).read_text(encoding="utf-8"))


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> float:
        return float(self.now)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as found:
        yield found


def room_for(platform: str, endpoints: tuple[str, ...], n: int) -> dict[tuple[str, str], EndpointLimit]:
    """The platform's own windows, but room for ``n`` requests each (one poll's worth)."""
    budget = DEFAULT_BUDGETS.get(platform)
    window = budget.limits[0].window_seconds if budget else 3600
    return {(platform, e): EndpointLimit(e, n, window) for e in endpoints}


def http(profile: Profile, clock: Clock) -> PlatformHttp:
    return PlatformHttp(profile.key, sleep=lambda s: None, clock=clock, rng=random.Random(3))


PROFILES = {
    "x": (
        Profile(brand_id="acme", platform="x", handle="acmehelp", account_id="1000"),
        {"bearer_token": "xb"},
    ),
    "mastodon": (
        Profile(
            brand_id="acme",
            platform="mastodon",
            handle="acmehelp",
            account_id="109",
            base_url="https://m.example",
        ),
        {"access_token": "mt"},
    ),
    "bluesky": (
        Profile(brand_id="acme", platform="bluesky", handle="acme.bsky.social", account_id="did:plc:acme"),
        {"identifier": "acme.bsky.social", "password": "abcd-efgh-ijkl-mnop"},
    ),
    "reddit": (
        Profile(brand_id="acme", platform="reddit", handle="acmeco", account_id="t2_acme1"),
        {
            "client_id": "cid",
            "client_secret": "cs",
            "username": "AcmeCo",
            "password": "pw",
            "user_agent": "ua",
        },
    ),
    "youtube": (
        Profile(brand_id="acme", platform="youtube", handle="acmeco", account_id="UCacme0000000000000000aa"),
        {"access_token": "yt"},
    ),
    "facebook": (
        Profile(brand_id="acme", platform="facebook", handle="acmeco", account_id="1000"),
        {"page_access_token": "fb"},
    ),
    "instagram": (
        Profile(brand_id="acme", platform="instagram", handle="acmeco", account_id="17841400000000001"),
        {"access_token": "ig"},
    ),
}


def serve(mock: responses.RequestsMock, limits: PlatformLimits, platform: str) -> None:
    """The platform's empty answers behind its published limits (the login calls unlimited)."""
    if platform == "x":
        enforce(
            mock,
            limits,
            "x",
            re.compile(r"https://api\.x\.com/2/.*"),
            fixture("x", "users_id_mentions.empty.json"),
        )
    elif platform == "mastodon":
        enforce(mock, limits, "mastodon", re.compile(r"https://m\.example/api/v1/.*"), [])
    elif platform == "bluesky":
        mock.post(re.compile(r".*createSession"), json=fixture("bluesky", "createSession.json"))

        def empty(request: Any) -> Any:
            name = (
                "listNotifications.empty.json"
                if "listNotifications" in request.url
                else "getAuthorFeed.empty.json"
            )
            return fixture("bluesky", name)

        enforce(mock, limits, "bluesky", re.compile(r"https://bsky\.social/xrpc/app\..*"), empty)
    elif platform == "reddit":
        mock.post("https://www.reddit.com/api/v1/access_token", json=fixture("reddit", "access_token.json"))
        enforce(
            mock,
            limits,
            "reddit",
            re.compile(r"https://oauth\.reddit\.com/.*"),
            fixture("reddit", "listing.empty.json"),
        )
    elif platform == "youtube":
        enforce(
            mock,
            limits,
            "youtube",
            re.compile(r"https://www\.googleapis\.com/.*"),
            fixture("youtube", "commentThreads.empty.json"),
        )
    else:
        name = "page_feed.empty.json" if platform == "facebook" else "user_media.empty.json"
        enforce(
            mock,
            limits,
            platform,
            re.compile(r"https://graph\.facebook\.com/.*"),
            fixture(platform, name),
            object_id=PROFILES[platform][0].account_id,
        )


ENDPOINTS = {"x": ("mentions", "user_tweets", "search_recent"), "youtube": ("list",)}


def poll_twice(
    platform: str, clock: Clock, mock: responses.RequestsMock
) -> tuple[PlatformLimits, RateLimited]:
    profile, secrets = PROFILES[platform]
    endpoints = ENDPOINTS.get(platform, ("any",))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as counting:
        dry = PlatformLimits(clock)
        serve(counting, dry, platform)
        make_connector(profile, http(profile, clock), secrets).fetch(dict(CURSOR))
    per_poll = max(dry.stats.by_endpoint.values())  # the most one poll spends on one endpoint
    limits = PlatformLimits(clock, room_for(platform, endpoints, per_poll), graph_calls_per_hour=per_poll)
    serve(mock, limits, platform)
    make_connector(profile, http(profile, clock), secrets).fetch(dict(CURSOR))  # within the limit
    with pytest.raises(RateLimited) as caught:  # a fresh container: nothing remembered but the headers
        make_connector(profile, http(profile, clock), secrets).fetch(dict(CURSOR))
    return limits, caught.value


def test_x_refuses_per_endpoint_window_with_its_recorded_429(
    clock: Clock, mock: responses.RequestsMock
) -> None:
    limits, limited = poll_twice("x", clock, mock)
    window_end = NOW - NOW % 900 + 900
    assert limited.retry_at == window_end  # x-rate-limit-reset, X sends no Retry-After
    refused = mock.calls[-1].response
    assert refused.status_code == 429
    assert refused.json() == fixture("x", "error.429.json")
    assert refused.headers["x-rate-limit-remaining"] == "0"
    assert refused.headers["x-rate-limit-limit"] == "1"  # one request per endpoint per poll
    assert "retry-after" not in {k.lower() for k in refused.headers}
    # mentions and the brand's timeline have windows of their own
    assert limits.used("x", "xb", "mentions") == 1 and limits.used("x", "xb", "user_tweets") == 1
    assert limits.stats.refused_by_endpoint == {"x:mentions": 1}


def test_mastodon_429_carries_an_iso_reset(clock: Clock, mock: responses.RequestsMock) -> None:
    _, limited = poll_twice("mastodon", clock, mock)
    assert limited.retry_at == NOW - NOW % 300 + 300
    refused = mock.calls[-1].response
    assert refused.status_code == 429 and refused.json() == fixture("mastodon", "error.429.json")
    assert refused.headers["X-RateLimit-Reset"].endswith(".000Z")


def test_bluesky_429_is_rate_limit_exceeded_with_ratelimit_headers(
    clock: Clock, mock: responses.RequestsMock
) -> None:
    _, limited = poll_twice("bluesky", clock, mock)
    assert limited.retry_at == NOW - NOW % 300 + 300
    refused = mock.calls[-1].response
    assert refused.status_code == 429 and refused.json() == fixture("bluesky", "error.RateLimitExceeded.json")
    assert refused.headers["ratelimit-policy"].endswith(";w=300")


def test_reddit_429_reset_is_seconds_from_now(clock: Clock, mock: responses.RequestsMock) -> None:
    _, limited = poll_twice("reddit", clock, mock)
    assert limited.retry_at == NOW - NOW % 600 + 600
    refused = mock.calls[-1].response
    assert refused.status_code == 429
    assert int(refused.headers["X-Ratelimit-Reset"]) == NOW - NOW % 600 + 600 - NOW
    assert refused.headers["X-Ratelimit-Remaining"] == "0.0"
    assert int(refused.headers["X-Ratelimit-Used"]) >= 1


def test_youtube_quota_is_a_403_quota_exceeded_until_midnight_pacific(
    clock: Clock, mock: responses.RequestsMock
) -> None:
    _, limited = poll_twice("youtube", clock, mock)
    assert limited.retry_at == next_pacific_midnight(NOW) == _next_youtube_day(NOW)
    refused = mock.calls[-1].response
    assert refused.status_code == 403 and refused.json() == fixture("youtube", "error.quotaExceeded.json")


@pytest.mark.parametrize(("platform", "code"), [("facebook", 32), ("instagram", 80002)])
def test_graph_refusal_names_the_time_to_regain_access(
    platform: str, code: int, clock: Clock, mock: responses.RequestsMock
) -> None:
    _, limited = poll_twice(platform, clock, mock)
    window_end = NOW - NOW % 3600 + 3600
    assert window_end <= limited.retry_at < window_end + 60  # whole minutes, rounded up
    refused = mock.calls[-1].response
    assert refused.json()["error"]["code"] == code
    usage = json.loads(refused.headers["X-Business-Use-Case-Usage"])
    (entry,) = usage[PROFILES[platform][0].account_id]
    assert entry["call_count"] == 100 and entry["estimated_time_to_regain_access"] > 0
    assert set(json.loads(refused.headers["X-App-Usage"])) == {"call_count", "total_time", "total_cputime"}


def test_the_window_opens_again_on_the_injected_clock(clock: Clock) -> None:
    limits = PlatformLimits(clock)
    limit = DEFAULT_BUDGETS["x"].limit("mentions").requests
    decisions = [limits.take("x", "app", "mentions") for _ in range(limit + 1)]
    assert [d.allowed for d in decisions].count(True) == limit and not decisions[-1].allowed
    assert decisions[limit - 1].remaining == 0
    clock.now = decisions[-1].reset  # a simulated quarter hour later
    assert limits.take("x", "app", "mentions").allowed
    assert limits.take("x", "other-app", "mentions").allowed  # per credential


def test_youtube_day_follows_pacific_daylight_saving() -> None:
    summer = parse_instant("2026-07-01T12:00:00Z")
    winter = parse_instant("2026-12-01T12:00:00Z")
    assert youtube_day_start(summer) == parse_instant("2026-07-01T07:00:00Z")
    assert youtube_day_start(winter) == parse_instant("2026-12-01T08:00:00Z")
    assert _next_youtube_day(summer) - youtube_day_start(summer) == 86400
