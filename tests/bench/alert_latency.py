"""Alert latency over a simulated day: minutes from a post becoming overdue to its alert.

A brand with ``--profiles`` profiles (default 3; ``--posts`` 300 customer posts a day), each
polled every ``--poll-minutes`` (default 5) at its own phase, with a few seconds of poll run
time; customer posts over 24 h with a day/night rhythm; people answer ~65% of them (some
quickly, some after the threshold, some at night, some only after the alert), the rest never.
What runs is the real thing on moto in this process: ``PostStore`` writes what each poll
would find (posts the platform shows by then),
``record_poll``, the real ``AlertTrigger`` onto a FIFO queue, and the real alert handler
(``process_alert_batch``) on the received messages ``--delay`` seconds later (the template's
``AlertDelaySeconds``, default 20), delivering to a loopback Slack receiver and the SNS topic.

Printed: posts, how many became overdue and were still unanswered at the first poll after
(those must be alerted), how many were alerted (each exactly once; none answered in time may
be), median and p95 minutes from overdue to alert against the goal (poll interval + 1 min),
alert runs and their CPU time. Exits 1 when a post is missed, alerted twice, or alerted
although answered in time; never on a time.

    .venv/bin/python -m tests.bench.alert_latency
    .venv/bin/python -m tests.bench.alert_latency --posts 2000 --profiles 5 --poll-minutes 2
"""

from __future__ import annotations

import argparse
import heapq
import os
import random
import statistics
import sys
import time
from typing import Any

DAY = 86400
START = 1_795_392_000  # Monday 2026-11-23 00:00 UTC


