"""Every file of a brand's week, built once: HTML, text, the full CSV, the JSON, the emailed CSV.

The archive (S3) and the email carry the same bytes, so they are rendered here once and
passed around. The email must always be sendable: SES v2 refuses a message over 40 MB, and
we keep well under it (``MAX_EMAIL_BYTES``, 10 MB). The CSV attached to the email is, in
this order of preference:

1. ``full``: the complete CSV (every customer post of the week), when it fits;
2. ``gzip``: the complete CSV compressed (``.csv.gz``), when that fits;
3. ``unanswered``: only what a leader acts on, the unanswered posts and the follow-ups left
   hanging, oldest first and cut to the size that fits; the email then says, in the HTML
   and in the text part, that the complete CSV is in the archive and under which key.

The archive always holds the complete, uncompressed CSV.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from responsegap.report import csv_export, render
from responsegap.report.compose import WeeklyReport, bulk_work

SES_MAX_MESSAGE_BYTES = 40 * 1024 * 1024  # SES v2 hard limit for a raw message
MAX_EMAIL_BYTES = 10 * 1024 * 1024  # our budget for the whole message
# Kept for everything but the CSV: headers, the text and HTML parts (quoted-printable can
# triple them) and the MIME boundaries. The parts are bounded (10 + 10 posts shown, one
# line each), a few hundred KB at most.
BODY_RESERVE_BYTES = 1024 * 1024
# A CSV this many times over its room is not even tried with gzip (text CSVs compress ~4-6x).
GZIP_MAX_RATIO = 10
ARCHIVE_PREFIX = "reports"

FULL, GZIP, UNANSWERED = "full", "gzip", "unanswered"


def attachment_name(report: WeeklyReport, extension: str) -> str:
    return f"response-gap-{report.brand.brand_id}-{report.week}.{extension}"


def report_json(report: WeeklyReport) -> bytes:
    return json.dumps(report.json_document(), indent=2, ensure_ascii=False, sort_keys=False).encode("utf-8")


def base64_size(size: int) -> int:
    """Bytes of ``size`` bytes in a base64 MIME body: 76-character lines of 57 bytes, plus CRLF."""
    lines = -(-size // 57)
    return lines * 78


def default_archive_location(report: WeeklyReport, name: str) -> str:
    """Where ``archive.ReportArchive`` (default prefix) keeps ``name``; used when none is given."""
    return f"{ARCHIVE_PREFIX}/{report.brand.brand_id}/{report.week}/{name}"


@dataclass(frozen=True, slots=True)
class CsvAttachment:
    """The CSV that goes with the email (see the module docstring for the three kinds)."""

    kind: str  # FULL, GZIP or UNANSWERED
    filename: str
    data: bytes
    maintype: str
    subtype: str
    rows: int  # posts in this file
    total_rows: int  # posts in the complete CSV
    unanswered_total: int  # unanswered posts and hanging follow-ups (for UNANSWERED)
    archive_location: str  # where the complete CSV is archived
    full_bytes: int  # size of the complete CSV


def attachment_note(attachment: CsvAttachment | None) -> dict[str, str]:
    """What the email says about its attachments: ``sentence`` (footer) and ``notice`` (may be empty).

    Only our own words, counts and the archive key: no customer text.
    """
    if attachment is None or attachment.kind == FULL:
        return {
            "sentence": "Attached: every customer post of the week (CSV) and the full figures (JSON).",
            "notice": "",
        }
    size = _megabytes(attachment.full_bytes)
    if attachment.kind == GZIP:
        return {
            "sentence": (
                f"Attached: every customer post of the week as a compressed CSV ({attachment.filename}, "
                f"{attachment.total_rows:,} posts; any unzip tool opens it) and the full figures "
                "(JSON)."
            ),
            "notice": "",
        }
    if attachment.rows < attachment.unanswered_total:
        which = (
            f"the oldest {attachment.rows:,} of the {attachment.unanswered_total:,} unanswered posts and "
            f"hanging follow-ups, cut to keep this email small ({attachment.filename})"
        )
    else:
        which = (
            f"all {attachment.unanswered_total:,} unanswered posts and hanging follow-ups "
            f"({attachment.filename})"
        )
    archived = (
        f"The complete CSV of every customer post of the week ({attachment.total_rows:,} posts, {size}) "
        f"is too large to email: it is in the report archive as {attachment.archive_location}."
    )
    return {
        "sentence": f"Attached: {which}, and the full figures (JSON). {archived}",
        "notice": f"{archived} Attached instead: {which}.",
    }


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{max(1, round(size / 1000))} KB"


def choose_csv_attachment(
    report: WeeklyReport,
    full_csv: bytes,
    total_rows: int,
    room: int,
    archive_location: str,
) -> CsvAttachment:
    """The CSV to email, ``room`` bytes at most (before base64)."""

    def attach(
        kind: str, filename: str, data: bytes, mime: str, rows: int, waiting: int = 0
    ) -> CsvAttachment:
        maintype, subtype = mime.split("/")
        return CsvAttachment(
            kind=kind,
            filename=filename,
            data=data,
            maintype=maintype,
            subtype=subtype,
            rows=rows,
            total_rows=total_rows,
            unanswered_total=waiting,
            archive_location=archive_location,
            full_bytes=len(full_csv),
        )

    if len(full_csv) <= room:
        return attach(FULL, attachment_name(report, "csv"), full_csv, "text/csv", total_rows)
    if len(full_csv) <= room * GZIP_MAX_RATIO:
        packed = csv_export.gzip_within(full_csv, room)
        if packed is not None:
            return attach(GZIP, attachment_name(report, "csv.gz"), packed, "application/gzip", total_rows)
    waiting = sum(1 for _ in csv_export.unanswered(report))
    data, rows = csv_export.write_csv(report, csv_export.unanswered(report), max_bytes=room)
    name = f"response-gap-{report.brand.brand_id}-{report.week}-unanswered.csv"
    return attach(UNANSWERED, name, data, "text/csv", rows, waiting)


@dataclass(frozen=True, slots=True)
class ReportArtefacts:
    """A brand's week rendered once, for both the archive and the email."""

    subject: str
    html: str
    text: str
    csv: bytes  # the complete CSV
    json: bytes
    attachment: CsvAttachment  # the CSV the email carries
    names: dict[str, str]  # kind ("html", "csv", "json") -> archive file name

    def archive_files(self) -> dict[str, bytes | str]:
        """HTML, CSV (complete) and JSON, under their attachment names."""
        return {
            self.names["html"]: self.html.encode("utf-8", errors="replace"),
            self.names["csv"]: self.csv,
            self.names["json"]: self.json,
        }


