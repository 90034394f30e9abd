"""Instagram (Graph API, professional accounts): comments on the brand's media, and media tagging it.

What a poll reads (``credentials["access_token"]``, ``profile.account_id`` = IG user id):

- ``GET /{ig-user-id}/media`` and ``GET /{ig-user-id}/tags``, newest first, each medium with
  its comments and their replies expanded inline, so a quiet account costs two requests;
  more comments than one inline page cost ``GET /{media-id}/comments`` pages, more replies
  ``GET /{comment-id}/replies`` pages (both with the ``after`` cursor). Paging stops at the
  first medium published before the read window.

How posts are normalised (docs/platforms.md):

- the brand's media are broadcasts, not emitted; a top-level comment on them is an opener
  addressed to the profile; media of others tagging the brand are openers;
- Instagram threads are one level deep: every reply hangs off the top-level comment, and the
  app starts a reply to a reply with ``@username``. A reply that starts with ``@someone`` is
  taken as replying to ``someone``'s latest earlier reply in the thread (or to the top-level
  comment when that is theirs), otherwise to the top-level comment. That is what makes a
  customer's answer to the brand a follow-up and the brand's next reply its answer;
- authors are identified by username (Instagram handles are unique and lower-case); the brand
  is recognised by ``username`` == the profile handle;
- Instagram exposes no posting-app field, so automation is judged from text and timing only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from responsegap.connectors.base import PollResult
from responsegap.connectors.graph import (
    GraphConnector,
    GraphObjectGone,
    next_cursor,
    window,
)
from responsegap.domain.model import Post, mentions_in

REPLY_FIELDS = "id,text,timestamp,username,from"
COMMENT_FIELDS = f"id,text,timestamp,username,from,replies{{{REPLY_FIELDS}}}"
MEDIA_FIELDS = (
    f"id,caption,timestamp,username,permalink,comments_count,comments.limit(50){{{COMMENT_FIELDS}}}"
)
EDGES = ("media", "tags")
_LEADING_MENTION = re.compile(r"^\s*@([A-Za-z0-9_.]+)")


class InstagramConnector(GraphConnector):
    platform = "instagram"
    account_id_is = "the Instagram professional account id"
    credential_key = "access_token"

    def fetch(self, cursor: Mapping[str, str]) -> PollResult:
        start = self.http.requests_made
        now = int(self.http.clock())
        emit_from, read_from = window(cursor, now, self.lookback_seconds)
        found: dict[str, Post] = {}
        for edge in EDGES:
            params = {"fields": MEDIA_FIELDS, "since": read_from, "limit": 25}
            for page in self.graph.pages(f"{self.profile.account_id}/{edge}", params):
                published = [self._read_media(item, emit_from, found, own=edge == "media") for item in page]
                if published and min(published) < read_from:
                    break  # newest first: older media are outside the read window
        newest = max((p.created_at for p in found.values()), default=0)
        posts = tuple(sorted(found.values(), key=lambda p: (p.created_at, p.post_id)))
        return PollResult(posts, next_cursor(cursor, newest, now), self.http.requests_made - start)

    def fetch_replies(self, post: Post) -> PollResult:
        """Every comment and reply on the medium ``post`` belongs to."""
        start = self.http.requests_made
        found: dict[str, Post] = {}
        try:
            item = self.graph.get(
                post.conversation_id or post.post_id, {"fields": MEDIA_FIELDS}, gone_ok=True
            )
        except GraphObjectGone:
            return PollResult((), {}, self.http.requests_made - start)
        self._read_media(item, 0, found)
        posts = tuple(sorted(found.values(), key=lambda p: (p.created_at, p.post_id)))
        return PollResult(posts, {}, self.http.requests_made - start)

    def _read_media(
        self, item: Mapping[str, Any], emit_from: int, found: dict[str, Post], *, own: bool | None = None
    ) -> int:
        """Normalise one medium and its comments into ``found``; returns its publication time.

        ``own``: the edge says whose medium it is (``/media`` the brand's, ``/tags`` someone
        else's); ``None`` (a recheck by id) decides by ``username``. A tagging medium without a
        ``username`` is by an anonymous author of its own.
        """
        media_id = self.fields.text(item, "id", "media")
        where = f"media {media_id}"
        username = self.fields.text(item, "username", where, required=own is None)
        published = self.fields.instant(item, "timestamp", where)
        if own is None:
            own = self._user(username) == self.profile.handle
        named = self._user(username) if username else f"anonymous:{media_id}"
        author = self.profile.handle if own else named
        if not own and published >= emit_from:
            caption = self.fields.text(item, "caption", where, required=False) or ""
            found[media_id] = self._post(
                media_id,
                author,
                published,
                caption,
                None,
                None,
                _addressed(self.profile.handle, caption),
                media_id,
                url=self.fields.text(item, "permalink", where, required=False),
            )
        inline = self.fields.get(item, "comments", dict, where, required=False)
        if inline is None:
            return published
        comment_params = {"fields": COMMENT_FIELDS, "limit": 50}
        try:
            for page in self.graph.pages(f"{media_id}/comments", comment_params, first=inline, gone_ok=True):
                times = [
                    self._read_thread(comment, media_id, author, own, emit_from, found) for comment in page
                ]
                # The reference does not state an order; observed answers are newest first. Only
                # then does a page reaching before the window end the stream; a page in another
                # order is read to the end. New replies to older comments beyond this point are
                # found by the recheck of unanswered posts (fetch_replies).
                if times and times == sorted(times, reverse=True) and times[-1] < emit_from:
                    break
        except GraphObjectGone:
            pass  # the medium was deleted while we paged its comments: keep what we read
        return published

    def _read_thread(
        self,
        comment: Mapping[str, Any],
        media_id: str,
        media_author: str,
        own_media: bool,
        emit_from: int,
        found: dict[str, Post],
    ) -> int:
        """Normalise a top-level comment and its replies into ``found``; returns its time."""
        comment_id = self.fields.text(comment, "id", f"media {media_id} comment")
        where = f"comment {comment_id}"
        author = self._user(self.fields.text(comment, "username", where))
        text = self.fields.text(comment, "text", where, required=False) or ""
        created = self.fields.instant(comment, "timestamp", where)
        if own_media:
            # The brand's medium is not emitted: a customer's top-level comment starts a conversation.
            mentions = (
                mentions_in(text) if author == self.profile.handle else _addressed(self.profile.handle, text)
            )
            top = self._post(comment_id, author, created, text, None, None, mentions, media_id)
        else:
            top = self._post(
                comment_id, author, created, text, media_id, media_author, mentions_in(text), media_id
            )
        thread = [top]
        inline = self.fields.get(comment, "replies", dict, where, required=False)
        if inline is not None:
            try:
                for page in self.graph.pages(
                    f"{comment_id}/replies", {"fields": REPLY_FIELDS}, first=inline, gone_ok=True
                ):
                    for reply in page:
                        reply_id = self.fields.text(reply, "id", f"{where} reply")
                        rwhere = f"reply {reply_id}"
                        thread.append(
                            self._post(
                                reply_id,
                                self._user(self.fields.text(reply, "username", rwhere)),
                                self.fields.instant(reply, "timestamp", rwhere),
                                self.fields.text(reply, "text", rwhere, required=False) or "",
                                comment_id,
                                author,
                                None,
                                media_id,
                            )
                        )
            except GraphObjectGone:
                pass  # the comment was deleted while we paged its replies
        for post in _thread_links(thread):
            if post.created_at >= emit_from:
                found[post.post_id] = post
        return created

    def _user(self, username: str) -> str:
        return username.lower()

    def _post(
        self,
        post_id: str,
        author: str,
        created: int,
        text: str,
        in_reply_to: str | None,
        in_reply_to_author: str | None,
        mentions: tuple[str, ...] | None,
        media_id: str,
        *,
        url: str | None = None,
    ) -> Post:
        brand = author == self.profile.handle
        return Post(
            platform=self.platform,
            post_id=post_id,
            author_id=self.profile.account_id if brand else author,
            author_handle=author,
            created_at=created,
            text=text,
            in_reply_to_id=in_reply_to,
            in_reply_to_author_id=self._author_id(in_reply_to_author),
            mentions=mentions_in(text) if mentions is None else mentions,
            url=url or None,
            conversation_id=media_id,
        )

    def _author_id(self, username: str | None) -> str | None:
        if username is None:
            return None
        return self.profile.account_id if username == self.profile.handle else username


def _addressed(handle: str, text: str) -> tuple[str, ...]:
    return (handle, *(m for m in mentions_in(text) if m != handle))


def _thread_links(thread: list[Post]) -> list[Post]:
    """Point each reply at the reply (or top-level comment) its leading ``@username`` names."""
    top, replies = thread[0], sorted(thread[1:], key=lambda p: (p.created_at, p.post_id))
    linked = [top]
    latest: dict[str, Post] = {top.author_handle: top}
    for reply in replies:
        named = _LEADING_MENTION.match(reply.text)
        target = latest.get(named.group(1).lower()) if named else None
        if target is not None and target.post_id != reply.post_id:
            reply = replace(reply, in_reply_to_id=target.post_id, in_reply_to_author_id=target.author_id)
        linked.append(reply)
        latest[reply.author_handle] = reply
    return linked
