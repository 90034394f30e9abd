"""Building the week's files once, and an email that always fits SES (40 MB; our budget 10 MB)."""

from __future__ import annotations

import base64
import csv
import email
import email.policy
import gzip
import io
import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from responsegap.domain.business_hours import business_seconds
from responsegap.domain.matching import OPENER
from responsegap.domain.model import Post
from responsegap.domain.periods import iso
from responsegap.pipeline.weekly import _archive_location, archive_files
from responsegap.report import compose_weekly_report, csv_export
from responsegap.report.archive import ReportArchive
from responsegap.report.artefacts import (
    BODY_RESERVE_BYTES,
    FULL,
    GZIP,
    MAX_EMAIL_BYTES,
    SES_MAX_MESSAGE_BYTES,
    UNANSWERED,
    build_artefacts,
)
from responsegap.report.mime import build_message
from responsegap.report.render import safe_url
from tests.unit.report import report_sample as s

SENDER = "reports@example.com"
KEY = "s3://rg-archive/reports/acme/2026-W47/response-gap-acme-2026-W47.csv"


def big_week(customers: int, *, text_length: int, seed: int = 7, compressible: bool = False) -> dict:
    """``customers`` customer posts on x#acme over the week; every third one answered."""
    rng = random.Random(seed)
    phrases = ("my bill is wrong ", "no signal since noon ", "how do I port my number ", "order late ")
    posts: list[Post] = []
    week_seconds = 7 * 86400 - 3600
    for n in range(customers):
        when = s.at(0, 0) + (n * week_seconds) // customers
        if compressible:
            body = "".join(rng.choices(phrases, k=text_length // 16 + 1))[:text_length]
        else:  # random letters: gzip gains little
            body = base64.b64encode(rng.randbytes(text_length * 3 // 4 + 3)).decode("ascii")[:text_length]
        if n % 97 == 0:
            body = '=HYPERLINK("http://evil","x")\r\n' + body  # hostile cells stay defused
        post = s.customer(f"c{n}", when, f"@acme {body}", f"cust{n % 5000}")
        posts.append(post)
        if n % 3 == 0:
            posts.append(s.reply(f"r{n}", when + 600 + n % 7200, post, f"Sorry about that, DM us ^AB {n}"))
    return {"x#acme": posts, "instagram#acme.help": []}


@pytest.fixture(scope="module")
def huge_report():
    """About 45 MB of CSV that gzip cannot bring under 10 MB (random text)."""
    store = s.FakeStore(by_profile=big_week(60_000, text_length=600))
    return compose_weekly_report(store, s.brand(), s.WEEK, s.AS_OF)


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_a_huge_week_sends_the_unanswered_posts_and_names_the_archive(huge_report) -> None:
    artefacts = build_artefacts(huge_report, archive_location=KEY)
    assert len(artefacts.csv) > 4 * MAX_EMAIL_BYTES  # the complete CSV could never be emailed
    attachment = artefacts.attachment
    assert attachment.kind == UNANSWERED
    assert attachment.filename == "response-gap-acme-2026-W47-unanswered.csv"
    assert 0 < attachment.rows < attachment.unanswered_total == 40_000  # capped, oldest first

    raw = build_message(huge_report, SENDER, ["leader@example.com"], artefacts=artefacts).as_bytes()
    assert len(raw) <= MAX_EMAIL_BYTES < SES_MAX_MESSAGE_BYTES
    message = parse(raw)
    alternative, csv_part, json_part = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert csv_part.get_content_type() == "text/csv" and csv_part.get_filename() == attachment.filename
    assert json_part.get_filename() == "response-gap-acme-2026-W47.json"

    data = csv_part.get_content()
    data = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(data)))
    assert len(rows) == attachment.rows
    assert {r["status"] for r in rows} == {"unanswered"}
    assert [r["created_utc"] for r in rows] == sorted(r["created_utc"] for r in rows)
    for row in rows:
        assert not row["text"].startswith(("=", "+", "-", "@", "\t", "\r"))
        assert "\r" not in row["text"] and "\n" not in row["text"]

    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    flat = " ".join(text.split())
    assert "too large to email: it is in the report archive as " + KEY in flat
    assert f"the oldest {attachment.rows:,} of the 40,000 unanswered posts" in flat
    assert "The complete CSV is in the archive." in html and KEY in html
    assert f'href="{KEY}' not in html  # named, not linked: the only links are the posts

    # The archive keeps the complete CSV, the same bytes as built, and the same HTML.
    files = artefacts.archive_files()
    assert files["response-gap-acme-2026-W47.csv"] is artefacts.csv
    assert files["response-gap-acme-2026-W47.html"].decode("utf-8") == html.replace("\r\n", "\n")
    assert artefacts.csv.count(b"\r\n") == len(huge_report.outcomes) + 1


def test_a_big_but_compressible_week_attaches_the_gzipped_csv() -> None:
    store = s.FakeStore(by_profile=big_week(40_000, text_length=300, compressible=True))
    report = compose_weekly_report(store, s.brand(), s.WEEK, s.AS_OF)
    artefacts = build_artefacts(report, archive_location=KEY)
    assert len(artefacts.csv) > MAX_EMAIL_BYTES
    assert artefacts.attachment.kind == GZIP
    raw = build_message(report, SENDER, ["leader@example.com"], artefacts=artefacts).as_bytes()
    assert len(raw) <= MAX_EMAIL_BYTES
    message = parse(raw)
    _, csv_part, _ = message.iter_parts()
    assert csv_part.get_content_type() == "application/gzip"
    assert csv_part.get_filename() == "response-gap-acme-2026-W47.csv.gz"
    assert gzip.decompress(csv_part.get_content()) == artefacts.csv  # the complete CSV, intact
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "as a compressed CSV (response-gap-acme-2026-W47.csv.gz, 40,000 posts" in " ".join(text.split())
    # The same CSV always compresses to the same bytes (no time in the gzip header).
    assert build_artefacts(report, archive_location=KEY).attachment.data == artefacts.attachment.data


def test_a_small_week_attaches_the_complete_csv() -> None:
    report = compose_weekly_report(s.FakeStore(), s.brand(), s.WEEK, s.AS_OF)
    artefacts = build_artefacts(report)
    assert artefacts.attachment.kind == FULL and artefacts.attachment.data is artefacts.csv
    message = parse(build_message(report, SENDER, ["leader@example.com"], artefacts=artefacts).as_bytes())
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Attached: every customer post of the week (CSV) and the full figures (JSON)." in text
    assert "archive" not in text.lower()


@pytest.mark.parametrize(("budget_kb", "kind"), [(400, FULL), (150, GZIP), (30, UNANSWERED)])
def test_the_choice_follows_the_budget(budget_kb: int, kind: str) -> None:
    store = s.FakeStore(by_profile=big_week(600, text_length=200, compressible=True))
    report = compose_weekly_report(store, s.brand(), s.WEEK, s.AS_OF)
    budget = BODY_RESERVE_BYTES + budget_kb * 1024
    artefacts = build_artefacts(report, archive_location=KEY, max_email_bytes=budget)
    assert artefacts.attachment.kind == kind
    raw = build_message(report, SENDER, ["leader@example.com"], artefacts=artefacts).as_bytes()
    assert len(raw) <= budget
    assert len(parse(raw).get_payload()) == 3


def test_default_location_is_the_archive_key() -> None:
    store = s.FakeStore(by_profile=big_week(600, text_length=200))
    report = compose_weekly_report(store, s.brand(), s.WEEK, s.AS_OF)
    artefacts = build_artefacts(report, max_email_bytes=BODY_RESERVE_BYTES + 20_000)
    assert artefacts.attachment.kind == UNANSWERED
    assert "reports/acme/2026-W47/response-gap-acme-2026-W47.csv" in artefacts.text
    archive = ReportArchive("rg-archive", client=object())
    assert _archive_location(archive, report) == KEY
    assert _archive_location(object(), report) is None


def test_archive_files_and_message_share_one_rendering() -> None:
    report = compose_weekly_report(s.FakeStore(), s.brand(), s.WEEK, s.AS_OF)
    artefacts = build_artefacts(report)
    assert archive_files(report, artefacts) == artefacts.archive_files()
    assert archive_files(report) == artefacts.archive_files()  # built again: the same bytes


def _reference_rows(report) -> list[list]:
    """The CSV rows as the first, straightforward implementation wrote them."""
    profiles = report.profile_by_key
    out = []
    for outcome in report.outcomes:
        profile = profiles[outcome.profile_key]
        post = outcome.post
        first, human = outcome.first_response, outcome.first_human_response
        local = datetime.fromtimestamp(post.created_at, ZoneInfo(profile.timezone))
        business = (
            business_seconds(post.created_at, first.created_at, profile.timezone, profile.business_hours)
            if first
            else None
        )
        if outcome.kind != OPENER:
            within = ""
        else:
            within = "yes" if human is not None and human.seconds <= profile.sla_seconds else "no"
        values = [
            report.brand.brand_id,
            profile.handle,
            profile.platform,
            post.post_id,
            safe_url(post.url) or "",
            local.isoformat(),
            iso(post.created_at),
            outcome.kind,
            csv_export.status(outcome),
            first.post_id if first else "",
            first.seconds if first else None,
            business,
            human.post_id if human else "",
            human.seconds if human else None,
            within,
            ("yes" if first.automated else "no") if first else "",
            "; ".join(first.reasons) if first and first.automated else "",
            (outcome.agent or "") if report.brand.agents else "",
            outcome.ending or "",
            post.author_handle,
            post.text,
        ]
        out.append([csv_export.safe_cell(v) for v in values])
    return out


HOSTILE_CELLS = (
    "=1+1",
    " =1+1",
    "\u00a0=cmd",
    "@SUM(A1)",
    "-2",
    "+cmd",
    "\ttab",
    "line\u2028sep",
    "nul\x00byte",
    "del\x7f\x9f",
    "",
    "zero\u200bwidth",
    'plain text, with "quotes"',
)


def test_fast_csv_matches_the_reference_implementation() -> None:
    by_profile = s.posts()
    extra = [
        s.customer(f"h{n}", s.at(1 + n % 5, n % 24, n % 60, n % 60), text + " @acme", f"evil{n}")
        for n, text in enumerate(HOSTILE_CELLS * 3)
    ]
    by_profile["x#acme"] = by_profile["x#acme"] + extra
    report = compose_weekly_report(s.FakeStore(by_profile=by_profile), s.brand(), s.WEEK, s.AS_OF)
    assert csv_export.rows(report) == _reference_rows(report)
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerows([csv_export.COLUMNS, *_reference_rows(report)])
    assert csv_export.to_csv(report) == expected.getvalue().encode("utf-8-sig")


def test_local_times_across_a_clock_change() -> None:
    clock = csv_export._Clock("Europe/London")
    # 2026-10-25 01:00 UTC: BST ends; the same local hour happens twice.
    for moment in range(1792890000 - 7200, 1792890000 + 7200, 37):
        local, utc = clock.local_and_utc(moment)
        assert local == datetime.fromtimestamp(moment, ZoneInfo("Europe/London")).isoformat()
        assert utc == iso(moment)
    lmt = csv_export._Clock("Europe/Amsterdam")  # +00:19:32 before 1937
    assert (
        lmt.local_and_utc(-1_500_000_000)[0]
        == datetime.fromtimestamp(-1_500_000_000, ZoneInfo("Europe/Amsterdam")).isoformat()
    )


def test_capped_csv_stops_at_the_budget() -> None:
    store = s.FakeStore(by_profile=big_week(300, text_length=100))
    report = compose_weekly_report(store, s.brand(), s.WEEK, s.AS_OF)
    data, rows = csv_export.write_csv(report, csv_export.unanswered(report), max_bytes=5000)
    assert len(data) <= 5000 and data.count(b"\r\n") == rows + 1 and rows > 0
    more, more_rows = csv_export.write_csv(report, csv_export.unanswered(report), max_bytes=10**9)
    assert more.startswith(data) and more_rows == 200


def test_the_mailer_refuses_a_message_ses_would_refuse() -> None:
    from email.message import EmailMessage

    from responsegap.report.mailer import MessageTooLarge, SesMailer

    class NeverCalled:
        def send_email(self, **kwargs):  # pragma: no cover - must not be reached
            raise AssertionError("sent")

    message = EmailMessage()
    message.set_content("x")
    message.add_attachment(b"\0" * (SES_MAX_MESSAGE_BYTES * 3 // 4 + 1), maintype="application", subtype="x")
    with pytest.raises(MessageTooLarge):
        SesMailer(NeverCalled()).send(message, SENDER, ["leader@example.com"])
