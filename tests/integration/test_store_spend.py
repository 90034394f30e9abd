"""The shared spend record: atomic reservations per credential and window, corrections, TTL."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from responsegap.domain.budget import DEFAULT_BUDGETS, FIFTEEN_MINUTES, default_credential
from responsegap.store.dynamo import PostStore
from responsegap.store.spend import DEFAULT_TTL_SECONDS, SpendRecord, spend_pk, window_sk

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z, a window start for 15-minute windows
CREDENTIAL = default_credential("x")
MENTIONS = DEFAULT_BUDGETS["x"].limit("mentions")


@pytest.fixture
def spend(store: PostStore) -> SpendRecord:
    return SpendRecord(store)


class OneRequestAtATime:
    """The client with DynamoDB's guarantee that moto lacks: one request on an item is applied
    whole (moto reads, checks the condition and writes without a lock, so two threads can both
    pass one condition). Requests of the two pollers still interleave freely between calls, so
    a reservation made of two requests (read, then write) is still caught overspending."""

    def __init__(self, client: Any, lock: threading.Lock) -> None:
        self._client = client
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._client, name)
        if not callable(target) or name.startswith("_") or name in ("get_waiter", "meta"):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return target(*args, **kwargs)

        return call


def test_two_pollers_reserving_at_once_never_pass_the_limit(dynamodb: Any, table: str) -> None:
    # Two "Lambdas": each its own PostStore on the same table, racing 300 one-request
    # reservations each against 450; a start barrier makes them overlap.
    lock = threading.Lock()
    records = [SpendRecord(PostStore(table, OneRequestAtATime(dynamodb, lock))) for _ in range(2)]
    granted = [0, 0]
    start = threading.Barrier(2)

    def poller(index: int) -> None:
        start.wait()
        for _ in range(300):
            if records[index].reserve(CREDENTIAL, "mentions", 1, 450, T0):
                granted[index] += 1

    threads = [threading.Thread(target=poller, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 450
    assert all(g >= 150 for g in granted)  # each got its 150 before the budget could run out
    assert records[0].spent(CREDENTIAL, "mentions", T0) == 450


def test_a_reservation_that_would_pass_the_limit_is_refused_and_changes_nothing(
    spend: SpendRecord,
) -> None:
    assert spend.reserve(CREDENTIAL, "mentions", 440, 450, T0) is True
    assert spend.reserve(CREDENTIAL, "mentions", 11, 450, T0) is False
    assert spend.spent(CREDENTIAL, "mentions", T0) == 440
    assert spend.reserve(CREDENTIAL, "mentions", 10, 450, T0) is True
    assert spend.reserve(CREDENTIAL, "mentions", 1, 450, T0) is False
    assert spend.spent(CREDENTIAL, "mentions", T0) == 450
    assert spend.reserve(CREDENTIAL, "mentions", 451, 451, T0 + FIFTEEN_MINUTES) is True
    assert spend.reserve(CREDENTIAL, "other", 452, 451, T0) is False  # more than a whole window


def test_a_new_window_starts_fresh(spend: SpendRecord) -> None:
    moment = T0 + 600
    assert spend.reserve_for(CREDENTIAL, MENTIONS, 450, moment) is True
    assert spend.reserve_for(CREDENTIAL, MENTIONS, 1, moment + 299) is False  # same window
    assert spend.reserve_for(CREDENTIAL, MENTIONS, 1, T0 + FIFTEEN_MINUTES) is True
    assert spend.spent(CREDENTIAL, "mentions", T0) == 450
    assert spend.spent(CREDENTIAL, "mentions", T0 + FIFTEEN_MINUTES) == 1


def test_credentials_and_endpoints_have_their_own_records(spend: SpendRecord) -> None:
    assert spend.reserve(CREDENTIAL, "mentions", 450, 450, T0) is True
    assert spend.reserve("x:brand-app", "mentions", 450, 450, T0) is True
    assert spend.reserve(CREDENTIAL, "search_recent", 450, 450, T0) is True
    assert spend.reserve(CREDENTIAL, "mentions", 1, 450, T0) is False


def test_a_correction_from_the_headers_raises_spent(spend: SpendRecord) -> None:
    spend.reserve(CREDENTIAL, "mentions", 10, 450, T0)
    # the platform counts 100 used (another app instance, or requests we did not reserve)
    assert spend.correct(CREDENTIAL, "mentions", T0, remaining=350, limit=450) is True
    assert spend.spent(CREDENTIAL, "mentions", T0) == 100
    assert spend.reserve(CREDENTIAL, "mentions", 351, 450, T0) is False
    assert spend.reserve(CREDENTIAL, "mentions", 350, 450, T0) is True


def test_a_correction_never_hands_back_what_parallel_pollers_reserved(spend: SpendRecord) -> None:
    spend.reserve(CREDENTIAL, "mentions", 200, 450, T0)
    # headers read before the others' 200 requests were made report only 50 used
    assert spend.correct(CREDENTIAL, "mentions", T0, remaining=400, limit=450) is False
    assert spend.spent(CREDENTIAL, "mentions", T0) == 200


def test_a_correction_creates_the_window_and_ignores_nonsense_counts(spend: SpendRecord) -> None:
    assert spend.correct(CREDENTIAL, "mentions", T0, remaining=0, limit=450) is True
    assert spend.reserve(CREDENTIAL, "mentions", 1, 450, T0) is False
    # a "remaining" above the limit means nothing used: no negative spend is written
    assert spend.correct(CREDENTIAL, "other", T0, remaining=500, limit=450) is True
    assert spend.spent(CREDENTIAL, "other", T0) == 0


def test_every_spend_item_has_the_ttl_attribute(spend: SpendRecord, dynamodb: Any, table: str) -> None:
    spend.reserve(CREDENTIAL, "mentions", 1, 450, T0)
    spend.correct(CREDENTIAL, "search_recent", T0, remaining=440, limit=450, ttl=3600)
    spend.reserve_for(default_credential("youtube"), DEFAULT_BUDGETS["youtube"].limit("list"), 1, T0 + 5)
    assert spend.expires_at(CREDENTIAL, "mentions", T0) == T0 + DEFAULT_TTL_SECONDS
    assert spend.expires_at(CREDENTIAL, "search_recent", T0) == T0 + 3600
    # a daily window lives at least two windows
    youtube_start = DEFAULT_BUDGETS["youtube"].limit("list").window_start(T0 + 5)
    youtube_expiry = spend.expires_at(default_credential("youtube"), "list", youtube_start)
    assert youtube_expiry is not None and youtube_expiry >= youtube_start + 2 * 86400
    item = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": spend_pk(CREDENTIAL, "mentions")}, "sk": {"S": window_sk(T0)}}
    )["Item"]
    assert item["expires_at"] == {"N": str(T0 + DEFAULT_TTL_SECONDS)}
    assert item["spent"] == {"N": "1"} and item["limit"] == {"N": "450"}


def test_a_reservation_is_one_conditional_write(store: PostStore) -> None:
    spend = SpendRecord(store)
    before = store.stats.writes
    spend.reserve(CREDENTIAL, "mentions", 3, 450, T0)
    spend.reserve(CREDENTIAL, "mentions", 500, 450, T0)  # refused before any request
    assert store.stats.writes - before == 1
