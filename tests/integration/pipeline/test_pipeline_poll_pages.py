"""Every page of a poll is reserved before it is requested, and the platform's headers correct
the spend record (issue #15), on the embedded DynamoDB (moto)."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

import responses

from infra.local.platform_limits import PlatformLimits
from responsegap.connectors.base import PollResult
from responsegap.connectors.http import PlatformHttp
from responsegap.domain.budget import DEFAULT_BUDGETS, default_credential
from responsegap.store.spend import SpendRecord
from tests.integration.connectors.limited import enforce

from .conftest import NOW, FakeContext, Stack, make_brand, sqs_event
from .test_pipeline_poll import KEY, dispatched, poll_app

LIMIT = DEFAULT_BUDGETS["mastodon"].limit("any")
WINDOW = LIMIT.window_start(NOW)
CREDENTIAL = default_credential("mastodon")
URL = "https://m.example/api/v1/notifications"


class PagingConnector:
    """Reads ``pages`` pages through a real PlatformHttp, as a connector follows next links."""

    platform = "mastodon"

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.http = PlatformHttp(KEY, sleep=lambda s: None, clock=lambda: NOW, rng=random.Random(1))
        self.requested = 0

    def __call__(self, profile: Any) -> PagingConnector:
        return self

    def fetch(self, cursor: Mapping[str, str]) -> PollResult:
        for page in range(self.pages):
            self.http.get_json(URL, params={"page": page}, headers={"Authorization": "Bearer tok"})
            self.requested += 1
        return PollResult((), {"notifications_since_id": "9"}, self.http.requests_made)


def run(stack: Stack, connector: PagingConnector) -> dict[str, Any]:
    app = poll_app(stack, connector)  # type: ignore[arg-type]
    (message,) = dispatched(stack)
    stack.delete(stack.poll_queue_url, [message])
    return app.lambda_handler(sqs_event([message], stack.poll_queue_arn), FakeContext())


def test_each_page_is_reserved_and_the_headers_correct_the_record(stack: Stack) -> None:
    stack.store().put_brand(make_brand())
    limits = PlatformLimits(lambda: NOW)
    for _ in range(40):  # another client of the same token spent 40 the ledger never saw
        limits.take("mastodon", "tok", "any")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        enforce(mock, limits, "mastodon", re.compile(re.escape(URL) + r".*"), [])
        connector = PagingConnector(pages=3)
        assert run(stack, connector) == {"batchItemFailures": []}
    assert connector.requested == 3
    # 3 reserved by the poll, then raised to the 43 the platform reported spent
    assert SpendRecord(stack.store()).spent(CREDENTIAL, "any", WINDOW) == 43
    assert stack.store().load_state(KEY).cursor == {"notifications_since_id": "9"}


def test_a_page_the_budget_cannot_take_stops_the_poll_and_keeps_the_cursor(stack: Stack) -> None:
    stack.store().put_brand(make_brand())
    spend = SpendRecord(stack.store())
    assert spend.reserve(CREDENTIAL, "any", LIMIT.requests - 2, LIMIT.requests, WINDOW)  # 2 left
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        enforce(mock, PlatformLimits(lambda: NOW), "mastodon", re.compile(re.escape(URL) + r".*"), [])
        connector = PagingConnector(pages=5)
        assert run(stack, connector) == {"batchItemFailures": []}  # deferred, not failed
        assert len(mock.calls) == 2  # the first page and the one more the budget had room for
    assert spend.spent(CREDENTIAL, "any", WINDOW) == LIMIT.requests  # never more
    state = stack.store().load_state(KEY)
    assert not state.cursor  # nothing the unread pages hold is skipped
    assert state.retry_at == WINDOW + LIMIT.window_seconds
    assert stack.queue_counts(stack.poll_queue_url)["delayed"] == 1