def _percentile(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def simulate(posts: int, profiles: int, poll_minutes: int, delay: int, seed: int) -> int:
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ[name] = "testing"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    os.environ["POWERTOOLS_TRACE_DISABLED"] = "true"
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    import boto3
    from moto import mock_aws

    from infra.local.webhook_receiver import webhook_receiver
    from responsegap.alerts.delivery import Deliverer, WebhookUrls
    from responsegap.domain.alerts import AlertTarget, BrandAlerts
    from responsegap.domain.model import Brand, Post, Profile
    from responsegap.pipeline.alert import AlertDeps, AlertTrigger, process_alert_batch
    from responsegap.pipeline.observability import metrics
    from responsegap.store.alert_records import AlertStore
    from responsegap.store.dynamo import PostStore
    from responsegap.store.schema import create_table

    rng = random.Random(seed)
    interval = poll_minutes * 60
    handles = [f"acme{i}" for i in range(profiles)]
    profile_list = tuple(
        Profile(
            brand_id="acme",
            platform="mastodon",
            handle=h,
            account_id=str(100 + i),
            timezone="Europe/London",
            sla_seconds=3600 if i % 2 == 0 else 1800,
            poll_interval_seconds=interval,
        )
        for i, h in enumerate(handles)
    )
    targets = (AlertTarget("email", "sns"), AlertTarget("slack", "slack", "/responsegap/alerts/acme/slack"))
    brand = Brand(
        "acme", "Acme", profiles=profile_list, timezone="Europe/London",
        alerts=BrandAlerts(targets=targets, urgent_terms=("lawsuit",)),
    )  # fmt: skip

    # The day's conversations: (profile index, customer post, human answer or None).
    conversations: list[tuple[int, Post, Post | None]] = []
    for n in range(posts):
        while True:  # day/night rhythm: fewer posts at night
            created = START + rng.randrange(DAY)
            hour = (created - START) // 3600
            if rng.random() < (1.0 if 8 <= hour < 22 else 0.3):
                break
        index = rng.randrange(profiles)
        handle = handles[index]
        text = f"@{handle} order {n} is late" + (" lawsuit" if rng.random() < 0.01 else "")
        post = Post("mastodon", f"c{n}", f"cust{n}", f"customer{n}", created, text, mentions=(handle,))
        answer = None
        roll = rng.random()
        if roll < 0.65:
            minutes = rng.lognormvariate(3.3, 0.9)  # median ~27 min; a tail past the threshold
            if 0 <= (created - START) // 3600 < 7:
                minutes += (7 * 3600 - (created - START)) / 60  # at night people answer at 07:00
            answer = Post(
                "mastodon", f"r{n}", str(100 + index), handle, created + int(minutes * 60) + 1,
                f"@customer{n} sorry, on it -Anna",
                in_reply_to_id=post.post_id, in_reply_to_author_id=post.author_id,
            )  # fmt: skip
        conversations.append((index, post, answer))

    with mock_aws(), webhook_receiver() as receiver:
        dynamodb = boto3.client("dynamodb")
        create_table(dynamodb, "bench")
        sqs = boto3.client("sqs")
        queue = sqs.create_queue(QueueName="alerts.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        sns = boto3.client("sns")
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        boto3.client("ssm").put_parameter(
            Name="/responsegap/alerts/acme/slack", Value=receiver.url("slack/acme"), Type="SecureString"
        )
        clock = [START]
        store = PostStore("bench", dynamodb, clock=lambda: clock[0])
        store.put_brand(brand)
        deps = AlertDeps(
            store=store,
            alerts=AlertStore(store),
            deliverer=Deliverer(
                urls=WebhookUrls("/responsegap/", allow_local=True),
                sns=sns, topic_arn=topic, sleep=lambda _s: None,
            ),
            clock=lambda: clock[0],
        )  # fmt: skip
        trigger = AlertTrigger(sqs, queue)

        # Events in time order: (time, order, kind, profile index).
        events: list[tuple[int, int, str, int]] = []
        order = 0
        for index in range(profiles):
            phase = rng.randrange(interval)
            for moment in range(START + phase, START + DAY + 3 * 3600, interval):
                events.append((moment, order, "poll", index))
                order += 1
        heapq.heapify(events)
        stored: set[str] = set()
        first_poll_after_due: dict[str, int] = {}
        run_cpu = 0.0
        runs = 0
        polls = 0
        while events:
            moment, _, kind, index = heapq.heappop(events)
            clock[0] = moment
            if kind == "poll":
                polls += 1
                key = profile_list[index].key
                visible = [
                    p
                    for i, post, answer in conversations
                    if i == index
                    for p in (post, answer)
                    if p is not None and p.created_at <= moment and p.post_id not in stored
                ]
                opened = [p.post_id for p in visible if p.post_id.startswith("c")]
                store.save_posts(key, visible, open_post_ids=opened)
                stored.update(p.post_id for p in visible)
                store.record_poll(key, moment, "ok")
                done = moment + rng.randrange(1, 6)  # the poll's own run time
                clock[0] = done
                trigger.poll_stored("acme", key, done, len(visible))
                heapq.heappush(events, (done + delay + rng.randrange(0, 3), order, "alert", index))
                order += 1
                for i, post, _answer in conversations:
                    if i == index and post.post_id not in first_poll_after_due:
                        due = post.created_at + profile_list[i].sla_seconds
                        if "lawsuit" in post.text:
                            due = post.created_at
                        if moment >= due and post.created_at <= moment:
                            first_poll_after_due[post.post_id] = moment
            else:
                messages = sqs.receive_message(
                    QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"]
                ).get("Messages", [])
                if not messages:
                    continue
                event = {
                    "Records": [
                        {
                            "messageId": m["MessageId"],
                            "receiptHandle": m["ReceiptHandle"],
                            "body": m["Body"],
                            "attributes": m.get("Attributes", {}),
                            "messageAttributes": {},
                            "md5OfBody": m["MD5OfBody"],
                            "eventSource": "aws:sqs",
                            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:alerts.fifo",
                            "awsRegion": "eu-west-1",
                        }
                        for m in messages
                    ]
                }
                began = time.process_time()
                process_alert_batch(event, _Context(), deps)
                run_cpu += time.process_time() - began
                metrics.clear_metrics()  # what the handler's decorator would flush
                runs += 1
                for m in messages:
                    sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])

        history = deps.alerts.history("acme")
        by_post: dict[str, list[dict[str, Any]]] = {}
        for row in history:
            by_post.setdefault(row["post_id"], []).append(row)
        answers = {post.post_id: answer for _, post, answer in conversations}
        # Must be alerted: still without a human answer at the first poll after it became due.
        expected = {
            pid
            for pid, poll in first_poll_after_due.items()
            if answers[pid] is None or answers[pid].created_at > poll
        }
        # Answered within the shorter threshold (30 min): never alerted, unless urgent (at once).
        answered_in_time = {
            post.post_id
            for _, post, answer in conversations
            if answer is not None
            and answer.created_at <= post.created_at + 1800
            and "lawsuit" not in post.text
        }
        latencies = [
            (int(r["alerted_at"]) - int(r["due_at"])) / 60 for rows in by_post.values() for r in rows
        ]
        missed = sorted(expected - set(by_post))
        twice = sorted(pid for pid, rows in by_post.items() if len(rows) > 1)
        wrong = sorted(set(by_post) - expected)
        too_early = sorted(set(by_post) & answered_in_time)
        slack = len(receiver.delivered("slack"))

    goal = poll_minutes + 1
    print(f"simulated day: {posts} customer posts on {profiles} profiles, polled every {poll_minutes} min")
    print(f"  polls {polls}, alert runs {runs} (alert delay {delay} s), Slack digests {slack}")
    print(f"  overdue and unanswered at the next poll: {len(expected)}; alerted: {len(by_post)}")
    print(f"  missed {len(missed)}, alerted twice {len(twice)}, alerted but not due {len(wrong)}, "
          f"alerted though answered within 30 min (not urgent) {len(too_early)}")  # fmt: skip
    if latencies:
        median, p95 = statistics.median(latencies), _percentile(latencies, 95)
        print(
            f"  minutes from overdue to alert: median {median:.1f}, p95 {p95:.1f}, max {max(latencies):.1f} "
            f"(goal <= {goal}: {'MET' if p95 <= goal else 'NOT MET'})"
        )
    print(
        f"  alert handler CPU {run_cpu:.2f} s for {runs} runs "
        f"({1000 * run_cpu / max(runs, 1):.1f} ms per run, moto's in-process AWS included)"
    )
    return 1 if (missed or twice or wrong or too_early) else 0


class _Context:
    function_name = "bench-alert"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench-alert"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--profiles", type=int, default=3)
    parser.add_argument("--poll-minutes", type=int, default=5)
    parser.add_argument("--delay", type=int, default=20, help="AlertDelaySeconds")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args(argv)
    began, cpu = time.perf_counter(), time.process_time()
    code = simulate(args.posts, args.profiles, args.poll_minutes, args.delay, args.seed)
    print(
        f"  wall {time.perf_counter() - began:.1f} s, CPU {time.process_time() - cpu:.1f} s (whole process)"
    )
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
