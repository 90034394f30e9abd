"""The table comes from template.yaml's Table resource, CloudFormation tags and all."""

from __future__ import annotations

from pathlib import Path

import pytest

from responsegap.store.schema import TemplateNotFound, find_template, table_spec_from_template

REPO = Path(__file__).resolve().parents[2]


def test_the_spec_is_the_templates_table() -> None:
    spec = table_spec_from_template(REPO / "template.yaml")
    assert spec["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert spec["BillingMode"] == "PAY_PER_REQUEST"
    (index,) = spec["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "open_posts" and index["Projection"] == {"ProjectionType": "ALL"}


def test_tags_are_read_safely(tmp_path: Path) -> None:
    template = (REPO / "template.yaml").read_text() + (
        "  Extra:\n    Value: !Sub '${AWS::StackName}-x'\n"
        "    Other: !GetAtt Table.Arn\n    List: !Join [',', [a, b]]\n"
    )
    path = tmp_path / "template.yaml"
    path.write_text(template)
    assert table_spec_from_template(path) == table_spec_from_template(REPO / "template.yaml")


def test_the_template_is_found_from_below_the_repo() -> None:
    assert find_template(REPO / "shared" / "responsegap") == REPO / "template.yaml"


def test_a_missing_template_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RESPONSEGAP_TEMPLATE", str(tmp_path / "nope.yaml"))
    with pytest.raises(TemplateNotFound, match=r"nope\.yaml"):
        find_template()


def test_the_created_table_has_ttl_and_the_index(dynamodb: object, table: str) -> None:
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at" and ttl["TimeToLiveStatus"] == "ENABLED"
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert [i["IndexName"] for i in described["GlobalSecondaryIndexes"]] == ["open_posts"]
