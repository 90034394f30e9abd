"""``responsegap automation mark|list|unmark`` against the embedded table."""

from __future__ import annotations

import json

import pytest

from responsegap.cli import build_parser
from responsegap.domain.corrections import text_key
from responsegap.domain.model import Brand, ConfigError, Profile
from responsegap.store.dynamo import PostStore

T0 = 1_767_225_600


def _run(store: PostStore, *argv: str) -> int:
    args = build_parser().parse_args(["automation", *argv])
    return args.run(args, store=store, clock=lambda: T0)


@pytest.fixture
def brands(store: PostStore) -> PostStore:
    store.put_brand(Brand("acme", "Acme", profiles=(Profile("acme", "x", "acmehelp", account_id="100"),)))
    store.put_brand(
        Brand(
            "multi",
            "Multi",
            profiles=(
                Profile("multi", "x", "multi", account_id="1"),
                Profile("multi", "bluesky", "multi.bsky.social"),
            ),
        )
    )
    return store


def test_mark_list_and_unmark(brands: PostStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        _run(brands, "mark", "--brand", "acme", "--human", "--text", "@bob Here to help. Send us a note ^JK")
        == 0
    )
    assert _run(brands, "mark", "--brand", "acme", "--automated", "--post", "42") == 0
    assert (
        _run(brands, "mark", "--brand", "multi", "--automated", "--post", "7", "--platform", "bluesky") == 0
    )
    capsys.readouterr()
    assert _run(brands, "list", "--brand", "acme") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(r["kind"], r["key"], r["verdict"]) for r in rows} == {
        ("text", text_key("Here to help. Send us a note"), "human"),
        ("post", "x#42", "automated"),
    }
    assert all(r["marked_at"] == "2026-01-01T00:00:00Z" for r in rows)
    assert brands.corrections_for("multi").posts == {("bluesky", "7"): True}
    assert _run(brands, "unmark", "--brand", "acme", "--text", "Here to help, send us a note!") == 0
    assert brands.corrections_for("acme").texts == {}
    assert _run(brands, "unmark", "--brand", "acme", "--post", "42") == 0
    assert brands.list_corrections("acme") == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["mark", "--brand", "nobody", "--human", "--text", "hello there"], "unknown brand"),
        (["mark", "--brand", "acme", "--human", "--text", "@bob 123 !!"], "no words left"),
        (["mark", "--brand", "multi", "--human", "--post", "9"], "say which with --platform"),
        (["mark", "--brand", "acme", "--human", "--post", "9", "--platform", "mastodon"], "no profile on"),
        (
            ["mark", "--brand", "acme", "--human", "--text", "hello there", "--platform", "x"],
            "goes with --post",
        ),
        (["mark", "--brand", "acme", "--human", "--post", " "], "not a post id"),
        (["unmark", "--brand", "acme", "--text", "never marked"], "has no correction"),
    ],
)
def test_bad_input_says_what_is_wrong(brands: PostStore, argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _run(brands, *argv)
    assert brands.list_corrections("acme") == []


@pytest.mark.parametrize(
    "argv",
    [
        ["mark", "--brand", "acme", "--text", "hello there"],
        ["mark", "--brand", "acme", "--human", "--automated", "--text", "hello there"],
        ["mark", "--brand", "acme", "--human"],
        ["mark", "--brand", "acme", "--human", "--post", "1", "--text", "hello there"],
    ],
)
def test_a_verdict_and_one_target_are_required(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["automation", *argv])
    assert exit_.value.code == 2
