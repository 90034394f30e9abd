"""Facebook Pages: visitor posts, posts the Page is tagged in, and comments, via the Graph API.

What a poll reads (Page access token, ``profile.account_id`` = Page id):

- ``GET /{page-id}/feed`` and ``GET /{page-id}/tagged`` since the read window, each post with
  its comments expanded inline (``comments.filter(stream).order(reverse_chronological)``), so
  a quiet page costs two requests; only posts with more comments than one inline page cost
  more (``GET /{post-id}/comments`` with the ``after`` cursor), and that paging stops at the
  first comment older than the poll's window (newest first).
- ``filter(stream)`` flattens replies into the list; ``parent.id`` says which comment a reply
  answers.

How posts are normalised (docs/platforms.md):

- the Page's own posts are broadcasts, not emitted; a top-level comment on one is an opener
  addressed to the Page (its handle goes into ``mentions``);
- a visitor post, or a post tagging the Page, is an opener; comments on it reply to it;
- a reply's ``in_reply_to_id`` is ``parent.id``; a comment by the Page is a brand post;
- ``application.name`` is kept as automation evidence;
- customers have no public handle on Facebook, so their ``author_handle`` is their
  page-scoped id: a display name could equal a brand handle and be taken for the brand;
- a post or comment without ``from`` (a person who did not grant the app access) is by an
  anonymous author of its own, ``anonymous:<id>``; a post without ``message`` has empty text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from responsegap.connectors.base import PollResult
from responsegap.connectors.graph import (
    GraphConnector,
    GraphObjectGone,
    next_cursor,
    window,
)
from responsegap.domain.model import Post, mentions_in

COMMENT_FIELDS = "id,from{id,name},message,created_time,parent{id},comment_count,application,permalink_url"
_INLINE_COMMENTS = 100
POST_FIELDS = (
    "id,from{id,name},message,created_time,updated_time,permalink_url,application,"
    f"comments.filter(stream).order(reverse_chronological).limit({_INLINE_COMMENTS}){{{COMMENT_FIELDS}}}"
)
COMMENT_PARAMS = {
    "filter": "stream",
    "order": "reverse_chronological",
    "fields": COMMENT_FIELDS,
    "limit": 100,
}
EDGES = ("feed", "tagged")


class FacebookConnector(GraphConnector):
    platform = "facebook"
    account_id_is = "the Facebook Page id"
    credential_key = "page_access_token"

    def fetch(self, cursor: Mapping[str, str]) -> PollResult:
        start = self.http.requests_made
        now = int(self.http.clock())
        emit_from, read_from = window(cursor, now, self.lookback_seconds)
        found: dict[str, Post] = {}
        seen_posts: set[str] = set()
        for edge in EDGES:
            params = {"fields": POST_FIELDS, "since": read_from, "limit": 25}
            for page in self.graph.pages(f"{self.profile.account_id}/{edge}", params):
                for item in page:
                    post_id = self.fields.text(item, "id", f"{edge}[]")
                    if post_id in seen_posts:
                        continue  # a visitor post tagging the Page is in both edges
                    seen_posts.add(post_id)
                    self._read_post(item, emit_from, found)
        newest = max((p.created_at for p in found.values()), default=0)
        posts = tuple(sorted(found.values(), key=lambda p: (p.created_at, p.post_id)))
        return PollResult(posts, next_cursor(cursor, newest, now), self.http.requests_made - start)

    def fetch_replies(self, post: Post) -> PollResult:
        """The whole comment stream of the post that ``post`` belongs to (one request per 100)."""
        start = self.http.requests_made
        root = post.conversation_id or post.post_id
        found: dict[str, Post] = {}
        try:
            item = self.graph.get(root, {"fields": POST_FIELDS}, gone_ok=True)
        except GraphObjectGone:
            return PollResult((), {}, self.http.requests_made - start)
        self._read_post(item, 0, found)
        posts = tuple(sorted(found.values(), key=lambda p: (p.created_at, p.post_id)))
        return PollResult(posts, {}, self.http.requests_made - start)

    def _read_post(self, item: Mapping[str, Any], emit_from: int, found: dict[str, Post]) -> None:
        post_id = self.fields.text(item, "id", "post")
        # Graph leaves ``from`` out for people who did not grant the app access; the Page's own
        # posts always carry it (the Page token sees the Page).
        author = self._author(item, f"post {post_id}", f"anonymous:{post_id}")
        created = self.fields.instant(item, "created_time", f"post {post_id}")
        own_post = author[0] == self.profile.account_id
        if not own_post and created >= emit_from:
            message = self.fields.text(item, "message", f"post {post_id}", required=False) or ""
            found[post_id] = Post(
                platform=self.platform,
                post_id=post_id,
                author_id=author[0],
                author_handle=author[1],
                created_at=created,
                text=message,
                mentions=_addressed(self.profile.handle, message),
                application=self._application(item, f"post {post_id}"),
                url=self.fields.text(item, "permalink_url", f"post {post_id}", required=False) or None,
                conversation_id=post_id,
            )
        inline = self.fields.get(item, "comments", dict, f"post {post_id}", required=False)
        if inline is None:
            return
        stream: list[Mapping[str, Any]] = []
        try:
            for page in self.graph.pages(f"{post_id}/comments", COMMENT_PARAMS, first=inline, gone_ok=True):
                stream.extend(page)
                times = [self.fields.instant(c, "created_time", f"post {post_id} comment") for c in page]
                if times and min(times) < emit_from:
                    break  # newest first: the rest of the stream is older than this poll's window
        except GraphObjectGone:
            pass  # the post was deleted while we paged its comments: keep what we read, skip the rest
        # Authors first, so a reply can name the author of a parent listed after it (newest first).
        authors = {post_id: author[0]}
        for comment in stream:
            comment_id = self.fields.text(comment, "id", f"post {post_id} comment")
            authors[comment_id] = self._author(comment, f"comment {comment_id}", f"anonymous:{comment_id}")[0]
        for comment in stream:
            normalised = self._comment(comment, post_id, own_post, authors)
            if normalised.created_at >= emit_from:
                found[normalised.post_id] = normalised

    def _comment(
        self,
        comment: Mapping[str, Any],
        post_id: str,
        on_own_post: bool,
        authors: dict[str, str],
    ) -> Post:
        comment_id = self.fields.text(comment, "id", f"post {post_id} comment")
        where = f"comment {comment_id}"
        author_id, handle = self._author(comment, where, anonymous=f"anonymous:{comment_id}")
        parent = self.fields.get(comment, "parent", dict, where, required=False)
        parent_id = self.fields.text(parent, "id", f"{where}.parent") if parent is not None else None
        message = self.fields.text(comment, "message", where, required=False) or ""
        top_level_on_brand = on_own_post and parent_id is None
        if top_level_on_brand:
            # The Page's broadcast is not emitted: its top-level comments start conversations.
            in_reply_to, mentions = None, _addressed(self.profile.handle, message)
        else:
            in_reply_to, mentions = parent_id or post_id, mentions_in(message)
        return Post(
            platform=self.platform,
            post_id=comment_id,
            author_id=author_id,
            author_handle=handle,
            created_at=self.fields.instant(comment, "created_time", where),
            text=message,
            in_reply_to_id=in_reply_to,
            in_reply_to_author_id=authors.get(in_reply_to) if in_reply_to else None,
            mentions=mentions,
            application=self._application(comment, where),
            url=self.fields.text(comment, "permalink_url", where, required=False) or None,
            conversation_id=post_id,
        )

    def _author(self, item: Mapping[str, Any], where: str, anonymous: str | None = None) -> tuple[str, str]:
        """(author_id, author_handle); the Page itself gets the profile's handle."""
        sender = self.fields.get(item, "from", dict, where, required=False)
        if sender is None:
            if anonymous is None:
                raise self.fields.fail(f"{where}.from", "is missing")
            # Graph omits `from` for some users' comments (privacy); each stays its own author.
            return anonymous, anonymous
        author_id = self.fields.text(sender, "id", f"{where}.from")
        if author_id == self.profile.account_id:
            return author_id, self.profile.handle
        return author_id, author_id

    def _application(self, item: Mapping[str, Any], where: str) -> str | None:
        app = self.fields.get(item, "application", dict, where, required=False)
        if app is None:
            return None
        return self.fields.text(app, "name", f"{where}.application", required=False) or None


def _addressed(handle: str, text: str) -> tuple[str, ...]:
    """The profile first, then any @handles written in the text."""
    return (handle, *(m for m in mentions_in(text) if m != handle))
