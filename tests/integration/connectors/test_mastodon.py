"""Contract tests for the Mastodon connector against recorded response shapes (tests/fixtures/mastodon)."""

from __future__ import annotations

import pytest
import requests

from responsegap.connectors.base import CredentialsError, MalformedPayload, PlatformUnavailable, RateLimited
from responsegap.connectors.mastodon import MastodonConnector, html_to_text
from responsegap.domain.matching import match
from responsegap.domain.metrics import report
from responsegap.domain.model import Brand, ConfigError, Post, Profile
from responsegap.domain.periods import parse_instant, week_period

NOW = parse_instant("2026-11-23T12:00:00Z")  # conftest's clock
BASE = "https://mastodon.example"
TOKEN = "ZA-secret-access-token-Yx"
PROFILE = Profile(
    brand_id="acme", platform="mastodon", handle="acmehelp", account_id="109000000000000001", base_url=BASE
)
NOTIFICATIONS = f"{BASE}/api/v1/notifications"
STATUSES = f"{BASE}/api/v1/accounts/109000000000000001/statuses"
C1, C2, C4, B3, B1, C3, B4, B2 = (f"113512000000000{n}" for n in (100, 200, 300, 310, 400, 500, 600, 700))


def link(url: str, older: str, newer: str) -> dict[str, str]:
    """The Link header Mastodon sends with a page: rel=next (older) keeps only limit and filters."""
    return {
        "Link": f'<{url}?limit=2&max_id={older}&types%5B%5D=mention>; rel="next", '
        f'<{url}?limit=2&min_id={newer}&types%5B%5D=mention>; rel="prev"'
    }


@pytest.fixture
def connector(make_http) -> MastodonConnector:
    found = MastodonConnector(PROFILE, make_http(PROFILE), {"access_token": TOKEN})
    found.page_size = 2  # the documented sample call uses limit=2; the fixtures are pages of 2
    return found


def add_conversation(rsps, load, m, notifications_page2: str = "notifications.page2.json") -> None:
    rsps.get(
        NOTIFICATIONS,
        json=load("mastodon", "notifications.page1.json"),
        headers=link(NOTIFICATIONS, "34975003", "34975004"),
        match=[m.without("max_id"), m.having(**{"types[]": "mention", "limit": "2"})],
    )
    rsps.get(
        NOTIFICATIONS,
        json=load("mastodon", notifications_page2),
        headers=link(NOTIFICATIONS, "34975001", "34975002"),
        match=[m.having(max_id="34975003")],
    )
    if notifications_page2 == "notifications.page2.json":
        # Page 2 is full (2 of 2): nothing says it is the last, so one more page is asked for.
        rsps.get(NOTIFICATIONS, json=[], match=[m.having(max_id="34975001")])
    rsps.get(
        STATUSES,
        json=load("mastodon", "accounts_id_statuses.page1.json"),
        headers=link(STATUSES, B4, B2),
        match=[m.without("max_id"), m.having(exclude_reblogs="true")],
    )
    rsps.get(
        STATUSES,
        json=load("mastodon", "accounts_id_statuses.page2.json"),
        headers=link(STATUSES, B3, B1),
        match=[m.having(max_id=B4)],
    )
    # Page 2 of statuses is full (2 of 2), so one more (empty) page is asked for.
    rsps.get(STATUSES, json=[], match=[m.having(max_id=B3)])


def test_page_chain_normalises_mentions_and_brand_statuses(rsps, load, connector, matchers) -> None:
    add_conversation(rsps, load, matchers)

    result = connector.fetch({})

    # A short page ends a list; a full one (both page 2s here) costs one more, empty request.
    assert result.requests == 6
    assert result.cursor == {"notifications_since_id": "34975004", "statuses_since_id": B2}
    by_id = {p.post_id: p for p in result.posts}
    assert set(by_id) == {C1, C2, C3, C4, B1, B2, B3, B4}
    c3 = by_id[C3]
    assert (c3.author_id, c3.author_handle) == ("109000000000000011", "alice@social.example")
    assert (c3.in_reply_to_id, c3.in_reply_to_author_id) == (B1, "109000000000000001")
    assert c3.mentions == ("acmehelp",)
    assert c3.text == "@acmehelp done, sent you a DM just now"
    assert c3.created_at == NOW - 7200 + 1800
    assert by_id[C2].text.endswith("I lose it all") and "&amp;" not in by_id[C2].text
    assert by_id[B3].application == "IFTTT" and by_id[C1].application is None
    assert by_id[B1].author_handle == "acmehelp"
    assert by_id[B1].url == f"https://mastodon.example/@acmehelp/{B1}"


