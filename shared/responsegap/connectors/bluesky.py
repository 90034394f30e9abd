"""Bluesky (AT Protocol): notifications, the brand's author feed, and post threads.

- Session: ``com.atproto.server.createSession`` with the handle (or DID) and an *app
  password*; the ``accessJwt`` is kept for the connector's life and renewed with
  ``com.atproto.server.refreshSession`` when a call answers 400 ``ExpiredToken`` (the
  reference PDS does; 401 stays "credentials refused").
- ``app.bsky.notification.listNotifications``: mentions, replies and quotes of the brand.
- ``app.bsky.feed.getAuthorFeed?filter=posts_with_replies``: the brand's posts and replies.
- ``app.bsky.feed.getPostThread``: the replies below a post, to recheck it.

Neither list takes a "since": both page backwards from the newest with an opaque cursor. We
save the newest ``indexedAt`` seen and stop paging at the first page that reaches it, so a
steady-state poll is one request per list. Items at exactly the saved time are returned
again; the store ignores identical duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import requests

from responsegap.config import check_base_url
from responsegap.connectors.base import ConnectorError, CredentialsError, MalformedPayload, PollResult
from responsegap.connectors.http import PlatformHttp
from responsegap.connectors.paging import FIRST_POLL_LOOKBACK, Fields, iso_utc, pages
from responsegap.domain.model import Post, Profile, mentions_in

DEFAULT_BASE_URL = "https://bsky.social/xrpc"
PAGE_SIZE = 100  # documented maximum of both lists
REASONS = ("mention", "reply", "quote")
_MENTION = "app.bsky.richtext.facet#mention"
_NOT_A_POST = ("app.bsky.feed.defs#notFoundPost", "app.bsky.feed.defs#blockedPost")


class _SessionExpired(ConnectorError):
    """Internal: the access token expired; caught here, never leaves the connector."""


class _NotFound(MalformedPayload):
    """400 ``NotFound``: the post asked for is gone (a MalformedPayload where not expected)."""


class BlueskyConnector:
    platform = "bluesky"

    def __init__(
        self,
        profile: Profile,
        http: PlatformHttp,
        credentials: Mapping[str, str],
        base_url: str | None = None,
    ) -> None:
        self.identifier = credentials.get("identifier") or profile.handle
        self.password = credentials.get("password") or credentials.get("app_password", "")
        if not self.password:
            raise CredentialsError(profile.key, "no app password in the profile's credentials")
        base = base_url or (profile.base_url and check_base_url(profile.base_url)) or DEFAULT_BASE_URL
        base = base.rstrip("/")
        self.base = base if base.endswith("/xrpc") else f"{base}/xrpc"
        self.profile = profile
        self.http = http
        self.fields = Fields(profile.key, "bluesky")
        self._access: str | None = None
        self._refresh: str | None = None
        self._did = ""

    # --- session -------------------------------------------------------------------------
    def _login(self) -> None:
        body = self.http.post_json(
            f"{self.base}/com.atproto.server.createSession",
            json={"identifier": self.identifier, "password": self.password},
        )
        self._take_session(body, "createSession")

    def _take_session(self, body: Any, where: str) -> None:
        self._access = self.fields.text(body, "accessJwt", where)
        self._refresh = self.fields.text(body, "refreshJwt", where)
        # The DID identifies the brand's posts when the profile leaves account_id out.
        self._did = self.fields.text(body, "did", where)

    def _renew(self) -> None:
        try:
            body = self.http.post_json(
                f"{self.base}/com.atproto.server.refreshSession",
                headers={"Authorization": f"Bearer {self._refresh}"},
                response_hook=_expired_hook(self.profile.key),
            )
        except (_SessionExpired, CredentialsError):
            self._login()  # the refresh token expired too (after ~2 months): log in again
            return
        self._take_session(body, "refreshSession")

    @property
    def did(self) -> str:
        return self.profile.account_id or self._did

    def _get(self, nsid: str, params: Mapping[str, Any]) -> Any:
        if self._access is None:
            self._login()
        for attempt in (1, 2):
            try:
                return self.http.get_json(
                    f"{self.base}/{nsid}",
                    params=params,
                    headers={"Authorization": f"Bearer {self._access}"},
                    response_hook=_expired_hook(self.profile.key),
                )
            except _SessionExpired:
                if attempt == 2:
                    raise CredentialsError(
                        self.profile.key, "session expired again right after renewal"
                    ) from None
                self._renew()
        raise AssertionError("unreachable")

    # --- polling -------------------------------------------------------------------------
    def fetch(self, cursor: Mapping[str, str]) -> PollResult:
        start = self.http.requests_made
        new_cursor = dict(cursor)
        posts: dict[str, Post] = {}

        mark = cursor.get("notifications_seen_at")
        items, newest = self._since(
            "app.bsky.notification.listNotifications",
            {"limit": PAGE_SIZE, "reasons": list(REASONS)},
            "notifications",
            lambda n: self.fields.text(n, "indexedAt", "notification"),
            mark,
        )
        for item in items:
            reason = self.fields.text(item, "reason", "notification")
            if reason not in REASONS:  # servers without the ``reasons`` filter send likes too
                continue
            post = self._post(
                self.fields.text(item, "uri", "notification"),
                self.fields.get(item, "author", dict, "notification"),
                self.fields.get(item, "record", dict, "notification"),
                quote_of_brand=reason == "quote",
            )
            posts.setdefault(post.post_id, post)
        if newest:
            new_cursor["notifications_seen_at"] = newest

        mark = cursor.get("feed_seen_at")
        items, newest = self._since(
            "app.bsky.feed.getAuthorFeed",
            {"actor": self.did or self.profile.handle, "filter": "posts_with_replies", "limit": PAGE_SIZE},
            "feed",
            self._feed_time,
            mark,
        )
        for item in items:
            if self.fields.get(item, "reason", dict, "feed[]", required=False):  # a repost, not a post
                continue
            view = self.fields.get(item, "post", dict, "feed[]")
            post = self._post_view(view)
            posts.setdefault(post.post_id, post)
        if newest:
            new_cursor["feed_seen_at"] = newest
        return PollResult(tuple(posts.values()), new_cursor, self.http.requests_made - start)

    def _feed_time(self, item: Any) -> str:
        """When an item entered the feed: a repost's own time, not that of the post it reposts
        (which may be years old and would end the paging before newer items)."""
        reason = self.fields.get(item, "reason", dict, "feed[]", required=False)
        if reason is not None and reason.get("indexedAt"):
            return self.fields.text(reason, "indexedAt", "feed[].reason")
        return self.fields.text(self.fields.get(item, "post", dict, "feed[]"), "indexedAt", "feed[].post")

    def fetch_replies(self, post: Post) -> PollResult:
        start = self.http.requests_made
        try:
            body = self._get(
                "app.bsky.feed.getPostThread", {"uri": post.post_id, "depth": 10, "parentHeight": 0}
            )
        except _NotFound:  # the post was deleted: no replies to find
            return PollResult((), {}, self.http.requests_made - start)
        found: list[Post] = []
        stack = [self.fields.get(body, "thread", dict, "getPostThread")]
        while stack:
            node = stack.pop()
            if node.get("$type") in _NOT_A_POST:
                continue
            view = self.fields.get(node, "post", dict, "thread")
            if self.fields.text(view, "uri", "thread.post") != post.post_id:
                found.append(self._post_view(view))
            stack.extend(self.fields.items(node, "replies", "thread", required=False))
        return PollResult(tuple(found), {}, self.http.requests_made - start)

    def _since(
        self,
        nsid: str,
        params: Mapping[str, Any],
        key: str,
        indexed_at: Callable[[Any], str],
        mark: str | None,
    ) -> tuple[list[Any], str | None]:
        """Items newer than or at ``mark`` (ISO text), newest first, and the newest time seen."""
        found: list[Any] = []
        newest = mark
        if mark is None:  # first poll: a bounded look back (see paging.FIRST_POLL_LOOKBACK)
            mark = iso_utc(self.http.clock() - FIRST_POLL_LOOKBACK)

        def page(token: str | None) -> tuple[list[Any], str | None]:
            body = self._get(nsid, {**params, "cursor": token} if token else params)
            batch = self.fields.items(body, key, nsid)
            next_token = self.fields.text(body, "cursor", nsid, required=False)
            return batch, next_token if batch else None

        for batch in pages(page, where=nsid, profile_key=self.profile.key):
            reached = False
            for item in batch:
                at = indexed_at(item)
                # ISO 8601 UTC strings of one server compare in time order as text.
                if at < mark:
                    reached = True
                    continue
                found.append(item)
                newest = at if newest is None or at > newest else newest
            if reached:
                break
        return found, newest

    # --- normalising ---------------------------------------------------------------------
    def _post_view(self, view: Any) -> Post:
        return self._post(
            self.fields.text(view, "uri", "post"),
            self.fields.get(view, "author", dict, "post"),
            self.fields.get(view, "record", dict, "post"),
        )

    def _post(self, uri: str, author: Any, record: Any, *, quote_of_brand: bool = False) -> Post:
        f = self.fields
        where = f"post[{uri}]"
        did = f.text(author, "did", f"{where}.author")
        handle = (f.text(author, "handle", f"{where}.author", required=False) or "").lower()
        if did == self.did:
            handle = self.profile.handle
        text = f.get(record, "text", str, f"{where}.record", required=False) or ""
        reply = f.get(record, "reply", dict, f"{where}.record", required=False)
        parent = root = None
        if reply is not None:
            parent = f.text(
                f.get(reply, "parent", dict, f"{where}.record.reply"), "uri", f"{where}.reply.parent"
            )
            root = f.text(f.get(reply, "root", dict, f"{where}.record.reply"), "uri", f"{where}.reply.root")
        mentions = self._facet_mentions(record, text, where) + list(mentions_in(text))
        if quote_of_brand:
            # A quote comments on the brand's post, also when the quoting post is itself a
            # reply somewhere else: it is addressed to the brand either way.
            mentions.append(self.profile.handle)
        return Post(
            platform="bluesky",
            post_id=uri,
            author_id=did,
            author_handle=handle,
            created_at=f.instant(record, "createdAt", f"{where}.record"),
            text=text,
            in_reply_to_id=parent,
            in_reply_to_author_id=_did_of(parent),
            mentions=tuple(dict.fromkeys(mentions)),
            application=None,  # the AT Protocol does not say which client posted
            url=f"https://bsky.app/profile/{handle or did}/post/{uri.rsplit('/', 1)[-1]}",
            conversation_id=root or uri,
        )

    def _facet_mentions(self, record: Any, text: str, where: str) -> list[str]:
        """Handles of ``#mention`` facets: the brand's DID maps to its handle; others are read
        from the text the facet spans (byte offsets into UTF-8, per the richtext lexicon)."""
        f = self.fields
        raw = text.encode("utf-8")
        out: list[str] = []
        for facet in f.items(record, "facets", f"{where}.record", required=False):
            index = f.get(facet, "index", dict, f"{where}.facets[]")
            for feature in f.items(facet, "features", f"{where}.facets[]"):
                # Facets only enrich what the text already says: an unknown or broken feature is
                # skipped rather than failing the poll (the mention is also read from the text).
                if not isinstance(feature, dict) or feature.get("$type") != _MENTION:
                    continue
                did = f.text(feature, "did", f"{where}.facets[].features[]")
                if did == self.did:
                    out.append(self.profile.handle)
                    continue
                start = f.get(index, "byteStart", int, f"{where}.facets[].index")
                end = f.get(index, "byteEnd", int, f"{where}.facets[].index")
                span = raw[start:end].decode("utf-8", errors="replace").strip().lstrip("@").lower()
                if span:
                    out.append(span)
        return out


def _did_of(uri: str | None) -> str | None:
    """The repository (author DID) of ``at://did:plc:abc/app.bsky.feed.post/xyz``."""
    if not uri or not uri.startswith("at://"):
        return None
    authority = uri[5:].split("/", 1)[0]
    return authority or None


def _expired_hook(profile_key: str) -> Callable[[requests.Response], None]:
    def hook(response: requests.Response) -> None:
        if response.status_code == 400:
            try:
                error = response.json().get("error")
            except (ValueError, AttributeError):
                return
            if error in ("ExpiredToken", "InvalidToken"):
                raise _SessionExpired(profile_key, "session token expired")
            if error == "NotFound":
                raise _NotFound(profile_key, f"HTTP 400 NotFound from {response.url.split('?', 1)[0]}")

    return hook
