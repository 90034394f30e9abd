"""Dispatch fans out one message per due profile, once per round, and loses none on send failures."""

from __future__ import annotations

import json
from typing import Any

from responsegap.pipeline.dispatch import DispatchDeps, dispatch_due_profiles
from responsegap.pipeline.events import ProfileJob, ScheduledRun
from responsegap.pipeline.queues import Outgoing, QueueSender

from .conftest import NOW, FakeContext, Stack, make_brand, scheduler_event

PROFILES = 23  # three SendMessageBatch calls: 10 + 10 + 3


def test_dispatch_sends_each_due_profile_once(stack: Stack) -> None:
    brand = make_brand(profiles=PROFILES)
    stack.store().put_brand(brand)
    app = stack.load("dispatch")

    first = app.lambda_handler(scheduler_event("dispatch", NOW), FakeContext())
    assert first == {"due": PROFILES, "claimed": PROFILES, "sent": PROFILES, "failed": 0}

    messages = stack.receive_all(stack.poll_queue_url)
    jobs = [ProfileJob.from_json(m["Body"]) for m in messages]
    assert len(jobs) == PROFILES
    assert sorted(j.profile_key for j in jobs) == sorted(p.key for p in brand.profiles)
    assert {j.next_poll_at for j in jobs} == {NOW + 300}

    # The same round again (a Scheduler retry, attempt 2): every slot has moved, nothing is sent.
    again = app.lambda_handler(scheduler_event("dispatch", NOW, attempt=2), FakeContext())
    assert again == {"due": 0, "claimed": 0, "sent": 0, "failed": 0}
    assert stack.queue_counts(stack.poll_queue_url) == {"visible": 0, "in_flight": PROFILES, "delayed": 0}

    # The next round finds them all due again: the next slot lines up with the schedule.
    later = app.lambda_handler(scheduler_event("dispatch", NOW + 300), FakeContext())
    assert later["sent"] == PROFILES


def test_racing_dispatchers_claim_each_profile_once(stack: Stack) -> None:
    """Two dispatchers that read the same due list: the conditional slot update lets one win."""
    store = stack.store()
    store.put_brand(make_brand(profiles=5))
    due = store.due_profiles(NOW)

    class StaleStore:
        """Serves the due list read before the other dispatcher moved the slots."""

        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        def due_profiles(self, now: int) -> list[Any]:
            return due

    sender = QueueSender(stack.sqs, stack.poll_queue_url)
    one = dispatch_due_profiles(ScheduledRun("dispatch", NOW), DispatchDeps(store, sender))
    two = dispatch_due_profiles(ScheduledRun("dispatch", NOW), DispatchDeps(StaleStore(), sender))
    assert (one.sent, two.claimed, two.sent) == (5, 0, 0)
    assert len(stack.receive_all(stack.poll_queue_url)) == 5


class FlakyBatchClient:
    """SendMessageBatch that fails some entries: retriable ones ``transient`` times, or always."""

    def __init__(self, client: Any, *, transient: int = 0, always: set[str] | None = None) -> None:
        self.client = client
        self.transient = transient
        self.always = always or set()
        self.calls = 0

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls += 1
        failed, passed = [], []
        for index, entry in enumerate(Entries):
            key = json.loads(entry["MessageBody"])["profile_key"]
            if key in self.always or (self.transient > 0 and index % 2 == 0):
                failed.append(
                    {"Id": entry["Id"], "SenderFault": False, "Code": "InternalError", "Message": "x"}
                )
            else:
                passed.append(entry)
        self.transient -= 1
        if passed:
            self.client.send_message_batch(QueueUrl=QueueUrl, Entries=passed)
        return {"Successful": [{"Id": e["Id"]} for e in passed], "Failed": failed}


def test_failed_batch_entries_are_retried(stack: Stack) -> None:
    store = stack.store()
    store.put_brand(make_brand(profiles=12))
    client = FlakyBatchClient(stack.sqs, transient=2)
    sender = QueueSender(client, stack.poll_queue_url, sleep=lambda _s: None)
    summary = dispatch_due_profiles(ScheduledRun("dispatch", NOW), DispatchDeps(store, sender))
    assert summary.sent == 12 and summary.failed == 0
    assert client.calls > 2  # the first two calls each failed half their entries
    keys = [ProfileJob.from_json(m["Body"]).profile_key for m in stack.receive_all(stack.poll_queue_url)]
    assert len(keys) == len(set(keys)) == 12


def test_unsendable_profile_is_handed_back_to_the_next_round(stack: Stack) -> None:
    store = stack.store()
    store.put_brand(make_brand(profiles=3))
    client = FlakyBatchClient(stack.sqs, always={"mastodon#acme1"})
    sender = QueueSender(client, stack.poll_queue_url, sleep=lambda _s: None)
    summary = dispatch_due_profiles(ScheduledRun("dispatch", NOW), DispatchDeps(store, sender))
    assert (summary.sent, summary.failed) == (2, 1)
    slots = {e.profile_key: e.next_poll_at for e in store.directory()}
    assert slots == {"mastodon#acme": NOW + 300, "mastodon#acme1": 0, "mastodon#acme2": NOW + 300}
    # Next round (within the same interval) it is due again and goes out.
    retry = dispatch_due_profiles(
        ScheduledRun("dispatch", NOW + 60), DispatchDeps(store, QueueSender(stack.sqs, stack.poll_queue_url))
    )
    assert retry.sent == 1


def test_queue_sender_batches_of_ten(stack: Stack) -> None:
    calls: list[int] = []

    class Counting:
        def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            calls.append(len(Entries))
            return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    failed = QueueSender(Counting(), "https://queue").send_all([Outgoing(str(i)) for i in range(25)])
    assert failed == [] and calls == [10, 10, 5]
