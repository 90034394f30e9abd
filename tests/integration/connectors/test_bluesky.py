"""Contract tests for the Bluesky (AT Protocol) connector against recorded XRPC shapes
(tests/fixtures/bluesky)."""

from __future__ import annotations

import json

import pytest
import requests

from responsegap.connectors.base import CredentialsError, MalformedPayload, PlatformUnavailable, RateLimited
from responsegap.connectors.bluesky import BlueskyConnector
from responsegap.domain.matching import match
from responsegap.domain.metrics import report
from responsegap.domain.model import Brand, Post, Profile
from responsegap.domain.periods import parse_instant, week_period

NOW = parse_instant("2026-11-23T12:00:00Z")  # conftest's clock
XRPC = "https://bsky.social/xrpc"
PASSWORD = "abcd-efgh-ijkl-mnop"
BRAND_DID = "did:plc:acmehelp7q2tmkxz4b3r6e5w"
PROFILE = Profile(brand_id="acme", platform="bluesky", handle="acmehelp.bsky.social", account_id=BRAND_DID)
CREATE, REFRESH = f"{XRPC}/com.atproto.server.createSession", f"{XRPC}/com.atproto.server.refreshSession"
NOTIFS, FEED = f"{XRPC}/app.bsky.notification.listNotifications", f"{XRPC}/app.bsky.feed.getAuthorFeed"
THREAD = f"{XRPC}/app.bsky.feed.getPostThread"
ALICE, BOB, CAROL = (
    "did:plc:alice4u6yq2ojd3r7sgpvxme",
    "did:plc:bob2t7xe3fnb5kq4wzh6ydca",
    "did:plc:carol5ghw3t2nuy6bsr7kqpe",
)
C1 = f"at://{ALICE}/app.bsky.feed.post/3lbq2aaaaa22a"
C2 = f"at://{BOB}/app.bsky.feed.post/3lbq2bbbbb22b"
C4 = f"at://{CAROL}/app.bsky.feed.post/3lbq2ccccc22c"
C3 = f"at://{ALICE}/app.bsky.feed.post/3lbq2fffff22f"
B1 = f"at://{BRAND_DID}/app.bsky.feed.post/3lbq2eeeee22e"
B2 = f"at://{BRAND_DID}/app.bsky.feed.post/3lbq2hhhhh22h"
B4 = f"at://{BRAND_DID}/app.bsky.feed.post/3lbq2ggggg22g"
B3 = "at://did:plc:acmebot3k5xq7mz2dw4ty6rn/app.bsky.feed.post/3lbq2ddddd22d"
SEEN_C3, SEEN_B2 = "2026-11-23T10:30:00.412Z", "2026-11-23T11:00:00.412Z"


@pytest.fixture
def connector(make_http) -> BlueskyConnector:
    return BlueskyConnector(
        PROFILE, make_http(PROFILE), {"identifier": "acmehelp.bsky.social", "password": PASSWORD}
    )


def add_conversation(rsps, load, m, notifications_page2: str = "listNotifications.page2.json") -> None:
    rsps.post(CREATE, json=load("bluesky", "createSession.json"))
    rsps.get(NOTIFS, json=load("bluesky", "listNotifications.page1.json"), match=[m.without("cursor")])
    rsps.get(
        NOTIFS, json=load("bluesky", notifications_page2), match=[m.having(cursor="2026-11-23T10:10:00.412Z")]
    )
    rsps.get(
        FEED,
        json=load("bluesky", "getAuthorFeed.page1.json"),
        match=[m.having(actor=BRAND_DID, filter="posts_with_replies")],
    )


