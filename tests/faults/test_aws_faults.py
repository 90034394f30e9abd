"""Faults on the AWS side: SQS redelivery, a Lambda killed mid-poll, DynamoDB throttling
(inside and beyond the SDK's retries) and ``UnprocessedItems`` in a bulk load.

Throttling is injected with botocore event hooks on the handler's own DynamoDB client:
``before-send`` answers an attempt with HTTP 400 ``ProvisionedThroughputExceededException``
or ``ThrottlingException`` (the SDK's retry handler sees it and retries, as in AWS);
``before-call`` fails a whole call, as when the SDK's retries are used up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse

from tests.faults.harness import END, START, TICK_SECONDS, FakeX, Hooks, LambdaKilled, Message, parse_instant

T = parse_instant


def throttle_body(code: str) -> bytes:
    return json.dumps(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "Rate exceeded"}
    ).encode()


def throttle_attempts(client: Any, operation: str, code: str, should: Callable[[], bool]) -> list[str]:
    """Answer attempts of ``operation`` with a 400 ``code`` while ``should()``; the SDK retries them."""
    injected: list[str] = []

    def hook(request: Any, **_: Any) -> AWSResponse | None:
        if not should():
            return None
        injected.append(operation)
        return AWSResponse(
            request.url, 400, {"x-amzn-RequestId": "throttled"}, MockRawResponse(throttle_body(code))
        )

    client.meta.events.register_first(f"before-send.dynamodb.{operation}", hook)
    return injected


def fail_calls(client: Any, operation: str, code: str, should: Callable[[], bool]) -> list[str]:
    """Fail whole ``operation`` calls with ``code`` while ``should()``: the SDK's retries ran out."""
    injected: list[str] = []

    def hook(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if not should():
            return None
        injected.append(operation)
        response = AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, {}, MockRawResponse(b""))
        parsed = {
            "Error": {"Code": code, "Message": "Rate exceeded"},
            "ResponseMetadata": {"HTTPStatusCode": 400, "RetryAttempts": 9},
        }
        return response, parsed

    client.meta.events.register_first(f"before-call.dynamodb.{operation}", hook)
    return injected


def test_sqs_delivers_every_message_twice(reference, faulty, compare) -> None:
    result = faulty(FakeX(), Hooks(redeliver_every_message=True))
    ok_polls = [t for t, outcome in result.polls if outcome == "ok"]
    assert ok_polls
    compare(result, reference())  # no post twice, no figure counted twice


def test_a_dispatch_retried_in_the_same_round_sends_no_second_poll(reference, faulty, compare) -> None:
    result = faulty(FakeX(), Hooks(dispatch_twice=True))
    ticks = len(range(START, END, TICK_SECONDS))
    assert result.stack.sqs.sent <= ticks + 1  # one poll message a round (+ the recheck), not two
    compare(result, reference())


def test_lambda_killed_between_storing_posts_and_advancing_the_cursor(reference, faulty, compare) -> None:
    kills: list[int] = []

    def loaded(poll: Any) -> None:
        store = poll.DEPS.store
        original = store.save_cursor

        def save_cursor(*args: Any, **kwargs: Any) -> bool:
            if len(kills) < 3:  # the first three polls die after their posts are stored
                kills.append(1)
                raise LambdaKilled
            return original(*args, **kwargs)

        store.save_cursor = save_cursor

    result = faulty(FakeX(), Hooks(on_loaded=loaded))
    assert len(kills) == 3
    compare(result, reference())


def test_lambda_killed_in_the_middle_of_storing_posts(reference, faulty, compare) -> None:
    calls: list[str] = []

    def loaded(poll: Any) -> None:
        client = poll.DEPS.store.client

        def hook(**_: Any) -> None:
            calls.append("put")
            if len(calls) in (2, 9, 10):  # the second post of a poll, and two in a row later
                raise LambdaKilled

        client.meta.events.register("before-call.dynamodb.PutItem", hook)

    result = faulty(FakeX(), Hooks(on_loaded=loaded))
    assert len(calls) > 10
    compare(result, reference())


def test_a_killed_invocation_with_a_full_batch_redelivers_all_of_it(reference, faulty, compare) -> None:
    killed: list[int] = []

    def before(now: int, batch: list[Message]) -> None:
        if T("2026-11-23T10:25:00Z") <= now < T("2026-11-23T10:45:00Z") and batch[0].receives == 1:
            killed.append(now)
            raise LambdaKilled  # the runtime died before the first record (cold-start timeout)

    result = faulty(FakeX(), Hooks(before_invoke=before))
    assert killed
    compare(result, reference())


