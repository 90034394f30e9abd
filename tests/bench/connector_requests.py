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


# --- Graph API (Facebook Pages, Instagram): timestamp cursors, comments expanded inline ------
def graph_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def created_times(n: int, count: int) -> list[int]:
    """``count`` creation times spread over the 5 minutes before poll ``n`` (newest first)."""
    poll_at = START + n * POLL_SECONDS + 60
    return sorted((poll_at - 1 - (i * 277) % POLL_SECONDS for i in range(count)), reverse=True)


def graph_page(items: list[dict[str, Any]], offset: int, size: int) -> dict[str, Any]:
    page: dict[str, Any] = {"data": items[offset : offset + size]}
    if offset + size < len(items):
        page["paging"] = {
            "cursors": {"after": str(offset + size)},
            "next": f"https://graph.invalid/?after={offset + size}",
        }
    return page


def bench_facebook(workload: list[tuple[int, int]]) -> Figures:
    from responsegap.connectors import facebook, graph

    profile = Profile(brand_id="acme", platform="facebook", handle="acmeco", account_id="1000")
    template = load("facebook", "post_comments.page2.json")["data"][4]  # Ann's comment
    post = copy.deepcopy(load("facebook", "page_feed.page1.json")["data"][0])
    post["created_time"] = graph_time(START - 3600)
    stream: list[dict[str, Any]] = []  # the post's comments, newest first (filter=stream)
    inline = 100  # comments.limit(100) in POST_FIELDS

    def feed(request: Any) -> tuple[int, dict[str, str], str]:
        item = dict(post, comments=graph_page(stream, 0, inline))
        return 200, {}, json.dumps({"data": [item]})

    def comments(request: Any) -> tuple[int, dict[str, str], str]:
        q = query(request)
        return 200, {}, json.dumps(graph_page(stream, int(q["after"][0]), int(q["limit"][0])))

    figures = Figures()
    clock = SimulatedClock()
    serial = 0
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("GET", f"{graph.GRAPH_BASE_URL}/1000/feed", feed)
        mock.add_callback("GET", f"{graph.GRAPH_BASE_URL}/1000/tagged", lambda r: (200, {}, '{"data": []}'))
        mock.add_callback("GET", f"{graph.GRAPH_BASE_URL}/1000_1/comments", comments)
        connector = facebook.FacebookConnector(
            profile, http_for(profile, clock), {"page_access_token": "bench"}
        )
        cursor: dict[str, str] = {}
        for n, (customers, brand) in enumerate(workload):
            clock.at_poll(n)
            fresh = []
            for when in created_times(n, customers + brand):
                serial += 1
                comment = copy.deepcopy(template)
                comment.update(id=f"1_{serial}", created_time=graph_time(when))
                if len(fresh) >= customers:  # the Page answering the latest customer comment
                    latest = fresh[0] if fresh else stream[0] if stream else comment
                    comment.update(
                        **{"from": {"id": "1000", "name": "Acme Co"}, "parent": {"id": latest["id"]}}
                    )
                fresh.append(comment)
            stream[:0] = sorted(fresh, key=lambda c: c["created_time"], reverse=True)
            result = connector.fetch(cursor)
            cursor = dict(result.cursor)
            figures.add(result.requests, pages_needed(customers + brand, 100) + 1)
    figures.overhead_notes.append("the stream page that reaches the 60 s overlap")
    return figures


