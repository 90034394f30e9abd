"""Query responses parsed as JSON give exactly what botocore's parser gives (moto DynamoDB)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from responsegap.store.query_parsing import parse_query_responses_with_json
from tests.conftest import REGION

ITEMS = [
    {
        "pk": {"S": "P#x#acme"},
        "sk": {"S": f"POST#{n:04d}"},
        "text": {"S": f'<b>hi</b> "quoted" ünïcode 😀 \\ {n}'},
        "count": {"N": str(n * 7 - 3)},
        "ratio": {"N": "0.125"},
        "flag": {"BOOL": n % 2 == 0},
        "nothing": {"NULL": True},
        "tags": {"L": [{"S": "a"}, {"N": "1"}, {"M": {"k": {"S": "v"}}}]},
        "names": {"SS": ["b", "a"]},
        "numbers": {"NS": ["1", "2.5"]},
        "meta": {"M": {"nested": {"L": [{"BOOL": False}]}}},
    }
    for n in range(40)
]


@pytest.fixture
def clients(aws: None) -> tuple[Any, Any]:
    plain = boto3.client("dynamodb", region_name=REGION)
    plain.create_table(
        TableName="q",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for item in ITEMS:
        plain.put_item(TableName="q", Item=item)
    fast = boto3.client("dynamodb", region_name=REGION)
    parse_query_responses_with_json(fast)
    return plain, fast


def bodies_seen_by_botocore(client: Any) -> list[bytes]:
    """Registered after the fast path, so it sees the body botocore's parser is then given."""
    seen: list[bytes] = []
    client.meta.events.register(
        "before-parse.dynamodb.Query", lambda response_dict, **_: seen.append(response_dict["body"])
    )
    return seen


def query_all(client: Any, **extra: Any) -> list[dict[str, Any]]:
    pages, start = [], None
    while True:
        kwargs = {"ExclusiveStartKey": start} if start else {}
        page = client.query(
            TableName="q",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "P#x#acme"}},
            Limit=15,
            ReturnConsumedCapacity="TOTAL",
            **kwargs,
            **extra,
        )
        page.pop("ResponseMetadata")
        pages.append(page)
        if not (start := page.get("LastEvaluatedKey")):
            return pages


def test_pages_equal_botocores_and_skip_its_parser(clients) -> None:
    plain, fast = clients
    seen = bodies_seen_by_botocore(fast)

    expected, got = query_all(plain), query_all(fast)

    assert got == expected
    assert [len(p["Items"]) for p in got] == [15, 15, 10]
    assert got[0]["Items"][3]["count"] == {"N": "18"}  # numbers stay strings, as botocore leaves them
    assert seen == [b"{}"] * 3  # botocore parsed nothing


def test_a_page_with_a_binary_value_goes_through_botocore(clients) -> None:
    plain, fast = clients
    plain.put_item(
        TableName="q", Item={"pk": {"S": "P#x#acme"}, "sk": {"S": "POST#9999"}, "raw": {"B": b"\x00\xff"}}
    )
    seen = bodies_seen_by_botocore(fast)

    got = query_all(fast)

    assert got == query_all(plain)
    assert got[-1]["Items"][-1]["raw"] == {"B": b"\x00\xff"}  # decoded from base64 by botocore
    assert seen[-1] != b"{}" and seen[0] == b"{}"


def test_errors_still_raise_botocores_client_error(clients) -> None:
    _, fast = clients
    with pytest.raises(ClientError) as raised:
        fast.query(
            TableName="missing",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "x"}},
        )
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_registering_twice_parses_once_and_test_doubles_are_left_alone(clients) -> None:
    _, fast = clients
    parse_query_responses_with_json(fast)
    assert query_all(fast)[0]["Count"] == 15
    parse_query_responses_with_json(object())  # no botocore event system: nothing to do
