"""The weekly email as MIME: multipart/mixed (alternative text + HTML, CSV, JSON).

Headers carry figures and sanitised brand names only, never customer text. Addresses are
checked one by one so a value from configuration cannot smuggle in another header or an
extra recipient.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

from responsegap.report import csv_export, render
from responsegap.report.compose import RollupReport, WeeklyReport

MAX_RECIPIENTS = 50  # SES accepts at most 50 destinations per message
_ADDR_SPEC = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_FORBIDDEN = set("\r\n\0,;")


class AddressError(ValueError):
    """An email address that is not one plain, single address."""


def parse_address(value: str) -> Address:
    """``a@b.example`` or ``Name <a@b.example>``; anything with CR/LF, NUL, ``,`` or ``;`` is refused."""
    if not isinstance(value, str) or not value.strip():
        raise AddressError("empty email address")
    if _FORBIDDEN & set(value):
        raise AddressError(f"email address {value!r} must be one address without line breaks, ',' or ';'")
    name, spec = parseaddr(value.strip())
    if not spec or not _ADDR_SPEC.match(spec) or ".." in spec or spec.startswith("."):
        raise AddressError(f"{value!r} is not a valid email address")
    username, _, domain = spec.rpartition("@")
    return Address(display_name=render.oneline(name, 80), username=username, domain=domain)


def parse_recipients(recipients: Iterable[str]) -> list[Address]:
    out: dict[str, Address] = {}
    for value in recipients:
        address = parse_address(value)
        out.setdefault(address.addr_spec.lower(), address)
    if not out:
        raise AddressError("no recipients")
    if len(out) > MAX_RECIPIENTS:
        raise AddressError(f"{len(out)} recipients; at most {MAX_RECIPIENTS} per message")
    return list(out.values())


def attachment_name(report: WeeklyReport, extension: str) -> str:
    return f"response-gap-{report.brand.brand_id}-{report.week}.{extension}"


def report_json(report: WeeklyReport) -> bytes:
    return json.dumps(report.json_document(), indent=2, ensure_ascii=False, sort_keys=False).encode("utf-8")


def _envelope(subject: str, sender: str, recipients: Iterable[str], now: datetime | None) -> EmailMessage:
    source = parse_address(sender)
    to = parse_recipients(recipients)
    # The SMTP policy writes CRLF line ends and RFC 2047-encodes non-ASCII header text.
    message = EmailMessage(policy=SMTP)
    message["From"] = source
    message["To"] = to
    message["Subject"] = render.oneline(subject, 200)
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=source.domain)
    # Tells mail servers not to auto-reply (RFC 3834): this is a report, not a conversation.
    message["Auto-Submitted"] = "auto-generated"
    return message


def build_message(
    report: WeeklyReport, sender: str, recipients: Iterable[str], *, now: datetime | None = None
) -> EmailMessage:
    """multipart/mixed: [multipart/alternative: text/plain, text/html], report CSV, report JSON."""
    message = _envelope(render.subject(report), sender, recipients, now)
    message.set_content(render.render_text(report), subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(
        render.render_html(report), subtype="html", charset="utf-8", cte="quoted-printable"
    )
    message.add_attachment(
        csv_export.to_csv(report), maintype="text", subtype="csv", filename=attachment_name(report, "csv")
    )
    message.add_attachment(
        report_json(report), maintype="application", subtype="json", filename=attachment_name(report, "json")
    )
    return message


def build_rollup_message(
    rollup: RollupReport, sender: str, recipients: Iterable[str], *, now: datetime | None = None
) -> EmailMessage:
    """multipart/alternative with the leaders' roll-up (no attachments: each brand's email has them)."""
    message = _envelope(render.rollup_subject(rollup), sender, recipients, now)
    message.set_content(
        render.render_rollup_text(rollup), subtype="plain", charset="utf-8", cte="quoted-printable"
    )
    message.add_alternative(
        render.render_rollup_html(rollup), subtype="html", charset="utf-8", cte="quoted-printable"
    )
    return message
