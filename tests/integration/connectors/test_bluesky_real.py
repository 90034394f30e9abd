"""The Bluesky connector over a body the real AT Protocol service sent to bskyr's test suite.

(tests/fixtures/bluesky/real/SOURCE.md)
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from responsegap.connectors.bluesky import BlueskyConnector
from responsegap.domain.model import Post, Profile
from responsegap.domain.periods import parse_instant

REAL = Path(__file__).parents[2] / "fixtures" / "bluesky" / "real"
XRPC = "https://bsky.social/xrpc"


def test_recorded_thread_without_replies_gives_none(rsps, make_http) -> None:
    body = (REAL / "getPostThread.json").read_text(encoding="utf-8")
    thread = json.loads(body)["thread"]
    author = thread["post"]["author"]
    brand = Profile(brand_id="acme", platform="bluesky", handle=author["handle"], account_id=author["did"])
    rsps.post(
        f"{XRPC}/com.atproto.server.createSession",
        json={"accessJwt": "a", "refreshJwt": "r", "did": author["did"]},
    )
    rsps.get(
        f"{XRPC}/app.bsky.feed.getPostThread",
        body=body,
        match=[lambda request: (request.params.get("uri") == thread["post"]["uri"], "uri")],
    )
    http = make_http(brand)
    http.clock = lambda: parse_instant("2023-09-20T00:00:00Z")
    root = Post("bluesky", thread["post"]["uri"], author["did"], author["handle"], 0)

    result = BlueskyConnector(brand, http, {"password": "app-password"}).fetch_replies(root)

    assert thread["replies"] == [] and result.posts == ()


def test_recorded_author_feed_skips_reposts_and_reads_six_digit_seconds(rsps, make_http) -> None:
    body = (REAL / "getAuthorFeed.json").read_text(encoding="utf-8")
    feed = json.loads(body)
    brand = Profile(
        brand_id="acme",
        platform="bluesky",
        handle="chriskenny.bsky.social",
        account_id="did:plc:wpe35pganb6d4pg4ekmfy6u5",
    )
    doc = Path(__file__).parents[2] / "fixtures" / "bluesky"
    rsps.post(
        f"{XRPC}/com.atproto.server.createSession",
        json={"accessJwt": "a", "refreshJwt": "r", "did": brand.account_id},
    )
    rsps.get(
        f"{XRPC}/app.bsky.notification.listNotifications",
        body=(doc / "listNotifications.empty.json").read_text(),
    )
    rsps.get(
        f"{XRPC}/app.bsky.feed.getAuthorFeed",
        body=body,
        match=[lambda request: ("cursor" not in request.params, "cursor present")],
    )
    # The recording ends with a cursor; the page after it (not recorded) is the documented empty one.
    rsps.get(
        f"{XRPC}/app.bsky.feed.getAuthorFeed",
        body=(doc / "getAuthorFeed.empty.json").read_text(),
        match=[lambda request: (request.params.get("cursor") == feed["cursor"], "cursor")],
    )
    http = make_http(brand)
    http.clock = lambda: parse_instant("2023-10-03T18:00:00Z")

    result = BlueskyConnector(brand, http, {"password": "app-password"}).fetch({})

    own = [item["post"] for item in feed["feed"] if "reason" not in item]  # the first is a repost
    assert [p.post_id for p in result.posts] == [view["uri"] for view in own]
    for view, post in zip(own, result.posts, strict=True):
        record = view["record"]
        assert (post.author_id, post.author_handle) == (view["author"]["did"], brand.handle)
        created = datetime.fromisoformat(record["createdAt"].replace("Z", "+00:00"))  # 3 or 6 fraction digits
        assert post.created_at == int(created.timestamp())
        assert post.text == record["text"]
        reply = record.get("reply")
        assert post.in_reply_to_id == (reply["parent"]["uri"] if reply else None)
        assert post.in_reply_to_author_id == (reply["parent"]["uri"].split("/")[2] if reply else None)
        assert post.conversation_id == (reply["root"]["uri"] if reply else view["uri"])
    # The mark is when the newest item entered the feed: the repost's own time, not its post's.
    assert result.cursor["feed_seen_at"] == feed["feed"][0]["reason"]["indexedAt"]