def test_page_chain_normalises_notifications_and_the_author_feed(rsps, load, connector, matchers) -> None:
    add_conversation(rsps, load, matchers)

    result = connector.fetch({})

    assert result.requests == 4  # createSession once, 2 pages of notifications, 1 of the feed
    assert result.cursor == {"notifications_seen_at": SEEN_C3, "feed_seen_at": SEEN_B2}
    by_id = {p.post_id: p for p in result.posts}
    assert set(by_id) == {C1, C2, C3, C4, B1, B2, B4}  # the like and the brand's repost of C2 are not posts
    c3 = by_id[C3]
    assert (c3.author_id, c3.author_handle, c3.in_reply_to_id, c3.in_reply_to_author_id) == (
        ALICE,
        "alice.bsky.social",
        B1,
        BRAND_DID,
    )
    assert c3.conversation_id == C1 and c3.created_at == NOW - 7200 + 1800
    assert by_id[C2].mentions == ("acmehelp.bsky.social",)  # facet after a multibyte dash
    assert by_id[C1].text.endswith("📦")
    assert by_id[B1].author_handle == "acmehelp.bsky.social"
    assert by_id[B1].url == "https://bsky.app/profile/acmehelp.bsky.social/post/3lbq2eeeee22e"
    assert rsps.calls[1].request.headers["Authorization"] == "Bearer eyJhbGciOiJFUzI1NksifQ.access-1.sig"
    assert json.loads(rsps.calls[0].request.body) == {
        "identifier": "acmehelp.bsky.social",
        "password": PASSWORD,
    }


def test_paging_stops_at_the_saved_time(rsps, load, connector, matchers) -> None:
    rsps.post(CREATE, json=load("bluesky", "createSession.json"))
    rsps.get(NOTIFS, json=load("bluesky", "listNotifications.page1.json"), match=[matchers.without("cursor")])
    rsps.get(FEED, json=load("bluesky", "getAuthorFeed.page1.json"))

    result = connector.fetch({"notifications_seen_at": SEEN_C3, "feed_seen_at": SEEN_B2})

    assert result.requests == 3  # page 1 reaches the saved time: page 2 is never asked for
    assert {p.post_id for p in result.posts} == {C3, B2}  # items at the saved time come again
    assert result.cursor == {"notifications_seen_at": SEEN_C3, "feed_seen_at": SEEN_B2}


def test_first_poll_reads_back_24_hours_only(rsps, load, connector) -> None:
    page = load("bluesky", "listNotifications.page1.json")
    page["notifications"][2]["indexedAt"] = "2026-11-22T11:59:59.000Z"  # just over 24 h before NOW
    rsps.post(CREATE, json=load("bluesky", "createSession.json"))
    rsps.get(NOTIFS, json=page)
    rsps.get(FEED, json=load("bluesky", "getAuthorFeed.empty.json"))

    result = connector.fetch({})

    assert result.requests == 3  # page 2 is not read
    assert {p.post_id for p in result.posts} == {C3}
    assert result.cursor == {"notifications_seen_at": SEEN_C3}  # an empty feed saves no time


def test_empty_result_keeps_the_cursor_and_reuses_the_session(rsps, load, connector) -> None:
    rsps.post(CREATE, json=load("bluesky", "createSession.json"))
    rsps.get(NOTIFS, json=load("bluesky", "listNotifications.empty.json"))
    rsps.get(FEED, json=load("bluesky", "getAuthorFeed.empty.json"))
    cursor = {"notifications_seen_at": SEEN_C3, "feed_seen_at": SEEN_B2}

    first, second = connector.fetch(cursor), connector.fetch(cursor)

    assert (first.posts, first.cursor, first.requests) == ((), cursor, 3)
    assert (second.posts, second.cursor, second.requests) == ((), cursor, 2)


def test_expired_access_token_is_refreshed_and_the_call_repeated(rsps, load, connector) -> None:
    rsps.post(CREATE, json=load("bluesky", "createSession.json"))
    rsps.get(NOTIFS, status=400, json=load("bluesky", "error.ExpiredToken.json"))
    rsps.post(REFRESH, json=load("bluesky", "refreshSession.json"))
    rsps.get(NOTIFS, json=load("bluesky", "listNotifications.empty.json"))
    rsps.get(FEED, json=load("bluesky", "getAuthorFeed.empty.json"))

    connector.fetch({})

    assert rsps.calls[2].request.headers["Authorization"] == "Bearer eyJhbGciOiJFUzI1NksifQ.refresh-1.sig"
    assert rsps.calls[3].request.headers["Authorization"] == "Bearer eyJhbGciOiJFUzI1NksifQ.access-2.sig"


