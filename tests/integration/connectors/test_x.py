"""Contract tests for the X API v2 connector against recorded response shapes (tests/fixtures/x)."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from responsegap.connectors.base import (
    AccountUnavailable,
    CredentialsError,
    MalformedPayload,
    PlatformUnavailable,
    RateLimited,
)
from responsegap.connectors.x import XConnector
from responsegap.domain.matching import match
from responsegap.domain.metrics import report
from responsegap.domain.model import Brand, Post, Profile
from responsegap.domain.periods import parse_instant, week_period

NOW = parse_instant("2026-11-23T12:00:00Z")  # conftest's clock

BASE = "https://api.x.com/2"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAsecret-bearer-XYZ"
PROFILE = Profile(brand_id="acme", platform="x", handle="acmehelp", account_id="1000")
MENTIONS, TWEETS, SEARCH = (
    f"{BASE}/users/1000/mentions",
    f"{BASE}/users/1000/tweets",
    f"{BASE}/tweets/search/recent",
)
NEXT = "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"
C1, C2, C4, B3, B1, C3, B4, B2 = (f"1861000000000000{n}" for n in (100, 200, 300, 310, 400, 500, 600, 700))


@pytest.fixture
def connector(make_http) -> XConnector:
    return XConnector(PROFILE, make_http(PROFILE), {"bearer_token": TOKEN})


def add_conversation(rsps, load, matchers, mentions_page2: str = "users_id_mentions.page2.json") -> None:
    rsps.get(
        MENTIONS, json=load("x", "users_id_mentions.page1.json"), match=[matchers.without("pagination_token")]
    )
    rsps.get(MENTIONS, json=load("x", mentions_page2), match=[matchers.having(pagination_token=NEXT)])
    rsps.get(TWEETS, json=load("x", "users_id_tweets.page1.json"))


def test_page_chain_normalises_mentions_and_brand_replies(rsps, load, connector, matchers) -> None:
    add_conversation(rsps, load, matchers)

    result = connector.fetch({})

    assert result.requests == 3
    assert result.cursor == {"mentions_since_id": C3, "tweets_since_id": B2}
    by_id = {p.post_id: p for p in result.posts}
    assert set(by_id) == {C1, C2, C3, C4, B1, B2, B3, B4}
    c3 = by_id[C3]
    assert (c3.author_id, c3.author_handle, c3.in_reply_to_id, c3.in_reply_to_author_id) == (
        "2001",
        "alice_w",
        B1,
        "1000",
    )
    assert c3.mentions == ("acmehelp",)
    assert c3.created_at == NOW - 2 * 3600 + 1800
    assert c3.conversation_id == C1
    assert by_id[B3].application == "Zapier"
    assert by_id[B1].author_handle == "acmehelp"
    assert by_id[B1].url == f"https://x.com/acmehelp/status/{B1}"
    first = rsps.calls[0].request
    assert "referenced_tweets" in first.params["tweet.fields"].split(",")
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "since_id" not in first.params
    assert first.params["start_time"] == "2026-11-22T12:00:00Z"  # a first poll looks back 24 h only


def test_cursor_is_sent_and_kept_when_nothing_is_new(rsps, load, connector, matchers) -> None:
    rsps.get(MENTIONS, json=load("x", "users_id_mentions.empty.json"), match=[matchers.having(since_id=C3)])
    rsps.get(
        TWEETS,
        json=load("x", "users_id_tweets.empty.json"),
        match=[matchers.having(since_id=B2, exclude="retweets")],
    )

    result = connector.fetch({"mentions_since_id": C3, "tweets_since_id": B2})

    assert result.posts == ()
    assert result.cursor == {"mentions_since_id": C3, "tweets_since_id": B2}
    assert result.requests == 2


def test_429_gives_retry_at_from_the_reset_header(rsps, load, connector) -> None:
    rsps.get(
        MENTIONS,
        status=429,
        json=load("x", "error.429.json"),
        headers={
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(NOW + 840),
        },
    )
    with pytest.raises(RateLimited) as caught:
        connector.fetch({})
    assert caught.value.retry_at == NOW + 840


def test_429_with_retry_after_seconds(rsps, load, connector) -> None:
    rsps.get(MENTIONS, status=429, json=load("x", "error.429.json"), headers={"Retry-After": "120"})
    with pytest.raises(RateLimited) as caught:
        connector.fetch({})
    assert caught.value.retry_at == NOW + 120


def test_500_then_success_is_retried(rsps, load, connector) -> None:
    rsps.get(MENTIONS, status=503, json={"title": "Service Unavailable"})
    rsps.get(MENTIONS, json=load("x", "users_id_mentions.empty.json"))
    rsps.get(TWEETS, json=load("x", "users_id_tweets.empty.json"))

    result = connector.fetch({})

    assert result.requests == 3
    assert result.posts == ()


def test_timeouts_are_retried_then_unavailable(rsps, connector) -> None:
    for _ in range(4):
        rsps.get(MENTIONS, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(PlatformUnavailable, match="x#acmehelp: ReadTimeout"):
        connector.fetch({})
    assert len(rsps.calls) == 4


def test_timeout_then_success(rsps, load, connector, matchers) -> None:
    rsps.get(MENTIONS, body=requests.ConnectTimeout("connect timed out"))
    add_conversation(rsps, load, matchers)
    assert len(connector.fetch({}).posts) == 8


def test_401_is_a_credentials_error_that_names_the_profile_not_the_token(rsps, load, connector) -> None:
    rsps.get(MENTIONS, status=401, json=load("x", "error.401.json"))
    with pytest.raises(CredentialsError) as caught:
        connector.fetch({})
    assert "x#acmehelp" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_missing_token_is_a_credentials_error(make_http) -> None:
    with pytest.raises(CredentialsError, match="x#acmehelp: no bearer_token"):
        XConnector(PROFILE, make_http(PROFILE), {})


def test_malformed_post_names_platform_and_field(rsps, load, connector) -> None:
    rsps.get(MENTIONS, json=load("x", "users_id_mentions.malformed.json"))
    with pytest.raises(MalformedPayload, match=rf"x payload: data\[{C1}\].author_id is missing"):
        connector.fetch({})


def test_non_json_body_is_malformed(rsps, connector) -> None:
    rsps.get(MENTIONS, body="<html>upstream error</html>", content_type="text/html")
    with pytest.raises(MalformedPayload, match="did not return JSON"):
        connector.fetch({})


def test_request_level_error_in_a_200_fails_the_poll(rsps, connector) -> None:
    body = {"errors": [{"title": "Invalid Request", "type": "https://api.x.com/2/problems/invalid-request"}]}
    rsps.get(MENTIONS, json=body)
    with pytest.raises(MalformedPayload, match="Invalid Request"):
        connector.fetch({})


def test_post_deleted_between_pages_does_not_fail_the_poll(rsps, load, connector, matchers) -> None:
    add_conversation(rsps, load, matchers, mentions_page2="users_id_mentions.page2_deleted.json")

    result = connector.fetch({})

    ids = {p.post_id for p in result.posts}
    assert C2 not in ids and {C1, C3, C4} <= ids
    assert result.cursor["mentions_since_id"] == C3


def test_fetch_replies_searches_the_conversation(rsps, load, connector, matchers) -> None:
    rsps.get(
        SEARCH,
        json=load("x", "tweets_search_recent.conversation.json"),
        match=[matchers.having(query=f"conversation_id:{C4}")],
    )
    customer = Post("x", C4, "2003", "carol_k", NOW - 7200 + 600, conversation_id=C4)

    result = connector.fetch_replies(customer)

    assert [p.post_id for p in result.posts] == [B4, B3]
    assert result.requests == 1


def test_recorded_conversation_gives_hand_computed_figures(rsps, load, connector, matchers) -> None:
    add_conversation(rsps, load, matchers)
    posts = connector.fetch({}).posts
    brand = Brand("acme", "Acme", profiles=(PROFILE,))

    figures = report(match(posts, [brand], NOW), [brand], week_period("2026-W48", "UTC"), NOW)["overall"]

    # Openers: alice c1, bob c2, carol c4. c1 answered by a person after 1200 s; carol got a
    # Zapier auto-reply after 2 s and a person after 1800 s; bob is unanswered.
    # alice's c3 replies to the brand: a follow-up, answered 1800 s later.
    assert (figures["openers"], figures["answered"], figures["unanswered"]) == (3, 2, 1)
    assert figures["response_rate"] == pytest.approx(2 / 3)
    assert figures["first_response_seconds"]["median"] == (1200 + 2) / 2
    assert figures["answered_by_human"] == 2
    assert figures["first_human_response_seconds"]["median"] == (1200 + 1800) / 2
    assert figures["answered_within_sla"] == 2
    assert (figures["followups"], figures["followups_answered"]) == (1, 1)
    assert figures["answered_automated"] == 1


# -- a chain that ends on an empty page after a next_token ---------------------------------
OLD = "1861000000000000050"  # the cursor before the poll that lost a page


def test_an_empty_page_after_a_next_token_opens_a_gap_the_next_poll_reads(
    rsps, load, connector, matchers
) -> None:
    cursor = {"mentions_since_id": OLD, "tweets_since_id": B2}
    # The platform answers page 2 with an empty last page: C2 and C1 are not delivered.
    add_conversation(rsps, load, matchers, mentions_page2="users_id_mentions.empty.json")

    first = connector.fetch(cursor)

    assert {p.post_id for p in first.posts} >= {C3, C4}
    assert not {C1, C2} & {p.post_id for p in first.posts}
    assert first.cursor["mentions_since_id"] == C3
    assert (first.cursor["mentions_gap_since_id"], first.cursor["mentions_gap_until_id"]) == (OLD, C4)

    rsps.reset()
    rsps.get(MENTIONS, json=load("x", "users_id_mentions.empty.json"), match=[matchers.having(since_id=C3)])
    rsps.get(
        MENTIONS,
        json=load("x", "users_id_mentions.page2.json"),
        match=[matchers.having(since_id=OLD, until_id=C4)],
    )
    rsps.get(TWEETS, json=load("x", "users_id_tweets.empty.json"))

    second = connector.fetch(first.cursor)

    assert {p.post_id for p in second.posts} == {C1, C2}
    assert second.cursor == {"mentions_since_id": C3, "tweets_since_id": B2}  # the gap is closed
    assert second.requests == 3


def test_a_gap_that_keeps_ending_early_is_narrowed_then_given_up(rsps, load, caplog, connector) -> None:
    page, empty = load("x", "users_id_mentions.page2.json"), load("x", "users_id_mentions.empty.json")
    lossy = {C4}  # until_id values the platform answers with C2, C1 and an empty next page

    def mentions(request) -> tuple[int, dict[str, str], str]:
        params = request.params
        if params.get("pagination_token") == "more" or params.get("until_id") not in lossy | {C1}:
            return 200, {}, json.dumps(empty)
        if params["until_id"] == C1:
            return 200, {}, json.dumps(empty)  # nothing older: a clean end
        return 200, {}, json.dumps({**page, "meta": {**page["meta"], "next_token": "more"}})

    rsps.add_callback(responses.GET, MENTIONS, callback=mentions)
    rsps.get(TWEETS, json=load("x", "users_id_tweets.empty.json"))
    cursor = {
        "mentions_since_id": C3,
        "tweets_since_id": B2,
        "mentions_gap_since_id": OLD,
        "mentions_gap_until_id": C4,
        "mentions_gap_reads": "0",
    }

    result = connector.fetch(cursor)
    # C2 and C1 were read; only what is older than C1 is still in doubt.
    assert {p.post_id for p in result.posts} == {C1, C2}
    assert (result.cursor["mentions_gap_until_id"], result.cursor["mentions_gap_reads"]) == (C1, "1")
    # A read of the rest that ends cleanly closes it.
    assert not any(key.startswith("mentions_gap") for key in connector.fetch(result.cursor).cursor)

    # A range the platform keeps cutting short is read three times, then given up and logged.
    stubborn = dict(cursor)
    for _ in range(2):
        stubborn = {**connector.fetch(stubborn).cursor, "mentions_gap_until_id": C4}
        assert "ended early" not in caplog.text
    assert not any(key.startswith("mentions_gap") for key in connector.fetch(stubborn).cursor)
    assert "ended early 3 times" in caplog.text


def test_a_second_gap_while_one_is_open_extends_it(rsps, load, connector, matchers) -> None:
    cursor = {
        "mentions_since_id": OLD,
        "tweets_since_id": B2,
        "mentions_gap_since_id": "1861000000000000010",
        "mentions_gap_until_id": "1861000000000000020",
        "mentions_gap_reads": "1",
    }
    add_conversation(rsps, load, matchers, mentions_page2="users_id_mentions.empty.json")
    page = load("x", "users_id_mentions.page2.json")
    rsps.get(
        MENTIONS,
        json={**page, "meta": {**page["meta"], "next_token": "more"}},
        match=[matchers.having(until_id="1861000000000000020")],
    )
    rsps.get(
        MENTIONS,
        json=load("x", "users_id_mentions.empty.json"),
        match=[matchers.having(pagination_token="more")],
    )

    result = connector.fetch(cursor)

    # One range from the older gap's start to the oldest post of this chain covers both.
    assert result.cursor["mentions_gap_since_id"] == "1861000000000000010"
    assert result.cursor["mentions_gap_until_id"] == C4
    assert result.cursor["mentions_gap_reads"] == "0"


def test_a_gap_read_that_finds_nothing_before_ending_early_is_kept_and_counted(rsps, load, connector) -> None:
    empty = load("x", "users_id_mentions.empty.json")

    def mentions(request) -> tuple[int, dict[str, str], str]:
        if request.params.get("until_id") and not request.params.get("pagination_token"):
            return 200, {}, json.dumps({"meta": {"result_count": 0, "next_token": "more"}})
        return 200, {}, json.dumps(empty)

    rsps.add_callback(responses.GET, MENTIONS, callback=mentions)
    rsps.get(TWEETS, json=load("x", "users_id_tweets.empty.json"))
    cursor = {
        "mentions_since_id": C3,
        "tweets_since_id": B2,
        "mentions_gap_since_id": OLD,
        "mentions_gap_until_id": C4,
        "mentions_gap_reads": "0",
    }

    result = connector.fetch(cursor)

    assert (result.cursor["mentions_gap_until_id"], result.cursor["mentions_gap_reads"]) == (C4, "1")


# --- shapes seen in real traffic (tests/fixtures/x/real/SOURCE.md); bodies in the documented shape


def test_could_not_find_the_brand_account_fails_the_poll(rsps, connector) -> None:
    gone = {
        "errors": [
            {
                "value": "1000",
                "detail": "Could not find user with id: [1000].",
                "title": "Not Found Error",
                "resource_type": "user",
                "parameter": "id",
                "resource_id": "1000",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ]
    }
    rsps.get(MENTIONS, json=gone)
    with pytest.raises(
        AccountUnavailable, match=r"x#acmehelp: account 1000 is unavailable: .*Could not find"
    ):
        connector.fetch({})


def test_includes_section_errors_and_previous_token_keep_the_poll(rsps, connector, matchers) -> None:
    # A referenced post deleted and an expanded user hidden come as errors with "section":
    # "includes" next to the data; a later page carries meta.previous_token, which is not followed.
    page1 = {
        "data": [
            {
                "id": C3,
                "author_id": "2001",
                "created_at": "2026-11-23T10:30:00.000Z",
                "text": "@acmehelp still broken",
                "conversation_id": C1,
                "in_reply_to_user_id": "1000",
                "referenced_tweets": [{"type": "replied_to", "id": B1}],
            }
        ],
        "includes": {"users": [{"id": "2001", "username": "alice_w"}]},
        "errors": [
            {
                "resource_id": B1,
                "parameter": "referenced_tweets.id",
                "resource_type": "tweet",
                "section": "includes",
                "title": "Not Found Error",
                "value": B1,
                "detail": f"Could not find tweet with referenced_tweets.id: [{B1}].",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            },
            {
                "resource_id": "3117973774",
                "parameter": "in_reply_to_user_id",
                "resource_type": "user",
                "section": "includes",
                "title": "Authorization Error",
                "value": "3117973774",
                "detail": "Sorry, you are not authorized to see the user with in_reply_to_user_id:"
                " [3117973774].",
                "type": "https://api.twitter.com/2/problems/not-authorized-for-resource",
            },
        ],
        "meta": {"newest_id": C3, "oldest_id": C3, "result_count": 1, "next_token": NEXT},
    }
    page2 = {
        "data": [
            {"id": C1, "author_id": "2001", "created_at": "2026-11-23T10:00:00.000Z", "text": "@acmehelp hi"}
        ],
        "meta": {"oldest_id": C1, "newest_id": C1, "result_count": 1, "previous_token": "77qp8"},
    }
    rsps.get(MENTIONS, json=page1, match=[matchers.without("pagination_token")])
    rsps.get(MENTIONS, json=page2, match=[matchers.having(pagination_token=NEXT)])
    rsps.get(TWEETS, json=load_empty_tweets())

    result = connector.fetch({})

    assert {p.post_id for p in result.posts} == {C1, C3}
    assert result.requests == 3  # previous_token is not a next page


def load_empty_tweets() -> dict:
    return {"meta": {"result_count": 0}}


def test_post_text_is_unescaped_once(rsps, connector) -> None:
    # X escapes &, < and > in post text. The texts are real ones, escaped as X sent them, from
    # the bundled Customer Support on Twitter sample (infra/data/twcs, tweets 119242 and 119248);
    # the envelope is the documented timeline page. The last text is a person typing "&amp;".
    texts = [
        "@VirginTrains I still haven't heard &amp; the number I'm directed to by phone is a dead end"
        " &amp; the live chat doesn't work. Can someone call me?",
        "@acmehelp We can help. Which version of iOS are you on? You can find that in Settings &gt;"
        " General &gt; About. Reply in DM. https://t.co/GDrqU22YpT",
        "@acmehelp I literally typed &amp;amp; &lt;3",
    ]
    page = {
        "data": [
            {
                "id": f"18610000000000009{n}",
                "author_id": "2001",
                "created_at": "2026-11-23T10:00:00.000Z",
                "text": t,
            }
            for n, t in enumerate(texts)
        ],
        "meta": {"result_count": 3},
    }
    rsps.get(MENTIONS, json=page)
    rsps.get(TWEETS, json=load_empty_tweets())

    got = sorted(p.text for p in connector.fetch({}).posts)

    assert got == sorted(
        [
            "@VirginTrains I still haven't heard & the number I'm directed to by phone is a dead end"
            " & the live chat doesn't work. Can someone call me?",
            "@acmehelp We can help. Which version of iOS are you on? You can find that in Settings >"
            " General > About. Reply in DM. https://t.co/GDrqU22YpT",
            "@acmehelp I literally typed &amp; <3",
        ]
    )
