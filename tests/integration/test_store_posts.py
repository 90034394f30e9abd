"""PostStore posts: conditional writes, bulk loads with retries, one Query per week, open index."""

from __future__ import annotations

import dataclasses

import pytest

from responsegap.domain.model import Post
from responsegap.store.dynamo import BulkLoadError, PostStore
from responsegap.store.items import TEXT_LIMIT_BYTES, TRUNCATION_MARKER
from tests.integration.conftest import SpyClient, UnprocessingClient

PROFILE = "x#acme"
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def post(post_id: str, at: int = T0, text: str = "@acme hello", **kw: object) -> Post:
    fields = {"author_id": "c1", "author_handle": "carol"} | kw
    return Post("x", post_id, created_at=at, text=text, **fields)  # type: ignore[arg-type]


def stored(store: PostStore) -> list[Post]:
    return list(store.posts_between(PROFILE, 0, 2**31))


def test_new_posts_are_put_and_a_redelivery_writes_nothing(store: PostStore) -> None:
    posts = [post("1"), post("2", T0 + 10)]
    assert store.save_posts(PROFILE, posts) == (2, 0, 0)
    writes_before = store.stats.writes
    assert store.save_posts(PROFILE, posts) == (0, 0, 2)
    assert stored(store) == posts
    # Each duplicate costs one refused conditional put (which returns the stored item), no update.
    assert store.stats.writes - writes_before == 2


def test_a_losing_version_is_refused_without_an_update_and_a_winning_one_updates(
    store: PostStore, spy: SpyClient
) -> None:
    store = PostStore(store.table_name, spy, clock=store.clock, sleep=store.sleep)
    older, newer = post("1", text="@acme order #1 is late"), post("1", text="@acme order #1 is late (edited)")
    store.save_posts(PROFILE, [newer])
    assert store.save_posts(PROFILE, [older]) == (0, 0, 1)  # METRICS rule 7: the stored one wins
    assert spy.calls["update_item"] == 0
    store.save_posts("x#other", [older])
    assert store.save_posts("x#other", [newer]) == (0, 1, 0)
    assert spy.calls["update_item"] == 1
    assert stored(store) == [newer] == list(store.posts_between("x#other", 0, 2**31))


def test_an_edit_updates_the_content_and_keeps_the_open_marker(store: PostStore) -> None:
    store.save_posts(PROFILE, [post("1")], open_post_ids={"1"})
    edited = post("1", text="@acme hello, edited", url="https://x.example/1")
    assert store.save_posts(PROFILE, [edited]) == (0, 1, 0)
    assert stored(store) == [edited]
    assert list(store.open_posts(PROFILE)) == [edited]


@pytest.mark.parametrize(
    ("one", "two"),
    [
        (post("1", text="@acme order #1 is late"), post("1", text="@acme order #1 is late (edited: #2)")),
        (post("1", url="https://x.example/1", application="Web"), post("1")),
        # same rank (a renamed author): the body hash decides
        (post("1", author_handle="carol"), post("1", author_handle="carol_renamed")),
    ],
)
def test_two_versions_store_the_same_whatever_the_order(store: PostStore, one: Post, two: Post) -> None:
    # METRICS rule 7: the kept version is fixed, not the last one seen.
    store.save_posts("x#first", [one])
    store.save_posts("x#first", [two])
    store.save_posts("x#second", [two])
    assert store.save_posts("x#second", [one]) in ((0, 0, 1), (0, 1, 0))
    first = list(store.posts_between("x#first", 0, 2**31))
    second = list(store.posts_between("x#second", 0, 2**31))
    assert first == second and len(first) == 1


def test_open_markers_survive_a_resave_without_them(store: PostStore) -> None:
    store.save_posts(PROFILE, [post("1"), post("2", T0 + 1)], open_post_ids={"1", "2"})
    store.save_posts(PROFILE, [post("1"), post("2", T0 + 1)])  # redelivery, open ids not passed
    assert [p.post_id for p in store.open_posts(PROFILE)] == ["1", "2"]


def test_every_field_round_trips(store: PostStore) -> None:
    full = Post(
        platform="x",
        post_id="99",
        author_id="42",
        author_handle="zoë",
        created_at=T0,
        text="",
        in_reply_to_id="98",
        in_reply_to_author_id="7",
        mentions=("acme", "other"),
        application="Twitter for iPhone",
        url="https://x.example/99",
        conversation_id="90",
    )
    bare = Post("x", "100", "43", "émile", T0 + 1, "ünïcødé 🎉\r\nline two")
    store.save_posts(PROFILE, [full, bare])
    assert stored(store) == [full, bare]


def test_text_over_the_limit_is_cut_with_a_marker_not_refused(store: PostStore) -> None:
    huge = post("1", text="é" * TEXT_LIMIT_BYTES)  # 64 KB of UTF-8
    store.bulk_load(PROFILE, [huge, post("2")])
    (first, second) = stored(store)
    assert first.text.endswith(TRUNCATION_MARKER)
    assert len(first.text.encode("utf-8")) <= TEXT_LIMIT_BYTES
    assert second == post("2")


def test_posts_expire_after_the_retention(store: PostStore, dynamodb: object, table: str) -> None:
    store.save_posts(PROFILE, [post("1")])
    item = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "PROFILE#x#acme"}, "sk": {"S": f"POST#{T0:010d}#1"}}
    )
    assert int(item["Item"]["expires_at"]["N"]) == T0 + 90 * 86400