def test_expired_refresh_token_logs_in_again(rsps, load, connector) -> None:
    rsps.post(CREATE, json=load("bluesky", "createSession.json"))
    rsps.get(NOTIFS, status=400, json=load("bluesky", "error.ExpiredToken.json"))
    rsps.post(REFRESH, status=400, json=load("bluesky", "error.ExpiredToken.json"))
    rsps.get(NOTIFS, json=load("bluesky", "listNotifications.empty.json"))
    rsps.get(FEED, json=load("bluesky", "getAuthorFeed.empty.json"))

    assert connector.fetch({}).requests == 6  # create, expired, refresh refused, create, 2 reads
    assert [c.request.url for c in rsps.calls].count(CREATE) == 2


def test_429_gives_retry_at_from_the_ratelimit_reset_header(rsps, load, connector) -> None:
    rsps.post(CREATE, json=load("bluesky", "createSession.json"))
    rsps.get(
        NOTIFS,
        status=429,
        json=load("bluesky", "error.RateLimitExceeded.json"),
        headers={"ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": str(NOW + 200)},
    )
    with pytest.raises(RateLimited) as caught:
        connector.fetch({})
    assert caught.value.retry_at == NOW + 200


def test_429_with_retry_after(rsps, load, connector) -> None:
    rsps.post(
        CREATE,
        status=429,
        json=load("bluesky", "error.RateLimitExceeded.json"),
        headers={"Retry-After": "30"},
    )
    with pytest.raises(RateLimited) as caught:
        connector.fetch({})
    assert caught.value.retry_at == NOW + 30


def test_500_then_success_is_retried(rsps, load, connector) -> None:
    rsps.post(CREATE, json=load("bluesky", "createSession.json"))
    rsps.get(NOTIFS, status=500, json={"error": "InternalServerError", "message": "Internal Server Error"})
    rsps.get(NOTIFS, json=load("bluesky", "listNotifications.empty.json"))
    rsps.get(FEED, json=load("bluesky", "getAuthorFeed.empty.json"))
    assert connector.fetch({}).requests == 4


