"""The Reddit connector over a body the real Reddit API sent to PRAW's test suite.

Fields are checked against the raw JSON read here (tests/fixtures/reddit/real/SOURCE.md).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import responses

from responsegap.connectors.http import PlatformHttp
from responsegap.connectors.reddit import API_BASE_URL, TOKEN_URL, RedditConnector
from responsegap.domain.model import Profile
from responsegap.domain.periods import parse_instant

REAL = Path(__file__).parents[2] / "fixtures" / "reddit" / "real"
BRAND = Profile(brand_id="acme", platform="reddit", handle="pyapitestuser2")
CREDENTIALS = {
    "client_id": "id",
    "client_secret": "secret",
    "username": "PyAPITestUser2",
    "password": "pw",
    "user_agent": "responsegap-tests/1",
}
RECORDED = parse_instant("2016-11-16T07:00:00Z")


def test_recorded_username_mention_without_type_is_addressed_to_the_brand(
    rsps: responses.RequestsMock,
) -> None:
    # The 2016 listing has no "type" (it says "username mention" in "subject") and, like every
    # inbox item, no link_id or permalink: the thread comes from "context".
    body = (REAL / "message_mentions.json").read_text(encoding="utf-8")
    rsps.post(TOKEN_URL, json={"access_token": "tok", "token_type": "bearer"})
    rsps.get(f"{API_BASE_URL}/message/inbox", body=body)
    rsps.get(
        f"{API_BASE_URL}/user/PyAPITestUser2/comments",
        json={"kind": "Listing", "data": {"children": [], "after": None}},
    )
    http = PlatformHttp(BRAND.key, sleep=lambda s: None, clock=lambda: RECORDED, rng=random.Random(1))

    result = RedditConnector(BRAND, http, CREDENTIALS).fetch({})

    data = json.loads(body)["data"]["children"][0]["data"]
    assert "type" not in data and "link_id" not in data and "permalink" not in data
    [post] = result.posts
    assert post.post_id == data["name"]
    assert (post.author_id, post.author_handle) == (data["author"].lower(), data["author"].lower())
    assert post.created_at == int(data["created_utc"])
    assert post.text == data["body"]
    assert (post.in_reply_to_id, post.in_reply_to_author_id) == (data["parent_id"], None)
    assert post.conversation_id == "t3_" + data["context"].split("/comments/")[1].split("/")[0]
    assert post.mentions == ("pyapitestuser2",)
    assert post.url == "https://www.reddit.com" + data["context"].split("?")[0]
