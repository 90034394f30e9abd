"""The demo's two servers on their own: the platform server speaks the recorded API shapes,
and the embedded AWS is provisioned from template.yaml (and lets go of its port)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local.clock import WEEK, SimClock, last_full_week, weeks_shift
from infra.local.platform_server import ServerConfig, build_world, platform_server
from tests.e2e.conftest import REPO

pytestmark = pytest.mark.e2e

DATA = REPO / "infra/data/twcs/twcs-head-public.csv"
FIXTURES = REPO / "tests/fixtures"
NOW = 1_795_651_200  # Thu 2026-11-26 00:00 UTC: the archive's last full week becomes 2026-W47


def _fixture(platform: str, name: str) -> Any:
    return json.loads((FIXTURES / platform / name).read_text(encoding="utf-8"))


def _keys(value: Any) -> set[str]:
    """Every key path of a JSON value, list items merged: the shape, not the data."""
    out: set[str] = set()

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                out.add(f"{path}.{key}")
                walk(child, f"{path}.{key}")
        elif isinstance(node, list):
            for child in node:
                walk(child, f"{path}[]")

    walk(value, "")
    return out


@pytest.fixture(scope="module")
def local_platforms() -> Any:
    from responsegap.archive.twcs import read_twcs

    week = last_full_week([p.created_at for p in read_twcs(DATA) if p.created_at > 1_500_000_000])
    shift = weeks_shift(week, NOW)
    world = build_world(DATA, {"Uber_Support": "x", "SpotifyCares": "mastodon"}, shift)
    clock = SimClock(week + shift + WEEK)  # the end of the week: everything of it is out
    spotify = world.brand_account("mastodon", "SpotifyCares").id
    config = ServerConfig(mastodon_tokens={"tok": spotify})
    with platform_server(world, clock, config) as server:
        yield server, world, clock


def test_x_mentions_have_the_recorded_shape(local_platforms: Any) -> None:
    server, world, _ = local_platforms
    user = world.brand_account("x", "Uber_Support").id
    params = {
        "max_results": 5,
        "tweet.fields": "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,entities",
        "expansions": "author_id,referenced_tweets.id,in_reply_to_user_id",
        "user.fields": "username",
    }
    headers = {"Authorization": "Bearer local-x-bearer-token"}
    first = requests.get(
        f"{server.endpoints['x']}/users/{user}/mentions", params=params, headers=headers, timeout=5
    )
    assert first.status_code == 200
    assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(first.headers)
    body = first.json()
    recorded = _fixture("x", "users_id_mentions.page1.json")
    # Every field the recording has for a post and the page is served (entities only when present).
    assert _keys(recorded) - _keys(body) <= {".data[].entities", ".data[].entities.mentions"} | {
        k for k in _keys(recorded) if ".entities.mentions[]" in k or k.startswith(".includes.tweets")
    }
    assert body["meta"]["result_count"] == 5 and body["meta"]["next_token"]
    ids = [t["id"] for t in body["data"]]
    assert ids == sorted(ids, key=lambda i: (len(i), i), reverse=True)  # newest first
    # The next page continues below, and since_id returns only what is newer.
    second = requests.get(
        f"{server.endpoints['x']}/users/{user}/mentions",
        params={**params, "pagination_token": body["meta"]["next_token"]},
        headers=headers,
        timeout=5,
    ).json()
    assert (len(second["data"][0]["id"]), second["data"][0]["id"]) < (len(ids[-1]), ids[-1])
    newer = requests.get(
        f"{server.endpoints['x']}/users/{user}/mentions",
        params={**params, "since_id": ids[0]},
        headers=headers,
        timeout=5,
    ).json()
    assert newer == {"meta": {"result_count": 0}}
    refused = requests.get(f"{server.endpoints['x']}/users/{user}/mentions", headers={}, timeout=5)
    assert refused.status_code == 401 and set(refused.json()) >= set(_fixture("x", "error.401.json"))


def test_mastodon_notifications_and_context_have_the_recorded_shape(local_platforms: Any) -> None:
    server, _world, _ = local_platforms
    headers = {"Authorization": "Bearer tok"}
    response = requests.get(
        f"{server.endpoints['mastodon']}/api/v1/notifications",
        params={"types[]": "mention", "limit": 3},
        headers=headers,
        timeout=5,
    )
    assert response.status_code == 200
    body = response.json()
    recorded = _fixture("mastodon", "notifications.page1.json")
    assert _keys(recorded) - _keys(body) <= {
        k for k in _keys(recorded) if "media_attachments[]" in k or "tags[]" in k
    }
    assert 'rel="next"' in response.headers["Link"] and "max_id=" in response.headers["Link"]
    assert "X-RateLimit-Reset" in response.headers
    status = body[0]["status"]
    assert "spotifycares" in status["content"].lower()
    context = requests.get(
        f"{server.endpoints['mastodon']}/api/v1/statuses/{status['in_reply_to_id'] or status['id']}/context",
        headers=headers,
        timeout=5,
    ).json()
    assert set(context) == set(_fixture("mastodon", "statuses_id_context.json"))
    refused = requests.get(
        f"{server.endpoints['mastodon']}/api/v1/notifications",
        headers={"Authorization": "Bearer nope"},
        timeout=5,
    )
    assert refused.status_code == 401


def test_posts_appear_only_when_the_clock_reaches_them(local_platforms: Any) -> None:
    server, world, clock = local_platforms
    user = world.brand_account("x", "Uber_Support").id
    latest = max(i.created_at for i in world.index[("by", "x", user)])
    assert latest > clock.now()  # the archive goes on after the reported week
    visible = server.visible("by", "x", user)
    assert visible and all(i.created_at <= clock.now() for i in visible)


def test_rate_limit_every_nth_request_is_a_429(local_platforms: Any) -> None:
    server, world, _ = local_platforms
    server.config.rate_limit_every = 2
    try:
        user = world.brand_account("x", "Uber_Support").id
        statuses = [
            requests.get(
                f"{server.endpoints['x']}/users/{user}/tweets",
                headers={"Authorization": "Bearer local-x-bearer-token"},
                timeout=5,
            )
            for _ in range(4)
        ]
    finally:
        server.config.rate_limit_every = 0
    limited = [r for r in statuses if r.status_code == 429]
    assert len(limited) == 2
    assert limited[0].headers["x-rate-limit-remaining"] == "0"


def test_embedded_aws_is_provisioned_from_the_template_and_released(tmp_path: Path) -> None:
    from infra.local.embedded_aws import embedded_aws, load_template

    template = load_template()
    with embedded_aws(set_environ=False) as aws:
        port = aws.port
        env = aws.environment
        for name in ("TABLE_NAME", "POLL_QUEUE_URL", "REPORT_QUEUE_URL", "ARCHIVE_BUCKET", "SENDER_EMAIL"):
            assert env.get(name), name
        assert env["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{port}"
        table = aws.client("dynamodb").describe_table(TableName=env["TABLE_NAME"])["Table"]
        assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["open_posts"]
        queues = aws.client("sqs").list_queues()["QueueUrls"]
        assert len(queues) == len(aws.resource_of_type("AWS::SQS::Queue"))
        poll = aws.client("sqs").get_queue_attributes(QueueUrl=env["POLL_QUEUE_URL"], AttributeNames=["All"])
        redrive = json.loads(poll["Attributes"]["RedrivePolicy"])
        expected = template["Resources"]["PollQueue"]["Properties"]
        assert int(redrive["maxReceiveCount"]) == expected["RedrivePolicy"]["maxReceiveCount"]
        assert poll["Attributes"]["VisibilityTimeout"] == str(expected["VisibilityTimeout"])
        aws.client("s3").head_bucket(Bucket=env["ARCHIVE_BUCKET"])
        # Alerts: the FIFO queue with the template's delay, and the SNS topic, with no
        # subscription while AlertEmail is empty (the condition a real deploy evaluates).
        alert_queue = aws.client("sqs").get_queue_attributes(
            QueueUrl=env["ALERT_QUEUE_URL"], AttributeNames=["All"]
        )["Attributes"]
        assert alert_queue["FifoQueue"] == "true" and alert_queue["DelaySeconds"] == "20"
        assert env["ALERT_TOPIC_ARN"] == aws.physical["AlertTopic"] and env["ALERT_TOPIC_ARN"].startswith(
            "arn:aws:sns:"
        )
        assert aws.subscriptions("AlertTopic") == [] and aws.published("AlertTopic") == []
        aws.put_secure_parameter("/responsegap/x/demo", {"bearer_token": "t"})
        parameter = aws.client("ssm").get_parameter(Name="/responsegap/x/demo", WithDecryption=True)[
            "Parameter"
        ]
        assert parameter["Type"] == "SecureString"
        assert aws.sent_emails() == []
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more
