"""API requests per poll against the fewest the data allows, per platform.

Run: ``python -m tests.bench.connector_requests``. Not a pytest test: it prints figures.

Each platform has a small fake server (``responses`` callbacks) that pages exactly as the
platform documents it, seeded with posts cloned from the recorded fixtures in
``tests/fixtures/<platform>/``. A warm connector then polls a simulated day (288 polls, one
every 5 minutes): most polls find 0-3 new posts, a few find a burst of 150. For every list a
poll reads, the minimum is ``max(1, ceil(new items / page size))``: one request to learn that
nothing is new, else one per page of new data. Retries, logins and empty closing pages are
the overhead. Target: requests / minimum <= 1.10.

Adding a platform: write ``bench_<platform>(day) -> Figures`` and register it in ``PLATFORMS``.
"""

from __future__ import annotations

import copy
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses

from responsegap.connectors.http import PlatformHttp
from responsegap.domain.model import Profile

FIXTURES = Path(__file__).parents[1] / "fixtures"
START = int(datetime(2026, 11, 23, tzinfo=UTC).timestamp())
POLL_SECONDS = 300
POLLS = 288


@dataclass
class Figures:
    polls: int = 0
    requests: int = 0
    minimum: int = 0
    overhead_notes: list[str] = field(default_factory=list)

    def add(self, requests: int, minimum: int) -> None:
        self.polls += 1
        self.requests += requests
        self.minimum += minimum


def day(seed: int = 42) -> list[tuple[int, int]]:
    """(new customer posts, new brand posts) per poll: quiet mostly, a burst every 4 hours."""
    rng = random.Random(seed)
    out = []
    for n in range(POLLS):
        customers = 150 if n % 48 == 47 else rng.choice([0, 0, 0, 0, 0, 0, 1, 1, 2, 3])
        out.append((customers, rng.choice([0, 0, 0, 0, 0, 0, 0, 1, 2])))
    return out


def load(platform: str, name: str) -> Any:
    return json.loads((FIXTURES / platform / name).read_text(encoding="utf-8"))


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def pages_needed(new: int, size: int) -> int:
    return max(1, math.ceil(new / size))


def query(request: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query)


class SimulatedClock:
    """The time of the poll being simulated: connectors read it for their first-poll look back."""

    def __init__(self) -> None:
        self.now = float(START)

    def at_poll(self, n: int) -> None:
        self.now = float(START + n * POLL_SECONDS + 60)

    def __call__(self) -> float:
        return self.now


def http_for(profile: Profile, clock: SimulatedClock) -> PlatformHttp:
    return PlatformHttp(profile.key, sleep=lambda s: None, clock=clock)


# --- X API v2 --------------------------------------------------------------------------------
def bench_x(workload: list[tuple[int, int]]) -> Figures:
    from responsegap.connectors import x

    profile = Profile(brand_id="acme", platform="x", handle="acmehelp", account_id="1000")
    template = load("x", "users_id_mentions.page2.json")["data"][1]  # alice's opener
    users = load("x", "users_id_mentions.page2.json")["includes"]["users"]
    lists: dict[str, list[dict[str, Any]]] = {"mentions": [], "tweets": []}  # newest first

    def serve(name: str) -> Callable[[Any], tuple[int, dict[str, str], str]]:
        def callback(request: Any) -> tuple[int, dict[str, str], str]:
            q = query(request)
            since = int(q.get("since_id", ["0"])[0])
            size = int(q["max_results"][0])
            offset = int(q.get("pagination_token", q.get("next_token", ["0"]))[0])
            fresh = [t for t in lists[name] if int(t["id"]) > since]
            page = fresh[offset : offset + size]
            meta: dict[str, Any] = {"result_count": len(page)}
            if page:
                meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
            if offset + size < len(fresh):
                meta["next_token"] = str(offset + size)
            body = {"data": page, "includes": {"users": users}, "meta": meta} if page else {"meta": meta}
            return 200, {"x-rate-limit-remaining": "400"}, json.dumps(body)

        return callback

    figures = Figures()
    counter = 1861000000000001000
    clock = SimulatedClock()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("GET", f"{x.DEFAULT_BASE_URL}/users/1000/mentions", serve("mentions"))
        mock.add_callback("GET", f"{x.DEFAULT_BASE_URL}/users/1000/tweets", serve("tweets"))
        connector = x.XConnector(profile, http_for(profile, clock), {"bearer_token": "bench"})
        cursor: dict[str, str] = {}
        for n, (customers, brand) in enumerate(workload):
            clock.at_poll(n)
            for name, count, author in (("mentions", customers, "2001"), ("tweets", brand, "1000")):
                for _ in range(count):
                    counter += 1
                    tweet = copy.deepcopy(template)
                    tweet.update(id=str(counter), author_id=author, created_at=iso(START + n * POLL_SECONDS))
                    lists[name].insert(0, tweet)
            result = connector.fetch(cursor)
            cursor = dict(result.cursor)
            figures.add(
                result.requests, pages_needed(customers, x.PAGE_SIZE) + pages_needed(brand, x.PAGE_SIZE)
            )
    return figures


