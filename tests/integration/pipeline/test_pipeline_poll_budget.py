"""Poll reserves its requests from the credential's shared budget, and waits when it is spent."""

from __future__ import annotations

from responsegap.domain.budget import DEFAULT_BUDGETS, default_credential
from responsegap.store.spend import SpendRecord

from .conftest import (
    NOW,
    FakeConnector,
    FakeContext,
    Stack,
    customer_post,
    make_brand,
    sqs_event,
    stored_posts,
)
from .test_pipeline_poll import KEY, dispatched, poll_app

LIMIT = DEFAULT_BUDGETS["mastodon"].limit("any")  # the conftest brand polls mastodon
WINDOW = LIMIT.window_start(NOW)


def test_a_poll_reserves_one_request_on_its_credential(stack: Stack) -> None:
    stack.store().put_brand(make_brand())
    connector = FakeConnector([customer_post(1, NOW - 100)])
    app = poll_app(stack, connector)
    (message,) = dispatched(stack)
    app.lambda_handler(sqs_event([message], stack.poll_queue_arn), FakeContext())
    assert len(connector.fetches) == 1
    assert SpendRecord(stack.store()).spent(default_credential("mastodon"), "any", WINDOW) == 1
    assert len(stored_posts(stack, KEY)) == 1


def test_a_spent_budget_defers_the_poll_to_the_next_window_without_requests(stack: Stack) -> None:
    stack.store().put_brand(make_brand())
    spend = SpendRecord(stack.store())
    # other profiles on the same token spent the window
    assert spend.reserve(default_credential("mastodon"), "any", LIMIT.requests, LIMIT.requests, WINDOW)
    connector = FakeConnector([customer_post(1, NOW - 100)])
    app = poll_app(stack, connector)
    (message,) = dispatched(stack)
    stack.delete(stack.poll_queue_url, [message])

    result = app.lambda_handler(sqs_event([message], stack.poll_queue_arn), FakeContext())
    assert result == {"batchItemFailures": []}  # deferred, not failed
    assert connector.fetches == []  # no request the platform would refuse
    assert stack.queue_counts(stack.poll_queue_url)["delayed"] == 1  # back when the window opens
    store = stack.store()
    polls = store.polls_between(KEY, NOW, NOW + 1)
    assert [outcome for _, outcome in polls] == ["rate_limited"]
    assert stored_posts(stack, KEY) == []
    assert spend.spent(default_credential("mastodon"), "any", WINDOW) == LIMIT.requests
