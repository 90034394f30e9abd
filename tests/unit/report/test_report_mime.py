"""The email as a reader's mail client sees it: parsed back with the standard email package."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
import re
from datetime import UTC, datetime

import pytest

from responsegap.report import compose_weekly_report
from responsegap.report.compose import compose_rollup
from responsegap.report.mime import (
    AddressError,
    build_message,
    build_rollup_message,
    parse_address,
    parse_recipients,
)
from responsegap.report.render import environment, render_html, render_text, subject
from tests.unit.report import report_sample as s

SENDER = "Response gap <reports@example.com>"
NOW = datetime(2026, 11, 23, 7, 0, 5, tzinfo=UTC)


def make_report(name: str = "Acme Telecom", **store_kw):
    store = s.FakeStore(**store_kw)
    return compose_weekly_report(store, s.brand(name), s.WEEK, s.AS_OF)


def parsed(report, recipients=("leader@example.com",)):
    raw = build_message(report, SENDER, list(recipients), now=NOW).as_bytes()
    return raw, email.message_from_bytes(raw, policy=email.policy.default)


def test_subject_has_the_hand_computed_figures():
    assert subject(make_report()) == "Response gap, week 47: 63% answered, median 1h 20m · Acme Telecom"
    incomplete = make_report(completeness={"instagram#acme.help": s.BAD_COMPLETENESS})
    assert (
        subject(incomplete)
        == "Response gap, week 47: 63% answered, median 1h 20m (incomplete data) · Acme Telecom"
    )
    assert subject(make_report(by_profile={})) == "Response gap, week 47: no customer posts · Acme Telecom"


def test_structure_content_types_charsets_and_encodings():
    raw, message = parsed(make_report())
    assert b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")  # CRLF throughout
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert message.get_content_type() == "multipart/mixed"
    alternative, csv_part, json_part = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html = alternative.iter_parts()
    for part, kind in ((plain, "text/plain"), (html, "text/html")):
        assert part.get_content_type() == kind
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
        assert not part.is_attachment()
    assert csv_part.get_content_type() == "text/csv"
    assert csv_part.get_filename() == "response-gap-acme-2026-W47.csv"
    assert csv_part.is_attachment() and csv_part["Content-Transfer-Encoding"] == "base64"
    assert json_part.get_content_type() == "application/json"
    assert json_part.get_filename() == "response-gap-acme-2026-W47.json"
    document = json.loads(json_part.get_content())
    assert document["week"] == "2026-W47" and document["brands"][0]["openers"] == 8


def test_headers():
    _, message = parsed(make_report())
    assert message["From"] == SENDER
    assert message["To"] == "leader@example.com"
    assert message["Subject"] == "Response gap, week 47: 63% answered, median 1h 20m · Acme Telecom"
    assert message["Date"] == "Mon, 23 Nov 2026 07:00:05 +0000"
    assert re.fullmatch(r"<[^<>@\s]+@example\.com>", message["Message-ID"])
    assert message["Auto-Submitted"] == "auto-generated"
    assert "List-Unsubscribe" not in message


def test_hostile_brand_name_cannot_break_headers():
    raw, message = parsed(make_report("Evil\r\nBcc: victim@example.org\nX-Injected: 1"))
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    names = [line.split(":", 1)[0] for line in head.split("\r\n") if not line.startswith((" ", "\t"))]
    assert names == [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "Auto-Submitted",
        "MIME-Version",
        "Content-Type",
    ]
    assert "Bcc" not in message
    assert "X-Injected" not in message
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert message["Subject"].endswith("Evil Bcc: victim@example.org X-Injected: 1")


def test_no_customer_text_in_headers():
    raw, _ = parsed(make_report())
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    for fragment in ("script", "HYPERLINK", "calc", "onerror", "bill is wrong"):
        assert fragment not in head


def test_hostile_post_text_is_inert_in_html():
    _, message = parsed(make_report())
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript:' not in html.lower()
    assert "=HYPERLINK(&#34;http://evil&#34;,&#34;x&#34;)" in html


def test_html_is_email_safe():
    html = render_html(make_report())
    assert environment().autoescape("report.html.j2") is True
    assert environment().autoescape("x.txt.j2") is False
    lowered = html.lower()
    for forbidden in ("<script", "<img", "<link", "<iframe", "<object", "<style", "url(", "@import", " on"):
        if forbidden == " on":
            assert not re.search(r"<[^>]+\son\w+\s*=", lowered)
        else:
            assert forbidden not in lowered
    # The only external URLs are the links to the posts themselves.
    urls = re.findall(r"(?:src|href)\s*=\s*\"([^\"]*)\"", html)
    assert urls and all(re.fullmatch(r"https://(x|instagram)\.example/cust\d/status/\w+", u) for u in urls)
    assert not re.search(r"<[^>]*\ssrc\s*=", lowered)


def test_plain_text_reads_on_its_own():
    text = render_text(make_report(snapshots={"2026-W46": s.W46}))
    assert "<td" not in text and "&lt;" not in text and "&amp;" not in text
    assert "Answered: 63% (5 of 8 customer posts)" in text
    assert "▲ up 13 pts from 50% (better)" in text
    assert "Median wait for a person: 1h 20m" in text
    assert "Slowest 10% waited: 9h 52m" in text
    assert "Answered by a person within 1h: 25% (2 of 8)" in text
    assert "<script>alert(1)</script>" in text  # shown as written, it is plain text
    assert "https://x.example/cust4/status/c4" in text
    assert "\r" not in text


def test_csv_attachment_neutralises_formulas_and_control_characters():
    _, message = parsed(make_report())
    part = next(iter(message.iter_attachments()))
    data = part.get_content()
    data = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(data)))
    assert len(rows) == 9  # 8 openers + 1 follow-up
    by_id = {r["post_id"]: r for r in rows}
    assert by_id["c5"]["text"].startswith("'=HYPERLINK(")
    assert by_id["c7"]["text"] == "'+cmd|' /C calc'!A0"
    assert by_id["c2"]["text"].startswith("'@acme")
    assert by_id["i2"]["text"] == "<img src=x onerror=alert(1)>  second line third"
    assert by_id["c7"]["link"] == ""  # javascript: link dropped
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))
            assert not re.search(r"[\x00-\x1f]", value)


def test_csv_columns_and_values():
    from responsegap.report.csv_export import COLUMNS, to_csv

    data = to_csv(make_report())
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    by_id = {r["post_id"]: r for r in rows}
    c2 = by_id["c2"]
    assert c2["status"] == "answered" and c2["first_response_seconds"] == "47400"
    assert c2["first_response_business_seconds"] == "600"  # Tue 09:00-09:10
    assert c2["created_local"] == "2026-11-16T20:00:00+00:00" and c2["created_utc"] == "2026-11-16T20:00:00Z"
    assert c2["within_sla"] == "no"
    c6 = by_id["c6"]
    assert c6["status"] == "answered-automated" and c6["first_human_response_seconds"] == ""
    assert "IFTTT" in c6["automated_reasons"]
    assert by_id["c1"]["within_sla"] == "yes"
    assert by_id["c7"]["kind"] == "followup" and by_id["c7"]["within_sla"] == ""
    assert by_id["c4"]["status"] == "unanswered"


@pytest.mark.parametrize(
    "bad",
    [
        "a@example.com\r\nBcc: x@example.org",
        "a@example.com\nBcc: x@example.org",
        "a@example.com, b@example.com",
        "a@example.com; b@example.com",
        '"Doe, John" <j@example.com>',
        "not-an-address",
        "a@localhost",
        "",
        "a@@example.com",
        "a@example.com\x00",
    ],
)
def test_bad_recipients_are_refused(bad):
    with pytest.raises(AddressError):
        parse_recipients([bad])
    with pytest.raises(AddressError):
        build_message(make_report(), SENDER, [bad])


def test_recipients_are_deduplicated_and_sender_may_have_a_name():
    assert [a.addr_spec for a in parse_recipients(["A@example.com", "a@example.com", "b@example.com"])] == [
        "A@example.com",
        "b@example.com",
    ]
    assert parse_address(SENDER).display_name == "Response gap"
    with pytest.raises(AddressError):
        parse_recipients([])


def test_rollup_message():
    rollup = compose_rollup([make_report()])
    raw = build_rollup_message(rollup, SENDER, ["ceo@example.com"], now=NOW).as_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "Response gap, week 47, all brands: 63% answered, median 1h 20m"
    assert message.get_content_type() == "multipart/alternative"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Acme Telecom" in html and "<script" not in html.lower()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "- Acme Telecom: 63% answered of 8 posts" in text