# --- Mastodon --------------------------------------------------------------------------------
def bench_mastodon(workload: list[tuple[int, int]]) -> Figures:
    from responsegap.connectors import mastodon

    base = "https://mastodon.example"
    profile = Profile(
        brand_id="acme",
        platform="mastodon",
        handle="acmehelp",
        account_id="109000000000000001",
        base_url=base,
    )
    notification = load("mastodon", "notifications.page2.json")[1]
    status = load("mastodon", "accounts_id_statuses.page1.json")[0]
    lists: dict[str, list[dict[str, Any]]] = {"notifications": [], "statuses": []}

    def serve(name: str, url: str) -> Callable[[Any], tuple[int, dict[str, str], str]]:
        def callback(request: Any) -> tuple[int, dict[str, str], str]:
            q = query(request)
            since = int(q.get("since_id", ["0"])[0])
            max_id = int(q.get("max_id", [str(10**30)])[0])
            limit = int(q["limit"][0])
            page = [i for i in lists[name] if since < int(i["id"]) < max_id][:limit]
            headers = {"X-RateLimit-Remaining": "299"}
            if page:  # Mastodon links "next" after any non-empty page, keeping only limit/filters
                headers["Link"] = (
                    f'<{url}?limit={limit}&max_id={page[-1]["id"]}>; rel="next", '
                    f'<{url}?limit={limit}&min_id={page[0]["id"]}>; rel="prev"'
                )
            return 200, headers, json.dumps(page)

        return callback

    figures = Figures()
    counter = 34976000
    clock = SimulatedClock()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        notifications_url = f"{base}/api/v1/notifications"
        statuses_url = f"{base}/api/v1/accounts/109000000000000001/statuses"
        mock.add_callback("GET", notifications_url, serve("notifications", notifications_url))
        mock.add_callback("GET", statuses_url, serve("statuses", statuses_url))
        connector = mastodon.MastodonConnector(profile, http_for(profile, clock), {"access_token": "bench"})
        cursor: dict[str, str] = {}
        for n, (customers, brand) in enumerate(workload):
            clock.at_poll(n)
            for name, count, template in (
                ("notifications", customers, notification),
                ("statuses", brand, status),
            ):
                for _ in range(count):
                    counter += 1
                    item = copy.deepcopy(template)
                    item["id"] = str(counter)
                    target = item.get("status", item) if name == "notifications" else item
                    target["id"] = f"1135120000{counter}"
                    target["created_at"] = iso(START + n * POLL_SECONDS)
                    lists[name].insert(0, item)
            result = connector.fetch(cursor)
            cursor = dict(result.cursor)
            size = connector.page_size
            figures.add(result.requests, pages_needed(customers, size) + pages_needed(brand, size))
    figures.overhead_notes.append("a last page exactly full costs one empty page after it")
    return figures


