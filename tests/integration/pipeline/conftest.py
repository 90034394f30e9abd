"""The pipeline on moto: real handlers from functions/, real store, queues, bucket and SES.

Handlers are imported fresh inside ``mock_aws`` with the environment the template gives
them, exactly as Lambda would load them (Settings read at import). Events are built the way
the services deliver them: SQS records from messages actually received from the queue,
scheduler events from the template's ``Input`` with the context attributes filled in.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from responsegap.connectors.base import PollResult
from responsegap.domain.model import Brand, BusinessHours, Post, Profile

ROOT = Path(__file__).resolve().parents[3]
REGION = "us-east-1"
SENDER = "reports@example.com"
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z, a Thursday


@dataclass
class FakeContext:
    """What the Powertools decorators read from a LambdaContext."""

    function_name: str = "responsegap-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:responsegap-test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/responsegap-test"
    log_stream_name: str = "2026/01/01/[$LATEST]abc"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class Stack:
    """The moto resources of one test and the clients that reach them."""

    table: str
    dynamodb: Any
    sqs: Any
    s3: Any
    ses: Any
    poll_queue_url: str
    poll_queue_arn: str
    poll_dlq_url: str
    report_queue_url: str
    report_queue_arn: str
    bucket: str
    env: dict[str, str]

    def store(self, clock: Callable[[], float] = lambda: NOW) -> Any:
        from responsegap.store.dynamo import PostStore

        return PostStore(self.table, self.dynamodb, clock=clock, sleep=lambda _s: None)

    def load(self, function: str) -> Any:
        """functions/<function>/app.py, imported as a cold start would."""
        path = ROOT / "functions" / function / "app.py"
        name = f"rg_handler_{function}_{uuid.uuid4().hex}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    def queue_counts(self, url: str) -> dict[str, int]:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return {
            "visible": int(attributes["ApproximateNumberOfMessages"]),
            "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
            "delayed": int(attributes["ApproximateNumberOfMessagesDelayed"]),
        }

    def receive_all(self, url: str) -> list[dict[str, Any]]:
        """Every visible message, received (and so invisible) like Lambda's poller would."""
        out: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=600
            ).get("Messages", [])
            if not batch:
                return out
            out.extend(batch)

    def delete(self, url: str, messages: Iterable[Mapping[str, Any]]) -> None:
        for message in messages:
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def sent_emails(self) -> int:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        # One entry per SendEmail call (sent_message_count counts recipients, some twice).
        return len(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def sqs_event(messages: Iterable[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS poller delivers for these received messages."""
    records = []
    for message in messages:
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def scheduler_event(job: str, scheduled_time: int, attempt: int = 1) -> dict[str, Any]:
    """The template's ScheduleV2 ``Input`` as EventBridge Scheduler fills it in."""
    when = datetime.fromtimestamp(scheduled_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "job": job,
        "scheduled_time": when,
        "execution_id": str(uuid.uuid4()),
        "attempt": str(attempt),
    }


def make_brand(
    profiles: int = 1, brand_id: str = "acme", recipients: tuple[str, ...] = ("lead@example.com",)
) -> Brand:
    return Brand(
        brand_id=brand_id,
        name="Acme",
        timezone="Europe/London",
        recipients=recipients,
        profiles=tuple(
            Profile(
                brand_id=brand_id,
                platform="mastodon",
                handle="acme" if i == 0 else f"acme{i}",
                account_id=str(100 + i),
                timezone="Europe/London",
                business_hours=BusinessHours(),
                poll_interval_seconds=300,
            )
            for i in range(profiles)
        ),
    )


def customer_post(n: int, created_at: int, handle: str = "acme") -> Post:
    return Post(
        platform="mastodon",
        post_id=f"c{n}",
        author_id=f"cust{n}",
        author_handle=f"customer{n}",
        created_at=created_at,
        text=f"@{handle} my order {n} has not arrived",
        mentions=(handle,),
    )


def brand_reply(n: int, to: Post, created_at: int) -> Post:
    return Post(
        platform="mastodon",
        post_id=f"r{n}",
        author_id="100",
        author_handle="acme",
        created_at=created_at,
        text=f"@{to.author_handle} sorry about that, we are on it -Anna",
        in_reply_to_id=to.post_id,
        in_reply_to_author_id=to.author_id,
    )


class FakeConnector:
    """A platform with a timeline; ``script`` items are raised (exceptions) or returned first.

    ``honour_cursor=False`` returns the whole timeline on every fetch, the worst case of a
    platform whose cursor is coarse: everything the poll sees is then a possible duplicate.
    """

    platform = "mastodon"

    def __init__(self, timeline: list[Post], *, honour_cursor: bool = True) -> None:
        self.timeline = timeline
        self.honour_cursor = honour_cursor
        self.script: list[Any] = []
        self.fetches: list[dict[str, str]] = []
        self.reply_requests: list[str] = []
        self.replies: dict[str, list[Post]] = {}

    def __call__(self, profile: Profile) -> FakeConnector:  # the PollDeps.connector_for factory
        return self

    def fetch(self, cursor: Mapping[str, str]) -> PollResult:
        self.fetches.append(dict(cursor))
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, BaseException):
                raise step
        since = int(cursor.get("since", "0")) if self.honour_cursor else 0
        posts = tuple(p for p in self.timeline if p.created_at > since)
        newest = max((p.created_at for p in self.timeline), default=since)
        return PollResult(posts=posts, cursor={"since": str(max(newest, since))}, requests=1)

    def fetch_replies(self, post: Post) -> PollResult:
        self.reply_requests.append(post.post_id)
        return PollResult(posts=tuple(self.replies.get(post.post_id, ())), requests=1)


@pytest.fixture
def stack(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    import boto3

    from responsegap.store.schema import create_table

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    ses = boto3.client("ses", region_name=REGION)
    table = "responsegap-pipeline"
    create_table(dynamodb, table)
    dlq = sqs.create_queue(QueueName="poll-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    poll = sqs.create_queue(
        QueueName="poll",
        Attributes={
            "VisibilityTimeout": "720",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
        },
    )["QueueUrl"]
    report = sqs.create_queue(QueueName="report", Attributes={"VisibilityTimeout": "1800"})["QueueUrl"]
    bucket = "responsegap-archive-test"
    s3.create_bucket(Bucket=bucket)
    ses.verify_email_identity(EmailAddress=SENDER)

    def arn(url: str) -> str:
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    env = {
        "TABLE_NAME": table,
        "POLL_QUEUE_URL": poll,
        "REPORT_QUEUE_URL": report,
        "ARCHIVE_BUCKET": bucket,
        "SENDER_EMAIL": SENDER,
        "LEADER_EMAILS": "",
        "REPLY_WINDOW_HOURS": "72",
        "CREDENTIALS_PATH": "/responsegap/",
        "POWERTOOLS_SERVICE_NAME": "responsegap",
        "POWERTOOLS_METRICS_NAMESPACE": "responsegap",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": "responsegap-test",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield Stack(
        table=table,
        dynamodb=dynamodb,
        sqs=sqs,
        s3=s3,
        ses=ses,
        poll_queue_url=poll,
        poll_queue_arn=arn(poll),
        poll_dlq_url=dlq,
        report_queue_url=report,
        report_queue_arn=arn(report),
        bucket=bucket,
        env=env,
    )


def stored_posts(stack: Stack, profile_key: str) -> list[dict[str, Any]]:
    """Every post item of the profile's partition, straight from the table."""
    from boto3.dynamodb.types import TypeDeserializer

    from responsegap.store.items import profile_pk

    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": stack.table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :post)",
        "ExpressionAttributeValues": {":pk": {"S": profile_pk(profile_key)}, ":post": {"S": "POST#"}},
    }
    while True:
        page = stack.dynamodb.query(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    deserializer = TypeDeserializer()
    return [{k: deserializer.deserialize(v) for k, v in item.items()} for item in items]