def test_dynamodb_throttling_absorbed_by_sdk_retries(reference, faulty, compare) -> None:
    injected: dict[str, list[str]] = {}

    def loaded(poll: Any) -> None:
        client = poll.DEPS.store.client
        counts = {"PutItem": 0, "UpdateItem": 0, "Query": 0}

        def every(operation: str, n: int) -> Callable[[], bool]:
            def should() -> bool:
                counts[operation] += 1
                return counts[operation] % n == 1 and counts[operation] < 40

            return should

        injected["put"] = throttle_attempts(
            client, "PutItem", "ProvisionedThroughputExceededException", every("PutItem", 4)
        )
        injected["update"] = throttle_attempts(
            client, "UpdateItem", "ThrottlingException", every("UpdateItem", 3)
        )
        injected["query"] = throttle_attempts(client, "Query", "ThrottlingException", every("Query", 5))

    result = faulty(FakeX(), Hooks(on_loaded=loaded))
    assert all(injected[k] for k in ("put", "update", "query")), injected
    assert not any(outcome == "failed" for _, outcome in result.polls)
    compare(result, reference())


def test_dynamodb_throttling_beyond_the_sdk_retries(reference, faulty, compare) -> None:
    platform = FakeX()
    injected: dict[str, list[str]] = {}

    def loaded(poll: Any) -> None:
        client = poll.DEPS.store.client

        def window(start: str, end: str) -> Callable[[], bool]:
            return lambda: T(start) <= platform.now < T(end)

        injected["put"] = fail_calls(
            client,
            "PutItem",
            "ProvisionedThroughputExceededException",
            window("2026-11-23T10:15:00Z", "2026-11-23T10:30:00Z"),
        )
        injected["update"] = fail_calls(
            client,
            "UpdateItem",
            "ThrottlingException",
            window("2026-11-23T10:55:00Z", "2026-11-23T11:10:00Z"),
        )

    result = faulty(platform, Hooks(on_loaded=loaded))
    assert injected["put"] and injected["update"]
    compare(result, reference())


def test_unprocessed_items_in_a_bulk_load_are_retried(aws_env: None, tmp_path: Any) -> None:
    """The archive back-fill (``PostStore.bulk_load``): partial batches and a throttled batch."""
    import boto3
    from moto import mock_aws

    from responsegap.archive.twcs import read_twcs
    from responsegap.store.dynamo import PostStore
    from responsegap.store.schema import create_table
    from tests.integration.conftest import UnprocessingClient

    archive = tmp_path / "twcs.csv"
    rows = ["tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"]
    for n in range(1, 59):
        stamp = f"Mon Nov 23 10:{n:02d}:{'00' if n % 2 else '30'} +0000 2026"
        if n % 2:
            rows.append(f'{n},{100 + n},True,{stamp},"@AcmeHelp help {n}",{n + 1},')
        else:
            rows.append(f'{n},AcmeHelp,False,{stamp},"@{99 + n} on it ^JK",,{n - 1}')
    archive.write_text("\n".join(rows) + "\n", encoding="utf-8")
    posts = list(read_twcs(archive))
    assert len(posts) == 58
    key = "twcs#faults"

    def load(wrap: Callable[[Any], Any] | None) -> dict[str, Any]:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            create_table(client, "bulk")
            store = PostStore(
                "bulk", wrap(client) if wrap else client, clock=lambda: 1_795_000_000, sleep=lambda _s: None
            )
            store.bulk_load(key, posts)
            items = client.query(
                TableName="bulk",
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"PROFILE#{key}"}},
            )["Items"]
            return {i["sk"]["S"]: i for i in items}

    throttled: list[str] = []

    def throttle(client: Any) -> Any:
        count = [0]

        def should() -> bool:
            count[0] += 1
            return count[0] <= 3

        throttled.append(
            throttle_attempts(client, "BatchWriteItem", "ProvisionedThroughputExceededException", should)
        )
        return UnprocessingClient(client, failures=3)

    expected = load(None)
    assert load(lambda c: UnprocessingClient(c, failures=5)) == expected
    assert load(throttle) == expected
    assert throttled and len(throttled[0]) == 3  # the SDK retried three throttled attempts
    assert len(expected) == len({(p.created_at, p.post_id) for p in posts})
