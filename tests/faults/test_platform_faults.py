"""Faults on the platform side: rate limits, 5xx, timeouts, resets, broken or odd pages,
refused credentials, clock skew, edits, deletions, and a reply seen weeks before its post.

Every case runs the real dispatch, poll and recheck handlers (tests/faults/harness.py) and
asserts the stored posts, open markers, cursor and weekly figures EQUAL the fault-free run.
"""

from __future__ import annotations

import json

import pytest

from tests.faults.harness import (
    FIXTURES,
    START,
    TOKEN,
    FakeX,
    Fault,
    Hooks,
    parse_instant,
)

T = parse_instant


def during(platform: FakeX, start: str, end: str, fault: Fault, path_part: str = "") -> None:
    """Every request between two simulated times (to ``path_part`` only, when given) gets ``fault``."""
    lo, hi = T(start), T(end)

    def plan(_n: int, path: str, _query: dict[str, str]) -> Fault | None:
        return fault if lo <= platform.now < hi and path_part in path else None

    platform.plan = plan


def nth(platform: FakeX, faults: dict[int, Fault]) -> None:
    platform.plan = lambda n, _path, _query: faults.get(n)


def test_429_storm_defers_and_loses_nothing(reference, faulty, compare) -> None:
    x = FakeX()

    def plan(_n: int, _path: str, _query: dict[str, str]) -> Fault | None:
        if T("2026-11-23T10:15:00Z") <= x.now < T("2026-11-23T11:05:00Z"):
            reset = str(x.now + 840)
            return Fault(
                "status", 429, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}, {"status": 429}
            )
        return None

    x.plan = plan
    result = faulty(x)

    assert sum(1 for i in result.injected if i.startswith("status:429")) >= 3
    assert any(outcome == "rate_limited" for _, outcome in result.polls)
    assert result.dead_letters == []  # a rate limit never fails a message
    compare(result, reference())


def test_429_with_retry_after_in_seconds_and_an_http_date(reference, faulty, compare) -> None:
    x = FakeX()
    nth(
        x,
        {
            2: Fault("status", 429, {"retry-after": "120"}),
            5: Fault("status", 429, {"retry-after": "Mon, 23 Nov 2026 10:45:00 GMT"}),
            9: Fault("status", 429, {"retry-after": "garbage"}),
        },
    )
    result = faulty(x)
    assert len(result.injected) == 3
    compare(result, reference())


def test_5xx_burst_within_the_http_retries(reference, faulty, compare) -> None:
    x = FakeX()
    nth(x, {n: Fault("status", code) for n, code in ((2, 500), (3, 502), (4, 503), (8, 504))})
    result = faulty(x)
    assert len(result.injected) == 4
    assert not any(outcome == "failed" for _, outcome in result.polls)  # absorbed inside one poll
    compare(result, reference())


def test_5xx_outage_longer_than_the_retries(reference, faulty, compare) -> None:
    x = FakeX()
    during(x, "2026-11-23T10:15:00Z", "2026-11-23T10:50:00Z", Fault("status", 503, body="<html>busy</html>"))
    result = faulty(x)
    assert any(outcome == "failed" for _, outcome in result.polls)
    compare(result, reference())


def test_timeouts_and_connection_resets(reference, faulty, compare) -> None:
    x = FakeX()
    nth(
        x,
        {
            2: Fault("reset"),
            3: Fault("timeout"),
            7: Fault("reset"),
            12: Fault("timeout"),
            13: Fault("timeout"),
        },
    )
    hard = FakeX()
    during(hard, "2026-11-23T10:25:00Z", "2026-11-23T10:40:00Z", Fault("reset"))
    soft, outage = faulty(x), faulty(hard)
    assert len(soft.injected) == 5 and len(outage.injected) >= 4
    expected = reference()
    compare(soft, expected)
    compare(outage, expected)


