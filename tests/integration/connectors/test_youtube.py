"""Contract tests for the YouTube Data API v3 connector against recorded response shapes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import requests
import responses

from responsegap.connectors.base import CredentialsError, MalformedPayload, PlatformUnavailable, RateLimited
from responsegap.connectors.http import PlatformHttp
from responsegap.connectors.youtube import YouTubeConnector, next_pacific_midnight
from responsegap.domain.matching import match
from responsegap.domain.metrics import report
from responsegap.domain.model import Brand, Post, Profile
from responsegap.domain.periods import Period, parse_instant

FIXTURES = Path(__file__).parents[2] / "fixtures" / "youtube"
BASE = "https://www.googleapis.com/youtube/v3"
TOKEN = "ya29.a0-youtube-token-SECRET"
NOW = parse_instant("2026-11-20T12:00:00Z")
CURSOR = {"since": str(parse_instant("2026-11-20T09:00:00Z"))}
CHANNEL = "UCacme0000000000000000aa"
PROFILE = Profile(brand_id="acme", platform="youtube", handle="acmeco", account_id=CHANNEL)
THREADS, COMMENTS = f"{BASE}/commentThreads", f"{BASE}/comments"
T1, T2 = "UgzT1annBerlinAaBbCc4AaABAg", "UgzT2carlZipperDdEe4AaABAg"
REPLIES_NEXT = (
    "Z2V0X25ld2VzdF9maXJzdC0tQ2dnSWdBUVZGN2ZST0JJRkNJZ2dHQUFTQlFpb0lCZ0FHQUFpRFFvTENMX0JxTG9HRUtpNG9zUUM"
)


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def page_token(value: str | None):
    def matcher(request):
        return (request.params.get("pageToken") == value, f"pageToken != {value}")

    return matcher


def connector(credentials: dict[str, str] | None = None) -> YouTubeConnector:
    http = PlatformHttp(PROFILE.key, sleep=lambda s: None, clock=lambda: NOW, rng=random.Random(1))
    return YouTubeConnector(PROFILE, http, credentials or {"access_token": TOKEN})


def add_conversation(
    rsps: responses.RequestsMock, replies_page2: dict | None = None, status: int = 200
) -> None:
    rsps.get(THREADS, json=load("commentThreads.page1.json"), match=[page_token(None)])
    rsps.get(THREADS, json=load("commentThreads.page2.json"), match=[page_token("QURTSl9pMlhTVUhQ")])
    rsps.get(COMMENTS, json=load("comments.parentId.page1.json"), match=[page_token(None)])
    rsps.get(
        COMMENTS,
        json=replies_page2 or load("comments.parentId.page2.json"),
        status=status,
        match=[page_token(REPLIES_NEXT)],
    )


@responses.activate
def test_page_chain_reads_threads_and_missing_replies_then_stops_at_the_window() -> None:
    add_conversation(responses.mock)
    result = connector().fetch(CURSOR)

    by_id = {p.post_id: p for p in result.posts}
    assert set(by_id) == {T1, T2, "UgzT3deeJacketFfGg4AaABAg"} | {
        f"{T1}.AaReply{n}" for n in (1, 2, 3, 4)
    } | {f"{T2}.AaReply{n}" for n in (1, 2)}
    ann = by_id[T1]
    assert (ann.mentions, ann.author_handle, ann.in_reply_to_id) == (("acmeco",), "ann-lee", None)
    answer = by_id[f"{T1}.AaReply2"]
    assert (answer.author_handle, answer.author_id, answer.in_reply_to_id) == (
        "acmeco",
        CHANNEL,
        f"{T1}.AaReply1",
    )
    followup = by_id[f"{T1}.AaReply3"]
    assert (followup.in_reply_to_id, followup.in_reply_to_author_id) == (answer.post_id, CHANNEL)
    assert by_id[f"{T2}.AaReply1"].in_reply_to_id == T2
    assert ann.url == f"https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc={T1}"
    assert "UgzT0boOldHhIi4AaABAg" not in by_id
    assert result.cursor == {"since": str(parse_instant("2026-11-20T11:40:00Z"))}
    # Two thread pages (the third is never asked for: Bo's thread is older than the window)
    # and two reply pages for Ann's thread, which carried 2 of its 4 replies.
    assert result.requests == 4
    first = responses.calls[0].request
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert (first.params["allThreadsRelatedToChannelId"], first.params["order"]) == (CHANNEL, "time")


@responses.activate
def test_recorded_conversation_gives_hand_computed_figures() -> None:
    add_conversation(responses.mock)
    posts = connector().fetch(CURSOR).posts
    brand = Brand(brand_id="acme", name="Acme", profiles=(PROFILE,))
    figures = report(match(posts, [brand], NOW), [brand], Period(NOW - 86400, NOW + 1), NOW)["profiles"][0]

    # Openers: Ann 10:00 (first answer 10:30: +1800 s), Carl 11:00 (+4 s, too fast for a
    # person: automated; a person at 11:25: +1500 s), Dee 11:40 (unanswered).
    assert figures["openers"] == 3
    assert figures["answered"] == 2
    assert figures["response_rate"] == pytest.approx(2 / 3)
    assert figures["first_response_seconds"]["median"] == pytest.approx(902)  # (4 + 1800) / 2
    assert figures["answered_by_human"] == 2
    assert figures["first_human_response_seconds"]["median"] == pytest.approx(1650)  # (1500 + 1800) / 2
    assert figures["answered_automated"] == 1
    assert figures["answered_within_sla"] == 2
    assert (figures["followups"], figures["followups_answered"]) == (1, 1)  # Ann's "@AcmeCo thanks!"


@responses.activate
def test_empty_channel_costs_one_request_and_api_key_goes_in_the_query() -> None:
    responses.get(THREADS, json=load("commentThreads.empty.json"))
    result = connector({"api_key": "AIza-key-SECRET"}).fetch(CURSOR)
    assert (result.posts, result.cursor, result.requests) == ((), CURSOR, 1)
    request = responses.calls[0].request
    assert request.params["key"] == "AIza-key-SECRET"
    assert "Authorization" not in request.headers


@responses.activate
def test_quota_exceeded_waits_for_midnight_pacific() -> None:
    responses.get(THREADS, json=load("error.quotaExceeded.json"), status=403)
    with pytest.raises(RateLimited) as caught:
        connector().fetch(CURSOR)
    # 12:00 UTC on 20 November is 04:00 PST; the quota resets at 00:00 PST on the 21st.
    assert caught.value.retry_at == parse_instant("2026-11-21T08:00:00Z")
    assert len(responses.calls) == 1


def test_quota_reset_follows_daylight_saving() -> None:
    assert next_pacific_midnight(parse_instant("2026-07-01T12:00:00Z")) == parse_instant(
        "2026-07-02T07:00:00Z"
    )


@responses.activate
def test_short_rate_limit_retries_a_minute_later() -> None:
    body = {"error": {"code": 403, "message": "Rate limit exceeded",
                      "errors": [{"message": "Rate limit exceeded", "domain": "youtube.quota",
                                  "reason": "rateLimitExceeded"}]}}  # fmt: skip
    responses.get(THREADS, json=body, status=403)
    with pytest.raises(RateLimited) as caught:
        connector().fetch(CURSOR)
    assert caught.value.retry_at == NOW + 60


@responses.activate
def test_500_then_success_is_retried() -> None:
    responses.get(THREADS, json={"error": {"code": 500, "message": "Backend Error"}}, status=500)
    add_conversation(responses.mock)
    result = connector().fetch(CURSOR)
    assert len(result.posts) == 9
    assert result.requests == 5


@responses.activate
def test_timeouts_are_retried_then_unavailable() -> None:
    responses.get(THREADS, body=requests.ConnectionError("connection reset"))
    with pytest.raises(PlatformUnavailable):
        connector().fetch(CURSOR)
    assert len(responses.calls) == 4


@responses.activate
def test_invalid_credentials_are_a_credentials_error_without_the_token() -> None:
    responses.get(THREADS, json=load("error.authError.json"), status=401)
    with pytest.raises(CredentialsError) as caught:
        connector().fetch(CURSOR)
    assert "youtube#acmeco" in str(caught.value)
    assert TOKEN not in str(caught.value)


@responses.activate
def test_forbidden_without_quota_reason_is_a_credentials_error() -> None:
    reason = {"message": "Forbidden", "domain": "global", "reason": "forbidden"}
    body = {"error": {"code": 403, "message": "Forbidden", "errors": [reason]}}
    responses.get(THREADS, json=body, status=403)
    with pytest.raises(CredentialsError):
        connector().fetch(CURSOR)


@responses.activate
def test_missing_published_at_is_malformed() -> None:
    page = load("commentThreads.empty.json")
    thread = load("commentThreads.page1.json")["items"][0]
    del thread["snippet"]["topLevelComment"]["snippet"]["publishedAt"]
    page["items"] = [thread]
    responses.get(THREADS, json=page)
    with pytest.raises(MalformedPayload) as caught:
        connector().fetch(CURSOR)
    assert "youtube" in str(caught.value)
    assert "publishedAt" in str(caught.value)


@responses.activate
def test_items_of_the_wrong_type_are_malformed() -> None:
    responses.get(THREADS, json={"kind": "youtube#commentThreadListResponse", "items": {"not": "a list"}})
    with pytest.raises(MalformedPayload, match="items"):
        connector().fetch(CURSOR)


@responses.activate
def test_thread_deleted_between_pages_does_not_fail_the_poll() -> None:
    add_conversation(responses.mock, replies_page2=load("error.commentNotFound.json"), status=404)
    result = connector().fetch(CURSOR)
    ids = {p.post_id for p in result.posts}
    # The replies the thread itself carried are kept; the rest of the poll carries on.
    assert {T1, f"{T1}.AaReply3", f"{T1}.AaReply4", T2} <= ids
    assert f"{T1}.AaReply1" not in ids


@responses.activate
def test_fetch_replies_reads_the_thread() -> None:
    responses.get(COMMENTS, json=load("comments.parentId.page1.json"), match=[page_token(None)])
    responses.get(COMMENTS, json=load("comments.parentId.page2.json"), match=[page_token(REPLIES_NEXT)])
    ann = Post("youtube", T1, "UCann00000000000000000aa", "ann-lee", parse_instant("2026-11-20T10:00:00Z"))
    result = connector().fetch_replies(ann)
    assert [p.post_id for p in result.posts] == [f"{T1}.AaReply{n}" for n in (1, 2, 3, 4)]
    assert result.requests == 2


@responses.activate
def test_channel_not_found_is_malformed_not_skipped() -> None:
    reason = {"message": "Channel not found.", "domain": "youtube.commentThread", "reason": "channelNotFound"}
    responses.get(
        THREADS,
        json={"error": {"code": 404, "message": "Channel not found.", "errors": [reason]}},
        status=404,
    )
    with pytest.raises(MalformedPayload, match="404"):
        connector().fetch(CURSOR)
