"""The report on the embedded AWS: the real PostStore on moto DynamoDB, SES v2 and S3."""

from __future__ import annotations

import email
import email.policy

import boto3
import pytest

from responsegap.report import compose_weekly_report, week_figures_snapshot
from responsegap.report.archive import ReportArchive
from responsegap.report.mailer import SesMailer
from responsegap.report.mime import AddressError, build_message
from tests.conftest import REGION
from tests.unit.report import report_sample as s

SENDER = "reports@example.com"


@pytest.fixture
def ses(aws):
    client = boto3.client("sesv2", region_name=REGION)
    client.create_email_identity(EmailIdentity=SENDER)
    return client


def sent_messages():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages


def fill(store):
    brand = s.brand()
    store.put_brand(brand)
    for profile_key, posts in s.posts().items():
        store.save_posts(profile_key, posts)
    return brand


def test_the_real_store_gives_the_same_report_as_the_fake(store):
    brand = fill(store)
    store.clock = lambda: s.AS_OF
    store.put_snapshot("acme", "2026-W46", s.W46)
    real = compose_weekly_report(store, store.get_brand("acme"), s.WEEK, s.AS_OF)
    fake = compose_weekly_report(s.FakeStore(snapshots={"2026-W46": s.W46}), brand, s.WEEK, s.AS_OF)
    # The store lists profiles in key order; everything else must be identical.
    assert {**real.figures, "profiles": None} == {**fake.figures, "profiles": None}
    assert [o.post.post_id for o in real.outcomes] == [o.post.post_id for o in fake.outcomes]
    assert real.previous == fake.previous
    # No polls were logged: the store says so, and the report warns.
    assert real.profiles[0]["completeness"]["polls_succeeded"] == 0
    assert real.incomplete


def test_snapshots_round_trip_through_the_table_for_the_trend(store):
    fill(store)
    store.clock = lambda: s.AS_OF
    report = compose_weekly_report(store, store.get_brand("acme"), s.WEEK, s.AS_OF)
    store.put_snapshot("acme", s.WEEK, week_figures_snapshot(report))
    later = compose_weekly_report(store, store.get_brand("acme"), "2026-W48", s.AS_OF + 7 * 86400)
    assert later.previous == week_figures_snapshot(report)["brand"]
    assert later.trend[-2].week == s.WEEK and later.trend[-2].figures["openers"] == 8


def test_polls_logged_in_the_table_feed_completeness(store):
    brand = fill(store)
    store.clock = lambda: s.AS_OF
    start = s.at(0, 0)
    for t in range(start, start + 7 * 86400, 3600):
        store.record_poll("x#acme", t, "ok")
        store.record_poll("instagram#acme.help", t, "ok")
    report = compose_weekly_report(store, brand, s.WEEK, s.AS_OF, poll_interval_seconds=3600)
    stats = report.profiles[0]["completeness"]
    assert stats == {
        "polls_planned": 168,
        "polls_succeeded": 168,
        "polls_failed": 0,
        "longest_blind_seconds": 3600,
        "polls_account_unavailable": 0,
        "account_unavailable_at_end": 0,
    }
    assert not report.incomplete


def test_ses_send_delivers_the_raw_message(ses):
    report = compose_weekly_report(s.FakeStore(), s.brand(), s.WEEK, s.AS_OF)
    message = build_message(report, SENDER, ["leader@example.com"])
    message_id = SesMailer(ses).send(message, SENDER, ["leader@example.com"])
    assert message_id
    (sent,) = sent_messages()
    assert sent.source == SENDER
    assert sent.destinations == {"ToAddresses": ["leader@example.com"]} or "leader@example.com" in str(
        sent.destinations
    )
    parsed = email.message_from_string(sent.raw_data, policy=email.policy.default)
    assert parsed["Subject"] == "Response gap, week 47: 63% answered, median 1h 20m · Acme Telecom"
    assert [p.get_filename() for p in parsed.iter_attachments()] == [
        "response-gap-acme-2026-W47.csv",
        "response-gap-acme-2026-W47.json",
    ]


def test_ses_refuses_an_unverified_sender(aws):
    client = boto3.client("sesv2", region_name=REGION)
    report = compose_weekly_report(s.FakeStore(), s.brand(), s.WEEK, s.AS_OF)
    message = build_message(report, SENDER, ["leader@example.com"])
    with pytest.raises(client.exceptions.ClientError):
        SesMailer(client).send(message, SENDER, ["leader@example.com"])


def test_mailer_checks_envelope_addresses_itself(ses):
    report = compose_weekly_report(s.FakeStore(), s.brand(), s.WEEK, s.AS_OF)
    message = build_message(report, SENDER, ["leader@example.com"])
    with pytest.raises(AddressError):
        SesMailer(ses).send(message, SENDER, ["leader@example.com\r\nBcc: x@example.org"])
    assert sent_messages() == []


def test_archive_puts_encrypted_objects(aws):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="reports-archive")
    archive = ReportArchive("reports-archive", s3)
    keys = archive.put("acme", s.WEEK, {"report.html": b"<html></html>", "report.csv": "a,b\r\n"})
    assert keys == ["reports/acme/2026-W47/report.html", "reports/acme/2026-W47/report.csv"]
    head = s3.head_object(Bucket="reports-archive", Key=keys[0])
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "text/html; charset=utf-8"
    body = s3.get_object(Bucket="reports-archive", Key=keys[1])["Body"].read()
    assert body == b"a,b\r\n"
    for bad in (("../x", s.WEEK, "a.csv"), ("acme", "2026-47", "a.csv"), ("acme", s.WEEK, "../a.csv")):
        with pytest.raises(ValueError):
            archive.key(*bad)


def test_cli_preview_and_send_on_the_embedded_stack(store, ses, tmp_path, monkeypatch, capsys):
    from responsegap.cli import main
    from tests.conftest import TABLE

    fill(store)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="reports-archive")
    monkeypatch.setenv("TABLE_NAME", TABLE)
    monkeypatch.setenv("SENDER_EMAIL", SENDER)
    monkeypatch.setenv("ARCHIVE_BUCKET", "reports-archive")
    argv = [
        "report",
        "--brand",
        "acme",
        "--week",
        s.WEEK,
        "--as-of",
        "2026-11-23T07:00:00Z",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 0
    assert (tmp_path / "report.eml").exists() and sent_messages() == []
    assert main([*argv, "--send"]) == 0
    assert len(sent_messages()) == 1
    assert store.recent_snapshots("acme", "2026-W48")[0][0] == s.WEEK
    listed = s3.list_objects_v2(Bucket="reports-archive")["Contents"]
    assert len(listed) == 5
    assert main(["report", "--brand", "nobody", "--week", s.WEEK]) == 2
    assert "unknown brand 'nobody'" in capsys.readouterr().err