def test_since_id_is_kept_on_the_next_pages(rsps, load, connector, matchers) -> None:
    """The Link header drops since_id: following it verbatim would read the whole history."""
    rsps.get(
        NOTIFICATIONS,
        json=load("mastodon", "notifications.page1.json"),
        headers=link(NOTIFICATIONS, "34975003", "34975004"),
        match=[matchers.without("max_id"), matchers.having(since_id="34975000")],
    )
    rsps.get(
        NOTIFICATIONS,
        json=load("mastodon", "notifications.page2_deleted.json"),
        match=[matchers.having(since_id="34975000", max_id="34975003")],
    )
    rsps.get(STATUSES, json=[], match=[matchers.having(since_id=B2)])

    result = connector.fetch({"notifications_since_id": "34975000", "statuses_since_id": B2})

    assert result.requests == 3
    assert result.cursor == {"notifications_since_id": "34975004", "statuses_since_id": B2}


def test_first_poll_stops_paging_beyond_the_look_back(rsps, load, connector, matchers) -> None:
    page = load("mastodon", "notifications.page1.json")
    page[1]["created_at"] = page[1]["status"]["created_at"] = "2026-11-20T10:10:00.000Z"  # older than 24 h
    rsps.get(NOTIFICATIONS, json=page, headers=link(NOTIFICATIONS, "34975003", "34975004"))
    rsps.get(STATUSES, json=[])

    result = connector.fetch({})

    assert result.requests == 2  # the full page reached the look-back: no page 2
    assert result.cursor["notifications_since_id"] == "34975004"


def test_empty_result_keeps_the_cursor(rsps, load, connector) -> None:
    rsps.get(NOTIFICATIONS, json=load("mastodon", "notifications.empty.json"))
    rsps.get(STATUSES, json=load("mastodon", "accounts_id_statuses.empty.json"))
    cursor = {"notifications_since_id": "34975004", "statuses_since_id": B2}

    result = connector.fetch(cursor)

    assert (result.posts, result.cursor, result.requests) == ((), cursor, 2)


def test_429_uses_the_iso_reset_header(rsps, load, connector) -> None:
    rsps.get(
        NOTIFICATIONS,
        status=429,
        json=load("mastodon", "error.429.json"),
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "2026-11-23T12:05:00.000000Z",
        },
    )
    with pytest.raises(RateLimited) as caught:
        connector.fetch({})
    assert caught.value.retry_at == NOW + 300


def test_429_with_retry_after(rsps, load, connector) -> None:
    rsps.get(
        NOTIFICATIONS, status=429, json=load("mastodon", "error.429.json"), headers={"Retry-After": "90"}
    )
    with pytest.raises(RateLimited) as caught:
        connector.fetch({})
    assert caught.value.retry_at == NOW + 90


def test_500_then_success_is_retried(rsps, load, connector) -> None:
    rsps.get(NOTIFICATIONS, status=502, body="Bad Gateway")
    rsps.get(NOTIFICATIONS, json=[])
    rsps.get(STATUSES, json=[])
    assert connector.fetch({}).requests == 3


