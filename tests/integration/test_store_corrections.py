"""Automation corrections in the table: put, list (one Query per brand), delete, per brand."""

from __future__ import annotations

from responsegap.domain.corrections import text_key
from responsegap.store.correction_items import POST, TEXT, StoredCorrection, post_key
from responsegap.store.dynamo import PostStore
from tests.integration.conftest import SpyClient

T0 = 1_767_225_600
LONG = "Please send us a note " * 100  # a fingerprint longer than a sort key may be


def _text(brand: str, text: str, automated: bool) -> StoredCorrection:
    return StoredCorrection(brand, TEXT, text_key(text), automated, text, T0)


def test_corrections_are_stored_listed_and_removed_per_brand(store: PostStore) -> None:
    store.put_correction(_text("acme", "Here to help. Send us a note", False))
    store.put_correction(_text("acme", LONG, True))
    store.put_correction(StoredCorrection("acme", POST, post_key("x", "123#4"), True, "", T0))
    store.put_correction(_text("globex", "Here to help. Send us a note", True))
    listed = {(c.kind, c.key): c for c in store.list_corrections("acme")}
    assert set(listed) == {
        (TEXT, text_key("Here to help. Send us a note")),
        (TEXT, text_key(LONG)),
        (POST, "x#123#4"),
    }
    assert listed[(TEXT, text_key(LONG))].automated and len(listed[(TEXT, text_key(LONG))].excerpt) == 280
    corrections = store.corrections_for("acme")
    assert corrections.texts == {text_key("Here to help. Send us a note"): False, text_key(LONG): True}
    assert corrections.posts == {("x", "123#4"): True}
    assert store.corrections_for("globex").texts == {text_key("Here to help. Send us a note"): True}
    # Marking again replaces the verdict.
    store.put_correction(_text("acme", "here to help send us a NOTE!", True))
    assert store.corrections_for("acme").texts[text_key("Here to help. Send us a note")] is True
    assert store.delete_correction("acme", TEXT, text_key("Here to help. Send us a note")) is True
    assert store.delete_correction("acme", TEXT, text_key("Here to help. Send us a note")) is False
    assert store.delete_correction("acme", POST, "x#123#4") is True
    assert [c.key for c in store.list_corrections("acme")] == [text_key(LONG)]
    assert len(store.list_corrections("globex")) == 1
    assert store.list_corrections("nobody") == []


def test_a_brand_s_corrections_are_read_with_one_query(dynamodb, table: str) -> None:
    spy = SpyClient(dynamodb)
    store = PostStore(table, spy, clock=lambda: T0)
    for n in range(30):
        store.put_correction(
            _text("acme", "text number " + "abcdefghijklmnopqrstuvwxyz"[n % 26] * (1 + n // 26), n % 2 == 0)
        )
    spy.calls.clear()
    assert len(store.list_corrections("acme")) == 30
    assert dict(spy.calls) == {"query": 1}