def bench_instagram(workload: list[tuple[int, int]]) -> Figures:
    from responsegap.connectors import graph, instagram

    ig_user, media_id = "17841400000000001", "17900000000000001"
    profile = Profile(brand_id="acme", platform="instagram", handle="acmeco", account_id=ig_user)
    media = copy.deepcopy(load("instagram", "user_media.page2.json")["data"][0])
    media.update(id=media_id, timestamp=graph_time(START - 3600))
    template = load("instagram", "media_comments.page2.json")["data"][0]
    reply_template = load("instagram", "comment_replies.page2.json")["data"][0]
    top_level: list[dict[str, Any]] = []  # newest first, as observed
    inline = 50

    def media_edge(request: Any) -> tuple[int, dict[str, str], str]:
        return 200, {}, json.dumps({"data": [dict(media, comments=graph_page(top_level, 0, inline))]})

    def comments(request: Any) -> tuple[int, dict[str, str], str]:
        q = query(request)
        return 200, {}, json.dumps(graph_page(top_level, int(q["after"][0]), int(q["limit"][0])))

    figures = Figures()
    clock = SimulatedClock()
    serial = 0
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("GET", f"{graph.GRAPH_BASE_URL}/{ig_user}/media", media_edge)
        mock.add_callback(
            "GET", f"{graph.GRAPH_BASE_URL}/{ig_user}/tags", lambda r: (200, {}, '{"data": []}')
        )
        mock.add_callback("GET", f"{graph.GRAPH_BASE_URL}/{media_id}/comments", comments)
        connector = instagram.InstagramConnector(profile, http_for(profile, clock), {"access_token": "bench"})
        cursor: dict[str, str] = {}
        for n, (customers, brand) in enumerate(workload):
            clock.at_poll(n)
            times = created_times(n, customers + brand)
            fresh = []
            for when in times[brand:]:
                serial += 1
                fresh.append(
                    dict(copy.deepcopy(template), id=f"1785{serial:011d}", timestamp=graph_time(when))
                )
            top_level[:0] = fresh
            for i, when in enumerate(times[:brand]):  # the brand answers in the replies of recent comments
                if i < len(top_level):
                    serial += 1
                    reply = dict(
                        copy.deepcopy(reply_template), id=f"1786{serial:011d}", timestamp=graph_time(when)
                    )
                    top_level[i].setdefault("replies", {"data": []})["data"].append(reply)
            result = connector.fetch(cursor)
            cursor = dict(result.cursor)
            figures.add(result.requests, pages_needed(customers, inline) + 1)
    figures.overhead_notes.append("the comments page that reaches the 60 s overlap")
    return figures


# --- YouTube Data API v3 ---------------------------------------------------------------------
def bench_youtube(workload: list[tuple[int, int]]) -> Figures:
    from responsegap.connectors import youtube

    channel = "UCacme0000000000000000aa"
    profile = Profile(brand_id="acme", platform="youtube", handle="acmeco", account_id=channel)
    thread_template = load("youtube", "commentThreads.page1.json")["items"][0]  # Dee's thread, no replies
    reply_template = load("youtube", "commentThreads.page1.json")["items"][1]["replies"]["comments"][1]
    threads: list[dict[str, Any]] = []

    def serve(request: Any) -> tuple[int, dict[str, str], str]:
        q = query(request)
        offset, size = int(q.get("pageToken", ["0"])[0]), int(q["maxResults"][0])
        body: dict[str, Any] = {
            "kind": "youtube#commentThreadListResponse",
            "items": threads[offset : offset + size],
        }
        if offset + size < len(threads):
            body["nextPageToken"] = str(offset + size)
        return 200, {}, json.dumps(body)

    figures = Figures()
    clock = SimulatedClock()
    serial = 0
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("GET", f"{youtube.YOUTUBE_BASE_URL}/commentThreads", serve)
        connector = youtube.YouTubeConnector(profile, http_for(profile, clock), {"access_token": "bench"})
        cursor: dict[str, str] = {}
        for n, (customers, brand) in enumerate(workload):
            clock.at_poll(n)
            times = created_times(n, customers + brand)
            fresh = []
            for when in times[brand:]:
                serial += 1
                thread = copy.deepcopy(thread_template)
                thread["id"] = f"Ugz{serial:012d}"
                top = thread["snippet"]["topLevelComment"]
                top.update(id=thread["id"])
                top["snippet"].update(publishedAt=iso(when))
                fresh.append(thread)
            threads[:0] = fresh
            for i, when in enumerate(times[:brand]):  # the channel answers recent threads
                if i < len(threads):
                    serial += 1
                    reply = copy.deepcopy(reply_template)
                    reply["id"] = f"{threads[i]['id']}.{serial}"
                    reply["snippet"].update(publishedAt=iso(when), parentId=threads[i]["id"])
                    threads[i].setdefault("replies", {"comments": []})["comments"].append(reply)
                    threads[i]["snippet"]["totalReplyCount"] = len(threads[i]["replies"]["comments"])
            result = connector.fetch(cursor)
            cursor = dict(result.cursor)
            figures.add(result.requests, pages_needed(customers, 100))
    figures.overhead_notes.append("the thread page that reaches the 60 s overlap; 1 quota unit per request")
    return figures


