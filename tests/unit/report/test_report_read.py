"""The report's read path: DynamoDB items back to posts, exactly, with repeated values shared."""

from __future__ import annotations

from responsegap.domain.model import Post
from responsegap.store.items import item_to_post, items_to_posts, post_to_item


def test_items_decode_to_the_same_posts_with_shared_values() -> None:
    posts = [
        Post(
            "x",
            "1",
            "c-1",
            "cust",
            1_800_000_000,
            "@acme help",
            mentions=("acme",),
            url="https://x.example/1",
        ),
        Post(
            "x",
            "2",
            "b-1",
            "acme",
            1_800_000_000,
            "On it ^AB",
            in_reply_to_id="1",
            in_reply_to_author_id="c-1",
            application="Sprinklr",
            conversation_id="1",
        ),
        Post("x", "3", "c-1", "cust", 1_800_000_100, "", mentions=("acme", "other")),
        Post("x", "4", "c-2", "cust2", 1_800_000_200, "@acme help", mentions=("acme",)),
    ]
    items = [post_to_item("x#acme", p, expires_at=1_900_000_000) for p in posts]
    decoded = list(items_to_posts(items))
    assert decoded == posts
    assert [item_to_post(i) for i in items] == posts
    assert decoded[2].author_id is decoded[0].author_id
    assert decoded[3].text is decoded[0].text
    assert decoded[1].in_reply_to_id is decoded[0].post_id
    assert decoded[1].created_at is decoded[0].created_at
    assert decoded[3].mentions is decoded[0].mentions
