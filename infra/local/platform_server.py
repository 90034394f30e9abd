"""X API v2 and Mastodon on loopback, serving the archive's conversations as they "happen".

One ``ThreadingHTTPServer`` on a free 127.0.0.1 port answers both APIs (X under ``/2/``,
Mastodon under ``/api/v1/``), so the connectors run unchanged with only their base URL
pointed here (``PLATFORM_ENDPOINTS`` + ``ALLOW_LOCAL_ENDPOINTS``). A post exists for the
APIs only once the simulated clock has passed its shifted ``created_at``: a poll sees a
customer's post, and its answer only on the poll after the brand wrote it.

Shapes follow the public API references (X: ``data``/``includes``/``meta`` with
``newest_id``/``next_token``, fields only when asked for; Mastodon: bare arrays, ``Link``
header pagination with ``max_id``/``min_id``, HTML ``content`` with ``mentions``). Every
answer carries the platform's rate-limit headers; ``rate_limit_every`` makes every Nth
request a 429, as a platform does now and then.

Ids are minted from the post's time (X snowflakes, Mastodon's ms<<16 ids), because both
APIs promise ids that grow with time and ``since_id`` polling depends on that; the
archive's own ids are not in time order.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import html
import json
import re
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from responsegap.archive.twcs import read_twcs
from responsegap.domain.model import mentions_in

X_EPOCH_MS = 1288834974657  # Twitter's snowflake epoch
RECENT_SEARCH_SECONDS = 7 * 86400
MENTIONS_CAP = 800  # X returns at most the 800 most recent mentions
TWEETS_CAP = 3200  # and the 3,200 most recent posts of a user
RATE_WINDOW = 15 * 60


# --- the world: accounts and posts on each platform --------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    platform: str
    id: str
    username: str
    brand: bool


@dataclass(slots=True)
class Item:
    """One post on one platform, with its shifted time and platform ids."""

    platform: str
    id: str
    source_id: str  # the archive's tweet_id, for tracing a post back to the file
    author: Account
    created_at: int
    text: str
    parent: Item | None = None
    conversation_id: str = ""
    mentions: tuple[str, ...] = ()  # lower-case handles in the text
    children: list[Item] = field(default_factory=list)


@dataclass
class World:
    """Everything both APIs can serve, ordered by id (= by time) per platform."""

    items: dict[str, list[Item]]  # platform -> items sorted by id order
    by_id: dict[tuple[str, str], Item]
    accounts: dict[tuple[str, str], Account]  # (platform, id) -> account
    by_username: dict[tuple[str, str], Account]  # (platform, lower username) -> account
    brands: dict[str, str]  # lower handle -> platform, for the brands served with endpoints
    split_conversations: int = 0  # threads touching brands on two platforms (see build_world)
    # Lists of items in id (= time) order, by what an endpoint asks for, so a request costs
    # what it returns rather than a scan of the whole archive (the demo polls ~900 times).
    index: dict[tuple[str, ...], list[Item]] = field(default_factory=dict)
    _times: dict[tuple[str, ...], list[int]] = field(default_factory=dict)

    def build_index(self) -> None:
        self.index.clear()
        for platform, platform_items in self.items.items():
            self.index[("all", platform)] = platform_items
            for item in platform_items:
                self.index.setdefault(("by", platform, item.author.id), []).append(item)
                self.index.setdefault(("conversation", platform, item.conversation_id), []).append(item)
                addressed = {
                    account.id
                    for handle in item.mentions
                    if (account := self.account_for(platform, handle)) is not None
                }
                if item.parent is not None:
                    addressed.add(item.parent.author.id)  # a reply addresses the replied-to author
                addressed.discard(item.author.id)
                for account_id in addressed:
                    self.index.setdefault(("to", platform, account_id), []).append(item)
        self._times = {key: [i.created_at for i in items] for key, items in self.index.items()}

    def visible(self, key: tuple[str, ...], now: int) -> list[Item]:
        """The items under ``key`` created at or before ``now`` (ids grow with time: a prefix)."""
        items = self.index.get(key, [])
        return items[: bisect.bisect_right(self._times.get(key, []), now)]

    def account_for(self, platform: str, username: str) -> Account | None:
        return self.by_username.get((platform, username.lower()))

    def brand_account(self, platform: str, handle: str) -> Account:
        account = self.account_for(platform, handle)
        if account is None:
            raise KeyError(f"{handle} is not a {platform} account")
        return account


def _int_order(value: str) -> tuple[int, str]:
    return (len(value), value)


def brand_user_id(platform: str, handle: str) -> str:
    """A stable numeric id per brand handle (X user ids and Mastodon account ids are numbers)."""
    digest = zlib.crc32(f"{platform}:{handle.lower()}".encode()) % 10**9
    return str((10**15 if platform == "x" else 10**17) + digest)


def customer_user_id(platform: str, customer: str) -> str:
    number = int(customer) if customer.isdigit() else zlib.crc32(customer.encode())
    return str((2 * 10**15 if platform == "x" else 2 * 10**17) + number)


def build_world(csv_path: Path, brands: Mapping[str, str], shift: int) -> World:
    """The archive's posts moved by ``shift`` seconds, each conversation on one platform.

    ``brands`` maps brand handles (any case) to the platform they live on. A conversation
    (a reply tree) goes to the platform of the first mapped brand taking part in it (as
    author or @mentioned); conversations of brands not mapped live on X without a served
    profile. A thread touching mapped brands on two platforms cannot be on both, so it
    follows the first and ``split_conversations`` counts it (0 for the demo's choice).
    """
    mapped = {handle.lower(): platform for handle, platform in brands.items()}
    posts = list(read_twcs(csv_path))
    by_source = {post.post_id: post for post in posts}
    # Union-find over reply links: every post of a thread ends with the same root.
    parent_of: dict[str, str] = {}

    def root(post_id: str) -> str:
        path = []
        while post_id in parent_of and parent_of[post_id] != post_id:
            path.append(post_id)
            post_id = parent_of[post_id]
        for step in path:
            parent_of[step] = post_id
        return post_id

    for post in posts:
        parent_of.setdefault(post.post_id, post.post_id)
        if post.in_reply_to_id and post.in_reply_to_id in by_source:
            parent_of.setdefault(post.in_reply_to_id, post.in_reply_to_id)
            a, b = root(post.post_id), root(post.in_reply_to_id)
            if a != b:
                parent_of[a] = b
    threads: dict[str, list[Any]] = {}
    for post in posts:
        threads.setdefault(root(post.post_id), []).append(post)

    platform_of: dict[str, str] = {}
    split = 0
    for key, members in threads.items():
        members.sort(key=lambda p: (p.created_at, _int_order(p.post_id)))
        chosen: list[str] = []
        for post in members:
            for handle in (post.author_handle, *post.mentions):
                platform = mapped.get(handle)
                if platform is not None and platform not in chosen:
                    chosen.append(platform)
        platform_of[key] = chosen[0] if chosen else "x"
        split += len(chosen) > 1

    accounts: dict[tuple[str, str], Account] = {}
    by_username: dict[tuple[str, str], Account] = {}

    def account(platform: str, author: str) -> Account:
        found = by_username.get((platform, author.lower()))
        if found is None:
            is_brand = not author.isdigit()
            found = Account(
                platform,
                brand_user_id(platform, author) if is_brand else customer_user_id(platform, author),
                author,
                is_brand,
            )
            by_username[(platform, author.lower())] = found
            accounts[(platform, found.id)] = found
        return found

    # Every author exists on both platforms, so an @mention of anyone resolves either way.
    for post in posts:
        for platform in ("x", "mastodon"):
            account(platform, post.author_id)
    for handle, platform in brands.items():
        account(platform, handle)

    items: dict[str, list[Item]] = {"x": [], "mastodon": []}
    by_id: dict[tuple[str, str], Item] = {}
    item_of: dict[str, Item] = {}
    minted: set[tuple[str, str]] = set()
    for post in sorted(posts, key=lambda p: (p.created_at, _int_order(p.post_id))):
        platform = platform_of[root(post.post_id)]
        created = post.created_at + shift
        post_id = _mint(platform, created, minted)
        item = Item(
            platform=platform,
            id=post_id,
            source_id=post.post_id,
            author=account(platform, post.author_id),
            created_at=created,
            text=post.text,
            mentions=mentions_in(post.text),
        )
        item_of[post.post_id] = item
        by_id[(platform, post_id)] = item
        items[platform].append(item)
    for post in posts:
        item = item_of[post.post_id]
        if post.in_reply_to_id and post.in_reply_to_id in item_of:
            item.parent = item_of[post.in_reply_to_id]
            item.parent.children.append(item)
    for item in item_of.values():
        top = item
        depth = 0
        while top.parent is not None and depth < 10_000:
            top, depth = top.parent, depth + 1
        item.conversation_id = top.id
    for platform_items in items.values():
        platform_items.sort(key=lambda i: _int_order(i.id))
    world = World(items, by_id, accounts, by_username, {h.lower(): p for h, p in brands.items()}, split)
    world.build_index()
    return world


def _mint(platform: str, created: int, minted: set[tuple[str, str]]) -> str:
    """A time-ordered id: X snowflake (ms since 2010-11-04 << 22), Mastodon (ms << 16)."""
    for sequence in range(1 << 12):
        ms = created * 1000 + sequence // 8
        x_id = ((ms - X_EPOCH_MS) << 22) | (1 << 17) | (sequence % 8)
        value = x_id if platform == "x" else (ms << 16) | (sequence % 8)
        key = (platform, str(value))
        if key not in minted:
            minted.add(key)
            return str(value)
    raise RuntimeError("more than 4096 posts in one second")


# --- the server ---------------------------------------------------------------------------


@dataclass
class ServerConfig:
    x_bearer_token: str = "local-x-bearer-token"  # noqa: S105 - a fake token for the fake API
    mastodon_tokens: dict[str, str] = field(default_factory=dict)  # token -> account id
    rate_limit_every: int = 0  # every Nth request answers 429 (0: never)
    retry_after_seconds: int = 60


@dataclass
class ServerStats:
    requests: int = 0
    rate_limited: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)


class PlatformServer:
    """The HTTP server and what it serves; use :func:`platform_server` to run one."""

    def __init__(self, world: World, clock: Callable[[], float], config: ServerConfig | None = None) -> None:
        self.world = world
        self.clock = clock
        self.config = config or ServerConfig()
        self.stats = ServerStats()
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}  # (token, endpoint) -> (reset, used)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    @property
    def port(self) -> int:
        assert self._httpd is not None, "start() first"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoints(self) -> dict[str, str]:
        """``PLATFORM_ENDPOINTS``: the X connector's base includes ``/2``, Mastodon's is the instance."""
        return {"x": f"{self.base_url}/2", "mastodon": self.base_url}

    def start(self) -> None:
        server = self

        class Handler(_Handler):
            platform = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True  # a stuck client never keeps the process alive
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="platform-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()  # release the port now, not at garbage collection
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # what is visible now
    def now(self) -> int:
        return int(self.clock())

    def visible(self, *key: str) -> list[Item]:
        return self.world.visible(key, self.now())

    def is_visible(self, item: Item) -> bool:
        return item.created_at <= self.now()

    # rate limits
    def take(self, token: str, endpoint: str, limit: int) -> tuple[bool, int, int]:
        """(allowed, remaining, reset epoch) for one request of ``token`` on ``endpoint``."""
        now = self.now()
        with self._lock:
            self.stats.requests += 1
            self.stats.by_endpoint[endpoint] = self.stats.by_endpoint.get(endpoint, 0) + 1
            reset, used = self._windows.get((token, endpoint), (now + RATE_WINDOW, 0))
            if now >= reset:
                reset, used = now + RATE_WINDOW, 0
            every = self.config.rate_limit_every
            forced = every > 0 and self.stats.requests % every == 0
            if forced or used >= limit:
                self.stats.rate_limited += 1
                self._windows[(token, endpoint)] = (reset, used)
                return False, 0, (now + self.config.retry_after_seconds if forced else reset)
            used += 1
            self._windows[(token, endpoint)] = (reset, used)
            return True, limit - used, reset


@contextlib.contextmanager
def platform_server(
    world: World, clock: Callable[[], float], config: ServerConfig | None = None
) -> Iterator[PlatformServer]:
    server = PlatformServer(world, clock, config)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def iso_ms(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _token_of(headers: Any) -> str:
    value = headers.get("Authorization", "")
    return value[7:].strip() if value.lower().startswith("bearer ") else ""


def _encode_token(value: str) -> str:
    return base64.b32encode(value.encode()).decode().rstrip("=").lower()


def _decode_token(token: str) -> str | None:
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        return base64.b32decode(padded).decode()
    except (ValueError, UnicodeDecodeError):
        return None


class _Reply(Exception):
    """Raised by an endpoint to answer with an error status."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class _Handler(BaseHTTPRequestHandler):
    platform: PlatformServer
    protocol_version = "HTTP/1.1"  # keep-alive, as requests' Session expects

    def log_message(self, format: str, *args: Any) -> None:
        return  # the demo prints its own progress; a line per request would drown it

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        try:
            if parts.path.startswith("/2/"):
                status, body, headers = _XApi(self.platform, self.headers).route(parts.path, query)
            elif parts.path.startswith("/api/v1/"):
                status, body, headers = _MastodonApi(self.platform, self.headers, self._origin()).route(
                    parts.path, query
                )
            else:
                raise _Reply(404, {"error": "Not found"})
        except _Reply as reply:
            status, body, headers = reply.status, reply.body, reply.headers
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _origin(self) -> str:
        return f"http://{self.headers.get('Host', f'127.0.0.1:{self.platform.port}')}"


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _limit(query: Mapping[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    raw = _one(query, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise _Reply(400, {"errors": [{"message": f"{name} is not a number"}]}) from error
    return max(low, min(high, value))


# --- X API v2 -----------------------------------------------------------------------------

_X_DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")


class _XApi:
    def __init__(self, server: PlatformServer, headers: Any) -> None:
        self.server = server
        self.world = server.world
        self.headers = headers

    def route(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        token = _token_of(self.headers)
        if token != self.server.config.x_bearer_token:
            raise _Reply(
                401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
            )
        match = re.fullmatch(r"/2/users/(\d+)/(mentions|tweets)", path)
        if match:
            endpoint, limit = f"users/:id/{match.group(2)}", (450 if match.group(2) == "mentions" else 1500)
        elif path == "/2/tweets/search/recent":
            endpoint, limit = "tweets/search/recent", 450
        else:
            raise _Reply(404, {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]})
        allowed, remaining, reset = self.server.take(token, endpoint, limit)
        headers = {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset),
        }
        if not allowed:
            raise _Reply(
                429,
                {
                    "title": "Too Many Requests",
                    "detail": "Too Many Requests",
                    "type": "about:blank",
                    "status": 429,
                },
                headers,
            )
        if match:
            user = self.world.accounts.get(("x", match.group(1)))
            if user is None:
                raise _Reply(
                    200,
                    {
                        "errors": [
                            {
                                "value": match.group(1),
                                "detail": f"Could not find user with id: [{match.group(1)}].",
                                "title": "Not Found Error",
                                "resource_type": "user",
                                "parameter": "id",
                                "resource_id": match.group(1),
                                "type": "https://api.twitter.com/2/problems/resource-not-found",
                            }
                        ]
                    },
                    headers,
                )
            if match.group(2) == "mentions":
                candidates = self.server.visible("to", "x", user.id)[-MENTIONS_CAP:]
            else:
                excluded = set(",".join(query.get("exclude", [])).split(","))
                candidates = [
                    i
                    for i in self.server.visible("by", "x", user.id)
                    if not ("replies" in excluded and i.parent is not None)
                ][-TWEETS_CAP:]
            body = self._page(candidates, query, "pagination_token", 5, 100, 10)
        else:
            body = self._page(self._search(query), query, "next_token", 10, 100, 10)
        return 200, body, headers

    def _search(self, query: dict[str, list[str]]) -> list[Item]:
        text = (_one(query, "query") or "").strip()
        if not text:
            raise _Reply(400, {"errors": [{"message": "query is required"}], "title": "Invalid Request"})
        since = self.server.now() - RECENT_SEARCH_SECONDS
        tests: list[Callable[[Item], bool]] = []
        for term in text.split():
            name, _, value = term.partition(":")
            value = value.lower()
            if name == "conversation_id" and value:
                tests.append(lambda i, v=value: i.conversation_id == v)
            elif name == "from" and value:
                tests.append(lambda i, v=value: i.author.username.lower() == v.lstrip("@"))
            elif name == "to" and value:
                tests.append(
                    lambda i, v=value: i.parent is not None and i.parent.author.username.lower() == v
                )
            elif name == "in_reply_to_tweet_id" and value:
                tests.append(lambda i, v=value: i.parent is not None and i.parent.id == v)
            elif term.startswith("@"):
                handle = term[1:].lower()
                tests.append(lambda i, v=handle: v in i.mentions)
            else:
                word = term.lower()
                tests.append(lambda i, v=word: v in i.text.lower())
        pool = self.server.visible("all", "x")
        conversation = re.search(r"conversation_id:(\d+)", text)
        if conversation:
            pool = self.server.visible("conversation", "x", conversation.group(1))
        return [i for i in pool if i.created_at >= since and all(t(i) for t in tests)]

    def _page(
        self,
        candidates: Sequence[Item],
        query: dict[str, list[str]],
        token_param: str,
        low: int,
        high: int,
        default: int,
    ) -> dict[str, Any]:
        size = _limit(query, "max_results", default, low, high)
        since_id, until_id = _one(query, "since_id"), _one(query, "until_id")
        start_time, end_time = _one(query, "start_time"), _one(query, "end_time")
        token = _one(query, token_param) or _one(query, "pagination_token") or _one(query, "next_token")
        below = _decode_token(token) if token else None
        if token and below is None:
            raise _Reply(
                400, {"errors": [{"message": f"The `{token_param}` query parameter value is not valid"}]}
            )
        chosen = []
        for item in reversed(candidates):  # newest first
            key = _int_order(item.id)
            if since_id and key <= _int_order(since_id):
                break
            if until_id and key >= _int_order(until_id):
                continue
            if below and key >= _int_order(below):
                continue
            if start_time and item.created_at < _instant(start_time):
                continue
            if end_time and item.created_at >= _instant(end_time):
                continue
            chosen.append(item)
            if len(chosen) > size:
                break
        more = len(chosen) > size
        page = chosen[:size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if not page:
            return {"meta": meta}
        meta["newest_id"], meta["oldest_id"] = page[0].id, page[-1].id
        if more:
            meta["next_token"] = _encode_token(page[-1].id)
        return {**self._expand(page, query), "meta": meta}

    def _expand(self, page: Sequence[Item], query: dict[str, list[str]]) -> dict[str, Any]:
        fields = set(",".join(query.get("tweet.fields", [])).split(",")) - {""}
        expansions = set(",".join(query.get("expansions", [])).split(",")) - {""}
        user_fields = set(",".join(query.get("user.fields", [])).split(",")) - {""}
        users: dict[str, Account] = {}
        referenced: dict[str, Item] = {}
        for item in page:
            if "author_id" in expansions:
                users[item.author.id] = item.author
            if item.parent is not None:
                if "in_reply_to_user_id" in expansions:
                    users[item.parent.author.id] = item.parent.author
                if "referenced_tweets.id" in expansions and self.server.is_visible(item.parent):
                    referenced[item.parent.id] = item.parent
                    if "referenced_tweets.id.author_id" in expansions:
                        users[item.parent.author.id] = item.parent.author
        body: dict[str, Any] = {"data": [self._tweet(i, fields) for i in page]}
        includes: dict[str, Any] = {}
        if users:
            includes["users"] = [self._user(u, user_fields) for u in users.values()]
        if referenced:
            includes["tweets"] = [self._tweet(i, fields) for i in referenced.values()]
        if includes:
            body["includes"] = includes
        return body

    def _tweet(self, item: Item, fields: set[str]) -> dict[str, Any]:
        # X escapes exactly '&', '<' and '>' in a tweet's text; the connector undoes it once.
        text = html.escape(item.text, quote=False)
        tweet: dict[str, Any] = {"id": item.id, "text": text, "edit_history_tweet_ids": [item.id]}
        if "created_at" in fields:
            tweet["created_at"] = iso_ms(item.created_at)
        if "author_id" in fields:
            tweet["author_id"] = item.author.id
        if "conversation_id" in fields:
            tweet["conversation_id"] = item.conversation_id
        if item.parent is not None:
            if "in_reply_to_user_id" in fields:
                tweet["in_reply_to_user_id"] = item.parent.author.id
            if "referenced_tweets" in fields:
                tweet["referenced_tweets"] = [{"type": "replied_to", "id": item.parent.id}]
        if "entities" in fields:
            mentions = []
            for match in re.finditer(r"(?<![\w@])@([A-Za-z0-9_]{1,15})", item.text):
                account = self.world.account_for("x", match.group(1))
                if account is not None:
                    mentions.append(
                        {
                            "start": match.start(),
                            "end": match.end(),
                            "username": account.username,
                            "id": account.id,
                        }
                    )
            if mentions:
                tweet["entities"] = {"mentions": mentions}
        if "lang" in fields:
            tweet["lang"] = "en"
        # ``source`` is left out: X no longer returns it for other people's posts, and the
        # archive does not record it either.
        return tweet

    @staticmethod
    def _user(account: Account, fields: set[str]) -> dict[str, Any]:
        user: dict[str, Any] = {"id": account.id, "name": account.username, "username": account.username}
        if "verified" in fields:
            user["verified"] = account.brand
        return user


def _instant(text: str) -> int:
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError as error:
        raise _Reply(400, {"errors": [{"message": f"{text!r} is not an ISO 8601 time"}]}) from error


# --- Mastodon -----------------------------------------------------------------------------

INSTANCE = "mastodon.local"


class _MastodonApi:
    def __init__(self, server: PlatformServer, headers: Any, origin: str) -> None:
        self.server = server
        self.world = server.world
        self.headers = headers
        self.origin = origin

    def route(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        token = _token_of(self.headers)
        me = self.server.config.mastodon_tokens.get(token) if token else None
        if token and me is None:
            raise _Reply(401, {"error": "The access token is invalid"})
        allowed, remaining, reset = self.server.take(token or self.headers.get("Host", ""), "mastodon", 300)
        headers = {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": iso_ms(reset),
        }
        if not allowed:
            raise _Reply(429, {"error": "Too many requests"}, headers)
        if path == "/api/v1/notifications":
            if me is None:
                raise _Reply(401, {"error": "The access token is invalid"})
            return self._notifications(me, query, headers)
        if path == "/api/v1/accounts/verify_credentials":
            if me is None:
                raise _Reply(401, {"error": "The access token is invalid"})
            return 200, self._account(self.world.accounts[("mastodon", me)]), headers
        if path == "/api/v1/accounts/lookup":
            account = self.world.account_for("mastodon", (_one(query, "acct") or "").split("@")[0])
            if account is None:
                raise _Reply(404, {"error": "Record not found"}, headers)
            return 200, self._account(account), headers
        match = re.fullmatch(r"/api/v1/accounts/(\d+)(/statuses)?", path)
        if match:
            account = self.world.accounts.get(("mastodon", match.group(1)))
            if account is None:
                raise _Reply(404, {"error": "Record not found"}, headers)
            if not match.group(2):
                return 200, self._account(account), headers
            return self._statuses(account, me, query, headers)
        match = re.fullmatch(r"/api/v1/statuses/(\d+)(/context)?", path)
        if match:
            item = self.world.by_id.get(("mastodon", match.group(1)))
            if item is None or not self.server.is_visible(item):
                raise _Reply(404, {"error": "Record not found"}, headers)
            if not match.group(2):
                return 200, self._status(item, me), headers
            return 200, self._context(item, me), headers
        raise _Reply(404, {"error": "Not found"}, headers)

    # endpoints
    def _notifications(
        self, me: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        types = set(query.get("types[]", [])) or {"mention"}
        excluded = set(query.get("exclude_types[]", []))
        entries: list[tuple[str, Item]] = []
        if "mention" in types and "mention" not in excluded:
            # Mastodon notifies of mentions, and a reply mentions the replied-to account.
            entries = [(_notification_id(i.id), i) for i in self.server.visible("to", "mastodon", me)]
        limit = _limit(query, "limit", 40, 1, 80)
        page = _window(entries, query, limit)
        body = [
            {
                "id": notification_id,
                "type": "mention",
                "created_at": iso_ms(item.created_at),
                "group_key": f"ungrouped-{notification_id}",
                "account": self._account(item.author),
                "status": self._status(item, me),
            }
            for notification_id, item in page
        ]
        keep = {k: v for k, v in query.items() if k in ("types[]", "exclude_types[]")}
        return 200, body, {**headers, **self._links("/api/v1/notifications", page, keep, limit)}

    def _statuses(
        self, account: Account, me: str | None, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        exclude_replies = (_one(query, "exclude_replies") or "").lower() in ("true", "1")
        entries = [
            (item.id, item)
            for item in self.server.visible("by", "mastodon", account.id)
            if not (exclude_replies and item.parent is not None)
        ]
        limit = _limit(query, "limit", 20, 1, 40)
        page = _window(entries, query, limit)
        keep = {k: v for k, v in query.items() if k in ("exclude_replies", "exclude_reblogs", "only_media")}
        links = self._links(f"/api/v1/accounts/{account.id}/statuses", page, keep, limit)
        return 200, [self._status(item, me) for _, item in page], {**headers, **links}

    def _context(self, item: Item, me: str | None) -> dict[str, Any]:
        ancestors = []
        node = item.parent
        while node is not None and len(ancestors) < 10_000:
            if self.server.is_visible(node):
                ancestors.append(self._status(node, me))
            node = node.parent
        descendants: list[dict[str, Any]] = []

        def walk(parent: Item) -> None:  # depth first, oldest reply first, as Mastodon orders them
            for child in sorted(parent.children, key=lambda c: _int_order(c.id)):
                if self.server.is_visible(child):
                    descendants.append(self._status(child, me))
                    walk(child)

        walk(item)
        return {"ancestors": list(reversed(ancestors)), "descendants": descendants}

    def _links(
        self, path: str, page: Sequence[tuple[str, Item]], keep: Mapping[str, list[str]], limit: int
    ) -> dict[str, str]:
        if not page:
            return {}
        # Like Mastodon, the links keep the filters and the limit but not since_id/min_id.
        base = [(k, v) for k, values in keep.items() for v in values] + [("limit", str(limit))]
        older = urlencode([*base, ("max_id", page[-1][0])])
        newer = urlencode([*base, ("min_id", page[0][0])])
        return {
            "Link": f'<{self.origin}{path}?{older}>; rel="next", <{self.origin}{path}?{newer}>; rel="prev"'
        }

    # entities
    def _account(self, account: Account) -> dict[str, Any]:
        return {
            "id": account.id,
            "username": account.username,
            "acct": account.username,
            "display_name": account.username,
            "locked": False,
            "bot": False,
            "discoverable": True,
            "group": False,
            "created_at": "2017-01-01T00:00:00.000Z",
            "note": "",
            "url": f"https://{INSTANCE}/@{account.username}",
            "uri": f"https://{INSTANCE}/users/{account.username}",
            "avatar": f"https://{INSTANCE}/avatars/original/missing.png",
            "avatar_static": f"https://{INSTANCE}/avatars/original/missing.png",
            "header": f"https://{INSTANCE}/headers/original/missing.png",
            "header_static": f"https://{INSTANCE}/headers/original/missing.png",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": 0,
            "last_status_at": None,
            "emojis": [],
            "fields": [],
        }

    def _status(self, item: Item, me: str | None) -> dict[str, Any]:
        mentions = []
        for handle in item.mentions:
            account = self.world.account_for("mastodon", handle)
            if account is not None and account.id != item.author.id:
                mentions.append(
                    {
                        "id": account.id,
                        "username": account.username,
                        "url": f"https://{INSTANCE}/@{account.username}",
                        "acct": account.username,
                    }
                )
        parent = item.parent
        return {
            "id": item.id,
            "created_at": iso_ms(item.created_at),
            "edited_at": None,
            "in_reply_to_id": parent.id if parent is not None else None,
            "in_reply_to_account_id": parent.author.id if parent is not None else None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "public",
            "language": "en",
            "uri": f"https://{INSTANCE}/users/{item.author.username}/statuses/{item.id}",
            "url": f"https://{INSTANCE}/@{item.author.username}/{item.id}",
            "replies_count": sum(1 for c in item.children if self.server.is_visible(c)),
            "reblogs_count": 0,
            "favourites_count": 0,
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "content": _content_html(item.text, self.world),
            "reblog": None,
            # Mastodon shows the posting app only to the author's own token.
            "application": {"name": "Web", "website": None} if me == item.author.id else None,
            "account": self._account(item.author),
            "media_attachments": [],
            "mentions": mentions,
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }


def _notification_id(status_id: str) -> str:
    # Notifications have their own ids; created with the status, so they share its order.
    return str(int(status_id) + 1)


def _window(
    entries: list[tuple[str, Item]], query: dict[str, list[str]], limit: int
) -> list[tuple[str, Item]]:
    """Mastodon paging over (id, item) in ascending id order: newest first, max/since/min ids."""
    max_id, since_id, min_id = _one(query, "max_id"), _one(query, "since_id"), _one(query, "min_id")
    chosen = [
        (entry_id, item)
        for entry_id, item in entries
        if not (max_id and _int_order(entry_id) >= _int_order(max_id))
        and not (since_id and _int_order(entry_id) <= _int_order(since_id))
        and not (min_id and _int_order(entry_id) <= _int_order(min_id))
    ]
    # min_id asks for the page right after it (oldest first); the others for the newest page.
    chosen = chosen[:limit] if min_id else chosen[-limit:]
    return list(reversed(chosen))


_MENTION_IN_TEXT = re.compile(r"(?<![\w@])@([A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?)")


def _content_html(text: str, world: World) -> str:
    """Status HTML as Mastodon renders it: escaped text, h-card mention links, ``<br />`` lines."""
    out: list[str] = []
    position = 0
    for match in _MENTION_IN_TEXT.finditer(text):
        account = world.account_for("mastodon", match.group(1))
        if account is None:
            continue
        out.append(html.escape(text[position : match.start()], quote=False))
        out.append(
            f'<span class="h-card" translate="no"><a href="https://{INSTANCE}/@{account.username}" '
            f'class="u-url mention">@<span>{html.escape(match.group(1), quote=False)}</span></a></span>'
        )
        position = match.end()
    out.append(html.escape(text[position:], quote=False))
    return "<p>" + "".join(out).replace("\n", "<br />") + "</p>"