def test_timeouts_are_retried_then_unavailable(rsps, connector) -> None:
    for _ in range(4):
        rsps.get(NOTIFICATIONS, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(PlatformUnavailable, match="mastodon#acmehelp"):
        connector.fetch({})


def test_401_is_a_credentials_error_without_the_token(rsps, load, connector) -> None:
    rsps.get(NOTIFICATIONS, status=401, json=load("mastodon", "error.401.json"))
    with pytest.raises(CredentialsError) as caught:
        connector.fetch({})
    assert "mastodon#acmehelp" in str(caught.value) and TOKEN not in str(caught.value)


def test_malformed_status_names_platform_and_field(rsps, load, connector) -> None:
    rsps.get(NOTIFICATIONS, json=load("mastodon", "notifications.malformed.json"))
    with pytest.raises(MalformedPayload, match=rf"mastodon payload: status\[{C1}\].account is missing"):
        connector.fetch({})


def test_a_body_that_is_not_a_list_is_malformed(rsps, connector) -> None:
    rsps.get(NOTIFICATIONS, json={"error": "unexpected"})
    with pytest.raises(MalformedPayload, match="expected a list"):
        connector.fetch({})


def test_post_deleted_between_pages_does_not_fail_the_poll(rsps, load, connector, matchers) -> None:
    add_conversation(rsps, load, matchers, notifications_page2="notifications.page2_deleted.json")
    ids = {p.post_id for p in connector.fetch({}).posts}
    assert C2 not in ids and {C1, C3, C4} <= ids


def test_notification_whose_status_is_gone_is_skipped(rsps, load, connector) -> None:
    gone = load("mastodon", "notifications.page2.json")[:1]
    gone[0]["status"] = None
    rsps.get(NOTIFICATIONS, json=gone)
    rsps.get(STATUSES, json=[])
    assert connector.fetch({}).posts == ()


def test_instance_must_be_https(make_http) -> None:
    plain = Profile(
        brand_id="acme", platform="mastodon", handle="acmehelp", account_id="1", base_url="http://m.example"
    )
    with pytest.raises(ConfigError, match="https"):
        MastodonConnector(plain, make_http(plain), {"access_token": TOKEN})


def test_html_is_reduced_to_text_without_markup() -> None:
    html = (
        '<p>Hi <a href="https://x/@a" class="u-url mention">@<span>a</span></a><br>'
        "two &lt;b&gt; <script>x</script></p><p>end</p>"
    )
    assert html_to_text(html) == "Hi @a\ntwo <b> x\n\nend"


def test_fetch_replies_reads_descendants(rsps, load, connector) -> None:
    rsps.get(f"{BASE}/api/v1/statuses/{C4}/context", json=load("mastodon", "statuses_id_context.json"))
    customer = Post("mastodon", C4, "109000000000000013", "carol@other.example", NOW - 7200 + 600)
    assert [p.post_id for p in connector.fetch_replies(customer).posts] == [B3, B4]


def test_recorded_conversation_gives_hand_computed_figures(rsps, load, connector, matchers) -> None:
    add_conversation(rsps, load, matchers)
    posts = connector.fetch({}).posts
    brand = Brand("acme", "Acme", profiles=(PROFILE,))

    figures = report(match(posts, [brand], NOW), [brand], week_period("2026-W48", "UTC"), NOW)["overall"]

    # Openers c1, c2, c4; c1 answered by a person after 1200 s; c4 by IFTTT after 2 s, then a
    # person after 1800 s; c2 unanswered. c3 follows up on the brand's reply, answered after 1800 s.
    assert (figures["openers"], figures["answered"], figures["unanswered"]) == (3, 2, 1)
    assert figures["response_rate"] == pytest.approx(2 / 3)
    assert figures["first_response_seconds"]["median"] == 601
    assert figures["first_human_response_seconds"]["median"] == 1500
    assert figures["answered_by_human"] == 2
    assert (figures["followups"], figures["followups_answered"]) == (1, 1)
    assert figures["answered_automated"] == 1


def test_newer_status_fields_are_ignored(rsps, load, connector) -> None:
    # Mastodon 4.5 adds quote_approval, quotes_count and quote to every status: not ours to read.
    status = load("mastodon", "notifications.page1.json")[0]["status"]
    status |= {
        "quotes_count": 0,
        "quote_approval": {"automatic": ["public"], "manual": [], "current_user": "automatic"},
        "quote": None,
    }
    rsps.get(
        NOTIFICATIONS,
        json=[{"id": "99", "type": "mention", "created_at": status["created_at"], "status": status}],
    )
    rsps.get(STATUSES, json=[])

    [post] = connector.fetch({}).posts

    assert post.post_id == status["id"]
