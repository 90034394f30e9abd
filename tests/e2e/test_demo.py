"""`make demo` end to end: polls over HTTP, DynamoDB, SQS, SES, and the same figures as analyze."""

from __future__ import annotations

import contextlib
import csv
import email
import email.policy
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, DemoRun, demo_env

pytestmark = pytest.mark.e2e

FIGURES = (
    "openers",
    "answered",
    "unanswered",
    "response_rate",
    "first_response_seconds",
    "answered_by_human",
    "first_human_response_seconds",
    "answered_within_sla",
    "followups",
    "followups_answered",
    "answered_automated",
    "automated_reasons",
    "business_hours",
    "unanswered_by_weekday_hour",
)


def test_quick_demo_runs_and_says_the_figures_match(quick_demo: DemoRun) -> None:
    assert quick_demo.returncode == 0, quick_demo.stdout[-3000:] + quick_demo.stderr[-3000:]
    assert "MATCH: every figure" in quick_demo.stdout
    summary = json.loads((quick_demo.out / "demo.json").read_text(encoding="utf-8"))
    assert summary["figures_match"] is True
    assert set(summary["demo"]) == {"Uber_Support", "SpotifyCares"}
    pipeline = summary["pipeline"]
    assert pipeline["polls_ok"] > 0 and pipeline["posts_stored"] > 0 and pipeline["emails"] == 2
    # --quick turns on the platforms' 429s: some polls were limited, retried, and nothing was lost.
    assert pipeline["polls_rate_limited"] > 0
    assert pipeline["failed_records"] == 0
    # Both platforms really carried conversations, and replies were found.
    for brand in ("Uber_Support", "SpotifyCares"):
        assert summary["demo"][brand]["openers"] > 0
        assert summary["demo"][brand]["answered"] > 0


def test_the_demo_alerts_overdue_posts_to_the_webhook_receiver_and_sns_email(quick_demo: DemoRun) -> None:
    assert quick_demo.returncode == 0, quick_demo.stdout[-3000:] + quick_demo.stderr[-3000:]
    lines = (quick_demo.out / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert rows, "the simulated week has posts that go overdue"
    fields = [
        "brand",
        "profile",
        "post_id",
        "url",
        "waited_seconds",
        "out_of_hours",
        "alerted_at",
        "answered_after_alert",
    ]
    assert all(list(row) == fields for row in rows)
    assert len({(r["brand"], r["post_id"]) for r in rows}) == len(rows)  # each post alerted once
    assert any(r["out_of_hours"] for r in rows)  # overdue at night
    summary = json.loads((quick_demo.out / "demo.json").read_text(encoding="utf-8"))
    alerts = summary["alerts"]
    assert alerts["alerted_posts"] == len(rows)
    # Each digest reached the loopback webhooks (Slack and JSON kinds in --quick) and SNS email.
    assert alerts["webhook_digests"].get("slack", 0) > 0 and alerts["webhook_digests"].get("webhook", 0) > 0
    assert alerts["sns_email_digests"] > 0 and alerts["sns_subscriptions"] == [
        "email:on-call@responsegap.local"
    ]
    # Simulated time: the median stays within one poll interval (180 min in --quick) plus a minute.
    assert 0 <= alerts["median_minutes_overdue_to_alert"] <= 181
    assert f"{len(rows)} overdue-post alerts sent" in quick_demo.stdout
    assert "from overdue to alert" in quick_demo.stdout
    email = (quick_demo.out / "alerts" / "email.txt").read_text(encoding="utf-8")
    assert email.startswith("Subject: responsegap ") and "Waiting past the alert threshold" in email
    slack = json.loads((quick_demo.out / "alerts" / "slack.json").read_text(encoding="utf-8"))
    assert all(b.get("text", {}).get("verbatim", True) for b in slack["blocks"] if b["type"] == "section")
    document = json.loads((quick_demo.out / "alerts" / "webhook.json").read_text(encoding="utf-8"))
    assert document["type"] == "responsegap.alert_digest" and document["overdue"]


def test_the_four_files_exist_and_parse(quick_demo: DemoRun) -> None:
    out = quick_demo.out
    for name in ("report.html", "report.eml", "report.csv", "report.json"):
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0, name
    message = email.message_from_bytes((out / "report.eml").read_bytes(), policy=email.policy.default)
    assert message["Subject"]
    assert message.get_body(preferencelist=("plain",)) is not None
    html = message.get_body(preferencelist=("html",))
    assert html is not None and "<html" in html.get_content().lower()
    attachments = {a.get_content_type(): a for a in message.iter_attachments()}
    assert set(attachments) >= {"text/csv", "application/json"}
    # The files written beside the EML are its parts.
    attached_json = json.loads(attachments["application/json"].get_content())
    assert json.loads((out / "report.json").read_text(encoding="utf-8")) == attached_json
    rows = list(csv.reader(io.StringIO((out / "report.csv").read_text(encoding="utf-8"))))
    assert len(rows) > 1 and len(rows[0]) > 1
    assert "<html" in (out / "report.html").read_text(encoding="utf-8").lower()


def test_emailed_figures_equal_analyze_on_the_same_file_and_week(quick_demo: DemoRun) -> None:
    """Independent of the demo's own comparison: analyze run here, on the original archive times."""
    from responsegap.cli import main as cli

    summary = json.loads((quick_demo.out / "demo.json").read_text(encoding="utf-8"))
    target = quick_demo.out.parent / "analyze-check.json"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli(
            [
                "analyze",
                str(REPO / "infra/data/twcs/twcs-head-public.csv"),
                "--from",
                summary["archive_period"]["start"],
                "--to",
                summary["archive_period"]["end"],
                "--as-of",
                summary["archive_as_of"],
                "--profiles",
                ",".join(b.lower() for b in summary["brands"]),
                "--store",
                "memory",
                "--json",
                str(target),
            ]
        )
    assert code == 0
    analyzed = {row["brand"]: row for row in json.loads(target.read_text(encoding="utf-8"))["brands"]}
    for brand in summary["brands"]:
        emailed = json.loads((quick_demo.out / brand / "report.json").read_text(encoding="utf-8"))
        assert emailed["week"] == summary["week"]
        row = emailed["brands"][0]
        for key in FIGURES:
            assert row[key] == analyzed[brand][key], (brand, key)


def _ports(text: str) -> set[int]:
    return {int(p) for p in re.findall(r"http://127\.0\.0\.1:(\d+)", text)}


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _processes_mentioning(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_stops_everything_and_frees_the_ports(tmp_path: Path) -> None:
    out = tmp_path / "interrupted"
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local.demo", "--quick", "--out", str(out)],
        cwd=REPO,
        env=demo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = ""
    ports: set[int] = set()
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        # Wait until both servers are up and the rounds have started, then interrupt mid-run.
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen += line
            ports |= _ports(line)
            if "round" in line:
                break
        assert len(ports) >= 2, seen
        assert all(_listening(p) for p in ports), seen
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        seen += rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, seen[-2000:]
    assert "interrupted" in seen
    assert not [p for p in ports if _listening(p)], seen[-2000:]
    for port in ports:
        with socket.socket() as again:
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(("127.0.0.1", port))  # raises if anything still holds it
    assert _processes_mentioning(str(out)) == [], "a process of the demo is still running"
    assert not os.path.exists(out / "report.eml")  # interrupted before the report
