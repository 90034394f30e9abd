"""The Mastodon connector over bodies a real Mastodon server sent to Mastodon.py's test suite.

Fields are checked against the raw JSON read here (tests/fixtures/mastodon/real/SOURCE.md).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from responsegap.connectors.mastodon import MastodonConnector, html_to_text
from responsegap.domain.model import Post, Profile
from responsegap.domain.periods import parse_instant

REAL = Path(__file__).parents[2] / "fixtures" / "mastodon" / "real"
BASE = "http://localhost:3000"  # the instance the recording was made on
BRAND = Profile(
    brand_id="acme",
    platform="mastodon",
    handle="mastodonpy_test",
    account_id="109440137734600341",
    base_url=BASE,
)
NOTIFICATIONS = f"{BASE}/api/v1/notifications"
STATUSES = f"{BASE}/api/v1/accounts/109440137734600341/statuses"
RECORDED = parse_instant("2022-12-01T20:00:00Z")


def text(name: str) -> str:
    return (REAL / name).read_text(encoding="utf-8")


def connector(make_http) -> MastodonConnector:
    http = make_http(BRAND)
    http.clock = lambda: RECORDED
    return MastodonConnector(BRAND, http, {"access_token": "tok"}, base_url=BASE)


def test_recorded_mention_is_normalised_field_by_field(rsps, make_http) -> None:
    # The recorded page has a mention and a follow (the test asked without types[]): only the
    # mention is a post. Its Link header carries rel="next" and rel="prev".
    rsps.get(NOTIFICATIONS, body=text("notifications.json"), headers={"Link": text("notifications.link")})
    rsps.get(STATUSES, json=[])

    result = connector(make_http).fetch({})

    raw = json.loads(text("notifications.json"))
    status = next(n for n in raw if n["type"] == "mention")["status"]
    [post] = result.posts
    assert post.post_id == status["id"]
    assert (post.author_id, post.author_handle) == (status["account"]["id"], status["account"]["acct"])
    created = datetime.strptime(status["created_at"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert post.created_at == int(created.timestamp())
    assert post.text == "@mastodonpy_test hello!" == html_to_text(status["content"])
    assert (post.in_reply_to_id, post.in_reply_to_author_id) == (status["in_reply_to_id"], None)
    assert post.mentions == tuple(m["acct"] for m in status["mentions"]) == ("mastodonpy_test",)
    assert post.application == status["application"]["name"]
    assert post.url == status["url"]
    assert result.cursor == {"notifications_since_id": raw[0]["id"]}


def test_rel_prev_in_the_link_header_is_not_a_next_page(rsps, make_http) -> None:
    found = connector(make_http)
    found.page_size = 2  # the recorded page is full at 2: the next page is the rel="next" one
    rsps.get(
        NOTIFICATIONS,
        body=text("notifications.json"),
        headers={"Link": text("notifications.link")},
        match=[lambda request: ("max_id" not in request.params, "max_id present")],
    )
    rsps.get(
        NOTIFICATIONS,
        json=[],
        match=[lambda request: (request.params.get("max_id") == "14" and "min_id" not in request.params, "")],
    )
    rsps.get(STATUSES, json=[])

    assert len(found.fetch({}).posts) == 1


def test_recorded_empty_context_has_no_replies(rsps, make_http) -> None:
    root = Post("mastodon", "109440146735213821", BRAND.account_id, BRAND.handle, RECORDED - 3600)
    rsps.get(
        f"{BASE}/api/v1/statuses/109440146735213821/context", body=text("statuses_id_context.empty.json")
    )

    assert connector(make_http).fetch_replies(root).posts == ()
