"""Dispatch fan-out at 5,000 profiles on the embedded AWS: one round, exactly once, then polls.

On moto's server in this process, provisioned from template.yaml
(``infra.local.embedded_aws``), with the real handlers loaded from ``functions/*/app.py``
and invoked with the events AWS would send (``infra.local.handlers``):

1. setup (timed separately, not part of any figure below): ``--profiles`` profiles across
   the live platforms, ``--per-brand`` per brand. The first brand goes through the real
   ``PostStore.put_brand``; the others are written with ``BatchWriteItem`` as the very same
   items (checked: the bulk-built items of the first brand must equal what ``put_brand``
   stored, or the benchmark stops). ``put_brand`` is ~2 requests per profile, one by one.
2. one dispatch round: the real ``dispatch`` handler with the template's EventBridge
   Scheduler ``Input`` filled in. Printed: what the handler returned, messages sent,
   ``SendMessageBatch`` calls, entries SQS reported failed (and so retried), every AWS
   request the round made, wall and CPU time.
3. the poll queue drained with ``ReceiveMessage`` (10 at a time): every profile must appear
   exactly once (no profile missing, none twice, nothing unknown).
4. the same round again (a Scheduler retry of the same scheduled time, attempt 2): it must
   send 0 and leave the queue empty.
5. the received messages fed to the real ``poll`` handler in SQS events of 10 (the template's
   ``BatchSize``), with a STUB connector that returns no posts (the platforms are not what
   is measured here); successes deleted as the event source mapping would. ``--poll-profiles``
   limits this step to a sample of the messages (the rest stay in flight).

CPU time is printed twice: the whole process (this includes moto's server threads, i.e.
the simulated AWS side) and the main thread alone (the handler and its boto3 clients: what a
Lambda would be billed for, minus network waits). Nothing here asserts a time; the
exactly-once checks do fail the run (exit 1).

    .venv/bin/python -m tests.bench.fanout                 # 5,000 profiles
    .venv/bin/python -m tests.bench.fanout --quick         # 500 profiles, 100 polled
    .venv/bin/python -m tests.bench.fanout --profiles 20000 --poll-profiles 500
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra.local.embedded_aws import EmbeddedAws, embedded_aws
from infra.local.handlers import Functions, _record
from responsegap.connectors.base import PollResult
from responsegap.domain.model import Brand, BusinessHours, Profile
from responsegap.pipeline.events import ProfileJob
from responsegap.store.dynamo import DIRECTORY_PK, PostStore, _brand_json, _profile_json

NOW = 1_795_000_200  # the scheduled time of the round (2026-11-18T11:10:00Z): any fixed second
INTERVAL = 300
LIVE_PLATFORMS = ("x", "facebook", "instagram", "mastodon", "bluesky", "youtube", "reddit")


# --- request counting -----------------------------------------------------------------------


class RequestCounter:
    """Every AWS request made through boto3's default session (the handlers' clients included).

    Registered before any client exists, so every client copies the hook. Counts by
    ``service.Operation``; ``SendMessageBatch`` responses are also read for failed entries.
    """

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.seconds: collections.Counter[str] = collections.Counter()  # wall time, request to parsed reply
        self._started: dict[int, float] = {}
        self.batch_failed_entries = 0
        self.batch_sender_faults = 0
        boto3.setup_default_session()
        events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
        events.register("before-call", self._before)
        events.register("after-call", self._after)
        events.register("after-call.sqs.SendMessageBatch", self._after_batch)

    @staticmethod
    def _name(model: Any) -> str:
        return f"{model.service_model.service_name}.{model.name}"

    def _before(self, model: Any, context: Any = None, **_: Any) -> None:
        self.calls[self._name(model)] += 1
        self._started[id(context)] = time.perf_counter()

    def _after(self, model: Any, context: Any = None, **_: Any) -> None:
        began = self._started.pop(id(context), None)
        if began is not None:
            self.seconds[self._name(model)] += time.perf_counter() - began

    def _after_batch(self, parsed: Mapping[str, Any], **_: Any) -> None:
        for failure in parsed.get("Failed", []) or []:
            if failure.get("SenderFault"):
                self.batch_sender_faults += 1
            else:
                self.batch_failed_entries += 1

    def snapshot(self) -> tuple[collections.Counter[str], int, int]:
        return collections.Counter(self.calls), self.batch_failed_entries, self.batch_sender_faults

    def seconds_snapshot(self) -> collections.Counter[str]:
        return collections.Counter(self.seconds)


@dataclass
class Timed:
    wall: float = 0.0
    cpu_process: float = 0.0
    cpu_thread: float = 0.0

    def text(self) -> str:
        return (
            f"wall {self.wall:.2f} s, CPU {self.cpu_process:.2f} s whole process (incl. moto server), "
            f"{self.cpu_thread:.2f} s main thread (handler + boto3)"
        )


@contextlib.contextmanager
def timed() -> Iterator[Timed]:
    out = Timed()
    wall, cpu, thread = time.perf_counter(), time.process_time(), time.thread_time()
    try:
        yield out
    finally:
        out.wall = time.perf_counter() - wall
        out.cpu_process = time.process_time() - cpu
        out.cpu_thread = time.thread_time() - thread


def requests_text(
    before: collections.Counter[str],
    after: collections.Counter[str],
    seconds_before: collections.Counter[str] | None = None,
    seconds_after: collections.Counter[str] | None = None,
) -> str:
    """``op count`` per operation; with the seconds, ``(total s, mean ms)`` of each too."""
    diff = after - before
    parts = []
    for name, count in sorted(diff.items()):
        text = f"{name} {count:,}"
        if seconds_before is not None and seconds_after is not None:
            spent = seconds_after[name] - seconds_before[name]
            text += f" ({spent:.1f} s, {spent / count * 1000:.1f} ms each)"
        parts.append(text)
    return ", ".join(parts) or "none"


# --- setup ------------------------------------------------------------------------------------


def make_brands(profiles: int, per_brand: int) -> list[Brand]:
    brands = []
    for b in range((profiles + per_brand - 1) // per_brand):
        brand_id = f"brand{b:05d}"
        count = min(per_brand, profiles - b * per_brand)
        brands.append(
            Brand(
                brand_id=brand_id,
                name=f"Brand {b}",
                timezone="Europe/London",
                recipients=(f"lead{b}@example.com",),
                profiles=tuple(
                    Profile(
                        brand_id=brand_id,
                        platform=LIVE_PLATFORMS[(b + i) % len(LIVE_PLATFORMS)],
                        handle=f"b{b:05d}p{i:02d}",
                        account_id=str(1_000_000 + b * 100 + i),
                        timezone="Europe/London",
                        business_hours=BusinessHours(),
                        poll_interval_seconds=INTERVAL,
                    )
                    for i in range(count)
                ),
            )
        )
    return brands


def brand_items(brand: Brand) -> list[dict[str, Any]]:
    """The items ``PostStore.put_brand`` leaves for a brand new to the table."""
    pk = f"BRAND#{brand.brand_id}"
    items: list[dict[str, Any]] = [
        {
            "pk": {"S": pk},
            "sk": {"S": "META"},
            "brand_id": {"S": brand.brand_id},
            "config": {"S": json.dumps(_brand_json(brand), sort_keys=True)},
        }
    ]
    for profile in brand.profiles:
        items.append(
            {
                "pk": {"S": pk},
                "sk": {"S": f"PROFILE#{profile.key}"},
                "profile_key": {"S": profile.key},
                "config": {"S": json.dumps(_profile_json(profile), sort_keys=True)},
            }
        )
        items.append(
            {
                "pk": {"S": DIRECTORY_PK},
                "sk": {"S": f"PROFILE#{profile.key}"},
                "brand_id": {"S": brand.brand_id},
                "profile_key": {"S": profile.key},
                "poll_interval_seconds": {"N": str(profile.poll_interval_seconds)},
                "enabled": {"BOOL": profile.enabled},
                "next_poll_at": {"N": "0"},
            }
        )
    items.append(
        {"pk": {"S": DIRECTORY_PK}, "sk": {"S": f"BRAND#{brand.brand_id}"}, "brand_id": {"S": brand.brand_id}}
    )
    return items


def bulk_write(client: Any, table: str, items: list[dict[str, Any]]) -> int:
    requests = 0
    for start in range(0, len(items), 25):
        pending = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        for _attempt in range(8):
            requests += 1
            response = client.batch_write_item(RequestItems={table: pending})
            pending = (response.get("UnprocessedItems") or {}).get(table, [])
            if not pending:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"{len(pending)} items still unprocessed after 8 attempts")
    return requests


def check_bulk_matches_put_brand(client: Any, table: str, brand: Brand) -> None:
    """The bulk items of ``brand`` must be exactly what put_brand stored for it."""
    for item in brand_items(brand):
        stored = client.get_item(
            TableName=table, Key={"pk": item["pk"], "sk": item["sk"]}, ConsistentRead=True
        )
        if stored.get("Item") != item:
            raise SystemExit(
                f"bulk setup would differ from put_brand for {item['pk']['S']} {item['sk']['S']}:\n"
                f"  put_brand: {stored.get('Item')}\n  bulk:      {item}"
            )


def setup(aws: EmbeddedAws, brands: list[Brand]) -> None:
    table = aws.environment["TABLE_NAME"]
    dynamodb = aws.client("dynamodb")
    store = PostStore(table, dynamodb, clock=lambda: NOW)
    with timed() as one:
        store.put_brand(brands[0])
    print(
        f"setup: put_brand of 1 brand ({len(brands[0].profiles)} profiles): {store.stats.writes} writes, "
        f"{one.wall:.2f} s wall (~{one.wall / max(1, len(brands[0].profiles)) * 1000:.0f} ms/profile)",
        flush=True,
    )
    check_bulk_matches_put_brand(dynamodb, table, brands[0])
    items = [item for brand in brands[1:] for item in brand_items(brand)]
    with timed() as bulk:
        requests = bulk_write(dynamodb, table, items)
    profiles = sum(len(b.profiles) for b in brands[1:])
    print(
        f"setup: {len(brands) - 1:,} more brands / {profiles:,} profiles as {len(items):,} items in "
        f"{requests:,} BatchWriteItem (items checked equal to put_brand's): {bulk.text()}  [not counted]",
        flush=True,
    )


# --- the stub platform ---------------------------------------------------------------------


@dataclass
class StubConnector:
    """Every profile's platform: nothing new since the cursor (a fetch costs no time)."""

    fetches: collections.Counter[str] = field(default_factory=collections.Counter)

    def __call__(self, profile: Profile) -> StubConnector:  # PollDeps.connector_for
        self._profile = profile.key
        return self

    def fetch(self, cursor: Mapping[str, str]) -> PollResult:
        self.fetches[self._profile] += 1
        return PollResult(posts=(), cursor={"since": str(NOW)}, requests=1)

    def fetch_replies(self, post: Any) -> PollResult:
        return PollResult(posts=(), requests=1)


