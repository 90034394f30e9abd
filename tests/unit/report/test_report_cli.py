"""responsegap report: local preview files, clear errors, --send through injected fakes."""

from __future__ import annotations

import argparse
import email
import email.policy

import pytest

from responsegap.cli import main
from responsegap.commands import report as command
from responsegap.domain.model import ConfigError
from tests.unit.report import report_sample as s


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("TABLE_NAME", "responsegap-test")
    monkeypatch.setenv("SENDER_EMAIL", "reports@example.com")
    monkeypatch.delenv("LEADER_EMAILS", raising=False)
    monkeypatch.delenv("ARCHIVE_BUCKET", raising=False)


def args(tmp_path, **kw):
    values = {
        "brand": "acme",
        "week": s.WEEK,
        "as_of": "2026-11-23T07:00:00Z",
        "send": False,
        "out": str(tmp_path),
    }
    return argparse.Namespace(**(values | kw))


class Mailer:
    def __init__(self):
        self.sent = []

    def send(self, message, sender, recipients):
        self.sent.append((message, sender, recipients))
        return "msg-1"


class Archive:
    bucket = "archive"

    def __init__(self):
        self.files = {}

    def put(self, brand_id, week, files):
        self.files[(brand_id, week)] = files
        return [f"reports/{brand_id}/{week}/{n}" for n in files]


def test_preview_writes_the_files_and_sends_nothing(env, tmp_path, capsys):
    store, mailer = s.FakeStore(), Mailer()
    assert command.run(args(tmp_path), store=store, mailer=mailer) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["report.csv", "report.eml", "report.html", "report.json", "report.txt"]
    eml = email.message_from_bytes((tmp_path / "report.eml").read_bytes(), policy=email.policy.default)
    assert eml["To"] == "leader@example.com"
    assert mailer.sent == [] and store.snapshots == {}
    out = capsys.readouterr().out
    assert "Response gap, week 47: 63% answered, median 1h 20m · Acme Telecom" in out


def test_send_archives_stores_the_snapshot_and_mails_last(env, tmp_path):
    store, mailer, archive = s.FakeStore(), Mailer(), Archive()
    assert command.run(args(tmp_path, send=True), store=store, mailer=mailer, archive=archive) == 0
    assert ("acme", s.WEEK) in store.snapshots
    assert set(archive.files[("acme", s.WEEK)]) == {
        "report.html",
        "report.txt",
        "report.eml",
        "report.csv",
        "report.json",
    }
    ((_message, sender, recipients),) = mailer.sent
    assert sender == "reports@example.com" and recipients == ["leader@example.com"]


def test_unknown_brand_and_bad_week_are_clear_errors(env, tmp_path, monkeypatch, capsys):
    with pytest.raises(ConfigError, match="unknown brand 'nope'"):
        command.run(args(tmp_path, brand="nope"), store=s.FakeStore())
    with pytest.raises(ConfigError, match="is not like 2026-W47"):
        command.run(args(tmp_path, week="47"), store=s.FakeStore())
    with pytest.raises(ConfigError, match="has not started"):
        command.run(args(tmp_path, week="2027-W02"), store=s.FakeStore())
    # Through the CLI: exit code 2 and the message on stderr, before any AWS call.
    assert main(["report", "--brand", "acme", "--week", "2026-47"]) == 2
    assert "is not like 2026-W47" in capsys.readouterr().err


def test_send_needs_a_sender(env, tmp_path, monkeypatch):
    monkeypatch.delenv("SENDER_EMAIL")
    with pytest.raises(ConfigError, match="SENDER_EMAIL"):
        command.run(args(tmp_path, send=True), store=s.FakeStore(), mailer=Mailer(), archive=Archive())


def test_missing_table_name_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.delenv("TABLE_NAME", raising=False)
    with pytest.raises(ConfigError, match="TABLE_NAME"):
        command.run(args(tmp_path), store=s.FakeStore())
