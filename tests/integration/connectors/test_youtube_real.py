"""The YouTube connector over bodies the real Data API v3 sent to python-youtube's maintainer.

Fields are checked against the raw JSON read here (tests/fixtures/youtube/real/SOURCE.md).
"""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path

import responses

from responsegap.connectors.http import PlatformHttp
from responsegap.connectors.youtube import YouTubeConnector
from responsegap.domain.model import Post, Profile
from responsegap.domain.periods import parse_instant

REAL = Path(__file__).parents[2] / "fixtures" / "youtube" / "real"
DOC = Path(__file__).parents[2] / "fixtures" / "youtube"
BASE = "https://www.googleapis.com/youtube/v3"
CHANNEL = "UCa-vrCLQHviTOVnEKDOdetQ"  # the channel the threads were read for
BRAND = Profile(brand_id="acme", platform="youtube", handle="acmeco", account_id=CHANNEL)
RECORDED = parse_instant("2019-12-01T06:00:00Z")


def text(name: str, folder: Path = REAL) -> str:
    return (folder / name).read_text(encoding="utf-8")


def epoch(value: str) -> int:
    return int(datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp())


def connector(lookback_days: int) -> YouTubeConnector:
    http = PlatformHttp(BRAND.key, sleep=lambda s: None, clock=lambda: RECORDED, rng=random.Random(1))
    return YouTubeConnector(BRAND, http, {"api_key": "key"}, lookback_seconds=lookback_days * 86400)


def test_recorded_threads_with_and_without_a_video_are_normalised(rsps: responses.RequestsMock) -> None:
    raw = json.loads(text("commentThreads.allThreadsRelatedToChannelId.json"))
    rsps.get(f"{BASE}/commentThreads", body=text("commentThreads.allThreadsRelatedToChannelId.json"))
    # One thread counts a reply the recording did not list; its reply list was not recorded, so
    # it answers as a thread deleted meanwhile would (documented error): the thread is kept.
    rsps.get(f"{BASE}/comments", status=404, body=text("error.commentNotFound.json", DOC))

    result = connector(lookback_days=7).fetch({})

    by_id = {p.post_id: p for p in result.posts}
    assert set(by_id) == {t["id"] for t in raw["items"]}
    for thread in raw["items"]:
        top = thread["snippet"]["topLevelComment"]
        snippet = top["snippet"]
        post = by_id[top["id"]]
        assert post.author_id == snippet["authorChannelId"]["value"]
        assert post.author_handle == snippet["authorDisplayName"].lower()
        assert post.created_at == epoch(snippet["publishedAt"])  # ".000Z"
        assert post.text == snippet["textOriginal"]
        assert (post.in_reply_to_id, post.conversation_id) == (None, thread["id"])
        assert post.mentions == ("acmeco",)  # a comment on the channel is addressed to it
        video = snippet.get("videoId")  # channel-discussion threads have none
        assert post.url == (f"https://www.youtube.com/watch?v={video}&lc={top['id']}" if video else None)
    assert result.cursor == {
        "since": str(
            max(epoch(t["snippet"]["topLevelComment"]["snippet"]["publishedAt"]) for t in raw["items"])
        )
    }


def test_recorded_replies_listed_newest_first_link_in_time_order(rsps: responses.RequestsMock) -> None:
    pages = [json.loads(text(f"comments.parentId.page{n}.json")) for n in (1, 2)]
    rsps.get(
        f"{BASE}/comments",
        body=text("comments.parentId.page1.json"),
        match=[lambda request: ("pageToken" not in request.params, "pageToken present")],
    )
    rsps.get(
        f"{BASE}/comments",
        body=text("comments.parentId.page2.json"),
        match=[lambda request: (request.params.get("pageToken") == pages[0]["nextPageToken"], "")],
    )
    root = "Ugw5zYU6n9pmIgAZWvN4AaABAg"
    opener = Post(
        "youtube", root, "UCNvMBmCASzTNNX8lW3JRMbw", "kun liu", RECORDED - 9000, conversation_id=root
    )

    result = connector(lookback_days=7).fetch_replies(opener)

    items = [item for page in pages for item in page["items"]]
    assert [p.post_id for p in result.posts] == [
        i["id"] for i in sorted(items, key=lambda i: i["snippet"]["publishedAt"])
    ]
    for item in items:
        post = next(p for p in result.posts if p.post_id == item["id"])
        snippet = item["snippet"]  # replies carry neither channelId nor videoId
        assert (post.author_id, post.created_at, post.text) == (
            snippet["authorChannelId"]["value"],
            epoch(snippet["publishedAt"]),
            snippet["textOriginal"],
        )
        assert (post.in_reply_to_id, post.conversation_id) == (snippet["parentId"], snippet["parentId"])