# --- the benchmark -------------------------------------------------------------------------


def run(profiles: int, per_brand: int, poll_profiles: int) -> int:
    counter = RequestCounter()
    brands = make_brands(profiles, per_brand)
    keys = {p.key for b in brands for p in b.profiles}
    assert len(keys) == profiles, "profile keys must be unique"
    problems: list[str] = []
    print(
        f"fanout: {profiles:,} profiles ({len(brands):,} brands x up to {per_brand}, platforms "
        f"{', '.join(LIVE_PLATFORMS)}); poll step on {min(poll_profiles, profiles):,} of them",
        flush=True,
    )
    with contextlib.ExitStack() as stack:
        # The handlers' own log lines (WARNING and up) go to a file, not over the figures.
        log = stack.enter_context(
            tempfile.NamedTemporaryFile("w+", prefix="fanout-", suffix=".log", delete=False, encoding="utf-8")
        )
        with timed() as boot:
            aws = stack.enter_context(embedded_aws(parameters={"LogLevel": "WARNING", "LeaderEmails": ""}))
            functions = Functions(aws, clock=lambda: float(NOW), log_stream=log)
        print(f"embedded AWS {aws.endpoint} provisioned from template.yaml, handlers loaded: {boot.text()}")
        setup(aws, brands)

        sqs = aws.client("sqs")
        _queue, queue_url, batch_size = functions._sqs_source("PollFunction")
        queue_arn = aws.arns[_queue]
        dispatch_deps = functions.modules["dispatch"].DEPS
        sleeps: list[float] = []
        dispatch_deps.poll_queue.sleep = sleeps.append  # record QueueSender's backoff, don't wait it

        # --- 2. one dispatch round ---
        event = functions.scheduler_event("DispatchFunction", NOW)
        before, failed0, faults0 = counter.snapshot()
        spent_before = counter.seconds_snapshot()
        with timed() as round_one:
            result = functions.invoke("DispatchFunction", event)
        after, failed1, faults1 = counter.snapshot()
        spent_after = counter.seconds_snapshot()
        batches = (after - before)["sqs.SendMessageBatch"]
        print(f"\ndispatch round (scheduled {event['scheduled_time']}, attempt {event['attempt']}): {result}")
        print(f"  messages sent              {result['sent']:,}")
        print(
            f"  SendMessageBatch calls     {batches:,} ({result['sent'] / max(1, batches):.1f} entries/call)"
        )
        print(
            f"  failed entries retried     {failed1 - failed0:,} (sender faults, not retried: "
            f"{faults1 - faults0}; backoff sleeps {len(sleeps)})"
        )
        print(f"  AWS requests               {requests_text(before, after, spent_before, spent_after)}")
        print(f"  time                       {round_one.text()}")
        print(f"  per profile                {round_one.wall / max(1, profiles) * 1000:.2f} ms wall")
        if result != {"due": profiles, "claimed": profiles, "sent": profiles, "failed": 0}:
            problems.append(f"first round returned {result}")

        # --- 3. drain the poll queue ---
        received: list[dict[str, Any]] = []
        kept: list[dict[str, Any]] = []  # held (in flight) for the poll step
        deleted = 0
        with timed() as drain:
            while True:
                batch = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=10,
                    AttributeNames=["All"],
                    VisibilityTimeout=3600,  # held for the poll step below
                    WaitTimeSeconds=0,
                ).get("Messages", [])
                if not batch:
                    break
                received.extend(batch)
                # moto's ReceiveMessage walks every message the queue holds, in flight ones
                # included (~0.4 ms each per call here): keep only the poll step's sample and
                # delete the rest as a consumer would, or 5,000 take ~17 min instead of ~9.
                extra = [m for m in batch if len(kept) >= poll_profiles or kept.append(m)]
                if extra:
                    sqs.delete_message_batch(
                        QueueUrl=queue_url,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(extra)
                        ],
                    )
                    deleted += len(extra)
        seen = collections.Counter(ProfileJob.from_json(m["Body"]).profile_key for m in received)
        missing = keys - set(seen)
        twice = {k: n for k, n in seen.items() if n > 1}
        unknown = set(seen) - keys
        print(
            f"\npoll queue drained: {len(received):,} messages in {(len(received) + 9) // 10:,}+1 "
            f"ReceiveMessage calls, {deleted:,} deleted on the way, {len(kept):,} kept in flight "
            f"for the poll step ({drain.text()})"
        )
        print(
            f"  distinct profiles {len(seen):,} of {profiles:,}; missing {len(missing)}, "
            f"more than once {len(twice)}, unknown {len(unknown)}"
        )
        if missing or twice or unknown or len(received) != profiles:
            problems.append(
                f"exactly-once broken: {len(received)} messages, missing {sorted(missing)[:5]}, "
                f"twice {sorted(twice)[:5]}, unknown {sorted(unknown)[:5]}"
            )

        # --- 4. the same round again ---
        retry = functions.scheduler_event("DispatchFunction", NOW, attempt=2)
        before, failed0, _ = counter.snapshot()
        with timed() as round_two:
            again = functions.invoke("DispatchFunction", retry)
        after, failed1, _ = counter.snapshot()
        pending = functions.pending("PollFunction")
        print(f"\nsame round again (attempt {retry['attempt']}): {again}")
        batches = (after - before)["sqs.SendMessageBatch"]
        print(f"  messages sent {again['sent']}, SendMessageBatch calls {batches}")
        print(f"  AWS requests  {requests_text(before, after)}")
        print(f"  queue now     {pending}")
        print(f"  time          {round_two.text()}")
        if again["sent"] != 0 or pending["visible"] != 0 or pending["delayed"] != 0:
            problems.append(f"retry of the round sent {again} / queue {pending}")

        # --- 5. the poll handler on the received messages ---
        poll_deps = functions.modules["poll"].DEPS
        stub = StubConnector()
        poll_deps.connector_for = stub
        sample = kept
        stats = collections.Counter[str]()
        before, _, _ = counter.snapshot()
        spent_before = counter.seconds_snapshot()
        done_messages: list[dict[str, Any]] = []
        with timed() as polling:
            for start in range(0, len(sample), batch_size):
                messages = sample[start : start + batch_size]
                response = functions.invoke(
                    "PollFunction", {"Records": [_record(m, queue_arn) for m in messages]}
                )
                failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
                stats["batches"] += 1
                stats["records"] += len(messages)
                stats["failures"] += len(failed)
                done_messages.extend(m for m in messages if m["MessageId"] not in failed)
        after, _, _ = counter.snapshot()
        spent_after = counter.seconds_snapshot()
        for start in range(0, len(done_messages), 10):  # what the event source mapping does; untimed
            chunk = done_messages[start : start + 10]
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        polls = sum(stub.fetches.values())
        note = ""
        if len(sample) != len(received):
            note = f" (a SAMPLE of {len(sample):,} of the {len(received):,})"
        print(f"\npoll handler, stub connector returning no posts{note}:")
        print(
            f"  polls done {polls:,} (profiles fetched twice: {sum(n > 1 for n in stub.fetches.values())}), "
            f"batches {stats['batches']:,}, records {stats['records']:,}, failures {stats['failures']}"
        )
        print(f"  AWS requests {requests_text(before, after, spent_before, spent_after)}")
        print(f"  time         {polling.text()}")
        print(
            f"  per poll     {polling.wall / max(1, polls) * 1000:.1f} ms wall, "
            f"{polling.cpu_thread / max(1, polls) * 1000:.1f} ms main-thread CPU"
        )
        print(f"  queue after deleting the {len(done_messages):,} done: {functions.pending('PollFunction')}")
        if polls != len(sample) or stats["failures"]:
            problems.append(
                f"poll step: {polls} polls for {len(sample)} messages, {stats['failures']} failures"
            )

    with open(log.name, encoding="utf-8") as handle:
        errors = sum(1 for line in handle if '"level":"ERROR"' in line)
    print(f"\nhandler log (WARNING and up): {log.name}, {errors} ERROR lines")
    if problems:
        print("\nPROBLEMS:\n  " + "\n  ".join(problems))
        return 1
    print("\nexactly once: OK (every profile once; the retried round sent nothing)")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.fanout", description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", type=int, default=5000)
    parser.add_argument("--per-brand", type=int, default=10)
    parser.add_argument(
        "--poll-profiles", type=int, default=500, help="poll a sample of this many (default 500; 0 = all)"
    )
    parser.add_argument("--quick", action="store_true", help="500 profiles, 100 polled")
    args = parser.parse_args(argv)
    if args.quick:
        args.profiles = min(args.profiles, 500)
        args.poll_profiles = min(args.poll_profiles, 100) if args.poll_profiles else 100
    poll_profiles = min(args.poll_profiles or args.profiles, args.profiles)
    # Powertools warns on every invocation that publishes no metric (the retried round).
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    print(f"load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)", flush=True)
    with timed() as total:
        code = run(args.profiles, args.per_brand, poll_profiles)
    print(f"total: {total.text()}")
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
