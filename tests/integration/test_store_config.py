"""PostStore brands, the profile directory, dispatch claims and weekly snapshots; and no Scan anywhere."""

from __future__ import annotations

import pytest

from responsegap.domain.model import Brand, BusinessHours, Post, Profile
from responsegap.store.dynamo import DirectoryEntry, NotFound, PostStore
from tests.integration.conftest import SpyClient


def acme(*handles: str, enabled: bool = True) -> Brand:
    profiles = tuple(
        Profile(
            "acme",
            "x",
            h,
            account_id=f"id-{h}",
            timezone="Europe/Paris",
            business_hours=BusinessHours.parse({"mon": "08:00-12:00", "sat": ["10:00-11:00", "14:00-15:30"]}),
            sla_seconds=1800,
            poll_interval_seconds=600,
            enabled=enabled,
        )
        for h in handles
    )
    return Brand(
        "acme",
        "ACME Corp",
        profiles,
        "Europe/Paris",
        ("boss@acme.example",),
        ("x:acmebot",),
        ("hootsuite",),
        1,
        8,
    )


def test_a_brand_round_trips(store: PostStore) -> None:
    brand = acme("acme", "acme_help")
    store.put_brand(brand)
    assert store.get_brand("acme") == brand
    assert store.list_brands() == [brand]


def test_unknown_brand(store: PostStore) -> None:
    with pytest.raises(NotFound, match="nope"):
        store.get_brand("nope")


def test_snapshots_do_not_leak_into_the_brand(store: PostStore) -> None:
    store.put_brand(acme("acme"))
    store.put_snapshot("acme", "2026-W01", {"openers": 1})
    assert store.get_brand("acme") == acme("acme")


def test_reputting_a_brand_drops_removed_profiles_and_keeps_schedules(store: PostStore) -> None:
    store.put_brand(acme("acme", "acme_help"))
    assert store.mark_dispatched("x#acme", 5000, 0) is True
    store.put_brand(acme("acme"))
    assert store.get_brand("acme") == acme("acme")
    assert store.directory() == [DirectoryEntry("acme", "x#acme", 600, True, 5000)]


def test_remove_profile_and_brand(store: PostStore) -> None:
    store.put_brand(acme("acme", "acme_help"))
    store.put_brand(Brand("zeta", "Zeta", (Profile("zeta", "mastodon", "zeta@social.example"),)))
    store.put_snapshot("acme", "2026-W01", {})
    store.remove_profile("acme", "x#acme_help")
    assert [p.handle for p in store.get_brand("acme").profiles] == ["acme"]
    store.remove_brand("acme")
    assert [b.brand_id for b in store.list_brands()] == ["zeta"]
    assert [e.profile_key for e in store.directory()] == ["mastodon#zeta@social.example"]
    assert store.recent_snapshots("acme", "2026-W10") == []


def test_due_profiles_and_one_dispatch_per_round(store: PostStore) -> None:
    store.put_brand(acme("acme", "acme_help"))
    store.put_brand(Brand("off", "Off", (Profile("off", "x", "off", enabled=False),)))
    assert [e.profile_key for e in store.due_profiles(now=100)] == ["x#acme", "x#acme_help"]
    assert store.mark_dispatched("x#acme", 700, previous_next_poll_at=0) is True
    assert store.mark_dispatched("x#acme", 700, previous_next_poll_at=0) is False  # the other dispatcher
    assert [e.profile_key for e in store.due_profiles(now=100)] == ["x#acme_help"]
    assert [e.profile_key for e in store.due_profiles(now=700)] == ["x#acme", "x#acme_help"]


def test_recent_snapshots_newest_first_strictly_before(store: PostStore, spy: SpyClient) -> None:
    for week in ("2025-W50", "2025-W52", "2026-W01", "2026-W02", "2026-W03"):
        store.put_snapshot("acme", week, {"week": week})
    store.put_snapshot("other", "2026-W02", {"week": "x"})
    store.client = spy
    got = store.recent_snapshots("acme", "2026-W03", count=3)
    assert got == [
        ("2026-W02", {"week": "2026-W02"}),
        ("2026-W01", {"week": "2026-W01"}),
        ("2025-W52", {"week": "2025-W52"}),
    ]
    assert spy.calls == {"query": 1}
    assert [w for w, _ in store.recent_snapshots("acme", "2026-W02")] == ["2026-W01", "2025-W52", "2025-W50"]


def test_no_operation_scans(store: PostStore, spy: SpyClient) -> None:
    store.client = spy
    post = Post("x", "1", "c", "c", 1000, "@acme hi", mentions=("acme",))
    store.put_brand(acme("acme"))
    store.get_brand("acme")
    store.list_brands()
    store.directory()
    store.due_profiles(10)
    store.mark_dispatched("x#acme", 10, 0)
    store.save_posts("x#acme", [post], open_post_ids={"1"})
    store.bulk_load("x#acme", [post])
    list(store.posts_between("x#acme", 0, 2000))
    list(store.open_posts("x#acme"))
    store.close_open("x#acme", post, "answered")
    store.load_state("x#acme")
    store.save_cursor("x#acme", {"a": "1"}, 0)
    store.set_retry_at("x#acme", 5)
    store.record_poll("x#acme", 900, "ok")
    store.completeness("x#acme", 0, 2000, 300)
    store.put_snapshot("acme", "2026-W01", {})
    store.recent_snapshots("acme", "2026-W02")
    store.remove_profile("acme", "x#acme")
    store.remove_brand("acme")
    reads = {
        name for name, _ in spy.requests if not name.startswith(("put_", "update_", "delete_", "batch_write"))
    }
    assert reads == {"query", "get_item"}
    assert "scan" not in spy.calls


def test_brand_accounts_are_every_brands_profiles_in_one_query(store: PostStore, dynamodb) -> None:
    store.put_brand(acme("acme", "acme_help"))
    globex = Brand("globex", "Globex", (Profile("globex", "mastodon", "globex@social.example"),))
    store.put_brand(globex)
    spy = SpyClient(dynamodb)
    spied = PostStore(store.table_name, spy)
    accounts = sorted(spied.brand_accounts(), key=lambda a: (a.brand_id, a.handle))
    assert [(a.brand_id, a.platform, a.handle, a.account_id) for a in accounts] == [
        ("acme", "x", "acme", "id-acme"),
        ("acme", "x", "acme_help", "id-acme_help"),
        ("globex", "mastodon", "globex@social.example", ""),
    ]
    assert dict(spy.calls) == {"query": 1}
    store.remove_brand("globex")
    assert {a.brand_id for a in store.brand_accounts()} == {"acme"}
