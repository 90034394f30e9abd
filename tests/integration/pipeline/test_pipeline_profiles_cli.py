"""``responsegap profiles``: import, list, add and remove against the table (moto)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from responsegap.cli import main
from responsegap.commands.profiles import _table_of_stack
from responsegap.domain.model import ConfigError

from .conftest import ROOT, Stack

EXAMPLE = ROOT / "infra" / "brands.example.yaml"


def test_import_list_add_remove(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "import", str(EXAMPLE)]) == 0
    out, err = capsys.readouterr()
    assert "imported 1 brands, 2 profiles" in out
    assert "business_hours is empty" in err
    store = stack.store()
    assert sorted(e.profile_key for e in store.due_profiles(0 + 10)) == [
        "mastodon#acme@mastodon.social",
        "x#acmesupport",
    ]

    assert main(["profiles", "list"]) == 0
    listing = capsys.readouterr().out
    assert "acme\tAcme Outdoor" in listing and "x#acmesupport\tenabled" in listing

    args = ["profiles", "add", "--brand", "acme", "--platform", "bluesky", "--handle", "@Acme.bsky.social"]
    assert main(args) == 0
    assert "bluesky#acme.bsky.social" in {p.key for p in store.get_brand("acme").profiles}

    assert main(["profiles", "remove", "--brand", "acme", "--profile", "x#acmesupport"]) == 0
    assert "x#acmesupport" not in {e.profile_key for e in store.directory()}
    assert main(["profiles", "remove", "--brand", "acme"]) == 2  # a whole brand needs --yes
    assert main(["profiles", "remove", "--brand", "acme", "--yes"]) == 0
    assert store.list_brands() == [] and store.directory() == []


def test_import_validates_everything_before_writing(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "brands.yaml"
    bad.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace("https://mastodon.social", "http://10.0.0.5"),
        encoding="utf-8",
    )
    assert main(["profiles", "import", str(bad)]) == 2
    assert "must use https" in capsys.readouterr().err
    assert stack.store().list_brands() == []


def test_dry_run_needs_no_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    assert main(["profiles", "import", "--dry-run", str(EXAMPLE)]) == 0
    assert "valid (dry run" in capsys.readouterr().out


def test_table_from_stack_outputs() -> None:
    class CloudFormation:
        def describe_stacks(self, StackName: str) -> dict[str, Any]:
            return {
                "Stacks": [{"Outputs": [{"OutputKey": "TableName", "OutputValue": f"{StackName}-Table-1"}]}]
            }

    assert _table_of_stack(CloudFormation(), "responsegap") == "responsegap-Table-1"

    class Empty:
        def describe_stacks(self, StackName: str) -> dict[str, Any]:
            return {"Stacks": [{"Outputs": []}]}

    with pytest.raises(ConfigError, match="no TableName output"):
        _table_of_stack(Empty(), "other")
