"""Contract tests for the Facebook Pages connector against recorded Graph API shapes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import requests
import responses

from responsegap.connectors.base import CredentialsError, MalformedPayload, PlatformUnavailable, RateLimited
from responsegap.connectors.facebook import FacebookConnector
from responsegap.connectors.http import PlatformHttp
from responsegap.domain.matching import match
from responsegap.domain.metrics import report
from responsegap.domain.model import Brand, Post, Profile
from responsegap.domain.periods import Period, parse_instant

FIXTURES = Path(__file__).parents[2] / "fixtures" / "facebook"
BASE = "https://graph.facebook.com/v21.0"
TOKEN = "EAAB-page-token-SECRET"
NOW = parse_instant("2026-11-20T12:00:00Z")
CURSOR = {"since": str(parse_instant("2026-11-20T09:00:00Z"))}
PROFILE = Profile(brand_id="acme", platform="facebook", handle="acmeco", account_id="1000")
FEED, TAGGED, COMMENTS = f"{BASE}/1000/feed", f"{BASE}/1000/tagged", f"{BASE}/1000_1/comments"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def without(param: str):
    """A responses matcher: the request has no ``param`` (the first page of an edge)."""

    def matcher(request):
        return (param not in request.params, f"{param} present")

    return matcher


def with_param(param: str, value: str):
    def matcher(request):
        return (request.params.get(param) == value, f"{param} != {value}")

    return matcher


def connector() -> FacebookConnector:
    http = PlatformHttp(PROFILE.key, sleep=lambda s: None, clock=lambda: NOW, rng=random.Random(1))
    return FacebookConnector(PROFILE, http, {"page_access_token": TOKEN})


def add_conversation(rsps: responses.RequestsMock) -> None:
    rsps.get(FEED, json=load("page_feed.page1.json"), match=[without("after")])
    rsps.get(FEED, json=load("page_feed.page2.json"), match=[with_param("after", "QVFIUjEwMDBfMQZDZD")])
    rsps.get(
        COMMENTS, json=load("post_comments.page2.json"), match=[with_param("after", "QVFIUjFfNDAwNQZDZD")]
    )
    rsps.get(TAGGED, json=load("page_tagged.page1.json"))


@responses.activate
def test_page_chain_normalises_comments_visitor_and_tagged_posts() -> None:
    add_conversation(responses.mock)
    result = connector().fetch(CURSOR)

    by_id = {p.post_id: p for p in result.posts}
    assert "1000_1" not in by_id  # the Page's broadcast itself is not a post to measure
    assert set(by_id) == {"1_4001", "1_4002", "1_4003", "1_4004", "1_4005", "1_4006", "1_4007", "1_4008"} | {
        "1000_2",
        "2_5001",
        "505_3",
    }
    ann = by_id["1_4001"]
    assert (ann.in_reply_to_id, ann.mentions, ann.author_id, ann.conversation_id) == (
        None,
        ("acmeco",),
        "501",
        "1000_1",
    )
    reply = by_id["1_4008"]
    assert (reply.author_handle, reply.in_reply_to_id, reply.in_reply_to_author_id) == (
        "acmeco",
        "1_4001",
        "501",
    )
    assert by_id["1_4007"].application == "ManyChat"
    assert by_id["1_4003"].mentions == ()  # Ann adding to her own thread is not a new opener
    assert by_id["2_5001"].in_reply_to_id == "1000_2"
    assert by_id["1000_2"].mentions == ("acmeco",)
    assert by_id["505_3"].created_at == parse_instant("2026-11-20T11:45:00Z")
    assert result.cursor == {"since": str(parse_instant("2026-11-20T11:45:00Z"))}
    assert result.requests == 4  # feed x2, the long comment stream's second page, tagged
    sent = responses.calls[0].request
    assert sent.params["access_token"] == TOKEN
    assert "comments.filter(stream).order(reverse_chronological)" in sent.params["fields"]


@responses.activate
def test_recorded_conversation_gives_hand_computed_figures() -> None:
    add_conversation(responses.mock)
    posts = connector().fetch(CURSOR).posts
    brand = Brand(brand_id="acme", name="Acme", profiles=(PROFILE,))
    as_of = NOW
    figures = report(match(posts, [brand], as_of), [brand], Period(NOW - 86400, NOW + 1), as_of)["profiles"][
        0
    ]

    # Openers: Ann 10:00, Bo 10:30, Carl 11:00 (comments on the Page's post), Dee 09:30
    # (visitor post), Eve 11:45 (tagged). Answered: Ann +1200 s (human), Carl +3 s (ManyChat,
    # automated; first human +1800 s), Dee +1200 s. Bo and Eve are unanswered.
    assert figures["openers"] == 5
    assert figures["answered"] == 3
    assert figures["response_rate"] == pytest.approx(0.6)
    assert figures["first_response_seconds"]["median"] == 1200  # of 3, 1200, 1200
    assert figures["answered_by_human"] == 3
    assert figures["first_human_response_seconds"]["median"] == 1200  # of 1200, 1800, 1200
    assert figures["answered_automated"] == 1
    assert figures["answered_within_sla"] == 3
    assert figures["followups"] == 0


@responses.activate
def test_empty_feed_costs_two_requests_and_keeps_the_cursor() -> None:
    responses.get(FEED, json=load("page_feed.empty.json"))
    responses.get(TAGGED, json=load("page_feed.empty.json"))
    result = connector().fetch(CURSOR)
    assert result.posts == ()
    assert result.cursor == CURSOR
    assert result.requests == 2


@responses.activate
def test_page_rate_limit_code_32_gives_retry_at_from_buc_header() -> None:
    usage = {"1000": [{"type": "pages", "call_count": 100, "total_cputime": 12, "total_time": 40,
                       "estimated_time_to_regain_access": 12}]}  # fmt: skip
    responses.get(
        FEED,
        json=load("error.rate_limit_32.json"),
        status=400,
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    with pytest.raises(RateLimited) as caught:
        connector().fetch(CURSOR)
    assert caught.value.retry_at == NOW + 12 * 60
    assert len(responses.calls) == 1  # not retried: the poller waits


@responses.activate
def test_app_rate_limit_code_4_without_hint_waits_the_default() -> None:
    body = {"error": {"message": "(#4) Application request limit reached", "type": "OAuthException",
                      "code": 4, "is_transient": True, "fbtrace_id": "Ab12"}}  # fmt: skip
    responses.get(FEED, json=body, status=403)
    with pytest.raises(RateLimited) as caught:
        connector().fetch(CURSOR)
    assert caught.value.retry_at == NOW + 900


@responses.activate
def test_500_then_success_is_retried() -> None:
    responses.get(FEED, json={"error": {"message": "An unknown error occurred", "code": 1}}, status=500)
    add_conversation(responses.mock)
    result = connector().fetch(CURSOR)
    assert len(result.posts) == 11
    assert result.requests == 5


@responses.activate
def test_timeouts_are_retried_then_unavailable() -> None:
    responses.get(FEED, body=requests.ConnectTimeout("connect timed out"))
    with pytest.raises(PlatformUnavailable) as caught:
        connector().fetch(CURSOR)
    assert len(responses.calls) == 4
    assert "facebook#acmeco" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body"),
    [(400, "error.token_expired_190.json"), (401, None)],
    ids=["expired-token-190", "http-401"],
)
@responses.activate
def test_refused_token_is_a_credentials_error_without_the_token(status: int, body: str | None) -> None:
    responses.get(FEED, json=load(body) if body else {"error": {"message": "denied"}}, status=status)
    with pytest.raises(CredentialsError) as caught:
        connector().fetch(CURSOR)
    assert "facebook#acmeco" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_missing_token_is_a_credentials_error() -> None:
    http = PlatformHttp(PROFILE.key, sleep=lambda s: None)
    with pytest.raises(CredentialsError, match="page_access_token"):
        FacebookConnector(PROFILE, http, {})


@responses.activate
def test_malformed_post_names_platform_and_field() -> None:
    feed = load("page_feed.page2.json")
    del feed["data"][0]["created_time"]
    responses.get(FEED, json=feed)
    with pytest.raises(MalformedPayload) as caught:
        connector().fetch(CURSOR)
    assert "facebook" in str(caught.value)
    assert "created_time" in str(caught.value)


@responses.activate
def test_non_json_body_is_malformed() -> None:
    responses.get(FEED, body="<html>Sorry, something went wrong</html>", content_type="text/html")
    with pytest.raises(MalformedPayload):
        connector().fetch(CURSOR)


@responses.activate
def test_post_deleted_between_pages_does_not_fail_the_poll() -> None:
    responses.get(FEED, json=load("page_feed.page1.json"), match=[without("after")])
    responses.get(FEED, json=load("page_feed.page2.json"), match=[with_param("after", "QVFIUjEwMDBfMQZDZD")])
    responses.get(COMMENTS, json=load("error.object_missing_100_33.json"), status=400)
    responses.get(TAGGED, json=load("page_tagged.page1.json"))
    result = connector().fetch(CURSOR)
    ids = {p.post_id for p in result.posts}
    assert {"1_4005", "1_4006", "1_4007"} <= ids  # read before the post went away
    assert "1_4001" not in ids
    assert {"1000_2", "505_3"} <= ids  # the rest of the poll carried on


@responses.activate
def test_old_comments_outside_the_window_stop_the_stream() -> None:
    # With a cursor after 11:30 the inline page already reaches older comments: no second page.
    responses.get(FEED, json=load("page_feed.page1.json"), match=[without("after")])
    responses.get(FEED, json=load("page_feed.page2.json"), match=[with_param("after", "QVFIUjEwMDBfMQZDZD")])
    responses.get(TAGGED, json=load("page_feed.empty.json"))
    result = connector().fetch({"since": str(parse_instant("2026-11-20T11:30:00Z"))})
    assert {p.post_id for p in result.posts} == {"1_4006"}  # 11:30 is inside the 60 s overlap
    assert result.requests == 3


@responses.activate
def test_fetch_replies_reads_the_whole_stream_of_the_post() -> None:
    post = load("page_feed.page1.json")["data"][0]
    responses.get(f"{BASE}/1000_1", json=post)
    responses.get(COMMENTS, json=load("post_comments.page2.json"))
    bo = Post(
        "facebook", "1_4002", "502", "502", parse_instant("2026-11-20T10:30:00Z"), conversation_id="1000_1"
    )
    result = connector().fetch_replies(bo)
    assert {p.post_id for p in result.posts} >= {"1_4001", "1_4008", "1_4005"}
    assert result.requests == 2


@responses.activate
def test_page_itself_unreadable_is_a_credentials_error() -> None:
    responses.get(FEED, json=load("error.object_missing_100_33.json"), status=400)
    with pytest.raises(CredentialsError, match="100/33"):
        connector().fetch(CURSOR)


@responses.activate
def test_offset_paging_is_followed_with_our_token() -> None:
    page1 = {
        "data": [
            {
                "id": "1000_9",
                "from": {"id": "1000", "name": "Acme"},
                "created_time": "2026-11-20T10:00:00+0000",
            }
        ],
        "paging": {
            "previous": f"{FEED}?limit=25&offset=0",
            "next": f"{FEED}?access_token=theirs&limit=25&offset=25",
        },
    }
    responses.get(FEED, json=page1, match=[without("offset")])
    responses.get(
        FEED,
        json=load("page_feed.empty.json"),
        match=[with_param("offset", "25"), with_param("access_token", TOKEN)],
    )
    responses.get(TAGGED, json=load("page_feed.empty.json"))

    assert connector().fetch(CURSOR).requests == 3


@responses.activate
def test_paging_next_without_any_way_forward_is_malformed() -> None:
    responses.get(FEED, json={"data": [], "paging": {"next": f"{FEED}?limit=25"}})
    with pytest.raises(MalformedPayload, match=r"paging\.next has no cursor, until or offset"):
        connector().fetch(CURSOR)


@responses.activate
def test_summary_only_comments_a_post_without_message_and_a_comment_without_from() -> None:
    # Shapes seen in real traffic: an expanded comments edge with a summary and no paging, a
    # visitor post without "message", a comment whose author did not grant access (no "from").
    post = {
        "id": "1000_7",
        "from": {"id": "777", "name": "Visitor"},
        "created_time": "2026-11-20T10:00:00+0000",
        "comments": {"data": [], "summary": {"order": "ranked", "total_count": 0, "can_comment": True}},
    }
    other = {
        "id": "1000_8",
        "from": {"id": "1000", "name": "Acme"},
        "created_time": "2026-11-20T10:05:00+0000",
        "message": "Our opening hours changed",
        "comments": {
            "data": [{"id": "1000_8_1", "created_time": "2026-11-20T10:10:00+0000", "message": "why?"}],
            "summary": {"order": "chronological", "total_count": 1, "can_comment": True},
        },
    }
    responses.get(FEED, json={"data": [post, other]})
    responses.get(TAGGED, json=load("page_feed.empty.json"))

    result = connector().fetch(CURSOR)

    by_id = {p.post_id: p for p in result.posts}
    assert set(by_id) == {"1000_7", "1000_8_1"}
    assert (by_id["1000_7"].text, by_id["1000_7"].author_id) == ("", "777")
    anonymous = by_id["1000_8_1"]
    assert (anonymous.author_id, anonymous.in_reply_to_id, anonymous.mentions) == (
        "anonymous:1000_8_1",
        None,
        ("acmeco",),
    )
    assert result.requests == 2
