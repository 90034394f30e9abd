"""YouTube Data API v3: comment threads on the channel's videos and the channel's replies.

What a poll reads (``profile.account_id`` = channel id; OAuth ``access_token`` or an API
``api_key``):

- ``GET /commentThreads?allThreadsRelatedToChannelId=...&part=snippet,replies&order=time``,
  newest threads first, 100 a page, ``nextPageToken`` to go on. A thread carries its
  top-level comment and a few replies; when ``totalReplyCount`` says there are more,
  ``GET /comments?parentId=...`` pages read them all.
- ``order=time`` sorts threads by their top-level comment, newest first; paging stops at the
  first page that reaches a thread older than the poll's window (the cursor minus a small
  overlap). A new reply to an older thread that is on the pages read is found (threads carry
  their replies); one on an older thread further back is found by the recheck of unanswered
  posts (``fetch_replies``), which is what keeps a quiet poll at one request (1 quota unit)
  instead of re-reading days of threads. ``comments?parentId=`` is only asked for threads
  started inside the window, for the same reason.

Quota: each list call costs 1 unit of the project's daily 10,000. A 403 with reason
``quotaExceeded`` (or ``dailyLimitExceeded``) is a rate limit until the quota resets at
midnight Pacific time; ``rateLimitExceeded``/``userRateLimitExceeded`` are short-term and
retried a minute later. Docs: https://developers.google.com/youtube/v3/docs/errors.

How posts are normalised (docs/platforms.md): a top-level comment by someone else is an
opener addressed to the channel; replies reply to the top-level comment (YouTube threads are
one level deep), or to the reply whose author a leading ``@handle`` names; a comment whose
``authorChannelId.value`` is the channel is a brand post. YouTube exposes no posting app.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from responsegap.connectors.base import CredentialsError, PollResult, RateLimited
from responsegap.connectors.graph import DEFAULT_LOOKBACK_SECONDS, next_cursor, window
from responsegap.connectors.http import PlatformHttp, retry_at_from_headers
from responsegap.connectors.paging import Fields, pages, require_account_id
from responsegap.domain.model import Post, Profile, mentions_in

YOUTUBE_BASE_URL = "https://www.googleapis.com/youtube/v3"
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
SHORT_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
GONE_REASONS = frozenset({"commentNotFound", "videoNotFound", "commentThreadNotFound"})
_QUOTA_ZONE = ZoneInfo("America/Los_Angeles")
_LEADING_MENTION = re.compile(r"^\s*@([\w.\-]+)")


class _Gone(Exception):
    """A thread deleted between pages (404 commentNotFound); internal."""


def next_pacific_midnight(now: float) -> int:
    """When the daily quota resets: the next 00:00 in America/Los_Angeles, as epoch seconds."""
    local = datetime.fromtimestamp(now, _QUOTA_ZONE)
    following = (local + timedelta(days=1)).date()
    return int(datetime(following.year, following.month, following.day, tzinfo=_QUOTA_ZONE).timestamp())


class YouTubeConnector:
    platform = "youtube"

    def __init__(
        self,
        profile: Profile,
        http: PlatformHttp,
        credentials: Mapping[str, str],
        base_url: str | None = None,
        *,
        lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS,
    ) -> None:
        require_account_id(profile, "the YouTube channel id (UC...)")
        self._headers: dict[str, str] = {}
        self._auth_params: dict[str, str] = {}
        if credentials.get("access_token"):
            self._headers["Authorization"] = f"Bearer {credentials['access_token']}"
        elif credentials.get("api_key"):
            self._auth_params["key"] = credentials["api_key"]
        else:
            raise CredentialsError(profile.key, "no access_token or api_key configured")
        self.profile = profile
        self.http = http
        self.base = (base_url or profile.base_url or YOUTUBE_BASE_URL).rstrip("/")
        self.lookback_seconds = lookback_seconds
        self.fields = Fields(profile.key, self.platform)

    def fetch(self, cursor: Mapping[str, str]) -> PollResult:
        start = self.http.requests_made
        now = int(self.http.clock())
        emit_from, _ = window(cursor, now, self.lookback_seconds)
        params = {
            "part": "snippet,replies",
            "allThreadsRelatedToChannelId": self.profile.account_id,
            "order": "time",
            "maxResults": 100,
            "textFormat": "plainText",
        }
        found: dict[str, Post] = {}
        for threads in pages(
            lambda token: self._page("commentThreads", params, token),
            where="youtube commentThreads",
            profile_key=self.profile.key,
        ):
            oldest = None
            for thread in threads:
                top = self._thread(thread, emit_from, found)
                oldest = top if oldest is None else min(oldest, top)
            if oldest is not None and oldest < emit_from:
                break  # threads are newest first: the rest started before this poll's window
        newest = max((p.created_at for p in found.values()), default=0)
        posts = tuple(sorted(found.values(), key=lambda p: (p.created_at, p.post_id)))
        return PollResult(posts, next_cursor(cursor, newest, now), self.http.requests_made - start)

    def fetch_replies(self, post: Post) -> PollResult:
        """All replies of the thread ``post`` is in (its top-level comment id is the thread id)."""
        start = self.http.requests_made
        root = post.conversation_id or post.post_id
        try:
            items = self._replies(root)
        except _Gone:
            items = []
        replies = [self._comment(c, "reply") for c in items]
        posts = tuple(p for p in _thread_links(replies) if p.post_id != root)
        return PollResult(posts, {}, self.http.requests_made - start)

    def _page(
        self, resource: str, params: Mapping[str, Any], token: str | None
    ) -> tuple[list[Any], str | None]:
        query = {**params, **self._auth_params, **({"pageToken": token} if token else {})}
        body = self.http.get_json(
            f"{self.base}/{resource}",
            params=query,
            headers=self._headers,
            # Only a reply list may meet a deleted thread; a 404 on the channel's list is an error.
            response_hook=lambda response: self._classify_error(response, gone_ok=resource == "comments"),
        )
        items = self.fields.items(body, "items", resource)
        return items, self.fields.text(body, "nextPageToken", resource, required=False)

    def _thread(self, thread: Mapping[str, Any], emit_from: int, found: dict[str, Post]) -> int:
        """Normalise a thread into ``found``; returns the top-level comment's time."""
        thread_id = self.fields.text(thread, "id", "commentThread")
        where = f"commentThread {thread_id}"
        snippet = self.fields.get(thread, "snippet", dict, where)
        top = self._comment(
            self.fields.get(snippet, "topLevelComment", dict, f"{where}.snippet"), "topLevelComment"
        )
        if top.author_id != self.profile.account_id:
            # A comment on the channel's video is addressed to the channel.
            top = replace(
                top, mentions=(self.profile.handle, *(m for m in top.mentions if m != self.profile.handle))
            )
        carried = self.fields.get(thread, "replies", dict, where, required=False) or {}
        included = self.fields.items(carried, "comments", f"{where}.replies", required=False)
        total = self.fields.get(snippet, "totalReplyCount", int, f"{where}.snippet", required=False) or 0
        if total > len(included) and top.created_at >= emit_from:
            # Deleted while we read it: keep the replies the thread carried.
            with contextlib.suppress(_Gone):
                included = self._replies(top.post_id)
        replies = [
            replace(self._comment(c, f"{where} reply"), in_reply_to_author_id=top.author_id) for c in included
        ]
        for post in _thread_links([top, *replies]):
            if post.created_at >= emit_from:
                found[post.post_id] = post
        return top.created_at

    def _replies(self, parent_id: str) -> list[Any]:
        params = {"part": "snippet", "parentId": parent_id, "maxResults": 100, "textFormat": "plainText"}
        collected: list[Any] = []
        for items in pages(
            lambda token: self._page("comments", params, token),
            where="youtube comments",
            profile_key=self.profile.key,
        ):
            collected.extend(items)
        return collected

    def _comment(self, comment: Mapping[str, Any], where: str) -> Post:
        comment_id = self.fields.text(comment, "id", where)
        where = f"comment {comment_id}"
        snippet = self.fields.get(comment, "snippet", dict, where)
        swhere = f"{where}.snippet"
        channel = self.fields.get(snippet, "authorChannelId", dict, swhere, required=False)
        author_id = (
            self.fields.text(channel, "value", f"{swhere}.authorChannelId")
            if channel
            else f"anonymous:{comment_id}"
        )
        brand = author_id == self.profile.account_id
        display = self.fields.text(snippet, "authorDisplayName", swhere, required=False) or author_id
        text = self.fields.text(snippet, "textOriginal", swhere, required=False)
        if text is None:
            text = self.fields.text(snippet, "textDisplay", swhere, required=False) or ""
        parent = self.fields.text(snippet, "parentId", swhere, required=False)
        video = self.fields.text(snippet, "videoId", swhere, required=False)
        return Post(
            platform=self.platform,
            post_id=comment_id,
            author_id=author_id,
            author_handle=self.profile.handle if brand else display.lstrip("@").lower(),
            created_at=self.fields.instant(snippet, "publishedAt", swhere),
            text=text,
            in_reply_to_id=parent,
            mentions=mentions_in(text),
            url=f"https://www.youtube.com/watch?v={video}&lc={comment_id}" if video else None,
            conversation_id=parent or comment_id,
        )

    def _classify_error(self, response: requests.Response, *, gone_ok: bool) -> None:
        if response.status_code not in (400, 403, 404, 429):
            return
        try:
            error = response.json().get("error")
            reasons = {e.get("reason") for e in error.get("errors", []) if isinstance(e, dict)}
        except (ValueError, AttributeError):
            return
        now = self.http.clock()
        if reasons & QUOTA_REASONS:
            retry_at = next_pacific_midnight(now)
            raise RateLimited(
                self.profile.key, retry_at, f"youtube daily quota exceeded; retry at {retry_at}"
            )
        if reasons & SHORT_LIMIT_REASONS:
            retry_at = retry_at_from_headers(response.headers, now, default_wait=60)
            raise RateLimited(
                self.profile.key, retry_at, f"youtube rate limit ({', '.join(sorted(reasons))})"
            )
        if gone_ok and response.status_code == 404 and reasons & GONE_REASONS:
            raise _Gone()


def _thread_links(thread: list[Post]) -> list[Post]:
    """Point a reply starting with ``@handle`` at that author's latest earlier post in the thread."""
    if not thread:
        return thread
    ordered = sorted(thread, key=lambda p: (p.in_reply_to_id is not None, p.created_at, p.post_id))
    latest: dict[str, Post] = {}
    linked = []
    for post in ordered:
        named = _LEADING_MENTION.match(post.text) if post.in_reply_to_id else None
        target = latest.get(named.group(1).lower()) if named else None
        if target is not None:
            post = replace(post, in_reply_to_id=target.post_id, in_reply_to_author_id=target.author_id)
        linked.append(post)
        latest[post.author_handle] = post
    return linked
