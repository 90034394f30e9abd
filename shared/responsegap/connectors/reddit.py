"""Reddit: mentions and replies in the brand account's inbox, and the account's own comments.

What a poll reads (script-app OAuth: ``client_id``, ``client_secret``, ``username``,
``password``, ``user_agent``):

- ``POST https://www.reddit.com/api/v1/access_token`` (password grant, HTTP basic auth with
  the app's id and secret) once per connector; then ``https://oauth.reddit.com`` with
  ``Authorization: bearer`` and the descriptive ``User-Agent`` Reddit's API rules require.
- ``GET /message/inbox``: ``t1`` items are comments: ``type`` ``username_mention`` (someone
  wrote u/brand), ``comment_reply`` (a reply to the brand's comment), ``post_reply`` (a
  top-level comment on the brand's submission); older listings leave ``type`` out and say it
  in ``subject`` ("username mention"). Inbox items carry no ``link_id`` or ``permalink``: the
  thread and the link come from ``context``. Private messages (``t4``) are not public posts
  and are skipped.
- ``GET /user/{username}/comments?sort=new``: the brand's replies, with ``parent_id``.

Both listings are newest first, 100 a page, paged with ``after`` (a fullname) and stopped at
the first item older than the poll's window. ``raw_json=1`` returns bodies unescaped.

Reddit counts requests per 10-minute window and reports the budget on every response in
``X-Ratelimit-Remaining``/``-Used``/``-Reset`` (seconds to the window's end). When the budget
is spent the connector stops before the next request with :class:`RateLimited` instead of
earning a 429; a 429 itself is handled by the shared HTTP layer with the same headers.

Post ids are fullnames (``t1_...``), so ``parent_id`` is ``in_reply_to_id`` as is. A top-level
comment on the brand's own submission is an opener addressed to the profile (the submission
is a broadcast and is not emitted), like the other platforms.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import requests

from responsegap.connectors.base import CredentialsError, PollResult, RateLimited
from responsegap.connectors.graph import DEFAULT_LOOKBACK_SECONDS, next_cursor, window
from responsegap.connectors.http import PlatformHttp
from responsegap.connectors.paging import MAX_PAGES, Fields
from responsegap.domain.model import ConfigError, Post, Profile, mentions_in

TOKEN_URL = "https://www.reddit.com/api/v1/access_token"  # noqa: S105 - an endpoint, not a secret
API_BASE_URL = "https://oauth.reddit.com"
REQUIRED = ("client_id", "client_secret", "username", "password", "user_agent")
_LINK_IN_CONTEXT = re.compile(r"/comments/([a-z0-9]+)/")
_TYPE_BY_SUBJECT = {
    "username mention": "username_mention",
    "comment reply": "comment_reply",
    "post reply": "post_reply",
}


class RedditConnector:
    platform = "reddit"

    def __init__(
        self,
        profile: Profile,
        http: PlatformHttp,
        credentials: Mapping[str, str],
        base_url: str | None = None,
        *,
        token_url: str = TOKEN_URL,
        lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS,
    ) -> None:
        missing = [name for name in REQUIRED if not credentials.get(name)]
        if missing:
            raise CredentialsError(profile.key, f"reddit credentials lack {', '.join(missing)}")
        if credentials["username"].lower() != profile.handle:
            raise ConfigError(f"profile {profile.key}: the credentials are for another Reddit account")
        self.profile = profile
        self.http = http
        self.base = (base_url or profile.base_url or API_BASE_URL).rstrip("/")
        self.token_url = token_url
        self.lookback_seconds = lookback_seconds
        self.fields = Fields(profile.key, self.platform)
        self._credentials = dict(credentials)
        self._token: str | None = None
        self._budget: tuple[float, float] | None = None  # (requests remaining, window ends at)
        # The brand's id in posts: its configured account id (t2_...) or else its handle.
        self.brand_id = profile.account_id or profile.handle

    def fetch(self, cursor: Mapping[str, str]) -> PollResult:
        start = self.http.requests_made
        now = int(self.http.clock())
        emit_from, _ = window(cursor, now, self.lookback_seconds)
        found: dict[str, Post] = {}
        for child in self._listing("/message/inbox", {"limit": 100}, emit_from):
            post = self._inbox_item(child)
            if post is not None and post.created_at >= emit_from:
                found[post.post_id] = post
        own = f"/user/{self._credentials['username']}/comments"
        for child in self._listing(own, {"limit": 100, "sort": "new", "type": "comments"}, emit_from):
            post = self._comment(self.fields.get(child, "data", dict, "comment"), None)
            if post is not None and post.created_at >= emit_from:
                found[post.post_id] = post
        newest = max((p.created_at for p in found.values()), default=0)
        posts = tuple(sorted(found.values(), key=lambda p: (p.created_at, p.post_id)))
        return PollResult(posts, next_cursor(cursor, newest, now), self.http.requests_made - start)

    def fetch_replies(self, post: Post) -> PollResult:
        """The comment tree below ``post`` (``GET /comments/{link}?comment={id}``), one request."""
        start = self.http.requests_made
        link = post.conversation_id
        if not link or not link.startswith("t3_") or not post.post_id.startswith("t1_"):
            return PollResult((), {}, 0)
        body = self._get(f"/comments/{link[3:]}", {"comment": post.post_id[3:], "sort": "old", "limit": 500})
        if not isinstance(body, list) or len(body) != 2:
            raise self.fields.fail("comments", "is not [submission listing, comment listing]")
        found: list[Post] = []
        stack = list(
            self.fields.items(self.fields.get(body[1], "data", dict, "comments"), "children", "comments")
        )
        while stack:
            child = stack.pop()
            if not isinstance(child, dict) or child.get("kind") != "t1":
                continue  # "more" stubs: the rest of a very long thread
            data = self.fields.get(child, "data", dict, "comment")
            normalised = self._comment(data, None)
            if normalised is not None:
                found.append(normalised)
            replies = data.get("replies")
            if isinstance(replies, dict):  # "" when there are none
                stack.extend(
                    self.fields.items(
                        self.fields.get(replies, "data", dict, "replies"), "children", "replies"
                    )
                )
        posts = tuple(sorted(found, key=lambda p: (p.created_at, p.post_id)))
        return PollResult(posts, {}, self.http.requests_made - start)

    # -- reading ---------------------------------------------------------------------------

    def _listing(self, path: str, params: Mapping[str, Any], emit_from: int) -> list[dict[str, Any]]:
        """Children of a newest-first listing down to ``emit_from``.

        Reddit's ``after`` names the last item of the previous page; when that item is deleted
        between two requests the next page comes back empty. We then page on from the item
        before it, so a deletion costs one request and loses nothing.
        """
        collected: list[dict[str, Any]] = []
        after: str | None = None
        fallback: list[str] = []
        for _ in range(MAX_PAGES):
            body = self._get(path, {**params, **({"after": after} if after else {})})
            data = self.fields.get(body, "data", dict, path)
            children = [c for c in self.fields.items(data, "children", f"{path}.data") if isinstance(c, dict)]
            if not children and after and fallback:
                after = fallback.pop()
                continue
            collected.extend(children)
            times = [self._created(c) for c in children]
            following = self.fields.text(data, "after", f"{path}.data", required=False)
            if not following or (times and min(times) < emit_from):
                return collected
            fallback = [self.fields.text(c.get("data", {}), "name", f"{path} item") for c in children[:-1]]
            after = following
        raise self.fields.fail(path, f"has more than {MAX_PAGES} pages")

    def _created(self, child: Mapping[str, Any]) -> int:
        data = self.fields.get(child, "data", dict, "listing item")
        created = self.fields.get(data, "created_utc", (int, float), "listing item.data")
        return int(created)

    def _inbox_item(self, child: Mapping[str, Any]) -> Post | None:
        if child.get("kind") != "t1":
            return None  # private messages and moderator mail are not public posts
        data = self.fields.get(child, "data", dict, "inbox item")
        kind = self.fields.text(data, "type", "inbox item", required=False)
        if kind is None:  # older listings (and /message/mentions) say it only in ``subject``
            kind = _TYPE_BY_SUBJECT.get(self.fields.text(data, "subject", "inbox item", required=False) or "")
        context = self.fields.text(data, "context", "inbox item", required=False) or ""
        link = _LINK_IN_CONTEXT.search(context)
        return self._comment(data, kind, f"t3_{link.group(1)}" if link else None)

    def _comment(
        self, data: Mapping[str, Any], inbox_type: str | None, link_id: str | None = None
    ) -> Post | None:
        name = self.fields.text(data, "name", "comment")
        where = f"comment {name}"
        author = self.fields.text(data, "author", where)
        body = self.fields.text(data, "body", where, required=False) or ""
        parent = self.fields.text(data, "parent_id", where)
        link = self.fields.text(data, "link_id", where, required=False) or link_id
        brand = author.lower() == self.profile.handle
        if author == "[deleted]":
            author_id = author_handle = f"deleted:{name}"  # each deleted author stays distinct
        else:
            author_id = self.brand_id if brand else author.lower()
            author_handle = author.lower()
        in_reply_to: str | None = parent
        reply_author: str | None = None
        mentions = mentions_in(body)
        if inbox_type == "username_mention":
            mentions = (self.profile.handle, *(m for m in mentions if m != self.profile.handle))
        elif inbox_type == "comment_reply":
            reply_author = self.brand_id  # Reddit files these because they answer the brand
        elif inbox_type == "post_reply":
            # The brand's submission is a broadcast: a top-level comment on it starts a conversation.
            in_reply_to = None
            mentions = (self.profile.handle, *(m for m in mentions if m != self.profile.handle))
            link = link or parent
        permalink = (
            self.fields.text(data, "permalink", where, required=False)
            or (self.fields.text(data, "context", where, required=False) or "").split("?")[0]
        )
        return Post(
            platform=self.platform,
            post_id=name,
            author_id=author_id,
            author_handle=author_handle,
            created_at=int(self.fields.get(data, "created_utc", (int, float), where)),
            text=body,
            in_reply_to_id=in_reply_to,
            in_reply_to_author_id=reply_author,
            mentions=mentions,
            url=f"https://www.reddit.com{permalink}" if permalink else None,
            conversation_id=link,
        )

    # -- HTTP ------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"User-Agent": self._credentials["user_agent"]}

    def _authenticate(self) -> str:
        body = self.http.post_json(
            self.token_url,
            data={
                "grant_type": "password",
                "username": self._credentials["username"],
                "password": self._credentials["password"],
            },
            auth=(self._credentials["client_id"], self._credentials["client_secret"]),
            headers=self._headers(),
        )
        # A wrong password is answered 200 {"error": "invalid_grant"}, not 401.
        if isinstance(body, dict) and "error" in body:
            raise CredentialsError(
                self.profile.key, f"reddit refused the password grant ({body['error']!s:.40})"
            )
        return self.fields.text(body, "access_token", "access_token response")

    def _get(self, path: str, params: Mapping[str, Any]) -> Any:
        if self._token is None:
            self._token = self._authenticate()
        if self._budget is not None and self._budget[0] < 1:
            retry_at = max(math.ceil(self._budget[1]), int(self.http.clock()) + 1)
            raise RateLimited(self.profile.key, retry_at, f"reddit request budget spent; retry at {retry_at}")
        return self.http.get_json(
            f"{self.base}{path}",
            params={**params, "raw_json": 1},
            headers={**self._headers(), "Authorization": f"bearer {self._token}"},
            response_hook=self._note_budget,
        )

    def _note_budget(self, response: requests.Response) -> None:
        try:
            remaining = float(response.headers["X-Ratelimit-Remaining"])
            reset = float(response.headers["X-Ratelimit-Reset"])
        except (KeyError, ValueError):
            return
        self._budget = (remaining, self.http.clock() + reset)