# --- Bluesky ---------------------------------------------------------------------------------
def bench_bluesky(workload: list[tuple[int, int]]) -> Figures:
    from responsegap.connectors import bluesky

    did = "did:plc:acmehelp7q2tmkxz4b3r6e5w"
    profile = Profile(brand_id="acme", platform="bluesky", handle="acmehelp.bsky.social", account_id=did)
    notification = load("bluesky", "listNotifications.page2.json")["notifications"][1]
    view = load("bluesky", "getAuthorFeed.page1.json")["feed"][2]
    lists: dict[str, list[dict[str, Any]]] = {"notifications": [], "feed": []}

    def serve(name: str) -> Callable[[Any], tuple[int, dict[str, str], str]]:
        def callback(request: Any) -> tuple[int, dict[str, str], str]:
            q = query(request)
            offset = int(q.get("cursor", ["0"])[0])
            limit = int(q["limit"][0])
            page = lists[name][offset : offset + limit]
            body: dict[str, Any] = {name: page}
            if page:  # the AppView hands out a cursor after any non-empty page
                body["cursor"] = str(offset + limit)
            return 200, {"ratelimit-remaining": "2999"}, json.dumps(body)

        return callback

    figures = Figures()
    xrpc = bluesky.DEFAULT_BASE_URL
    clock = SimulatedClock()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            "POST", f"{xrpc}/com.atproto.server.createSession", json=load("bluesky", "createSession.json")
        )
        mock.add_callback("GET", f"{xrpc}/app.bsky.notification.listNotifications", serve("notifications"))
        mock.add_callback("GET", f"{xrpc}/app.bsky.feed.getAuthorFeed", serve("feed"))
        connector = bluesky.BlueskyConnector(profile, http_for(profile, clock), {"password": "bench"})
        cursor: dict[str, str] = {}
        serial = 0
        for n, (customers, brand) in enumerate(workload):
            clock.at_poll(n)
            for name, count in (("notifications", customers), ("feed", brand)):
                for _ in range(count):
                    serial += 1
                    item = copy.deepcopy(notification if name == "notifications" else view)
                    post = item if name == "notifications" else item["post"]
                    post["uri"] = post["uri"].rsplit("/", 1)[0] + f"/3lbz{serial:09d}"
                    post["record"]["createdAt"] = iso(START + n * POLL_SECONDS)
                    post["indexedAt"] = iso(START + n * POLL_SECONDS + serial % 60)
                    lists[name].insert(0, item)
                lists[name].sort(key=lambda i: (i.get("post", i))["indexedAt"], reverse=True)
            result = connector.fetch(cursor)
            cursor = dict(result.cursor)
            size = bluesky.PAGE_SIZE
            figures.add(result.requests, pages_needed(customers, size) + pages_needed(brand, size))
    figures.overhead_notes.append("one createSession per warm connector")
    return figures


PLATFORMS: dict[str, Callable[[list[tuple[int, int]]], Figures]] = {
    "x": bench_x,
    "mastodon": bench_mastodon,
    "bluesky": bench_bluesky,
}


def main() -> None:
    workload = day()
    customers, brand = sum(c for c, _ in workload), sum(b for _, b in workload)
    print(f"{POLLS} polls, {customers} customer posts, {brand} brand posts")
    print(
        f"{'platform':<10} {'requests':>9} {'minimum':>8} {'per poll':>9} {'min/poll':>9} {'ratio':>6}  notes"
    )
    for name, bench in PLATFORMS.items():
        figures = bench(workload)
        ratio = figures.requests / figures.minimum
        print(
            f"{name:<10} {figures.requests:>9} {figures.minimum:>8} {figures.requests / figures.polls:>9.3f} "
            f"{figures.minimum / figures.polls:>9.3f} {ratio:>6.3f}  "
            f"{'ok' if ratio <= 1.10 else 'OVER 1.10'}; {'; '.join(figures.overhead_notes)}"
        )


if __name__ == "__main__":
    main()