def test_a_week_is_one_query_and_respects_both_ends(store: PostStore, spy: SpyClient) -> None:
    week_start, week_end = T0, T0 + 7 * 86400
    posts = [post(str(i), week_start - 1 + i * 3600) for i in range(7 * 24 + 3)]
    store.bulk_load(PROFILE, posts)
    store.bulk_load("x#other", [post("o", week_start + 5)])
    store.client = spy
    week = list(store.posts_for_week(PROFILE, week_start, week_end))
    assert spy.calls == {"query": 1}
    assert [p.created_at for p in week] == [
        p.created_at for p in posts if week_start <= p.created_at < week_end
    ]
    assert week[0].created_at == week_start - 1 + 3600 and week[-1].created_at < week_end


def test_a_large_week_pages_through_last_evaluated_key(store: PostStore) -> None:
    text = "x" * 30_000  # ~30 KB items: a 1 MB page holds ~33
    store.bulk_load(PROFILE, [post(str(i), T0 + i, text=text) for i in range(80)])
    store.stats.pages = store.stats.queries = 0
    assert len(list(store.posts_between(PROFILE, T0, T0 + 100))) == 80
    assert store.stats.queries == 1
    assert store.stats.pages >= 3


def test_bulk_load_retries_unprocessed_items_with_backoff(dynamodb: object, table: str) -> None:
    flaky = UnprocessingClient(dynamodb, failures=2)
    sleeps: list[float] = []
    store = PostStore(table, flaky, sleep=sleeps.append)
    posts = [post(str(i), T0 + i) for i in range(30)]
    assert store.bulk_load(PROFILE, posts) == 30
    # first batch of 25: 2 refusals then success; second batch of 5: first try
    assert flaky.calls["batch_write_item"] == 4
    assert store.stats.batch_retries == 2
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.05 and 0 <= sleeps[1] <= 0.1
    assert [p.post_id for p in store.posts_between(PROFILE, 0, 2**31)] == [str(i) for i in range(30)]


def test_bulk_load_gives_up_with_a_clear_error(dynamodb: object, table: str) -> None:
    store = PostStore(
        table, UnprocessingClient(dynamodb, failures=99), sleep=lambda _s: None, max_batch_attempts=3
    )
    with pytest.raises(BulkLoadError, match=r"22 of 25 items still unprocessed .* after 3 attempts"):
        # each attempt gets one more item through: 25 - 3 left
        store.bulk_load(PROFILE, [post(str(i), T0 + i) for i in range(25)])


def test_bulk_load_dedupes_keys_within_a_batch(store: PostStore) -> None:
    # DynamoDB rejects a batch naming one key twice; the METRICS rule 7 winner is kept.
    assert store.bulk_load(PROFILE, [post("1"), post("1", text="again"), post("1", text="0"), post("2")]) == 2
    assert [p.text for p in stored(store)] == ["again", "@acme hello"]


def test_the_sparse_index_holds_only_unanswered_posts(store: PostStore) -> None:
    store.save_posts(PROFILE, [post("1"), post("2", T0 + 1), post("3", T0 + 2)], open_post_ids={"1", "3"})
    store.bulk_load("x#other", [post("9")], open_post_ids={"9"})
    assert [p.post_id for p in store.open_posts(PROFILE)] == ["1", "3"]
    assert store.close_open(PROFILE, post("1"), "answered") is True
    assert store.close_open(PROFILE, post("1"), "expired") is False  # already closed: unchanged
    assert [p.post_id for p in store.open_posts(PROFILE)] == ["3"]
    assert len(stored(store)) == 3
    with pytest.raises(ValueError, match="status"):
        store.close_open(PROFILE, post("3"), "done")


def test_handle_hasher_applies_to_customers_not_to_the_profile(dynamodb: object, table: str) -> None:
    store = PostStore(table, dynamodb, handle_hasher=lambda h: f"h:{h[::-1]}")
    brand = post("2", author_id="acme-id", author_handle="acme")
    store.save_posts(PROFILE, [post("1"), brand])
    customer, own = stored(store)
    assert (customer.author_id, customer.author_handle) == ("h:1c", "h:lorac")
    assert own == brand


def test_consumed_capacity_is_counted(store: PostStore) -> None:
    store.bulk_load(PROFILE, [post(str(i), T0 + i) for i in range(3)])
    list(store.posts_between(PROFILE, T0, T0 + 10))
    assert store.stats.writes == 1 and store.stats.items_read == 3
    assert store.stats.queries == 1 and store.stats.pages == 1
    assert store.stats.as_dict().keys() >= {"read_units", "write_units", "batch_retries"}


def test_item_keys_follow_the_architecture(store: PostStore, dynamodb: object, table: str) -> None:
    store.save_posts(PROFILE, [post("7", text="x")], open_post_ids={"7"})
    item = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "PROFILE#x#acme"}, "sk": {"S": f"POST#{T0:010d}#7"}}
    )["Item"]
    assert item["open_pk"] == {"S": "OPEN#x#acme"} and item["open_sk"] == {"S": f"POST#{T0:010d}#7"}
    assert dataclasses.asdict(post("7", text="x"))["text"] == item["text"]["S"]
