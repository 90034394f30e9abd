"""Property tests of every parser of outside input, with hypothesis-generated payloads.

- each connector's page parser (``fetch`` and ``fetch_replies`` against a session that answers
  every GET with the generated body): valid Posts, or a ``ConnectorError``;
- the TWCS reader: valid Posts (bad rows skipped and counted), or ``ConfigError``;
- the brands file loader: brands, or ``ConfigError``.

Never anything else: no KeyError, TypeError, RecursionError or half-filled Post. Payloads are
both free-form JSON over the field names the platforms use and mutations of the recorded
pages in tests/fixtures (a key dropped, a value replaced), which reach deeper into parsers.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from responsegap.connectors import make_connector
from responsegap.connectors.base import ConnectorError, PollResult
from responsegap.connectors.http import PlatformHttp
from responsegap.domain.model import ConfigError, Post, Profile

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,  # the same examples in CI and here: a failure reproduces
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

PROFILES = {
    "x": (Profile(brand_id="a", platform="x", handle="acmehelp", account_id="1000"), {"bearer_token": "t"}),
    "mastodon": (
        Profile(
            brand_id="a",
            platform="mastodon",
            handle="acme",
            account_id="1",
            base_url="https://mastodon.example",
        ),
        {"access_token": "t"},
    ),
    "bluesky": (
        Profile(brand_id="a", platform="bluesky", handle="acme.bsky.social", account_id="did:plc:acme"),
        {"password": "p"},
    ),
    "facebook": (
        Profile(brand_id="a", platform="facebook", handle="acme", account_id="123"),
        {"page_access_token": "t"},
    ),
    "instagram": (
        Profile(brand_id="a", platform="instagram", handle="acme", account_id="17841"),
        {"access_token": "t"},
    ),
    "youtube": (
        Profile(brand_id="a", platform="youtube", handle="acme", account_id="UCacme"),
        {"api_key": "k"},
    ),
    "reddit": (
        Profile(brand_id="a", platform="reddit", handle="acme"),
        {"client_id": "c", "client_secret": "s", "username": "acme", "password": "p", "user_agent": "ua"},
    ),
}
FIELDS = [
    "id", "text", "author_id", "created_at", "data", "meta", "includes", "users", "username", "tweets",
    "next_token", "newest_id", "referenced_tweets", "type", "entities", "mentions", "in_reply_to_user_id",
    "conversation_id", "source", "errors", "title", "account", "acct", "content", "in_reply_to_id",
    "in_reply_to_account_id", "status", "notifications", "uri", "cid", "author", "did", "handle", "record",
    "reply", "parent", "root", "post", "feed", "cursor", "reason", "indexedAt", "createdAt", "facets",
    "features", "paging", "cursors", "after", "next", "from", "name", "message", "created_time", "comments",
    "timestamp", "replies", "items", "snippet", "topLevelComment", "authorChannelId", "value", "publishedAt",
    "textOriginal", "nextPageToken", "kind", "children", "body", "link_id", "parent_id", "created_utc",
    "accessJwt", "refreshJwt", "access_token", "expires_in", "url",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(
        ["2026-11-23T10:00:00.000Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z", "", "1e9"]
    ),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), inner, max_size=6),
    ),
    max_leaves=30,
)


def recorded(platform: str) -> list[Any]:
    folder = FIXTURES / platform
    return (
        [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
        if folder.exists()
        else []
    )


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, platform: str) -> Any:
    pages = recorded(platform)
    if not pages:
        return draw(JSON)
    page = copy.deepcopy(draw(st.sampled_from(pages)))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(page)))
        if not where:
            continue
        parent = page
        for step in where[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(where[-1], None)
        else:
            parent[where[-1]] = draw(JSON)
    return page


class Answering(requests.Session):
    """The first GET gets ``body``; later GETs the platform's recorded empty page for that
    endpoint (so a chain ends and the parsed posts come back); POSTs (logins, token requests)
    a valid session."""

    def __init__(self, platform: str, body: bytes, login: dict[str, Any]) -> None:
        super().__init__()
        self.body = body
        self.login = login
        self.empties = {
            p.name.split(".")[0]: p.read_bytes() for p in (FIXTURES / platform).glob("*empty*.json")
        }
        self.calls = 0
        self.gets = 0

    def _rest(self, url: str) -> bytes:
        for endpoint, body in self.empties.items():
            if endpoint in url or endpoint.replace("_id_", "/1/").replace("_", "/") in url:
                return body
        return next(iter(self.empties.values()), self.body)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.calls += 1
        if self.calls > 200:
            raise requests.ConnectionError("fuzz: too many requests")  # a parser that loops
        response = requests.Response()
        response.status_code = 200
        response.url = url
        response.encoding = "utf-8"
        if method == "POST":
            response._content = json.dumps(self.login).encode()
        else:
            self.gets += 1
            response._content = self.body if self.gets == 1 else self._rest(url)
        return response


YIELDED: dict[str, int] = {}  # posts parsed per platform: shows the fuzzing reaches the parsers
LOGINS = {
    "bluesky": {"accessJwt": "a", "refreshJwt": "r", "did": "did:plc:acme", "handle": "acme.bsky.social"},
    "reddit": {"access_token": "t", "token_type": "bearer", "expires_in": 86400},
}


def check(platform: str, body: bytes) -> None:
    profile, credentials = PROFILES[platform]
    probe = Post(platform, "1", "2", "someone", 1_795_400_000, "@acme hi", mentions=(profile.handle,))
    for call in ("fetch", "fetch_replies"):
        session = Answering(platform, body, LOGINS.get(platform, {}))
        http = PlatformHttp(profile.key, session, sleep=lambda _s: None, clock=lambda: 1_795_500_000)
        try:
            connector = make_connector(profile, http, credentials)
            result = connector.fetch({}) if call == "fetch" else connector.fetch_replies(probe)
        except (ConnectorError, ConfigError):
            continue
        valid(platform, result)


def valid(platform: str, result: Any) -> None:
    YIELDED[platform] = YIELDED.get(platform, 0) + len(result.posts)
    assert isinstance(result, PollResult)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.cursor.items())
    for post in result.posts:
        assert isinstance(post, Post) and post.platform == platform
        assert isinstance(post.post_id, str) and post.post_id
        assert isinstance(post.author_id, str) and isinstance(post.author_handle, str)
        assert isinstance(post.created_at, int) and not isinstance(post.created_at, bool)
        assert isinstance(post.text, str)
        assert all(isinstance(m, str) for m in post.mentions)
        for name in ("in_reply_to_id", "in_reply_to_author_id", "application", "url", "conversation_id"):
            assert getattr(post, name) is None or isinstance(getattr(post, name), str), name


@pytest.mark.parametrize("platform", sorted(PROFILES))
@FUZZ
@given(data=st.data())
def test_connector_pages_give_posts_or_a_connector_error(platform: str, data: st.DataObject) -> None:
    payload = data.draw(st.one_of(JSON, mutated(platform)))
    check(platform, json.dumps(payload).encode())


@pytest.mark.parametrize("platform", sorted(PROFILES))
@FUZZ
@given(body=st.binary(max_size=300))
def test_connector_raw_bytes_give_posts_or_a_connector_error(platform: str, body: bytes) -> None:
    check(platform, body)


# ----------------------------------------------------------------------------- archive

HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"
CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["True", "false", "1", "848.0", "8.48e2", "-1", "nan", "inf", "", '"', '""', "\r", "\n"]),
    st.sampled_from(["Tue Oct 31 22:10:47 +0000 2017", "Feb 30 00:00:00 +9999 0000", "x x x x x x"]),
)
ROWS = st.lists(st.lists(CELLS, min_size=0, max_size=9).map(lambda cells: ",".join(cells)), max_size=8)


@FUZZ
@given(header=st.sampled_from([HEADER, "," + HEADER, HEADER.upper(), "a,b,c", ""]), rows=ROWS)
def test_twcs_rows_give_posts_or_a_config_error(header: str, rows: list[str]) -> None:
    from responsegap.archive.twcs import ReadStats, read_twcs

    stats = ReadStats()
    try:
        posts = list(read_twcs(io.StringIO("\n".join([header, *rows]) + "\n"), stats))
    except ConfigError:
        return
    assert stats.posts == len(posts) and stats.rows >= len(posts)
    for post in posts:
        assert isinstance(post, Post) and post.platform == "twcs" and post.post_id.isdigit()
        assert isinstance(post.created_at, int)


@FUZZ
@given(body=st.binary(max_size=400))
def test_twcs_bytes_give_posts_or_a_config_error(body: bytes) -> None:
    from responsegap.archive.twcs import read_twcs

    try:
        posts = list(read_twcs(io.BytesIO((HEADER + "\n").encode() + body)))
    except ConfigError:
        return
    assert all(isinstance(p, Post) for p in posts)


# ----------------------------------------------------------------------------- brands file

BRAND_KEYS = ["id", "name", "timezone", "recipients", "profiles", "bot_accounts", "automation_apps", "report"]
PROFILE_KEYS = [
    "platform", "handle", "account_id", "timezone", "business_hours", "sla_seconds", "base_url",
    "credentials", "poll_interval_seconds", "enabled",
]  # fmt: skip
VALUES = st.one_of(
    JSON,
    st.sampled_from(
        [
            "x",
            "mastodon",
            "Europe/Paris",
            "Mars/Base",
            "https://mastodon.social",
            "https://169.254.169.254",
            "http://[::1]",
            {"mon": "09:00-17:00"},
            {"mon": "25:00-01:00"},
            "a@acme.example",
            ["a@acme.example"],
            "/responsegap/x/acme",
            "/etc/passwd",
        ]
    ),
)


@st.composite
def brands_documents(draw: st.DrawFn) -> Any:
    profiles = draw(st.lists(st.dictionaries(st.sampled_from(PROFILE_KEYS), VALUES, max_size=8), max_size=3))
    brand = draw(st.dictionaries(st.sampled_from(BRAND_KEYS), VALUES, max_size=7))
    if draw(st.booleans()):
        brand["profiles"] = profiles
    return draw(st.one_of(st.just({"brands": [brand]}), JSON, st.just({"brands": [brand], "extra": 1})))


@FUZZ
@given(document=brands_documents())
def test_brands_documents_give_brands_or_a_config_error(document: Any) -> None:
    from responsegap.brands_file import parse_brands
    from responsegap.domain.model import Brand

    try:
        loaded = parse_brands(document)
    except ConfigError:
        return
    assert loaded.brands and all(isinstance(b, Brand) for b in loaded.brands)


@FUZZ
@given(text=st.text(max_size=300))
def test_brands_files_give_brands_or_a_config_error(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from responsegap.brands_file import load_brands_file

    path = tmp_path_factory.mktemp("brands") / "brands.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_brands_file(path)
    except ConfigError:
        return
