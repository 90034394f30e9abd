"""Recheck: answered posts close, the platform is asked about the rest (capped), old ones expire."""

from __future__ import annotations

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
HOUR = 3600


def test_recheck_closes_answered_asks_platform_and_expires(stack: Stack) -> None:
    store = stack.store()
    store.put_brand(make_brand(profiles=2))
    answered = customer_post(1, NOW - 5 * HOUR)
    waiting = customer_post(2, NOW - 4 * HOUR)
    too_old = customer_post(3, NOW - 80 * HOUR)  # past the 72 h reply window
    replied_elsewhere = customer_post(4, NOW - 3 * HOUR)
    unlucky = customer_post(5, NOW - 2 * HOUR)
    posts = [answered, brand_reply(1, answered, NOW - 4 * HOUR), waiting, too_old, replied_elsewhere, unlucky]
    store.save_posts(KEY, posts, open_post_ids=["c1", "c2", "c3", "c4", "c5"])

    # The scheduled part: one recheck message per enabled profile, on the poll queue.
    sent = stack.load("recheck").lambda_handler(scheduler_event("recheck", NOW), FakeContext())
    assert sent == {"profiles": 2, "sent": 2, "failed": 0}
    messages = stack.receive_all(stack.poll_queue_url)

    connector = FakeConnector([])
    connector.replies = {"c4": [brand_reply(4, replied_elsewhere, NOW - 2 * HOUR)]}
    app = stack.load("poll")
    app.DEPS.connector_for = connector
    app.DEPS.clock = lambda: NOW
    app.DEPS.recheck_request_cap = 2  # of c2, c4, c5 only the two oldest are asked about
    assert app.lambda_handler(sqs_event(messages, stack.poll_queue_arn), FakeContext()) == {
        "batchItemFailures": []
    }

    assert connector.fetches == []  # a recheck never moves the poll cursor
    assert connector.reply_requests == ["c2", "c4"]
    items = {i["post_id"]: i for i in stored_posts(stack, KEY)}
    assert {k: v.get("status") for k, v in items.items() if k.startswith("c")} == {
        "c1": "answered",
        "c2": "open",
        "c3": "expired",
        "c4": "answered",
        "c5": "open",
    }
    assert "r4" in items  # the reply the platform returned is stored for the figures
    assert sorted(p.post_id for p in store.open_posts(KEY)) == ["c2", "c5"]

    # Running it again changes nothing and asks again only about what is still open.
    connector.reply_requests.clear()
    assert app.lambda_handler(sqs_event(messages, stack.poll_queue_arn), FakeContext()) == {
        "batchItemFailures": []
    }
    assert connector.reply_requests == ["c2", "c5"]
    assert sorted(p.post_id for p in store.open_posts(KEY)) == ["c2", "c5"]


def test_recheck_respects_a_stored_rate_limit(stack: Stack) -> None:
    store = stack.store()
    store.put_brand(make_brand())
    store.save_posts(KEY, [customer_post(1, NOW - HOUR)], open_post_ids=["c1"])
    store.set_retry_at(KEY, NOW + 600)
    stack.load("recheck").lambda_handler(scheduler_event("recheck", NOW), FakeContext())
    messages = stack.receive_all(stack.poll_queue_url)
    connector = FakeConnector([])
    app = stack.load("poll")
    app.DEPS.connector_for = connector
    app.DEPS.clock = lambda: NOW
    assert app.lambda_handler(sqs_event(messages, stack.poll_queue_arn), FakeContext()) == {
        "batchItemFailures": []
    }
    assert connector.reply_requests == []
    assert [p.post_id for p in store.open_posts(KEY)] == ["c1"]


def test_an_automated_reply_leaves_the_post_open_until_a_person_answers(stack: Stack) -> None:
    """Overdue means no HUMAN response: an auto-acknowledgement must not close the open marker
    (the alert step finds overdue posts through it)."""
    from dataclasses import replace

    store = stack.store()
    store.put_brand(make_brand())
    waiting = customer_post(1, NOW - 2 * HOUR)
    ack = replace(
        brand_reply(1, waiting, NOW - 2 * HOUR + 5), text="Thanks! We reply in 48h.", application="AutoReply"
    )
    store.save_posts(KEY, [waiting, ack], open_post_ids=["c1"])
    stack.load("recheck").lambda_handler(scheduler_event("recheck", NOW), FakeContext())
    messages = stack.receive_all(stack.poll_queue_url)
    app = stack.load("poll")
    app.DEPS.connector_for = FakeConnector([])
    app.DEPS.clock = lambda: NOW
    app.lambda_handler(sqs_event(messages, stack.poll_queue_arn), FakeContext())
    assert [p.post_id for p in store.open_posts(KEY)] == ["c1"]
    # A person answers: the next recheck closes it.
    store.save_posts(KEY, [brand_reply(2, waiting, NOW - HOUR)])
    app.lambda_handler(sqs_event(messages, stack.poll_queue_arn), FakeContext())
    assert list(store.open_posts(KEY)) == []
