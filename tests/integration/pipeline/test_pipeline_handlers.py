"""Handlers fail fast on bad configuration and log with correlation ids."""

from __future__ import annotations

import json

import pytest

from responsegap.domain.model import ConfigError

from .conftest import NOW, FakeConnector, FakeContext, Stack, make_brand, scheduler_event, sqs_event


@pytest.mark.parametrize(
    ("function", "variable"),
    [
        ("dispatch", "TABLE_NAME"),
        ("dispatch", "POLL_QUEUE_URL"),
        ("poll", "POLL_QUEUE_URL"),
        ("recheck", "POLL_QUEUE_URL"),
        ("report_dispatch", "REPORT_QUEUE_URL"),
        ("report", "SENDER_EMAIL"),
        ("report", "ARCHIVE_BUCKET"),
    ],
)
def test_cold_start_names_the_missing_variable(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, function: str, variable: str
) -> None:
    monkeypatch.delenv(variable)
    with pytest.raises(ConfigError, match=variable):
        stack.load(function)


def test_bad_setting_fails_the_cold_start(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLY_WINDOW_HOURS", "forever")
    with pytest.raises(ConfigError, match="REPLY_WINDOW_HOURS must be a whole number"):
        stack.load("poll")


def test_poll_logs_carry_the_sqs_message_id(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    from responsegap.pipeline.observability import logger

    stack.store().put_brand(make_brand())
    stack.load("dispatch").lambda_handler(scheduler_event("dispatch", NOW), FakeContext())
    (message,) = stack.receive_all(stack.poll_queue_url)
    app = stack.load("poll")
    app.DEPS.connector_for = FakeConnector([])
    app.DEPS.clock = lambda: NOW
    caplog.clear()
    app.lambda_handler(sqs_event([message], stack.poll_queue_arn), FakeContext())
    # The JSON lines CloudWatch gets: the records through the Powertools formatter.
    lines = [json.loads(logger.registered_formatter.format(record)) for record in caplog.records]
    stored = [line for line in lines if line.get("message") == "poll stored"]
    assert stored and stored[0]["correlation_id"] == message["MessageId"]
    assert stored[0]["profile_key"] == "mastodon#acme"