def test_truncated_json_fails_the_poll_and_the_retry_recovers(reference, faulty, compare) -> None:
    x = FakeX()
    # The second page of the first mentions chain and a later tweets page arrive cut in half.
    nth(x, {2: Fault("truncated"), 9: Fault("truncated")})
    result = faulty(x)
    assert len(result.injected) == 2
    assert any(outcome == "failed" for _, outcome in result.polls)
    compare(result, reference())


def test_malformed_json_of_the_wrong_shape(reference, faulty, compare) -> None:
    recorded = json.loads((FIXTURES / "users_id_mentions.malformed.json").read_text(encoding="utf-8"))
    x = FakeX()
    nth(
        x,
        {
            1: Fault("malformed", body=recorded),  # a post without author_id
            4: Fault("malformed", body={"data": "not a list"}),
            6: Fault("malformed", body=[1, 2, 3]),
            8: Fault("malformed", body={"data": [{"id": "1", "author_id": "2", "created_at": "yesterday"}]}),
        },
    )
    result = faulty(x)
    assert len(result.injected) == 4
    compare(result, reference())


def test_a_page_repeated_within_a_chain(reference, faulty, compare) -> None:
    x = FakeX()
    nth(x, {2: Fault("repeat"), 7: Fault("repeat")})
    result = faulty(x)
    assert len(result.injected) == 2
    compare(result, reference())


def test_the_platform_ignores_since_id_and_sends_old_posts_again(reference, faulty, compare) -> None:
    x = FakeX()
    during(x, "2026-11-23T11:30:00Z", "2026-11-23T12:10:00Z", Fault("ignore_since"))
    result = faulty(x)
    assert result.injected
    compare(result, reference())  # nothing stored twice, nothing counted twice


def test_a_page_skipped_by_the_platform(reference, faulty, compare) -> None:
    x = FakeX()

    def plan(_n: int, path: str, _query: dict[str, str]) -> Fault | None:
        # Nothing is read until 10:45; the first poll after has two pages of mentions, and the
        # platform answers the second page with an empty last page.
        if x.now < T("2026-11-23T10:45:00Z"):
            return Fault("status", 503)
        if x.now < T("2026-11-23T10:46:00Z") and path.endswith("/mentions"):
            return Fault("skip")
        return None

    x.plan = plan
    result = faulty(x)
    assert result.injected
    compare(result, reference())


def test_expired_credentials_hold_the_cursor_and_converge_after(reference, faulty, compare) -> None:
    x = FakeX()
    during(
        x,
        "2026-11-23T10:15:00Z",
        "2026-11-23T11:05:00Z",
        Fault("status", 401, body={"title": "Unauthorized", "detail": "token expired"}),
    )
    cursors: dict[int, dict[str, str]] = {}
    stored: dict[int, int] = {}

    def observe(now: int, stack) -> None:
        posts, cursor, _ = stack.snapshot()
        cursors[now], stored[now] = cursor, len(posts)

    result = faulty(x, Hooks(observe=observe))

    during_fault = [t for t in cursors if T("2026-11-23T10:15:00Z") <= t < T("2026-11-23T11:05:00Z")]
    assert during_fault
    # While the platform refuses the token: the cursor does not move and nothing is stored.
    assert len({json.dumps(cursors[t], sort_keys=True) for t in during_fault}) == 1
    assert len({stored[t] for t in during_fault}) == 1
    assert any(outcome == "failed" for _, outcome in result.polls)
    # Every poll message of the outage ended in the dead-letter queue, none with a token in it.
    assert all(TOKEN not in body for body in result.dead_letters)
    compare(result, reference())  # the fault cleared: same data as if it never happened


@pytest.mark.parametrize("skew", [-900, 900, 3 * 3600])
def test_clock_skew_between_platform_and_lambda(reference, faulty, compare, skew: int) -> None:
    x = FakeX()

    def plan(_n: int, _path: str, _query: dict[str, str]) -> Fault | None:
        if T("2026-11-23T10:25:00Z") <= x.now < T("2026-11-23T10:35:00Z"):
            # The reset time is the platform's clock; the Lambda's differs by ``skew``.
            return Fault(
                "status", 429, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(x.now + 300)}
            )
        return None

    x.plan = plan
    result = faulty(x, Hooks(clock_skew=skew))
    assert result.injected
    # A skew inside the reply window changes nothing stored; 3 h behind changes only "now".
    compare(result, reference(hooks=Hooks(clock_skew=skew)))
    compare(result, reference(), open_markers=False)


