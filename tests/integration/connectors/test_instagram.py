"""Contract tests for the Instagram connector against recorded Graph API shapes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import requests
import responses

from responsegap.connectors.base import CredentialsError, MalformedPayload, PlatformUnavailable, RateLimited
from responsegap.connectors.http import PlatformHttp
from responsegap.connectors.instagram import InstagramConnector
from responsegap.domain.matching import match
from responsegap.domain.metrics import report
from responsegap.domain.model import Brand, Post, Profile
from responsegap.domain.periods import Period, parse_instant

FIXTURES = Path(__file__).parents[2] / "fixtures" / "instagram"
BASE = "https://graph.facebook.com/v21.0"
TOKEN = "IGQV-user-token-SECRET"
NOW = parse_instant("2026-11-20T12:00:00Z")
CURSOR = {"since": str(parse_instant("2026-11-20T08:30:00Z"))}
IG_USER = "17841400000000001"
PROFILE = Profile(brand_id="acme", platform="instagram", handle="acmeco", account_id=IG_USER)
MEDIA, TAGS = f"{BASE}/{IG_USER}/media", f"{BASE}/{IG_USER}/tags"
COMMENTS = f"{BASE}/17900000000000001/comments"
REPLIES = f"{BASE}/17850000000000001/replies"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def after(value: str | None):
    """A responses matcher on the ``after`` cursor (``None``: the first page)."""

    def matcher(request):
        return (request.params.get("after") == value, f"after != {value}")

    return matcher


def connector() -> InstagramConnector:
    http = PlatformHttp(PROFILE.key, sleep=lambda s: None, clock=lambda: NOW, rng=random.Random(1))
    return InstagramConnector(PROFILE, http, {"access_token": TOKEN})


def add_conversation(
    rsps: responses.RequestsMock, comments_page2: dict | None = None, status: int = 200
) -> None:
    rsps.get(MEDIA, json=load("user_media.page1.json"), match=[after(None)])
    rsps.get(COMMENTS, json=comments_page2 or load("media_comments.page2.json"), status=status)
    rsps.get(REPLIES, json=load("comment_replies.page2.json"), match=[after("QVFIUnJlcGx5Mg")])
    rsps.get(MEDIA, json=load("user_media.page2.json"), match=[after("QVFIUm1lZGlhMQ")])
    rsps.get(TAGS, json=load("user_tags.page1.json"))


@responses.activate
def test_page_chain_follows_media_comment_and_reply_pages() -> None:
    add_conversation(responses.mock)
    result = connector().fetch(CURSOR)

    by_id = {p.post_id: p for p in result.posts}
    assert "17900000000000001" not in by_id  # the brand's own media are not measured
    ann, brand_reply, followup, answer = (
        by_id[i] for i in ("17850000000000001", "17860000000000001", "17860000000000002", "17860000000000003")
    )
    assert (ann.in_reply_to_id, ann.mentions, ann.author_handle) == (None, ("acmeco",), "ann.lee")
    assert (brand_reply.author_id, brand_reply.in_reply_to_id) == (IG_USER, ann.post_id)
    assert (followup.in_reply_to_id, followup.in_reply_to_author_id) == (brand_reply.post_id, IG_USER)
    assert answer.in_reply_to_id == followup.post_id  # "@ann.lee" names Ann's latest reply
    assert by_id["17850000000000002"].author_handle == "bo_chen"
    dee = by_id["17900000000000099"]
    assert (dee.mentions, dee.url) == (("acmeco",), "https://www.instagram.com/p/DeeBoots/")
    assert len(result.posts) == 8
    assert result.cursor == {"since": str(parse_instant("2026-11-20T11:00:00Z"))}
    assert result.requests == 5  # media x2, comments page 2, replies page 2, tags
    assert responses.calls[0].request.params["access_token"] == TOKEN


@responses.activate
def test_recorded_conversation_gives_hand_computed_figures() -> None:
    add_conversation(responses.mock)
    posts = connector().fetch(CURSOR).posts
    brand = Brand(brand_id="acme", name="Acme", profiles=(PROFILE,))
    figures = report(match(posts, [brand], NOW), [brand], Period(NOW - 86400, NOW + 1), NOW)["profiles"][0]

    # Openers: Ann 10:00 (answered +900 s), Bo 10:40 (no answer), Carl 09:00 (answered
    # +360 s), Dee's tagged photo 11:00 (no answer). Ann's "@acmeco done" at 10:30 replies to
    # the brand: a follow-up, answered at 10:50.
    assert figures["openers"] == 4
    assert figures["answered"] == 2
    assert figures["response_rate"] == pytest.approx(0.5)
    assert figures["first_response_seconds"]["median"] == pytest.approx(630)  # (360 + 900) / 2
    assert figures["first_human_response_seconds"]["median"] == pytest.approx(630)
    assert figures["answered_by_human"] == 2
    assert figures["answered_within_sla"] == 2
    assert (figures["followups"], figures["followups_answered"]) == (1, 1)


@responses.activate
def test_empty_account_costs_two_requests() -> None:
    responses.get(MEDIA, json=load("user_media.empty.json"))
    responses.get(TAGS, json=load("user_media.empty.json"))
    result = connector().fetch(CURSOR)
    assert (result.posts, result.cursor, result.requests) == ((), CURSOR, 2)


@responses.activate
def test_instagram_buc_rate_limit_gives_retry_at() -> None:
    usage = {IG_USER: [{"type": "instagram", "call_count": 100, "total_cputime": 9, "total_time": 30,
                        "estimated_time_to_regain_access": 5}]}  # fmt: skip
    responses.get(
        MEDIA,
        json=load("error.rate_limit_80002.json"),
        status=400,
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    with pytest.raises(RateLimited) as caught:
        connector().fetch(CURSOR)
    assert caught.value.retry_at == NOW + 300


@responses.activate
def test_http_429_uses_the_shared_policy() -> None:
    responses.get(MEDIA, json={"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "120"})
    with pytest.raises(RateLimited) as caught:
        connector().fetch(CURSOR)
    assert caught.value.retry_at == NOW + 120


@responses.activate
def test_500_then_success_is_retried() -> None:
    responses.get(
        MEDIA, json={"error": {"message": "An unexpected error has occurred.", "code": 2}}, status=500
    )
    add_conversation(responses.mock)
    result = connector().fetch(CURSOR)
    assert len(result.posts) == 8
    assert result.requests == 6


@responses.activate
def test_timeouts_are_retried_then_unavailable() -> None:
    responses.get(MEDIA, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(PlatformUnavailable):
        connector().fetch(CURSOR)
    assert len(responses.calls) == 4


@pytest.mark.parametrize(
    ("status", "body"), [(400, "error.token_expired_190.json"), (401, None)], ids=["expired-190", "http-401"]
)
@responses.activate
def test_refused_token_is_a_credentials_error_without_the_token(status: int, body: str | None) -> None:
    responses.get(MEDIA, json=load(body) if body else {}, status=status)
    with pytest.raises(CredentialsError) as caught:
        connector().fetch(CURSOR)
    assert "instagram#acmeco" in str(caught.value)
    assert TOKEN not in str(caught.value)


@responses.activate
def test_comment_without_timestamp_is_malformed() -> None:
    media = load("user_media.page2.json")
    del media["data"][0]["comments"]["data"][0]["timestamp"]
    responses.get(MEDIA, json=media)
    with pytest.raises(MalformedPayload) as caught:
        connector().fetch(CURSOR)
    assert "instagram" in str(caught.value)
    assert "timestamp" in str(caught.value)


@responses.activate
def test_wrong_type_is_malformed() -> None:
    media = load("user_media.page2.json")
    media["data"][0]["username"] = 17
    responses.get(MEDIA, json=media)
    with pytest.raises(MalformedPayload, match="username"):
        connector().fetch(CURSOR)


@responses.activate
def test_media_deleted_between_pages_does_not_fail_the_poll() -> None:
    add_conversation(responses.mock, comments_page2=load("error.object_missing_100_33.json"), status=400)
    result = connector().fetch(CURSOR)
    ids = {p.post_id for p in result.posts}
    assert "17850000000000002" not in ids  # Bo's comment was on the page that went away
    assert {"17850000000000001", "17860000000000003", "17850000000000003", "17900000000000099"} <= ids


@responses.activate
def test_fetch_replies_reads_the_medium_the_post_is_on() -> None:
    media = load("user_media.page2.json")["data"][0]
    responses.get(f"{BASE}/17900000000000002", json=media)
    carl = Post("instagram", "17850000000000003", "carl_d", "carl_d", 0, conversation_id="17900000000000002")
    result = connector().fetch_replies(carl)
    assert [p.post_id for p in result.posts] == ["17850000000000003", "17860000000000004"]
    assert result.posts[1].in_reply_to_id == "17850000000000003"
    assert result.requests == 1


@responses.activate
def test_fetch_replies_of_a_deleted_medium_is_empty() -> None:
    responses.get(f"{BASE}/17900000000000002", json=load("error.object_missing_100_33.json"), status=400)
    carl = Post("instagram", "17850000000000003", "carl_d", "carl_d", 0, conversation_id="17900000000000002")
    assert connector().fetch_replies(carl).posts == ()
