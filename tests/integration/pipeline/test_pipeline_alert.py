"""The alert step on moto: real store, SNS topic and SSM SecureStrings, and real HTTP deliveries
to a loopback webhook receiver speaking as Slack, Teams Workflows and a generic receiver."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from infra.local.webhook_receiver import WebhookReceiver, webhook_receiver
from responsegap.domain.alerts import AlertTarget, BrandAlerts, ProfileAlertRules, parse_quiet
from responsegap.domain.model import Brand, ConfigError, Post
from tests.integration.pipeline.conftest import (
    NOW,
    REGION,
    FakeContext,
    Stack,
    brand_reply,
    customer_post,
    make_brand,
)

KEY = "mastodon#acme"
HOUR = 3600
TARGETS = (
    AlertTarget("email", "sns"),
    AlertTarget("slack", "slack", "/responsegap/alerts/acme/slack"),
    AlertTarget("teams", "teams", "/responsegap/alerts/acme/teams"),
    AlertTarget("hook", "webhook", "/responsegap/alerts/acme/hook"),
)
HOSTILE = (
    "<!channel> <!here> <!everyone> @here @channel <@U024BE7LH> <#C123|general> "
    "<at>Everyone</at> <script>alert(1)</script> <b>bold</b> [click](https://evil.example) "
    '=HYPERLINK("http://x")\r\nSubject: injected\r\nBcc: victim@example.com\n\u202egnp.exe '
)


@dataclass
class Alerting:
    stack: Stack
    receiver: WebhookReceiver
    sns: Any
    topic_arn: str
    brand: Brand
    clock: list[int]

    @property
    def store(self) -> Any:
        return self.stack.store(clock=lambda: self.clock[0])

    def deps(self, *, deliverer: Any = None, claim_seconds: int = 300) -> Any:
        from responsegap.alerts.delivery import Deliverer, WebhookUrls
        from responsegap.pipeline.alert import AlertDeps
        from responsegap.store.alert_records import AlertStore

        store = self.store
        urls = WebhookUrls("/responsegap/", allow_local=True, max_age=0)
        real = Deliverer(urls=urls, sns=self.sns, topic_arn=self.topic_arn, sleep=lambda _s: None, timeout=5)
        return AlertDeps(
            store=store,
            alerts=AlertStore(store),
            deliverer=deliverer or real,
            claim_seconds=claim_seconds,
            clock=lambda: self.clock[0],
        )

    def run(self, at: int, token: str = "run", brand: Brand | None = None, **deps: Any) -> Any:
        from responsegap.pipeline.alert import run_brand_alerts

        self.clock[0] = at
        return run_brand_alerts(brand or self.brand, self.deps(**deps), at, token=token)

    def store_posts(self, *posts: Post, open_ids: tuple[str, ...] | None = None) -> None:
        ids = [p.post_id for p in posts if p.author_handle != "acme"] if open_ids is None else list(open_ids)
        self.store.save_posts(KEY, list(posts), open_post_ids=ids)

    def polled(self, at: int) -> None:
        self.store.record_poll(KEY, at, "ok")

    def published(self) -> list[dict[str, Any]]:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sns.models import sns_backends

        topic = sns_backends[DEFAULT_ACCOUNT_ID][REGION].topics[self.topic_arn]
        return [
            {"subject": subject, "attributes": attributes, **json.loads(message)}
            for _id, message, subject, attributes, _group in topic.sent_notifications
        ]

    def post_item(self, post: Post) -> dict[str, Any]:
        from responsegap.store.items import post_sk, profile_pk

        return self.stack.dynamodb.get_item(
            TableName=self.stack.table,
            Key={"pk": {"S": profile_pk(KEY)}, "sk": {"S": post_sk(post.created_at, post.post_id)}},
        )["Item"]

    def history(self) -> list[dict[str, Any]]:
        from responsegap.store.alert_records import AlertStore

        return AlertStore(self.store).history("acme")


def alerting_brand(targets: tuple[AlertTarget, ...] = TARGETS, **rules: Any) -> Brand:
    brand = make_brand()
    alerts = BrandAlerts(
        targets=targets,
        urgent_terms=("lawsuit", "unsafe"),
        profiles=((KEY, ProfileAlertRules(**rules)),) if rules else (),
    )
    return replace(brand, alerts=alerts)


@pytest.fixture
def alerting(stack: Stack) -> Iterator[Alerting]:
    import boto3

    sns = boto3.client("sns", region_name=REGION)
    ssm = boto3.client("ssm", region_name=REGION)
    topic_arn = sns.create_topic(Name="responsegap-alerts")["TopicArn"]
    with webhook_receiver() as receiver:
        for target in TARGETS[1:]:
            ssm.put_parameter(
                Name=target.url_parameter,
                Value=receiver.url(f"{target.kind}/T000/B000/{target.name}"),
                Type="SecureString",
            )
        brand = alerting_brand()
        stack.store().put_brand(brand)
        yield Alerting(stack, receiver, sns, topic_arn, brand, [NOW])


def counts(alerting: Alerting) -> dict[str, int]:
    out = {kind: len(alerting.receiver.delivered(kind)) for kind in ("slack", "teams", "webhook")}
    out["sns"] = len(alerting.published())
    return out


def overdue_ids(alerting: Alerting) -> list[list[str]]:
    return [[p["post_id"] for p in r.json["overdue"]] for r in alerting.receiver.delivered("webhook")]


# ------------------------------------------------------------------------------ once


def test_an_overdue_post_is_alerted_once_across_overlapping_and_retried_runs(alerting: Alerting) -> None:
    post = customer_post(1, NOW)
    alerting.store_posts(post)
    alerting.polled(NOW + HOUR + 60)

    # Two runs overlap: the second starts while the first is delivering.
    from responsegap.alerts.delivery import Deliverer

    inner: dict[str, Any] = {}

    class Overlapping(Deliverer):
        def deliver(self, target: Any, digest: Any) -> Any:
            if "second" not in inner:
                inner["second"] = alerting.run(NOW + HOUR + 61, token="second")
            return real.deliver(target, digest)

    real = alerting.deps().deliverer
    first = alerting.run(NOW + HOUR + 61, token="first", deliverer=Overlapping(urls=real.urls))
    assert first.alerted == 1 and inner["second"].claimed == 0 and inner["second"].alerted == 0
    # Retried (same message: same token) and re-run later: nothing is sent again.
    again = alerting.run(NOW + HOUR + 120, token="first")
    later = alerting.run(NOW + 2 * HOUR, token="third")
    assert again.claimed == later.claimed == 0
    assert counts(alerting) == {"slack": 1, "teams": 1, "webhook": 1, "sns": 1}
    item = alerting.post_item(post)
    assert set(item["alert_sent"]["SS"]) == {"email", "slack", "teams", "hook"}
    assert "alert_claim" not in item and int(item["alerted_at"]["N"]) == NOW + HOUR + 61
    (row,) = alerting.history()
    assert row["post_id"] == "c1" and row["answered_after_alert"] is False


def test_a_run_that_died_after_claiming_is_retried_by_its_own_message_or_after_the_lease(
    alerting: Alerting,
) -> None:
    post = customer_post(1, NOW)
    alerting.store_posts(post)
    alerting.polled(NOW + HOUR + 60)

    class Crash:
        def deliver(self, target: Any, digest: Any) -> Any:
            raise RuntimeError("Lambda timed out")

    with pytest.raises(RuntimeError):
        alerting.run(NOW + HOUR + 61, token="m1", deliverer=Crash())
    assert counts(alerting) == {"slack": 0, "teams": 0, "webhook": 0, "sns": 0}
    # Another run within the lease leaves the claim alone; the retried message takes it back.
    assert alerting.run(NOW + HOUR + 90, token="m2").claimed == 0
    assert alerting.run(NOW + HOUR + 120, token="m1").alerted == 1
    assert counts(alerting) == {"slack": 1, "teams": 1, "webhook": 1, "sns": 1}

    # A claim nobody completes lapses: a later run with another token sends it.
    other = customer_post(2, NOW + 10)
    alerting.store_posts(other)
    alerting.polled(NOW + 2 * HOUR)
    with pytest.raises(RuntimeError):
        alerting.run(NOW + 2 * HOUR, token="m3", deliverer=Crash())
    assert alerting.run(NOW + 2 * HOUR + 100, token="m4").claimed == 0
    assert alerting.run(NOW + 2 * HOUR + 301, token="m5").alerted == 1
    assert overdue_ids(alerting) == [["c1"], ["c2"]]


# ------------------------------------------------------------------------------ who is due


def test_a_post_answered_by_a_person_before_its_threshold_is_never_alerted(alerting: Alerting) -> None:
    post = customer_post(1, NOW)
    alerting.store_posts(post, brand_reply(1, post, NOW + 1800))
    for hour in range(1, 6):
        alerting.polled(NOW + hour * HOUR)
        alerting.run(NOW + hour * HOUR + 1, token=f"r{hour}")
    assert counts(alerting) == {"slack": 0, "teams": 0, "webhook": 0, "sns": 0}
    assert alerting.post_item(post)["status"]["S"] == "answered"  # closed by the alert step itself


def test_an_automated_acknowledgement_does_not_silence_the_alert(alerting: Alerting) -> None:
    post = customer_post(1, NOW)
    ack = replace(
        brand_reply(1, post, NOW + 5),
        text="Thanks for your message! We reply within 48h.",
        application="AutoReply",
    )
    alerting.store_posts(post, ack)
    alerting.polled(NOW + HOUR + 30)
    assert alerting.run(NOW + HOUR + 31).alerted == 1
    assert overdue_ids(alerting) == [["c1"]]


def test_nothing_is_alerted_before_a_poll_confirms_the_post_is_still_unanswered(alerting: Alerting) -> None:
    post = customer_post(1, NOW)
    alerting.store_posts(post)
    alerting.polled(NOW + HOUR - 10)  # the last poll started before the threshold
    assert alerting.run(NOW + HOUR + 200).due == 0
    alerting.polled(NOW + HOUR + 300)
    assert alerting.run(NOW + HOUR + 301).alerted == 1


def test_out_of_hours_posts_use_their_own_threshold(stack: Stack, alerting: Alerting) -> None:
    brand = alerting_brand(out_of_hours_threshold_seconds=4 * HOUR)
    night = customer_post(1, NOW)  # Thursday 00:00 in London: out of hours
    day = customer_post(2, NOW + 10 * HOUR)  # Thursday 10:00: in hours
    alerting.store_posts(night, day)
    alerting.polled(NOW + 11 * HOUR + 60)
    summary = alerting.run(NOW + 11 * HOUR + 61, brand=brand)
    assert summary.alerted == 2
    (digest,) = alerting.receiver.delivered("webhook")
    by_id = {p["post_id"]: p for p in digest.json["overdue"]}
    assert by_id["c1"]["out_of_hours"] is True and by_id["c2"]["out_of_hours"] is False
    assert by_id["c1"]["waited_seconds"] == 11 * HOUR + 61
    # Posted at 01:00 out of hours: not yet overdue two hours later with the 4 h threshold.
    late = customer_post(3, NOW + 25 * HOUR)
    alerting.store_posts(late)
    alerting.polled(NOW + 27 * HOUR)
    assert alerting.run(NOW + 27 * HOUR + 1, brand=brand, token="t2").due == 0


def test_a_quiet_period_holds_alerts_and_sends_them_as_one_digest_after(alerting: Alerting) -> None:
    brand = alerting_brand(quiet=parse_quiet({"daily": "22:00-07:00"}))
    evening = NOW - 2 * HOUR  # Wednesday 22:00 London
    posts = [customer_post(n, evening + n * 30 * 60) for n in range(1, 4)]  # 22:30, 23:00, 23:30
    alerting.store_posts(*posts)
    for hour in range(1, 9):  # polls and runs every hour through the night, up to 06:00
        alerting.polled(evening + hour * HOUR)
        summary = alerting.run(evening + hour * HOUR + 5, brand=brand, token=f"n{hour}")
        assert summary.claimed == 0
    assert summary.held == 3
    assert counts(alerting) == {"slack": 0, "teams": 0, "webhook": 0, "sns": 0}
    alerting.polled(NOW + 7 * HOUR + 60)  # 07:01: the period is over
    summary = alerting.run(NOW + 7 * HOUR + 61, brand=brand, token="morning")
    assert summary.alerted == 3
    assert counts(alerting) == {"slack": 1, "teams": 1, "webhook": 1, "sns": 1}
    (digest,) = alerting.receiver.delivered("webhook")
    assert [p["post_id"] for p in digest.json["overdue"]] == ["c1", "c2", "c3"]
    assert all(p["held_by_quiet_period"] for p in digest.json["overdue"])
    assert all(row["held"] for row in alerting.history())


def test_an_urgent_term_alerts_at_once_and_names_the_term(alerting: Alerting) -> None:
    post = replace(customer_post(1, NOW), text="@acme the stairs are UNSAFE, my lawyer says lawsuit")
    calm = customer_post(2, NOW)
    alerting.store_posts(post, calm)
    alerting.polled(NOW + 60)
    summary = alerting.run(NOW + 61)
    assert summary.alerted == 1 and summary.latencies == [61]
    (hook,) = alerting.receiver.delivered("webhook")
    assert hook.json["overdue"][0]["urgent_term"] == "unsafe"
    (slack,) = alerting.receiver.delivered("slack")
    assert "urgent: contains “unsafe”" in json.dumps(slack.json, ensure_ascii=False)
    (teams,) = alerting.receiver.delivered("teams")
    assert "URGENT: contains “unsafe”" in json.dumps(teams.json, ensure_ascii=False)
    (email,) = alerting.published()
    assert 'URGENT: contains "unsafe"' in email["email"] and "1 urgent" in email["subject"]


# ------------------------------------------------------------------------------ hostile text


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, str):
        yield value


def test_hostile_text_comes_out_inert_on_every_target(alerting: Alerting) -> None:
    text = "@acme lawsuit " + HOSTILE + "x" * 10_000
    post = replace(customer_post(1, NOW), text=text, url="https://mastodon.example/@customer1/c1")
    alerting.store_posts(post)
    alerting.polled(NOW + 60)
    assert alerting.run(NOW + 61).alerted == 1

    (slack,) = alerting.receiver.delivered("slack")
    body = slack.json
    # Slack: the only control sequences are our own link; mentions are escaped or broken.
    rendered = "\n".join(_texts(body["blocks"])) + body["text"]
    assert re.findall(r"<[^>]*>", rendered) == ["<https://mastodon.example/@customer1/c1|open post>"]
    # Shown as text: escaped as Slack documents, and broken by a WORD JOINER as well.
    assert "&lt;\u2060!channel&gt;" in rendered and "&lt;\u2060@\u2060U024BE7LH&gt;" in rendered
    assert not re.search(r"(?<![\w\u2060])@(here|channel|everyone)\b", rendered)
    assert all(t["verbatim"] for t in _mrkdwn(body["blocks"]))
    assert "lawsuit" not in body["text"] and "channel" not in body["text"]  # the notification text

    (teams,) = alerting.receiver.delivered("teams")
    card = teams.json["attachments"][0]["content"]
    assert "entities" not in json.dumps(card)
    assert "<at>" not in teams.body.decode() and "<\u2060at>Everyone<\u2060/at>" in json.dumps(
        card, ensure_ascii=False
    )
    excerpts = [
        i["text"]
        for b in card["body"]
        if b["type"] == "RichTextBlock"
        for i in b["inlines"]
        if i.get("italic")
    ]
    assert len(excerpts) == 1 and all(b["type"] != "TextBlock" for b in card["body"])

    (hook,) = alerting.receiver.delivered("webhook")
    item = hook.json["overdue"][0]
    for target_body in (slack.body, teams.body, hook.body):
        assert len(target_body) < 10_000  # a cut excerpt, not the 10 kB post
        assert b"\\r" not in target_body and b"\\nSubject" not in target_body
    assert (
        len(item["excerpt"].replace("\u2060", "")) <= 140
        and "\r" not in item["excerpt"]
        and "\n" not in item["excerpt"]
    )
    assert "\u202e" not in item["excerpt"]
    for received in alerting.receiver.delivered():
        headers = " ".join(received.headers.values())
        assert "lawsuit" not in headers and "channel" not in headers and "injected" not in headers
        assert "lawsuit" not in received.path

    (email,) = alerting.published()
    assert email["subject"] == "responsegap acme: 1 overdue post, 1 urgent"
    assert "injected" not in email["sms"] and "channel" not in email["sms"]
    excerpt_line = next(line for line in email["email"].splitlines() if "!channel" in line)
    assert "\r" not in excerpt_line and len(excerpt_line) < 170
    assert "\nSubject: injected" not in email["email"] and "\nBcc:" not in email["email"]


def _mrkdwn(blocks: list[Any]) -> Iterator[dict[str, Any]]:
    for block in blocks:
        for text in [block.get("text"), *block.get("elements", [])]:
            if isinstance(text, dict) and text.get("type") == "mrkdwn":
                yield text


# ------------------------------------------------------------------------------ failures


def test_a_failing_webhook_leaves_the_post_not_alerted_for_the_next_run(alerting: Alerting) -> None:
    brand = alerting_brand(targets=(TARGETS[1],))  # Slack only
    post = customer_post(1, NOW)
    alerting.store_posts(post)
    alerting.polled(NOW + HOUR + 60)
    alerting.receiver.fail("/slack/", 500)
    for attempt in range(3):
        summary = alerting.run(NOW + HOUR + 61 + attempt * 300, brand=brand, token=f"f{attempt}")
        assert summary.alerted == 0 and summary.released == 1
        (delivery,) = summary.deliveries
        assert not delivery.ok and delivery.attempts == 3 and delivery.detail == "Slack HTTP 500 no_service"
    assert summary.failing_targets == ["slack"]  # three runs in a row: the alarm's metric
    item = alerting.post_item(post)
    assert "alerted_at" not in item and "alert_sent" not in item and "alert_claim" not in item
    assert alerting.history() == []

    alerting.receiver.recover()
    summary = alerting.run(NOW + 2 * HOUR, brand=brand, token="ok")
    assert summary.alerted == 1 and summary.failing_targets == []
    assert len(alerting.receiver.delivered("slack")) == 1


def test_one_failing_target_is_retried_alone_and_the_others_are_not_told_twice(alerting: Alerting) -> None:
    post = customer_post(1, NOW)
    alerting.store_posts(post)
    alerting.polled(NOW + HOUR + 60)
    alerting.receiver.fail("/teams/", 503)
    first = alerting.run(NOW + HOUR + 61, token="a")
    assert first.alerted == 1  # someone was told: it counts as alerted
    assert set(alerting.post_item(post)["alert_sent"]["SS"]) == {"email", "slack", "hook"}
    alerting.receiver.recover()
    second = alerting.run(NOW + HOUR + 400, token="b")
    assert second.alerted == 0 and second.claimed == 1
    assert counts(alerting) == {"slack": 1, "teams": 1, "webhook": 1, "sns": 1}


def test_a_webhook_url_that_is_not_allowed_is_refused_without_showing_it(alerting: Alerting) -> None:
    import boto3

    from responsegap.alerts.delivery import Deliverer, WebhookUrls

    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(
        Name="/responsegap/alerts/acme/slack",
        Value="https://evil.example/secret-token-123",
        Type="SecureString",
        Overwrite=True,
    )
    strict = Deliverer(
        urls=WebhookUrls("/responsegap/", max_age=0), sns=alerting.sns, topic_arn=alerting.topic_arn
    )
    post = customer_post(1, NOW)
    alerting.store_posts(post)
    alerting.polled(NOW + HOUR + 60)
    summary = alerting.run(NOW + HOUR + 61, brand=alerting_brand(targets=(TARGETS[1],)), deliverer=strict)
    (delivery,) = summary.deliveries
    assert not delivery.ok and "hooks.slack.com" in delivery.detail and "secret-token" not in delivery.detail
    assert summary.alerted == 0


# ------------------------------------------------------------------------------ answered after


def test_a_person_answering_after_the_alert_is_reported_in_the_next_digest(alerting: Alerting) -> None:
    first = customer_post(1, NOW)
    alerting.store_posts(first)
    alerting.polled(NOW + HOUR + 60)
    assert alerting.run(NOW + HOUR + 61, token="a").alerted == 1
    # A person answers; later another post goes overdue.
    second = customer_post(2, NOW + HOUR)
    alerting.store_posts(brand_reply(1, first, NOW + HOUR + 600), second)
    alerting.polled(NOW + 2 * HOUR + 60)
    summary = alerting.run(NOW + 2 * HOUR + 61, token="b")
    assert summary.alerted == 1 and summary.answered_after_alert == 1
    digest = alerting.receiver.delivered("webhook")[-1].json
    assert [p["post_id"] for p in digest["overdue"]] == ["c2"]
    assert [n["post_id"] for n in digest["answered_after_alert"]] == ["c1"]
    email = alerting.published()[-1]
    assert "Answered after the alert:" in email["email"] and "1 answered after the alert" in email["subject"]
    slack = json.dumps(alerting.receiver.delivered("slack")[-1].json)
    assert "Answered after the alert" in slack
    rows = {r["post_id"]: r for r in alerting.history()}
    assert rows["c1"]["answered_after_alert"] is True and rows["c2"]["answered_after_alert"] is False
    # Reported once.
    alerting.polled(NOW + 3 * HOUR)
    assert alerting.run(NOW + 3 * HOUR + 1, token="c").answered_after_alert == 0
    assert len(alerting.receiver.delivered("webhook")) == 2


def test_an_answer_found_by_recheck_is_reported_too(alerting: Alerting) -> None:
    from responsegap.store.alert_records import AlertStore

    post = customer_post(1, NOW)
    alerting.store_posts(post)
    alerting.polled(NOW + HOUR + 60)
    alerting.run(NOW + HOUR + 61, token="a")
    alerting.store.close_open(KEY, post, "answered")  # what recheck does on a human reply
    summary = alerting.run(NOW + 2 * HOUR, token="b")
    assert summary.answered_after_alert == 1 and summary.notes_sent == 1
    assert AlertStore(alerting.store).watches("acme") == []
    assert alerting.receiver.delivered("teams")[-1].json["attachments"][0]["content"]["body"]


# ------------------------------------------------------------------------------ through the handler


def test_poll_asks_for_alerts_and_the_handler_runs_one_brand_once_per_batch(
    alerting: Alerting, monkeypatch: pytest.MonkeyPatch
) -> None:
    from responsegap.pipeline.alert import AlertTrigger
    from tests.integration.pipeline.conftest import sqs_event

    sqs = alerting.stack.sqs
    queue = sqs.create_queue(QueueName="alerts.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    post = customer_post(1, NOW)
    alerting.store_posts(post)
    alerting.polled(NOW + HOUR + 60)
    trigger = AlertTrigger(sqs, queue)
    trigger.poll_stored("acme", KEY, NOW + HOUR + 60)
    trigger.poll_stored("acme", "mastodon#acme1", NOW + HOUR + 61)
    trigger.poll_stored("acme", KEY, NOW + HOUR + 60)  # a redelivered poll: deduplicated
    messages = alerting.stack.receive_all(queue)
    assert len(messages) == 2 and {m["Attributes"]["MessageGroupId"] for m in messages} == {"acme"}

    monkeypatch.setenv("ALERT_TOPIC_ARN", alerting.topic_arn)
    monkeypatch.setenv("ALLOW_LOCAL_ENDPOINTS", "true")
    module = alerting.stack.load("alert")
    module.DEPS.clock = lambda: NOW + HOUR + 62
    module.DEPS.deliverer.sleep = lambda _s: None
    import responsegap.pipeline.alert as pipeline

    runs: list[str] = []
    real_run = pipeline.run_brand_alerts

    def counted(brand: Brand, deps: Any, now: int, *, token: str, state: Any = None) -> Any:
        runs.append(token)
        return real_run(brand, deps, now, token=token, state=state)

    monkeypatch.setattr(pipeline, "run_brand_alerts", counted)
    result = module.lambda_handler(sqs_event(messages, arn), FakeContext())
    assert result == {"batchItemFailures": []}
    assert runs == [f"acme:{messages[0]['MessageId']}"]  # the second job was covered by the first run
    assert counts(alerting) == {"slack": 1, "teams": 1, "webhook": 1, "sns": 1}
    # Delivered again later (a redelivery of the same messages): covered by the run, nothing sent.
    module.DEPS.clock = lambda: NOW + HOUR + 900
    assert module.lambda_handler(sqs_event(messages, arn), FakeContext()) == {"batchItemFailures": []}
    assert len(runs) == 1
    assert counts(alerting) == {"slack": 1, "teams": 1, "webhook": 1, "sns": 1}


# ------------------------------------------------------------------------------ the command


def test_alerts_test_sends_a_sample_digest_to_every_target_and_marks_nothing(
    alerting: Alerting, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from responsegap.commands import alerts as command

    args = argparse.Namespace(action="test", brand="acme", target=None, stack=None, region=None)
    deliverer = alerting.deps().deliverer
    assert command.run(args, store=alerting.store, deliverer=deliverer) == 0
    out = capsys.readouterr().out
    assert out.count("delivered after 1 attempt(s)") == 4
    assert counts(alerting) == {"slack": 1, "teams": 1, "webhook": 1, "sns": 1}
    (email,) = alerting.published()
    assert (
        email["subject"].startswith("responsegap acme: TEST: ")
        and email["attributes"]["kind"]["Value"] == "sample"
    )
    assert alerting.receiver.delivered("webhook")[0].json["sample"] is True
    assert alerting.history() == []
    # One target only; and a target that is down makes the command fail.
    alerting.receiver.fail("/teams/", 500)
    args.target = "teams"
    assert command.run(args, store=alerting.store, deliverer=deliverer) == 1
    assert "teams (teams): NOT delivered after 3 attempt(s): HTTP 500" in capsys.readouterr().out
    args.target = "pager"
    with pytest.raises(ConfigError, match="no alert target named 'pager'"):
        command.run(args, store=alerting.store, deliverer=deliverer)


def test_alerts_history_prints_the_alerted_posts(
    alerting: Alerting, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from responsegap.commands import alerts as command

    alerting.store_posts(customer_post(1, NOW))
    alerting.polled(NOW + HOUR + 60)
    alerting.run(NOW + HOUR + 61)
    args = argparse.Namespace(action="history", brand="acme", stack=None, region=None)
    assert command.run(args, store=alerting.store) == 0
    (line,) = capsys.readouterr().out.splitlines()
    row = json.loads(line)
    assert (row["brand"], row["profile"], row["post_id"], row["waited_seconds"]) == (
        "acme",
        KEY,
        "c1",
        HOUR + 61,
    )
    assert row["out_of_hours"] is True and row["answered_after_alert"] is False
    assert row["alerted_at"] == "2026-01-01T01:01:01Z" and row["minutes_overdue_to_alert"] == 1.0


def test_a_poll_that_stored_nothing_runs_nothing_until_a_post_can_be_due(
    alerting: Alerting, monkeypatch: pytest.MonkeyPatch
) -> None:
    from responsegap.pipeline.alert import AlertTrigger
    from tests.integration.pipeline.conftest import sqs_event

    sqs = alerting.stack.sqs
    queue = sqs.create_queue(QueueName="alerts2.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    monkeypatch.setenv("ALERT_TOPIC_ARN", alerting.topic_arn)
    monkeypatch.setenv("ALLOW_LOCAL_ENDPOINTS", "true")
    module = alerting.stack.load("alert")
    trigger = AlertTrigger(sqs, queue)
    alerting.store_posts(customer_post(1, NOW))

    def deliver_job(at: int, changed: int) -> None:
        alerting.polled(at)
        trigger.poll_stored("acme", KEY, at, changed)
        module.DEPS.clock = lambda: at
        messages = alerting.stack.receive_all(queue)
        assert module.lambda_handler(sqs_event(messages, arn), FakeContext()) == {"batchItemFailures": []}
        alerting.stack.delete(queue, messages)

    from responsegap.store.alert_records import AlertStore

    deliver_job(NOW + 60, 1)  # stored the post: a run, which finds it due at NOW + 1 h
    assert AlertStore(alerting.store).run_state("acme").next_check_at == NOW + HOUR
    started = AlertStore(alerting.store).run_state("acme").last_run_started_at
    deliver_job(NOW + 1800, 0)  # nothing stored, nothing due yet: no run
    assert AlertStore(alerting.store).run_state("acme").last_run_started_at == started
    deliver_job(NOW + HOUR + 60, 0)  # nothing stored, but the post is due now
    assert counts(alerting) == {"slack": 1, "teams": 1, "webhook": 1, "sns": 1}
    assert AlertStore(alerting.store).run_state("acme").next_check_at == 2**31 - 1