def test_a_post_deleted_after_it_was_recorded_is_kept(reference, faulty, compare) -> None:
    x = FakeX()
    x.deleted_at["1861000000000000200"] = T("2026-11-23T10:30:00Z")  # bob's post, stored at 10:15
    x.deleted_at["1861000000000000400"] = T("2026-11-23T11:00:00Z")  # a brand reply, stored at 10:25
    result = faulty(x)
    compare(result, reference())


def test_an_edit_of_the_text_keeps_the_figures(reference, faulty) -> None:
    x = FakeX()
    x.edits["1861000000000000100"] = (
        T("2026-11-23T10:30:00Z"),
        {"text": "@AcmeHelp order #5512 is late!! edited"},
    )
    during(x, "2026-11-23T11:30:00Z", "2026-11-23T11:40:00Z", Fault("ignore_since"))
    result = faulty(x)
    expected = reference()
    assert result.figures == expected.figures
    stored = [i for i in result.posts.values() if i["post_id"]["S"] == "1861000000000000100"]
    original = x.tweets["1861000000000000100"]["text"]
    # METRICS.md rule 7: of two versions the larger (text first) is kept, whatever the order.
    assert [i["text"]["S"] for i in stored] == [max(original, "@AcmeHelp order #5512 is late!! edited")]
    assert set(result.posts) == set(expected.posts)


def test_two_versions_of_an_edited_post_store_the_same_whatever_the_order(faulty, compare) -> None:
    edited = {"text": "@AcmeHelp my order #5512 is late, can you check? (edited: it is #5513)"}
    # Run one: the original first, the edit later (a cache sends the timeline again).
    first = FakeX()
    first.edits["1861000000000000100"] = (T("2026-11-23T10:30:00Z"), edited)
    during(first, "2026-11-23T11:30:00Z", "2026-11-23T11:40:00Z", Fault("ignore_since"))
    # Run two: the edit first, then a stale cache serves the original again.
    second = FakeX()
    second.edits["1861000000000000100"] = (START, edited)
    original = first.tweets["1861000000000000100"]["text"]
    during(
        second,
        "2026-11-23T11:30:00Z",
        "2026-11-23T11:40:00Z",
        Fault("ignore_since"),
    )
    second_plan = second.plan

    def stale(n: int, path: str, query: dict[str, str]) -> Fault | None:
        fault = second_plan(n, path, query)
        if fault is not None:
            return Fault("stale", replace={"1861000000000000100": {"text": original}})
        return None

    second.plan = stale
    a, b = faulty(first), faulty(second)
    assert a.figures == b.figures
    compare(b, a)


def test_a_reply_seen_weeks_before_its_post(reference, faulty, compare) -> None:
    weeks_later = T("2026-12-14T09:00:00Z")
    x = FakeX()
    # The platform's mentions index lags: dave's post is listed three weeks after the brand's
    # answer to it was stored.
    x.hidden_until["1861000000000000800"] = weeks_later
    result = faulty(x, Hooks(extra_ticks=(weeks_later,)))
    expected = reference(hooks=Hooks(extra_ticks=(weeks_later,)))
    dave = "POST#1795432200#1861000000000000800"
    assert dave in result.posts and "open_pk" not in result.posts[dave]  # too old to open
    # The same posts and figures; only the recheck bookkeeping of dave's post differs.
    compare(result, expected, open_markers=False)
    answered = {o["post_id"]: o for o in _outcomes(result.figures)}
    assert answered == {o["post_id"]: o for o in _outcomes(expected.figures)}


def _outcomes(figures: dict) -> list[dict]:
    found = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "post_id" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(figures)
    return found