def build_artefacts(
    report: WeeklyReport,
    *,
    archive_location: str | None = None,
    max_email_bytes: int = MAX_EMAIL_BYTES,
) -> ReportArtefacts:
    """Render every file once. ``archive_location`` is shown when the complete CSV is too big
    to email (default: the key ``ReportArchive`` uses with its default prefix).
    """
    with bulk_work():
        return _build_artefacts(report, archive_location, max_email_bytes)


def _build_artefacts(
    report: WeeklyReport, archive_location: str | None, max_email_bytes: int
) -> ReportArtefacts:
    names = {kind: attachment_name(report, kind) for kind in ("html", "csv", "json")}
    full_csv, total_rows = csv_export.write_csv(report)
    document = report_json(report)
    room_b64 = max_email_bytes - BODY_RESERVE_BYTES - base64_size(len(document))
    room = max(0, room_b64 // 78 * 57)
    location = archive_location or default_archive_location(report, names["csv"])
    attachment = choose_csv_attachment(report, full_csv, total_rows, room, location)
    view = render.context(report, attachments=attachment_note(attachment))
    return ReportArtefacts(
        subject=view["subject"],
        html=render.render_template("report.html.j2", view),
        text=render.render_template("report.txt.j2", view),
        csv=full_csv,
        json=document,
        attachment=attachment,
        names=names,
    )


def describe(artefacts: ReportArtefacts) -> dict[str, Any]:
    """Sizes and the attachment choice, for logs and the benchmark."""
    a = artefacts.attachment
    return {
        "csv_bytes": len(artefacts.csv),
        "csv_rows": a.total_rows,
        "attachment": a.kind,
        "attachment_bytes": len(a.data),
        "attachment_rows": a.rows,
    }
