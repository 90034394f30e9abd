"""Mastodon (any instance): mention notifications, the brand's statuses, and thread context.

- ``GET /api/v1/notifications?types[]=mention``: customer posts addressed to the brand.
- ``GET /api/v1/accounts/:id/statuses?exclude_reblogs=true``: the brand's own posts and
  replies; seen with the brand's own token, so ``application`` (the posting app) is filled,
  which is the automation evidence this platform gives.
- ``GET /api/v1/statuses/:id/context``: the descendants of a post, to recheck it.

Paging: results come newest first. The ``Link`` header's ``rel="next"`` carries ``max_id``
but drops our ``since_id`` (Mastodon's pagination params keep only limit and filters), so we
take ``max_id`` from it and keep ``since_id`` ourselves: following the link verbatim would walk
back through the whole history. Mastodon sends ``rel="next"`` after any non-empty page; a page
shorter than ``limit`` is the last one (filters are applied in the query, before the limit),
which saves an empty request at the end of every poll.
"""

from __future__ import annotations

from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from responsegap.config import check_base_url
from responsegap.connectors.base import PollResult
from responsegap.connectors.http import PlatformHttp
from responsegap.connectors.paging import (
    FIRST_POLL_LOOKBACK,
    Fields,
    newest_id,
    pages,
    require_account_id,
    require_credential,
)
from responsegap.domain.model import ConfigError, Post, Profile

PAGE_SIZE = 40  # documented maximum for statuses; notifications allow 80, 40 keeps pages alike


class MastodonConnector:
    platform = "mastodon"

    def __init__(
        self,
        profile: Profile,
        http: PlatformHttp,
        credentials: Mapping[str, str],
        base_url: str | None = None,
    ) -> None:
        token = require_credential(profile, credentials, "access_token")
        require_account_id(profile, "the brand's Mastodon account id")
        if base_url:  # from settings, already validated (may be a local endpoint in the demo)
            self.base = base_url.rstrip("/")
        elif profile.base_url:
            self.base = check_base_url(profile.base_url, what=f"profile {profile.key} base_url")
        else:
            raise ConfigError(f"profile {profile.key}: base_url (the Mastodon instance) is required")
        self.profile = profile
        self.http = http
        self.fields = Fields(profile.key, "mastodon")
        self.instance = urlsplit(self.base).hostname or ""
        self._headers = {"Authorization": f"Bearer {token}"}
        self.page_size = PAGE_SIZE

    def fetch(self, cursor: Mapping[str, str]) -> PollResult:
        start = self.http.requests_made
        new_cursor = dict(cursor)
        posts: dict[str, Post] = {}

        since = cursor.get("notifications_since_id")
        notifications, newest = self._pages("/api/v1/notifications", {"types[]": "mention"}, since)
        for item in notifications:
            where = "notification"
            self.fields.text(item, "id", where)
            status = self.fields.get(item, "status", dict, where, required=False)
            if status is None:  # the status was deleted after notifying: nothing to measure
                continue
            post = self._post(status)
            posts.setdefault(post.post_id, post)
        if value := newest_id(since, newest):
            new_cursor["notifications_since_id"] = value

        since = cursor.get("statuses_since_id")
        statuses, newest = self._pages(
            f"/api/v1/accounts/{self.profile.account_id}/statuses", {"exclude_reblogs": "true"}, since
        )
        for status in statuses:
            post = self._post(status)
            posts.setdefault(post.post_id, post)
        if value := newest_id(since, newest):
            new_cursor["statuses_since_id"] = value
        return PollResult(tuple(posts.values()), new_cursor, self.http.requests_made - start)

    def fetch_replies(self, post: Post) -> PollResult:
        start = self.http.requests_made
        body = self.http.get_json(
            f"{self.base}/api/v1/statuses/{post.post_id}/context", headers=self._headers
        )
        replies = tuple(self._post(s) for s in self.fields.items(body, "descendants", "context"))
        return PollResult(replies, {}, self.http.requests_made - start)

    def _pages(self, path: str, params: Mapping[str, str], since: str | None) -> tuple[list[Any], str | None]:
        url = f"{self.base}{path}"
        items: list[Any] = []
        newest: str | None = None

        def page(max_id: str | None) -> tuple[list[Any], str | None]:
            query = {**params, "limit": str(self.page_size)}
            if since:
                query["since_id"] = since
            if max_id:
                query["max_id"] = max_id
            seen: dict[str, Any] = {}
            body = self.http.get_json(
                url, params=query, headers=self._headers, response_hook=lambda r: seen.update(response=r)
            )
            if not isinstance(body, list):
                raise self.fields.fail(path, f"is {type(body).__name__}, expected a list")
            if len(body) < self.page_size:
                return body, None
            return body, _next_max_id(seen.get("response"))

        # Without since_id (a first poll) the list would run back to the account's creation.
        floor = None if since else self.http.clock() - FIRST_POLL_LOOKBACK
        for body in pages(page, where=url, profile_key=self.profile.key):
            for item in body:
                items.append(item)
                newest = newest_id(newest, self.fields.text(item, "id", path))
            if floor is not None and body and self.fields.instant(body[-1], "created_at", path) < floor:
                break
        return items, newest

    def _handle(self, acct: str) -> str:
        """``acct`` as the profile writes handles: local accounts get ``@instance`` if it does."""
        acct = acct.lower()
        if "@" not in acct and "@" in self.profile.handle:
            return f"{acct}@{self.instance}"
        return acct

    def _post(self, status: Any) -> Post:
        f = self.fields
        post_id = f.text(status, "id", "status")
        where = f"status[{post_id}]"
        account = f.get(status, "account", dict, where)
        author_id = f.text(account, "id", f"{where}.account")
        handle = self._handle(f.text(account, "acct", f"{where}.account"))
        mentions = [
            self._handle(f.text(m, "acct", f"{where}.mentions[]")) for m in f.items(status, "mentions", where)
        ]
        application = f.get(status, "application", dict, where, required=False)
        return Post(
            platform="mastodon",
            post_id=post_id,
            author_id=author_id,
            author_handle=self.profile.handle if author_id == self.profile.account_id else handle,
            created_at=f.instant(status, "created_at", where),
            text=html_to_text(f.get(status, "content", str, where)),
            in_reply_to_id=f.text(status, "in_reply_to_id", where, required=False),
            in_reply_to_author_id=f.text(status, "in_reply_to_account_id", where, required=False),
            mentions=tuple(dict.fromkeys(mentions)),
            application=f.text(application, "name", f"{where}.application", required=False)
            if application
            else None,
            url=f.text(status, "url", where, required=False) or f.text(status, "uri", where, required=False),
        )


def _next_max_id(response: requests.Response | None) -> str | None:
    """``max_id`` from the ``rel="next"`` link, if the page has one."""
    if response is None:
        return None
    link = response.links.get("next", {}).get("url")  # requests parses RFC 8288 Link headers
    if not link:
        return None
    values = parse_qs(urlsplit(link).query).get("max_id")
    return values[0] if values else None


class _Text(HTMLParser):
    """Status HTML to plain text. Only text nodes are kept; tags and attributes never reach it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    parser = _Text()
    parser.feed(content)
    parser.close()
    return "".join(parser.parts).strip()
