"""The weekly email as MIME: multipart/mixed (alternative text + HTML, CSV, JSON).

Headers carry figures and sanitised brand names only, never customer text. Addresses are
checked one by one so a value from configuration cannot smuggle in another header or an
extra recipient.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

from responsegap.report import render
from responsegap.report.artefacts import (
    SES_MAX_MESSAGE_BYTES,
    ReportArtefacts,
    attachment_name,
    build_artefacts,
    report_json,
)
from responsegap.report.compose import RollupReport, WeeklyReport

__all__ = [
    "MAX_RECIPIENTS",
    "SES_MAX_MESSAGE_BYTES",
    "AddressError",
    "attachment_name",
    "build_message",
    "build_rollup_message",
    "parse_address",
    "parse_recipients",
    "report_json",
]

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
    report: WeeklyReport,
    sender: str,
    recipients: Iterable[str],
    *,
    now: datetime | None = None,
    artefacts: ReportArtefacts | None = None,
) -> EmailMessage:
    """multipart/mixed: [multipart/alternative: text/plain, text/html], report CSV, report JSON.

    Pass the ``artefacts`` already built for the archive so nothing is rendered twice. The
    CSV part is the complete CSV, its gzip (``.csv.gz``) or the unanswered posts only,
    whichever keeps the message under ``artefacts.MAX_EMAIL_BYTES`` (see artefacts.py).
    """
    built = artefacts if artefacts is not None else build_artefacts(report)
    message = _envelope(built.subject, sender, recipients, now)
    message.set_content(_valid(built.text), subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(_valid(built.html), subtype="html", charset="utf-8", cte="quoted-printable")
    csv_part = built.attachment
    message.add_attachment(
        csv_part.data, maintype=csv_part.maintype, subtype=csv_part.subtype, filename=csv_part.filename
    )
    message.add_attachment(
        built.json, maintype="application", subtype="json", filename=attachment_name(report, "json")
    )
    return message


def _valid(text: str) -> str:
    """Text that encodes as UTF-8: a lone surrogate (a cut emoji) becomes U+FFFD, not an error."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace").decode("utf-8")
    return text


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
