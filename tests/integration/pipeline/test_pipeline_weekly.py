"""Weekly report: dispatched at the brand's local hour, emailed once per brand and week."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest

from responsegap.domain.periods import parse_instant
from responsegap.pipeline.events import ReportJob
from responsegap.pipeline.weekly import due_report_jobs

from .conftest import FakeContext, Stack, brand_reply, customer_post, make_brand, scheduler_event, sqs_event

# Monday 2025-12-29 07:00 in London (UTC+0 in winter): the report hour of week 2025-W52.
MONDAY_7AM = parse_instant("2025-12-29T07:00:00Z")
WEEK_START = parse_instant("2025-12-22T00:00:00Z")


def seed_week(stack: Stack, brand_id: str = "acme", leaders: bool = False) -> Any:
    store = stack.store(clock=lambda: MONDAY_7AM)
    brand = make_brand(brand_id=brand_id)
    store.put_brand(brand)
    first = customer_post(1, WEEK_START + 3600 * 10)
    posts = [first, brand_reply(1, first, WEEK_START + 3600 * 11), customer_post(2, WEEK_START + 86400 * 2)]
    store.save_posts(brand.profiles[0].key, posts, open_post_ids=["c1", "c2"])
    return brand


def report_jobs(stack: Stack, at: int) -> list[dict[str, Any]]:
    stack.load("report_dispatch").lambda_handler(scheduler_event("report_dispatch", at), FakeContext())
    return stack.receive_all(stack.report_queue_url)


def test_report_is_sent_once_per_brand_and_week(stack: Stack) -> None:
    seed_week(stack)
    assert report_jobs(stack, MONDAY_7AM - 3600) == []  # 06:00 local: not yet
    (job,) = report_jobs(stack, MONDAY_7AM)
    assert ReportJob.from_json(job["Body"]).week == "2025-W52"
    # The catch-up hour (for a DST-skipped report hour) queues the same brand and week again.
    (catch_up,) = report_jobs(stack, MONDAY_7AM + 3600)

    app = stack.load("report")
    before = stack.sent_emails()
    first = app.lambda_handler(sqs_event([job], stack.report_queue_arn), FakeContext())
    assert first == {"batchItemFailures": []}
    assert stack.sent_emails() == before + 1
    # Redelivery of the same job, the catch-up job, and a retry after a cold start: no more email.
    assert app.lambda_handler(sqs_event([job], stack.report_queue_arn), FakeContext()) == {
        "batchItemFailures": []
    }
    assert app.lambda_handler(sqs_event([catch_up], stack.report_queue_arn), FakeContext()) == {
        "batchItemFailures": []
    }
    cold = stack.load("report")
    assert cold.lambda_handler(sqs_event([job], stack.report_queue_arn), FakeContext()) == {
        "batchItemFailures": []
    }
    assert stack.sent_emails() == before + 1

    keys = sorted(o["Key"] for o in stack.s3.list_objects_v2(Bucket=stack.bucket)["Contents"])
    assert [k.rsplit(".", 1)[1] for k in keys] == ["csv", "html", "json"]
    assert all("acme" in k and "2025-W52" in k for k in keys)
    # The email carries the same rendering the archive keeps (built once), CSV included.
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from .conftest import REGION

    raw = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages[-1].raw_data
    raw = raw if isinstance(raw, bytes) else raw.encode("utf-8")
    sent = email.message_from_bytes(raw, policy=email.policy.default)
    archived = {
        k.rsplit(".", 1)[1]: stack.s3.get_object(Bucket=stack.bucket, Key=k)["Body"].read() for k in keys
    }
    html = sent.get_body(preferencelist=("html",)).get_content()
    assert html.replace("\r\n", "\n") == archived["html"].decode("utf-8")
    csv_part = next(p for p in sent.iter_attachments() if p.get_filename().endswith(".csv"))
    assert csv_part.get_payload(decode=True) == archived["csv"]  # a small week: the complete CSV


def test_failure_before_the_send_is_retried_and_sends_once(stack: Stack) -> None:
    seed_week(stack)
    (job,) = report_jobs(stack, MONDAY_7AM)
    app = stack.load("report")
    real_put = app.DEPS.archive.put
    calls = {"n": 0}

    def flaky_put(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("S3 hiccup")
        return real_put(*args, **kwargs)

    app.DEPS.archive.put = flaky_put
    before = stack.sent_emails()
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):
        app.lambda_handler(sqs_event([job], stack.report_queue_arn), FakeContext())
    assert stack.sent_emails() == before  # nothing sent, and the idempotency record was released
    assert app.lambda_handler(sqs_event([job], stack.report_queue_arn), FakeContext()) == {
        "batchItemFailures": []
    }
    assert app.lambda_handler(sqs_event([job], stack.report_queue_arn), FakeContext()) == {
        "batchItemFailures": []
    }
    assert stack.sent_emails() == before + 1


def test_leaders_rollup_once_per_week(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADER_EMAILS", "ceo@example.com, coo@example.com")
    seed_week(stack, "acme")
    seed_week(stack, "globex")
    tuesday_6am_utc = MONDAY_7AM + 23 * 3600
    jobs = report_jobs(stack, tuesday_6am_utc)
    assert [ReportJob.from_json(j["Body"]).kind for j in jobs] == ["rollup"]
    app = stack.load("report")
    before = stack.sent_emails()
    for _ in range(2):
        assert app.lambda_handler(sqs_event(jobs, stack.report_queue_arn), FakeContext()) == {
            "batchItemFailures": []
        }
    assert stack.sent_emails() == before + 1


def test_report_hour_follows_each_brand_timezone() -> None:
    from responsegap.domain.model import Brand

    tokyo = Brand("tokyo", "Tokyo", timezone="Asia/Tokyo")
    ny = Brand("ny", "New York", timezone="America/New_York", report_weekday=0, report_hour=9)
    # Monday 07:00 in Tokyo is Sunday 22:00 UTC; Monday 09:00 in New York is 14:00 UTC.
    assert [
        j.brand_id for j in due_report_jobs([tokyo, ny], parse_instant("2025-12-28T22:00:00Z"), leaders=False)
    ] == ["tokyo"]
    jobs = due_report_jobs([tokyo, ny], parse_instant("2025-12-29T14:00:00Z"), leaders=False)
    assert [(j.brand_id, j.week) for j in jobs] == [("ny", "2025-W52")]
