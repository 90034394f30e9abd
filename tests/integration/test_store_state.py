"""PostStore poll state: the cursor's optimistic lock, retry times, the poll log and completeness."""

from __future__ import annotations

import pytest

from responsegap.store.dynamo import PollState, PostStore

PROFILE = "x#acme"
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z, also the store fixture's clock


def test_state_starts_empty(store: PostStore) -> None:
    assert store.load_state(PROFILE) == PollState({}, 0, None, None)


def test_the_cursor_advances_only_from_the_version_read(store: PostStore) -> None:
    assert store.save_cursor(PROFILE, {"since_id": "10"}, expected_version=0) is True
    assert store.save_cursor(PROFILE, {"since_id": "20"}, expected_version=1) is True
    # a redelivered message that read version 1 must not move the cursor back
    assert store.save_cursor(PROFILE, {"since_id": "10"}, expected_version=1) is False
    assert store.save_cursor(PROFILE, {"since_id": "5"}, expected_version=0) is False
    state = store.load_state(PROFILE)
    assert (state.cursor, state.version, state.last_success_at) == ({"since_id": "20"}, 2, T0)


def test_retry_at_is_set_and_cleared_without_touching_the_cursor(store: PostStore) -> None:
    store.save_cursor(PROFILE, {"since": "a"}, 0)
    store.set_retry_at(PROFILE, T0 + 900)
    assert store.load_state(PROFILE) == PollState({"since": "a"}, 1, T0 + 900, T0)
    store.set_retry_at(PROFILE, None)
    assert store.load_state(PROFILE).retry_at is None


def test_a_successful_poll_moves_last_success_forward_only(store: PostStore) -> None:
    store.record_poll(PROFILE, T0 - 100, "ok", posts=3)
    store.record_poll(PROFILE, T0 - 500, "ok")  # recorded late
    store.record_poll(PROFILE, T0 - 50, "failed", detail="HTTP 500")
    assert store.load_state(PROFILE).last_success_at == T0 - 100


def test_record_poll_rejects_unknown_outcomes(store: PostStore) -> None:
    with pytest.raises(ValueError, match="outcome"):
        store.record_poll(PROFILE, T0, "exploded")


def test_a_redelivered_poll_record_counts_once(store: PostStore) -> None:
    store.record_poll(PROFILE, T0 - 600, "ok")
    store.record_poll(PROFILE, T0 - 600, "ok")
    assert store.completeness(PROFILE, T0 - 900, T0, 300)["polls_succeeded"] == 1


def test_completeness_counts_planned_polls_and_the_longest_blind_stretch(store: PostStore) -> None:
    start, hour = T0 - 86400, 3600
    for offset in range(0, 6 * hour, 300):  # six good hours of 5-minute polls
        store.record_poll(PROFILE, start + offset, "ok")
    store.record_poll(PROFILE, start + 7 * hour, "rate_limited")
    store.record_poll(PROFILE, start + 8 * hour, "failed")
    store.record_poll(PROFILE, start + 8 * hour + 300, "skipped")
    store.record_poll(PROFILE, start + 20 * hour, "ok")
    store.record_poll(PROFILE, start - 60, "ok")  # before the period: ignored
    store.record_poll("x#other", start + 10 * hour, "ok")  # another profile: ignored
    figures = store.completeness(PROFILE, start, start + 86400, 300)
    assert figures == {
        "polls_planned": 288,
        "polls_succeeded": 72 + 1,
        "polls_failed": 2,
        # last good poll of the morning at 5h55m, next at 20h: 14h05m blind
        "longest_blind_seconds": 20 * hour - (6 * hour - 300),
        "polls_account_unavailable": 0,
        "account_unavailable_at_end": 0,
    }


def test_completeness_counts_the_edges_of_the_period(store: PostStore) -> None:
    start = T0 - 3600
    store.record_poll(PROFILE, start + 600, "ok")
    assert store.completeness(PROFILE, start, T0, 300)["longest_blind_seconds"] == 3000  # last poll -> end
    assert store.completeness(PROFILE, start + 601, T0, 300)["longest_blind_seconds"] == T0 - start - 601
    assert store.completeness("x#none", start, T0, 300) == {
        "polls_planned": 12,
        "polls_succeeded": 0,
        "polls_failed": 0,
        "longest_blind_seconds": 3600,
        "polls_account_unavailable": 0,
        "account_unavailable_at_end": 0,
    }


def test_completeness_counts_polls_refused_for_an_unavailable_account(store: PostStore) -> None:
    start, hour = T0 - 6 * 3600, 3600
    store.record_poll(PROFILE, start, "ok")
    for offset in range(hour, 3 * hour, 300):  # suspended for two hours
        store.record_poll(PROFILE, start + offset, "account_unavailable", detail="suspended")
    store.record_poll(PROFILE, start + 3 * hour, "ok")  # reinstated
    back = store.completeness(PROFILE, start, start + 4 * hour, 300)
    assert (back["polls_failed"], back["polls_account_unavailable"], back["account_unavailable_at_end"]) == (
        24,
        24,
        0,
    )
    assert back["longest_blind_seconds"] == 3 * hour
    still = store.completeness(PROFILE, start, start + 2 * hour, 300)
    assert (still["polls_account_unavailable"], still["account_unavailable_at_end"]) == (12, 1)


def test_completeness_of_a_running_period_stops_at_now(store: PostStore) -> None:
    figures = store.completeness(PROFILE, T0 - 600, T0 + 86400, 300)
    assert figures["polls_planned"] == 2 and figures["longest_blind_seconds"] == 600
