"""Poll: at-least-once delivery, crashes and rate limits never duplicate or lose posts."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from responsegap.connectors.base import AccountUnavailable, RateLimited
from responsegap.pipeline.events import ProfileJob

from .conftest import (
    NOW,
    FakeConnector,
    FakeContext,
    Stack,
    brand_reply,
    customer_post,
    make_brand,
    scheduler_event,
    sqs_event,
    stored_posts,
)

KEY = "mastodon#acme"


def timeline() -> list:
    first = customer_post(1, NOW - 3000)
    second = customer_post(2, NOW - 2000)
    return [first, second, brand_reply(1, first, NOW - 1000), customer_post(3, NOW - 500)]


def dispatched(stack: Stack, at: int = NOW) -> list[dict[str, Any]]:
    """Run the real dispatch handler and receive what it queued."""
    stack.load("dispatch").lambda_handler(scheduler_event("dispatch", at), FakeContext())
    return stack.receive_all(stack.poll_queue_url)


def poll_app(stack: Stack, connector: FakeConnector, now: int = NOW) -> Any:
    app = stack.load("poll")
    app.DEPS.connector_for = connector
    app.DEPS.clock = lambda: now
    app.DEPS.store.clock = lambda: now
    return app


def test_duplicate_deliveries_store_nothing_twice(stack: Stack) -> None:
    stack.store().put_brand(make_brand())
    connector = FakeConnector(timeline(), honour_cursor=False)  # every fetch returns everything
    app = poll_app(stack, connector)
    (message,) = dispatched(stack)

    # SQS delivered the same message twice in one batch...
    result = app.lambda_handler(sqs_event([message, message], stack.poll_queue_arn), FakeContext())
    assert result == {"batchItemFailures": []}
    first = stored_posts(stack, KEY)
    # ... and once more in a later batch.
    result = app.lambda_handler(sqs_event([message], stack.poll_queue_arn), FakeContext())
    assert result == {"batchItemFailures": []}

    assert len(connector.fetches) == 3
    items = stored_posts(stack, KEY)
    assert sorted(i["post_id"] for i in items) == ["c1", "c2", "c3", "r1"]
    assert items == first  # not rewritten either
    # Customer posts start open; the brand reply does not.
    assert sorted(i["post_id"] for i in items if "open_pk" in i) == ["c1", "c2", "c3"]
    state = stack.store().load_state(KEY)
    assert state.cursor == {"since": str(NOW - 500)}


class CrashingStore:
    """The real store, with one injected crash (a Lambda timeout or OOM at that point)."""

    def __init__(self, store: Any, *, crash_in: str, after: int = 0) -> None:
        self._store = store
        self.crash_in = crash_in
        self.after = after
        self.crashed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def save_cursor(self, *args: Any, **kwargs: Any) -> bool:
        if self.crash_in == "save_cursor" and not self.crashed:
            self.crashed = True
            raise RuntimeError("injected crash before the cursor moved")
        return self._store.save_cursor(*args, **kwargs)

    def save_posts(self, profile_key: str, posts: Any, open_post_ids: Any = ()) -> Any:
        if self.crash_in == "save_posts" and not self.crashed:
            self.crashed = True
            self._store.save_posts(profile_key, list(posts)[: self.after], open_post_ids)
            raise RuntimeError("injected crash halfway through storing posts")
        return self._store.save_posts(profile_key, posts, open_post_ids)


@pytest.mark.parametrize("crash_in", ["save_cursor", "save_posts"])
def test_crash_before_cursor_keeps_cursor_and_retry_completes(stack: Stack, crash_in: str) -> None:
    stack.store().put_brand(make_brand())
    posts = timeline()
    connector = FakeConnector(posts[:3])  # honours the cursor, like a real platform
    app = poll_app(stack, connector)
    app.DEPS.store = CrashingStore(app.DEPS.store, crash_in=crash_in, after=2)
    (message,) = dispatched(stack)
    event = sqs_event([message], stack.poll_queue_arn)

    with pytest.raises(BatchProcessingError):  # the only record failed: SQS redelivers it
        app.lambda_handler(event, FakeContext())
    state = stack.store().load_state(KEY)
    assert (state.cursor, state.version) == ({}, 0)
    stored_after_crash = len(stored_posts(stack, KEY))
    assert stored_after_crash == (3 if crash_in == "save_cursor" else 2)

    # Meanwhile a new post arrived on the platform; the redelivered message picks up both.
    connector.timeline = posts
    result = app.lambda_handler(event, FakeContext())
    assert result == {"batchItemFailures": []}
    assert connector.fetches == [{}, {}]  # the retry started from the unmoved cursor
    items = stored_posts(stack, KEY)
    assert sorted(i["post_id"] for i in items) == ["c1", "c2", "c3", "r1"]
    state = stack.store().load_state(KEY)
    assert (state.cursor, state.version) == ({"since": str(NOW - 500)}, 1)


def test_rate_limited_profile_is_delayed_not_lost(stack: Stack) -> None:
    stack.store().put_brand(make_brand())
    connector = FakeConnector(timeline())
    retry_at = NOW + 2  # short enough to wait for the real SQS delay in the test
    connector.script = [RateLimited(KEY, retry_at)]
    app = poll_app(stack, connector)
    (message,) = dispatched(stack)
    stack.delete(stack.poll_queue_url, [message])  # Lambda deletes a record that did not fail

    result = app.lambda_handler(sqs_event([message], stack.poll_queue_arn), FakeContext())
    assert result == {"batchItemFailures": []}  # not failed: no retry storm, no DLQ
    assert stack.queue_counts(stack.poll_queue_url)["delayed"] == 1
    store = stack.store()
    assert store.load_state(KEY).retry_at == retry_at
    assert stored_posts(stack, KEY) == []
    assert [o for _, o in store.polls_between(KEY, NOW, NOW + 1)] == ["rate_limited"]
    # The directory slot moved past the delayed copy: dispatch does not send a second one.
    assert (
        stack.load("dispatch").lambda_handler(scheduler_event("dispatch", NOW + 60), FakeContext())["sent"]
        == 0
    )

    time.sleep(2.2)
    (delayed,) = stack.receive_all(stack.poll_queue_url)
    job = ProfileJob.from_json(delayed["Body"])
    assert (job.profile_key, job.delays) == (KEY, 1)

    later = poll_app(stack, connector, now=retry_at + 1)
    later.DEPS.connector_for = connector
    assert later.lambda_handler(sqs_event([delayed], stack.poll_queue_arn), FakeContext()) == {
        "batchItemFailures": []
    }
    assert sorted(i["post_id"] for i in stored_posts(stack, KEY)) == ["c1", "c2", "c3", "r1"]
    state = stack.store().load_state(KEY)
    assert state.retry_at is None and state.version == 1


def test_long_rate_limit_moves_the_slot_and_dispatch_resumes(stack: Stack) -> None:
    """Beyond what SQS can delay (15 min): retry_at is stored and dispatch skips until then."""
    stack.store().put_brand(make_brand())
    connector = FakeConnector(timeline())
    retry_at = NOW + 3600
    connector.script = [RateLimited(KEY, retry_at)]
    app = poll_app(stack, connector)
    (message,) = dispatched(stack)
    stack.delete(stack.poll_queue_url, [message])

    assert app.lambda_handler(sqs_event([message], stack.poll_queue_arn), FakeContext()) == {
        "batchItemFailures": []
    }
    assert stack.queue_counts(stack.poll_queue_url) == {"visible": 0, "in_flight": 0, "delayed": 0}
    store = stack.store()
    assert store.load_state(KEY).retry_at == retry_at
    assert {e.profile_key: e.next_poll_at for e in store.directory()} == {KEY: retry_at}

    for moment in (NOW + 300, NOW + 1800):  # rounds before retry_at send nothing
        assert dispatched(stack, moment) == []
    (resumed,) = dispatched(stack, retry_at)
    later = poll_app(stack, connector, now=retry_at)
    assert later.lambda_handler(sqs_event([resumed], stack.poll_queue_arn), FakeContext()) == {
        "batchItemFailures": []
    }
    assert len(stored_posts(stack, KEY)) == 4


def test_message_arriving_before_retry_at_is_delayed_without_calling_the_platform(stack: Stack) -> None:
    store = stack.store()
    store.put_brand(make_brand())
    store.set_retry_at(KEY, NOW + 100)
    connector = FakeConnector(timeline())
    app = poll_app(stack, connector)
    (message,) = dispatched(stack)
    stack.delete(stack.poll_queue_url, [message])
    assert app.lambda_handler(sqs_event([message], stack.poll_queue_arn), FakeContext()) == {
        "batchItemFailures": []
    }
    assert connector.fetches == []
    assert stack.queue_counts(stack.poll_queue_url)["delayed"] == 1


def test_platform_failure_fails_only_that_record(stack: Stack) -> None:
    from responsegap.connectors.base import PlatformUnavailable

    store = stack.store()
    store.put_brand(make_brand(profiles=2))
    good = FakeConnector(timeline())
    bad = FakeConnector([])
    bad.script = [PlatformUnavailable("mastodon#acme1", "HTTP 503 after 4 attempts")]
    app = poll_app(stack, good)
    app.DEPS.connector_for = lambda profile: bad if profile.handle == "acme1" else good
    messages = dispatched(stack)
    result = app.lambda_handler(sqs_event(messages, stack.poll_queue_arn), FakeContext())
    failed_ids = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    failed = [m for m in messages if m["MessageId"] in failed_ids]
    assert [ProfileJob.from_json(m["Body"]).profile_key for m in failed] == ["mastodon#acme1"]
    assert [o for _, o in store.polls_between("mastodon#acme1", NOW, NOW + 1)] == ["failed"]
    assert len(stored_posts(stack, KEY)) == 4


def test_malformed_message_fails_its_record(stack: Stack) -> None:
    app = poll_app(stack, FakeConnector([]))
    stack.sqs.send_message(QueueUrl=stack.poll_queue_url, MessageBody='{"kind": "poll"}')
    (message,) = stack.receive_all(stack.poll_queue_url)
    with pytest.raises(BatchProcessingError):
        app.lambda_handler(sqs_event([message], stack.poll_queue_arn), FakeContext())


def test_concurrent_polls_of_one_profile_do_not_fight_over_the_cursor(stack: Stack) -> None:
    """Two deliveries running at once read the same state; the later cursor write loses, harmlessly."""
    stack.store().put_brand(make_brand())
    connector = FakeConnector(timeline())
    app = poll_app(stack, connector)
    (message,) = dispatched(stack)
    real = app.DEPS.store
    stale = real.load_state(KEY)

    class Racing:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def load_state(self, profile_key: str) -> Any:
            return stale  # the other delivery has not saved its cursor yet when this one reads

    event = sqs_event([message], stack.poll_queue_arn)
    assert app.lambda_handler(event, FakeContext()) == {"batchItemFailures": []}
    app.DEPS.store = Racing()
    assert app.lambda_handler(event, FakeContext()) == {"batchItemFailures": []}
    state = real.load_state(KEY)
    assert (state.version, state.cursor) == (1, {"since": str(NOW - 500)})
    assert len(stored_posts(stack, KEY)) == 4


def test_unavailable_account_fails_the_poll_without_retrying_and_is_polled_again(
    stack: Stack, capsys, caplog
) -> None:
    """A suspended brand account: the poll is recorded as failed, the message is settled (a
    retry would fail the same way and end in the DLQ), the failure is counted and alarmed, and
    the profile keeps its place in the schedule so the first poll after reinstatement reads on."""
    store = stack.store()
    store.put_brand(make_brand())
    connector = FakeConnector(timeline())
    connector.script = [AccountUnavailable(KEY, "1000", "X says 'User has been suspended: [1000].'")]
    app = poll_app(stack, connector)
    (message,) = dispatched(stack)

    result = app.lambda_handler(sqs_event([message], stack.poll_queue_arn), FakeContext())

    assert result == {"batchItemFailures": []}  # settled: not redelivered, never in the DLQ
    stack.delete(stack.poll_queue_url, [message])
    assert stack.queue_counts(stack.poll_dlq_url)["visible"] == 0
    assert [o for _, o in store.polls_between(KEY, NOW, NOW + 1)] == ["account_unavailable"]
    assert stack.store().load_state(KEY).cursor == {}
    emitted = capsys.readouterr().out  # the EMF metrics line
    assert '"AccountsUnavailable":[1.0]' in emitted and '"PollsFailed":[1.0]' in emitted
    assert [r.levelname for r in caplog.records if "account unavailable" in r.getMessage()] == ["ERROR"]
    (detail,) = [i["detail"] for i in stack_poll_log(stack, KEY)]
    assert detail.startswith("mastodon#acme: account 1000 is unavailable") and "suspended" in detail

    # Next round at the profile's interval: dispatched again, and this time the account is back.
    later = NOW + 300
    (again,) = dispatched(stack, at=later)
    app = poll_app(stack, connector, now=later)
    assert app.lambda_handler(sqs_event([again], stack.poll_queue_arn), FakeContext()) == {
        "batchItemFailures": []
    }
    assert sorted(i["post_id"] for i in stored_posts(stack, KEY)) == ["c1", "c2", "c3", "r1"]
    figures = stack.store(clock=lambda: later + 60).completeness(KEY, NOW, later + 60, 300)
    assert (figures["polls_account_unavailable"], figures["account_unavailable_at_end"]) == (1, 0)
    assert figures["polls_failed"] == 1 and figures["polls_succeeded"] == 1


def stack_poll_log(stack: Stack, key: str) -> list[dict[str, Any]]:
    """The raw poll-log items of one profile (what the report and an operator read)."""
    from responsegap.store.items import profile_pk

    items = stack.dynamodb.query(
        TableName=stack.table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :poll)",
        ExpressionAttributeValues={":pk": {"S": profile_pk(key)}, ":poll": {"S": "POLL#"}},
    )["Items"]
    return [{name: next(iter(value.values())) for name, value in item.items()} for item in items]
