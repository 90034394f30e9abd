"""The Facebook connector over bodies the real Graph API sent to python-facebook's maintainer.

Fields are checked against the raw JSON read here (tests/fixtures/facebook/real/SOURCE.md).
The recordings asked for fewer fields than the connector does (no ``from``, no comments):
what is absent is read as Graph documents it, an author who did not grant access.
"""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path

import responses

from responsegap.connectors.facebook import FacebookConnector
from responsegap.connectors.http import PlatformHttp
from responsegap.domain.model import Profile
from responsegap.domain.periods import parse_instant

REAL = Path(__file__).parents[2] / "fixtures" / "facebook" / "real"
DOC = Path(__file__).parents[2] / "fixtures" / "facebook"
BASE = "https://graph.facebook.com/v21.0"
OWNER = "2260975870792283"  # the group whose feed was recorded
BRAND = Profile(brand_id="acme", platform="facebook", handle="devchk", account_id=OWNER)
FEED, TAGGED = f"{BASE}/{OWNER}/feed", f"{BASE}/{OWNER}/tagged"
RECORDED = parse_instant("2021-07-09T12:00:00Z")


def text(name: str, folder: Path = REAL) -> str:
    return (folder / name).read_text(encoding="utf-8")


def epoch(value: str) -> int:
    return int(datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").timestamp())


def connector(lookback_days: int) -> FacebookConnector:
    http = PlatformHttp(BRAND.key, sleep=lambda s: None, clock=lambda: RECORDED, rng=random.Random(1))
    return FacebookConnector(
        BRAND, http, {"page_access_token": "page-token"}, lookback_seconds=lookback_days * 86400
    )


def test_time_based_paging_is_followed_to_the_last_page(rsps: responses.RequestsMock) -> None:
    # paging has "previous" and a "next" with until=...&__paging_token=... and no cursors.
    first = json.loads(text("group_feed.page1.json"))
    rsps.get(
        FEED, body=text("group_feed.page1.json"), match=[lambda r: ("until" not in r.params, "until present")]
    )
    rsps.get(
        FEED,
        body=text("group_feed.page2.json"),
        match=[
            lambda r: (
                r.params.get("until") == "1615350965"
                and r.params.get("__paging_token") == "__paging_token"
                and r.params.get("access_token") == "page-token"  # ours, not the one in the link
                and r.params.get("since") == str(RECORDED - 2 * 400 * 86400)  # our window's edge
                and "from{id,name}" in r.params.get("fields", ""),  # our fields, not the link's
                "not our next-page request",
            )
        ],
    )
    rsps.get(TAGGED, body=text("page_feed.empty.json", DOC))

    result = connector(lookback_days=400).fetch({})

    items = first["data"] + json.loads(text("group_feed.page2.json"))["data"]
    assert "cursors" not in first["paging"]
    by_id = {p.post_id: p for p in result.posts}
    assert set(by_id) == {item["id"] for item in items}
    for item in items:
        post = by_id[item["id"]]
        assert post.author_id == post.author_handle == f"anonymous:{item['id']}"  # no "from"
        assert post.created_at == epoch(item["created_time"])
        assert post.text == item.get("message", "")  # one post has no message
        assert (post.in_reply_to_id, post.conversation_id) == (None, item["id"])
        assert post.mentions[0] == "devchk"
    assert result.cursor == {"since": str(max(epoch(i["created_time"]) for i in items))}


def test_time_based_paging_stops_at_the_old_edge_of_the_window(rsps: responses.RequestsMock) -> None:
    # With the usual window the next page's until is older than our since: nothing more to read.
    rsps.get(FEED, body=text("group_feed.page1.json"))
    rsps.get(TAGGED, body=text("page_feed.empty.json", DOC))

    result = connector(lookback_days=7).fetch({})

    assert len(rsps.calls) == 2
    assert {p.post_id for p in result.posts} == {
        "2260975870792283_3053924814830714",
        "2260975870792283_3053924731497389",
        "2260975870792283_2757016177854914",
    }  # the 1 July post is read (the window re-reads a week of content) but older than it emits


def test_a_pages_posts_edge_recorded_with_time_paging_gives_until_and_token() -> None:
    # /{page}/posts pages the same way: what moves to the next page is until and __paging_token.
    page = Profile(brand_id="acme", platform="facebook", handle="zuck", account_id="4")
    http = PlatformHttp(
        page.key,
        sleep=lambda s: None,
        clock=lambda: parse_instant("2021-07-05T00:00:00Z"),
        rng=random.Random(1),
    )
    found = FacebookConnector(page, http, {"page_access_token": "t"}, lookback_seconds=30 * 86400)
    found_page = json.loads(text("page_posts.page1.json"))
    assert found.graph._next_page("4/posts", found_page["paging"]) == {
        "until": "1624385168",
        "__paging_token": "__paging_token",
    }
