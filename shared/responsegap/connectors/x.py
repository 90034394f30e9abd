"""X API v2: mentions of the brand account, the brand's own posts, and conversation search.

- ``GET /2/users/:id/mentions``: customer posts (anything @mentioning the brand, which on X
  includes every reply to the brand: replies start with the replied-to @handle).
- ``GET /2/users/:id/tweets``: the brand's posts, among them its replies.
- ``GET /2/tweets/search/recent`` with ``conversation_id:``: a thread, to recheck open posts
  (the recent search covers the last 7 days only).

Both timelines are read newest first with ``since_id``; ``meta.newest_id`` of the first page
is the next ``since_id``. A chain that ends on an empty page after a ``next_token`` may have
lost pages (the platform answered "no more" early), so the range between the old ``since_id``
and the oldest post read is kept in the cursor as a gap and read again, with ``until_id``, on
the next polls until a read of it ends cleanly.

A 200 can carry an ``errors`` array next to ``data`` (a post deleted or made private between
pages, an expanded user suspended, ``"section": "includes"`` for a referenced post that is
gone): those are partial errors about single resources and do not fail the poll. One is not:
an error whose ``parameter`` is ``id`` and whose ``resource_id`` is the brand's own account
(``User has been suspended``, ``Could not find user with id``) comes as a 200 with no ``data``
at all, and would otherwise read as a quiet week. It raises :class:`AccountUnavailable`.

Post text is undone from X's HTML escaping once (``&amp;`` -> ``&``, see ``domain.text``).
Reposts (``referenced_tweets`` of type ``retweeted``) are skipped on both timelines: a repost
of someone else's post is neither a customer writing to the brand nor an answer, and the
brand timeline's ``exclude=retweets`` is not always honoured.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from responsegap.config import check_base_url
from responsegap.connectors.base import AccountUnavailable, PollResult
from responsegap.connectors.http import PlatformHttp
from responsegap.connectors.paging import (
    FIRST_POLL_LOOKBACK,
    Fields,
    id_order,
    iso_utc,
    newest_id,
    pages,
    require_account_id,
    require_credential,
)
from responsegap.domain.model import Post, Profile, mentions_in
from responsegap.domain.text import unescape_entities

DEFAULT_BASE_URL = "https://api.x.com/2"
PAGE_SIZE = 100  # the documented maximum for both timelines and recent search
TWEET_FIELDS = "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,entities,source"
EXPANSIONS = "author_id,referenced_tweets.id,referenced_tweets.id.author_id,in_reply_to_user_id"
# Partial errors that concern one post or user, not the request: skip the item, keep the poll.
_ITEM_ERRORS = ("resource-not-found", "not-authorized-for-resource", "resource-unavailable")
# A gap still unverified after this many reads is given up (and logged): the platform may
# really end that range with an empty page every time.
MAX_GAP_READS = 3
TIMELINES = (("mentions_since_id", "mentions"), ("tweets_since_id", "tweets"))
logger = logging.getLogger(__name__)


@dataclass
class Timeline:
    """What one chain of pages returned."""

    posts: list[Post] = field(default_factory=list)
    newest: str | None = None
    oldest: str | None = None
    # An empty page reached through a next_token: pages before it may have been skipped.
    ended_early: bool = False


class XConnector:
    platform = "x"

    def __init__(
        self,
        profile: Profile,
        http: PlatformHttp,
        credentials: Mapping[str, str],
        base_url: str | None = None,
    ) -> None:
        token = require_credential(profile, credentials, "bearer_token")
        require_account_id(profile, "the brand's X user id")
        self.profile = profile
        self.http = http
        self.fields = Fields(profile.key, "x")
        # base_url comes from validated settings; a profile's own base_url is checked here.
        self.base = (
            base_url or (profile.base_url and check_base_url(profile.base_url)) or DEFAULT_BASE_URL
        ).rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}

    def fetch(self, cursor: Mapping[str, str]) -> PollResult:
        start = self.http.requests_made
        user = self.profile.account_id
        posts: dict[str, Post] = {}
        new_cursor = dict(cursor)
        for key, path in TIMELINES:
            url = f"{self.base}/users/{user}/{path}"
            if cursor.get(key):
                since = {"since_id": cursor[key]}
            else:  # first poll: a bounded look back (see paging.FIRST_POLL_LOOKBACK)
                since = {"start_time": iso_utc(self.http.clock() - FIRST_POLL_LOOKBACK).replace(".000", "")}
            read = self._timeline(url, {**since, **self._extra(path)}, "pagination_token")
            for post in read.posts:
                posts.setdefault(post.post_id, post)
            if newest := newest_id(cursor.get(key), read.newest):
                new_cursor[key] = newest
            self._read_gap(url, path, cursor, new_cursor, posts)
            if read.ended_early and read.oldest:
                self._open_gap(path, new_cursor, since, read.oldest)
        return PollResult(tuple(posts.values()), new_cursor, self.http.requests_made - start)

    @staticmethod
    def _extra(path: str) -> dict[str, str]:
        return {"exclude": "retweets"} if path == "tweets" else {}  # a repost is never an answer

    @staticmethod
    def _open_gap(path: str, cursor: dict[str, str], since: Mapping[str, str], until_id: str) -> None:
        prefix = f"{path}_gap_"
        if prefix + "until_id" not in cursor:
            cursor.update({prefix + name: value for name, value in since.items()})
        # A gap still open is older than this one: one range from its start covers both.
        cursor[prefix + "until_id"] = until_id
        cursor[prefix + "reads"] = "0"

    def _read_gap(
        self,
        url: str,
        path: str,
        cursor: Mapping[str, str],
        new_cursor: dict[str, str],
        posts: dict[str, Post],
    ) -> None:
        """Read a range an earlier poll may have lost, once more; close it when it reads cleanly."""
        prefix = f"{path}_gap_"
        until_id = cursor.get(f"{prefix}until_id")
        if not until_id:
            return
        bounds = {
            name: cursor[prefix + name] for name in ("since_id", "start_time") if cursor.get(prefix + name)
        }
        read = self._timeline(url, {**bounds, "until_id": until_id, **self._extra(path)}, "pagination_token")
        for post in read.posts:
            posts.setdefault(post.post_id, post)
        reads = int(cursor.get(f"{prefix}reads", "0") or 0) + 1
        if read.ended_early and reads < MAX_GAP_READS:
            if read.oldest:  # what was read is stored; only the part older than it is in doubt
                new_cursor[f"{prefix}until_id"] = read.oldest
            new_cursor[f"{prefix}reads"] = str(reads)
            return
        if read.ended_early:
            logger.warning(
                "x %s of %s: a range ended early %d times; giving it up", path, self.profile.key, reads
            )
        for name in [name for name in new_cursor if name.startswith(prefix)]:
            del new_cursor[name]

    def fetch_replies(self, post: Post) -> PollResult:
        start = self.http.requests_made
        conversation = post.conversation_id or post.post_id
        read = self._timeline(
            f"{self.base}/tweets/search/recent", {"query": f"conversation_id:{conversation}"}, "next_token"
        )
        replies = tuple(p for p in read.posts if p.post_id != post.post_id)
        return PollResult(replies, {}, self.http.requests_made - start)

    def _timeline(self, url: str, params: Mapping[str, str], token_param: str) -> Timeline:
        read = Timeline()

        def page(token: str | None) -> tuple[tuple[dict[str, Any], bool], str | None]:
            query = {
                **params,
                "max_results": PAGE_SIZE,
                "tweet.fields": TWEET_FIELDS,
                "expansions": EXPANSIONS,
                "user.fields": "username",
            }
            if token:
                query[token_param] = token
            body = self.http.get_json(url, params=query, headers=self._headers)
            meta = self.fields.get(body, "meta", dict, "response", required=False) or {}
            return (body, token is not None), self.fields.text(meta, "next_token", "meta", required=False)

        for body, followed_token in pages(page, where=url, profile_key=self.profile.key):
            meta = self.fields.get(body, "meta", dict, "response", required=False) or {}
            read.newest = newest_id(read.newest, self.fields.text(meta, "newest_id", "meta", required=False))
            self._check_errors(body)
            includes = self.fields.get(body, "includes", dict, "response", required=False) or {}
            users = {
                self.fields.text(u, "id", "includes.users[]"): self.fields.text(
                    u, "username", "includes.users[]"
                )
                for u in self.fields.items(includes, "users", "includes", required=False)
            }
            included = {
                self.fields.text(t, "id", "includes.tweets[]"): t
                for t in self.fields.items(includes, "tweets", "includes", required=False)
            }
            items = self.fields.items(body, "data", "response", required=False)
            if followed_token and not items:
                read.ended_early = True
            for item in items:
                post_id = self.fields.text(item, "id", "data[]")
                read.newest = newest_id(read.newest, post_id)
                read.oldest = post_id if read.oldest is None else oldest_id(read.oldest, post_id)
                if not self._is_repost(item):
                    read.posts.append(self._post(item, users, included))
        return read

    def _is_repost(self, item: Any) -> bool:
        where = f"data[{self.fields.text(item, 'id', 'data[]')}]"
        return any(
            self.fields.text(ref, "type", f"{where}.referenced_tweets[]") == "retweeted"
            for ref in self.fields.items(item, "referenced_tweets", where, required=False)
        )

    def _check_errors(self, body: dict[str, Any]) -> None:
        for error in self.fields.items(body, "errors", "response", required=False):
            kind = self.fields.text(error, "type", "errors[]", required=False) or ""
            title = self.fields.text(error, "title", "errors[]", required=False) or kind
            if self._about_own_account(error):
                detail = self.fields.text(error, "detail", "errors[]", required=False) or title
                raise AccountUnavailable(self.profile.key, self.profile.account_id, f"X says {detail!r}")
            if not kind.endswith(_ITEM_ERRORS):
                raise self.fields.fail("errors[]", f"reports {title!r} for the whole request")

    def _about_own_account(self, error: Any) -> bool:
        """The error names the account in the request path (``/users/:id/...``): the brand's own."""
        f = self.fields
        return (
            f.text(error, "parameter", "errors[]", required=False) == "id"
            and f.text(error, "resource_id", "errors[]", required=False) == self.profile.account_id
            and (f.text(error, "resource_type", "errors[]", required=False) or "user") == "user"
        )

    def _post(self, item: Any, users: dict[str, str], included: dict[str, Any]) -> Post:
        f = self.fields
        post_id = f.text(item, "id", "data[]")
        where = f"data[{post_id}]"
        author_id = f.text(item, "author_id", where)
        handle = users.get(author_id, "").lower()
        if author_id == self.profile.account_id:
            handle = self.profile.handle
        reply_to = quoted = None
        for ref in f.items(item, "referenced_tweets", where, required=False):
            kind = f.text(ref, "type", f"{where}.referenced_tweets[]")
            if kind == "replied_to":
                reply_to = f.text(ref, "id", f"{where}.referenced_tweets[]")
            elif kind == "quoted":
                quoted = f.text(ref, "id", f"{where}.referenced_tweets[]")
        # X escapes '&', '<' and '>' in text (METRICS.md "Text"): undone once, here.
        text = unescape_entities(f.text(item, "text", where, required=False) or "")
        entities = f.get(item, "entities", dict, where, required=False) or {}
        mentions = [
            f.text(m, "username", f"{where}.entities.mentions[]").lower()
            for m in f.items(entities, "mentions", f"{where}.entities", required=False)
        ]
        mentions += mentions_in(text, "x")
        # A quote of a brand post comments on the brand's content: addressed to the profile.
        if (
            quoted
            and reply_to is None
            and (included.get(quoted) or {}).get("author_id") == self.profile.account_id
        ):
            mentions.append(self.profile.handle)
        return Post(
            platform="x",
            post_id=post_id,
            author_id=author_id,
            author_handle=handle,
            created_at=f.instant(item, "created_at", where),
            text=text,
            in_reply_to_id=reply_to,
            in_reply_to_author_id=f.text(item, "in_reply_to_user_id", where, required=False),
            mentions=tuple(dict.fromkeys(mentions)),
            # X stopped filling ``source`` for most posts; used when present.
            application=f.text(item, "source", where, required=False),
            url=f"https://x.com/{handle or 'i/web'}/status/{post_id}",
            conversation_id=f.text(item, "conversation_id", where, required=False),
        )


def oldest_id(a: str, b: str) -> str:
    return min(a, b, key=id_order)