def test_timeouts_are_retried_then_unavailable(rsps, load, connector) -> None:
    rsps.post(CREATE, json=load("bluesky", "createSession.json"))
    for _ in range(4):
        rsps.get(NOTIFS, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(PlatformUnavailable, match=r"bluesky#acmehelp\.bsky\.social"):
        connector.fetch({})


def test_401_on_login_names_the_profile_not_the_password(rsps, load, connector) -> None:
    rsps.post(CREATE, status=401, json=load("bluesky", "error.AuthenticationRequired.json"))
    with pytest.raises(CredentialsError) as caught:
        connector.fetch({})
    assert "bluesky#acmehelp.bsky.social" in str(caught.value) and PASSWORD not in str(caught.value)


def test_missing_password_is_a_credentials_error(make_http) -> None:
    with pytest.raises(CredentialsError, match="no app password"):
        BlueskyConnector(PROFILE, make_http(PROFILE), {"identifier": "acmehelp.bsky.social"})


def test_malformed_record_names_platform_and_field(rsps, load, connector) -> None:
    rsps.post(CREATE, json=load("bluesky", "createSession.json"))
    rsps.get(NOTIFS, json=load("bluesky", "listNotifications.malformed.json"))
    with pytest.raises(
        MalformedPayload, match=r"bluesky payload: post\[at://.*\].record.createdAt is missing"
    ):
        connector.fetch({})


def test_post_deleted_between_pages_does_not_fail_the_poll(rsps, load, connector, matchers) -> None:
    add_conversation(rsps, load, matchers, notifications_page2="listNotifications.page2_deleted.json")
    ids = {p.post_id for p in connector.fetch({}).posts}
    assert C2 not in ids and {C1, C3, C4} <= ids


def test_fetch_replies_walks_the_thread_and_skips_deleted_replies(rsps, load, connector, matchers) -> None:
    rsps.post(CREATE, json=load("bluesky", "createSession.json"))
    rsps.get(THREAD, json=load("bluesky", "getPostThread.c4.json"), match=[matchers.having(uri=C4)])
    customer = Post("bluesky", C4, CAROL, "carol.bsky.social", NOW - 7200 + 600)

    assert sorted(p.post_id for p in connector.fetch_replies(customer).posts) == sorted([B3, B4])


def test_fetch_replies_of_a_deleted_post_is_empty(rsps, load, connector) -> None:
    rsps.post(CREATE, json=load("bluesky", "createSession.json"))
    rsps.get(THREAD, status=400, json=load("bluesky", "error.NotFound.json"))
    customer = Post("bluesky", C2, BOB, "bob.example.com", NOW - 7200 + 300)
    assert connector.fetch_replies(customer).posts == ()


def test_recorded_conversation_gives_hand_computed_figures(rsps, load, connector, matchers) -> None:
    add_conversation(rsps, load, matchers)
    rsps.get(THREAD, json=load("bluesky", "getPostThread.c4.json"))
    polled = connector.fetch({}).posts
    c4 = next(p for p in polled if p.post_id == C4)
    posts = polled + connector.fetch_replies(c4).posts
    # Bluesky does not say which app posted: the auto-reply comes from a configured bot account.
    brand = Brand("acme", "Acme", profiles=(PROFILE,), bot_accounts=("bluesky:acmebot.bsky.social",))

    figures = report(match(posts, [brand], NOW), [brand], week_period("2026-W48", "UTC"), NOW)["overall"]

    # Openers c1, c2, c4; c1 answered by a person after 1200 s; c4 by the bot after 2 s, then a
    # person after 1800 s; c2 unanswered. c3 follows up on the brand's reply, answered after 1800 s.
    assert (figures["openers"], figures["answered"], figures["unanswered"]) == (3, 2, 1)
    assert figures["response_rate"] == pytest.approx(2 / 3)
    assert figures["first_response_seconds"]["median"] == 601
    assert figures["first_human_response_seconds"]["median"] == 1500
    assert figures["answered_by_human"] == 2
    assert (figures["followups"], figures["followups_answered"]) == (1, 1)
    assert figures["answered_automated"] == 1


def test_a_quote_of_a_brand_post_that_is_also_a_reply_is_addressed_to_the_brand(
    rsps, load, connector
) -> None:
    # Seen in real traffic: a reply elsewhere that embeds (quotes) the brand's post, notified
    # with reason "quote". Before, only quotes that were not replies counted as addressed.
    quote = {
        "uri": f"at://{CAROL}/app.bsky.feed.post/3lbq2qqqqq22q",
        "cid": "bafyreiq",
        "author": {"did": CAROL, "handle": "carol.bsky.social"},
        "reason": "quote",
        "reasonSubject": B1,
        "record": {
            "$type": "app.bsky.feed.post",
            "createdAt": "2026-11-23T10:40:00.123456Z",
            "text": "this is what they told me",
            "reply": {"root": {"uri": C2, "cid": "c2"}, "parent": {"uri": C2, "cid": "c2"}},
            "embed": {"$type": "app.bsky.embed.record", "record": {"uri": B1, "cid": "b1"}},
        },
        "isRead": False,
        "indexedAt": "2026-11-23T10:40:00.412Z",
        "labels": [],
    }
    rsps.post(CREATE, json=load("bluesky", "createSession.json"))
    rsps.get(NOTIFS, json={"notifications": [quote]})
    rsps.get(FEED, json=load("bluesky", "getAuthorFeed.empty.json"))

    [post] = connector.fetch({}).posts

    assert (post.in_reply_to_id, post.in_reply_to_author_id) == (C2, BOB)
    assert post.mentions == ("acmehelp.bsky.social",)
    assert post.created_at == parse_instant("2026-11-23T10:40:00Z")  # six fraction digits