# --- Reddit ----------------------------------------------------------------------------------
def bench_reddit(workload: list[tuple[int, int]]) -> Figures:
    from responsegap.connectors import reddit

    profile = Profile(brand_id="acme", platform="reddit", handle="acmeco", account_id="t2_acme1")
    inbox_template = load("reddit", "message_inbox.page2.json")["data"]["children"][1]  # Ann's mention
    own_template = load("reddit", "user_comments.page2.json")["data"]["children"][1]
    lists: dict[str, list[dict[str, Any]]] = {"inbox": [], "own": []}

    def serve(name: str) -> Callable[[Any], tuple[int, dict[str, str], str]]:
        def callback(request: Any) -> tuple[int, dict[str, str], str]:
            q = query(request)
            items, size = lists[name], int(q["limit"][0])
            names = [c["data"]["name"] for c in items]
            offset = names.index(q["after"][0]) + 1 if "after" in q else 0
            page = items[offset : offset + size]
            following = page[-1]["data"]["name"] if offset + size < len(items) and page else None
            body = {
                "kind": "Listing",
                "data": {"after": following, "dist": len(page), "children": page, "before": None},
            }
            headers = {"X-Ratelimit-Used": "1", "X-Ratelimit-Remaining": "999.0", "X-Ratelimit-Reset": "300"}
            return 200, headers, json.dumps(body)

        return callback

    credentials = {
        "client_id": "bench",
        "client_secret": "bench",
        "username": "AcmeCo",
        "password": "bench",
        "user_agent": "server:responsegap-bench:0.1 (by /u/AcmeCo)",
    }
    figures = Figures()
    clock = SimulatedClock()
    serial = 0
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add("POST", reddit.TOKEN_URL, json=load("reddit", "access_token.json"))
        mock.add_callback("GET", f"{reddit.API_BASE_URL}/message/inbox", serve("inbox"))
        mock.add_callback("GET", f"{reddit.API_BASE_URL}/user/AcmeCo/comments", serve("own"))
        connector = reddit.RedditConnector(profile, http_for(profile, clock), credentials)
        cursor: dict[str, str] = {}
        for n, (customers, brand) in enumerate(workload):
            clock.at_poll(n)
            for name, count, template in (("inbox", customers, inbox_template), ("own", brand, own_template)):
                fresh = []
                for when in created_times(n, count):
                    serial += 1
                    item = copy.deepcopy(template)
                    item["data"].update(name=f"t1_b{serial}", id=f"b{serial}", created_utc=float(when))
                    fresh.append(item)
                lists[name][:0] = fresh
            result = connector.fetch(cursor)
            cursor = dict(result.cursor)
            figures.add(result.requests, pages_needed(customers, 100) + pages_needed(brand, 100))
    figures.overhead_notes.append("one access_token request per warm connector")
    return figures


PLATFORMS: dict[str, Callable[[list[tuple[int, int]]], Figures]] = {
    "x": bench_x,
    "mastodon": bench_mastodon,
    "bluesky": bench_bluesky,
    "facebook": bench_facebook,
    "instagram": bench_instagram,
    "youtube": bench_youtube,
    "reddit": bench_reddit,
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
