"""Contract tests for the Reddit connector against recorded response shapes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import requests
import responses

from responsegap.connectors.base import CredentialsError, MalformedPayload, PlatformUnavailable, RateLimited
from responsegap.connectors.http import PlatformHttp
from responsegap.connectors.reddit import RedditConnector
from responsegap.domain.matching import match
from responsegap.domain.metrics import report
from responsegap.domain.model import Brand, Post, Profile
from responsegap.domain.periods import Period, parse_instant

FIXTURES = Path(__file__).parents[2] / "fixtures" / "reddit"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
BASE = "https://oauth.reddit.com"
INBOX, OWN = f"{BASE}/message/inbox", f"{BASE}/user/AcmeCo/comments"
NOW = parse_instant("2026-11-20T12:00:00Z")
CURSOR = {"since": str(parse_instant("2026-11-20T09:00:00Z"))}
PROFILE = Profile(brand_id="acme", platform="reddit", handle="acmeco", account_id="t2_acme1")
CREDENTIALS = {
    "client_id": "p-jcoLKBynTLew",
    "client_secret": "gko_LXELoV07ZBNUXrvWZfzE3aI-SECRET",
    "username": "AcmeCo",
    "password": "hunter2-SECRET",
    "user_agent": "server:responsegap:0.1.0 (by /u/AcmeCo)",
}
ACCESS_TOKEN = json.loads((FIXTURES / "access_token.json").read_text())["access_token"]


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def after(value: str | None):
    def matcher(request):
        return (request.params.get("after") == value, f"after != {value}")

    return matcher


def connector() -> RedditConnector:
    http = PlatformHttp(PROFILE.key, sleep=lambda s: None, clock=lambda: NOW, rng=random.Random(1))
    return RedditConnector(PROFILE, http, CREDENTIALS)


def add_conversation(rsps: responses.RequestsMock, budget: dict[str, str] | None = None) -> None:
    rsps.post(TOKEN_URL, json=load("access_token.json"))
    rsps.get(INBOX, json=load("message_inbox.page1.json"), match=[after(None)], headers=budget or {})
    rsps.get(INBOX, json=load("message_inbox.page2.json"), match=[after("t1_k2bo")])
    rsps.get(OWN, json=load("user_comments.page1.json"), match=[after(None)])
    rsps.get(OWN, json=load("user_comments.page2.json"), match=[after("t1_b3carl")])


def secrets_in(text: str) -> list[str]:
    return [s for s in (*CREDENTIALS.values(), ACCESS_TOKEN) if "SECRET" in s and s in text]


@responses.activate
def test_page_chain_normalises_inbox_and_brand_comments() -> None:
    add_conversation(responses.mock)
    result = connector().fetch(CURSOR)

    by_id = {p.post_id: p for p in result.posts}
    assert set(by_id) == {
        "t1_k1ann",
        "t1_k1annf",
        "t1_k2bo",
        "t1_k3carl",
        "t1_b1ann",
        "t1_b2ann",
        "t1_b3carl",
    } | {"t1_b4carl"}
    ann = by_id["t1_k1ann"]
    assert (ann.mentions, ann.in_reply_to_id, ann.author_handle, ann.conversation_id) == (
        ("acmeco",),
        "t3_p1boot",
        "ann_lee",
        "t3_p1boot",
    )
    followup = by_id["t1_k1annf"]
    assert (followup.in_reply_to_id, followup.in_reply_to_author_id) == ("t1_b1ann", "t2_acme1")
    bo = by_id["t1_k2bo"]
    assert (bo.in_reply_to_id, bo.mentions, bo.conversation_id) == (None, ("acmeco",), "t3_acmesale")
    brand = by_id["t1_b1ann"]
    assert (brand.author_id, brand.author_handle, brand.in_reply_to_id) == ("t2_acme1", "acmeco", "t1_k1ann")
    assert brand.url == "https://www.reddit.com/r/BuyItForLife/comments/p1boot/boots_that_last/b1ann/"
    assert result.cursor == {"since": str(parse_instant("2026-11-20T11:40:00Z"))}
    assert result.requests == 5  # token, inbox x2, own comments x2

    token_call, first = responses.calls[0].request, responses.calls[1].request
    assert "grant_type=password" in token_call.body
    assert token_call.headers["User-Agent"] == CREDENTIALS["user_agent"]
    assert first.headers["Authorization"] == f"bearer {ACCESS_TOKEN}"
    assert first.headers["User-Agent"] == CREDENTIALS["user_agent"]
    assert first.params["raw_json"] == "1"


@responses.activate
def test_recorded_conversation_gives_hand_computed_figures() -> None:
    add_conversation(responses.mock)
    posts = connector().fetch(CURSOR).posts
    brand = Brand(brand_id="acme", name="Acme", profiles=(PROFILE,))
    figures = report(match(posts, [brand], NOW), [brand], Period(NOW - 86400, NOW + 1), NOW)["profiles"][0]

    # Openers: Ann 10:00 (answered +720 s), Bo 10:45 on the brand's submission (unanswered),
    # Carl 11:00 (+2 s acknowledgement, too fast for a person; a person at +2400 s).
    assert figures["openers"] == 3
    assert figures["answered"] == 2
    assert figures["response_rate"] == pytest.approx(2 / 3)
    assert figures["first_response_seconds"]["median"] == pytest.approx(361)  # (2 + 720) / 2
    assert figures["answered_by_human"] == 2
    assert figures["first_human_response_seconds"]["median"] == pytest.approx(1560)  # (720 + 2400) / 2
    assert figures["answered_automated"] == 1
    assert figures["answered_within_sla"] == 2
    assert (figures["followups"], figures["followups_answered"]) == (1, 1)  # Ann's 10:20, answered 10:30


@responses.activate
def test_empty_inbox_costs_three_requests() -> None:
    responses.post(TOKEN_URL, json=load("access_token.json"))
    responses.get(INBOX, json=load("listing.empty.json"))
    responses.get(OWN, json=load("listing.empty.json"))
    result = connector().fetch(CURSOR)
    assert (result.posts, result.cursor, result.requests) == ((), CURSOR, 3)


@responses.activate
def test_429_uses_reddit_reset_seconds() -> None:
    responses.post(TOKEN_URL, json=load("access_token.json"))
    headers = {"X-Ratelimit-Used": "100", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "42"}
    responses.get(INBOX, json={"message": "Too Many Requests", "error": 429}, status=429, headers=headers)
    with pytest.raises(RateLimited) as caught:
        connector().fetch(CURSOR)
    assert caught.value.retry_at == NOW + 42


@responses.activate
def test_spent_budget_stops_before_the_next_request() -> None:
    budget = {"X-Ratelimit-Used": "100", "X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "318"}
    responses.post(TOKEN_URL, json=load("access_token.json"))
    responses.get(INBOX, json=load("message_inbox.page1.json"), headers=budget)
    with pytest.raises(RateLimited) as caught:
        connector().fetch(CURSOR)
    assert caught.value.retry_at == NOW + 318
    assert len(responses.calls) == 2  # the token and one page; no request spent on a sure 429


@responses.activate
def test_500_then_success_is_retried() -> None:
    responses.post(TOKEN_URL, json=load("access_token.json"))
    responses.get(INBOX, body="<html>upstream connect error</html>", status=503, content_type="text/html")
    responses.get(INBOX, json=load("message_inbox.page1.json"), match=[after(None)])
    responses.get(INBOX, json=load("message_inbox.page2.json"), match=[after("t1_k2bo")])
    responses.get(OWN, json=load("user_comments.page1.json"), match=[after(None)])
    responses.get(OWN, json=load("user_comments.page2.json"), match=[after("t1_b3carl")])
    result = connector().fetch(CURSOR)
    assert len(result.posts) == 8
    assert result.requests == 6


@responses.activate
def test_timeouts_are_retried_then_unavailable() -> None:
    responses.post(TOKEN_URL, json=load("access_token.json"))
    responses.get(INBOX, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(PlatformUnavailable):
        connector().fetch(CURSOR)
    assert len(responses.calls) == 5  # the token, then four attempts


@responses.activate
def test_refused_app_credentials_are_a_credentials_error_without_secrets() -> None:
    responses.post(TOKEN_URL, json={"message": "Unauthorized", "error": 401}, status=401)
    with pytest.raises(CredentialsError) as caught:
        connector().fetch(CURSOR)
    assert "reddit#acmeco" in str(caught.value)
    assert secrets_in(str(caught.value)) == []


@responses.activate
def test_wrong_password_answered_200_is_a_credentials_error() -> None:
    responses.post(TOKEN_URL, json=load("access_token.invalid_grant.json"))
    with pytest.raises(CredentialsError, match="invalid_grant") as caught:
        connector().fetch(CURSOR)
    assert secrets_in(str(caught.value)) == []


@responses.activate
def test_expired_token_on_the_api_is_a_credentials_error() -> None:
    responses.post(TOKEN_URL, json=load("access_token.json"))
    responses.get(INBOX, json={"message": "Unauthorized", "error": 401}, status=401)
    with pytest.raises(CredentialsError) as caught:
        connector().fetch(CURSOR)
    assert secrets_in(str(caught.value)) == []


def test_missing_credentials_are_named_not_shown() -> None:
    http = PlatformHttp(PROFILE.key, sleep=lambda s: None)
    with pytest.raises(CredentialsError, match="password") as caught:
        RedditConnector(PROFILE, http, {k: v for k, v in CREDENTIALS.items() if k != "password"})
    assert secrets_in(str(caught.value)) == []


@responses.activate
def test_comment_without_created_utc_is_malformed() -> None:
    page = load("message_inbox.page2.json")
    del page["data"]["children"][0]["data"]["created_utc"]
    responses.post(TOKEN_URL, json=load("access_token.json"))
    responses.get(INBOX, json=page)
    with pytest.raises(MalformedPayload) as caught:
        connector().fetch(CURSOR)
    assert "reddit" in str(caught.value)
    assert "created_utc" in str(caught.value)


@responses.activate
def test_listing_without_children_is_malformed() -> None:
    responses.post(TOKEN_URL, json=load("access_token.json"))
    responses.get(INBOX, json={"kind": "Listing", "data": {"after": None}})
    with pytest.raises(MalformedPayload, match="children"):
        connector().fetch(CURSOR)


@responses.activate
def test_item_deleted_between_pages_pages_on_from_the_one_before() -> None:
    # The inbox's `after` item vanished: Reddit answers an empty page. The connector pages on
    # from the item before it and loses nothing.
    responses.post(TOKEN_URL, json=load("access_token.json"))
    responses.get(INBOX, json=load("message_inbox.page1.json"), match=[after(None)])
    responses.get(INBOX, json=load("listing.empty.json"), match=[after("t1_k2bo")])
    responses.get(INBOX, json=load("message_inbox.page2.json"), match=[after("t1_k3carl")])
    responses.get(OWN, json=load("user_comments.page1.json"), match=[after(None)])
    responses.get(OWN, json=load("user_comments.page2.json"), match=[after("t1_b3carl")])
    result = connector().fetch(CURSOR)
    assert {"t1_k1ann", "t1_k1annf", "t1_k2bo", "t1_k3carl"} <= {p.post_id for p in result.posts}
    assert result.requests == 6


@responses.activate
def test_deleted_comment_keeps_a_distinct_author() -> None:
    page = load("message_inbox.page2.json")
    page["data"]["children"][1]["data"].update(author="[deleted]", body="[deleted]")
    responses.post(TOKEN_URL, json=load("access_token.json"))
    responses.get(INBOX, json=page)
    responses.get(OWN, json=load("listing.empty.json"))
    posts = {p.post_id: p for p in connector().fetch(CURSOR).posts}
    assert posts["t1_k1ann"].author_id == "deleted:t1_k1ann"


@responses.activate
def test_fetch_replies_walks_the_comment_tree() -> None:
    responses.post(TOKEN_URL, json=load("access_token.json"))
    brand_reply = load("user_comments.page2.json")["data"]["children"][1]
    ann = load("message_inbox.page2.json")["data"]["children"][1]
    ann["data"]["replies"] = {"kind": "Listing", "data": {"after": None, "children": [brand_reply]}}
    submission = {"kind": "Listing", "data": {"after": None, "children": []}}
    comments = {"kind": "Listing", "data": {"after": None, "children": [ann]}}
    responses.get(f"{BASE}/comments/p1boot", json=[submission, comments], match=[after(None)])
    post = Post(
        "reddit",
        "t1_k1ann",
        "ann_lee",
        "ann_lee",
        parse_instant("2026-11-20T10:00:00Z"),
        conversation_id="t3_p1boot",
    )
    result = connector().fetch_replies(post)
    assert [p.post_id for p in result.posts] == ["t1_k1ann", "t1_b1ann"]
    assert result.requests == 2


@responses.activate
def test_private_messages_in_the_inbox_do_not_break_the_poll() -> None:
    # Seen in real traffic (PRAW's 2025 inbox recording): t4 private messages between the
    # comments, with "parent_id" and "subreddit" null and "context" empty.
    message = {
        "kind": "t4",
        "data": {
            "subreddit": None,
            "author_fullname": "t2_ann01",
            "id": "2r17c8r",
            "subject": "Test message",
            "author": "ann_b",
            "parent_id": None,
            "new": True,
            "type": "unknown",
            "body": "can you call me",
            "dest": "AcmeCo",
            "was_comment": False,
            "name": "t4_2r17c8r",
            "created": 1795172500.0,
            "created_utc": 1795172500.0,
            "context": "",
            "distinguished": None,
        },
    }
    inbox = load("message_inbox.page1.json")
    inbox["data"]["children"].insert(0, message)
    inbox["data"]["after"] = None
    responses.post(TOKEN_URL, json=load("access_token.json"))
    responses.get(INBOX, json=inbox)
    responses.get(OWN, json=load("listing.empty.json"))

    result = connector().fetch({})

    assert "t4_2r17c8r" not in {p.post_id for p in result.posts}
    assert {p.post_id for p in result.posts} == {
        c["data"]["name"] for c in inbox["data"]["children"] if c["kind"] == "t1"
    }
