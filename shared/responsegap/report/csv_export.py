"""Every customer post as CSV, for analysts: the weekly report's attachment and
``responsegap analyze --csv`` come from this one writer, with the same columns.

Customer text is untrusted: a cell that a spreadsheet would run as a formula gets a leading
``'`` and control characters (including line breaks) become spaces, so one post is one line.

A big week is a million rows, so the CSV is written row by row (no list of rows, no second
copy of the text), with the common case of a cell kept cheap: a printable cell that cannot
start a formula is written as it is.
"""

from __future__ import annotations

import csv
import io
import re
import zlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import IO
from zoneinfo import ZoneInfo

from responsegap.domain.business_hours import calendar
from responsegap.domain.matching import OPENER, Outcome
from responsegap.domain.model import Brand, Profile
from responsegap.domain.periods import iso
from responsegap.report.compose import WeeklyReport
from responsegap.report.render import safe_url

COLUMNS = (
    "brand",
    "profile",
    "platform",
    "post_id",
    "link",
    "created_local",
    "created_utc",
    "kind",
    "status",
    "first_response_id",
    "first_response_seconds",
    "first_response_business_seconds",
    "first_human_response_id",
    "first_human_response_seconds",
    "within_sla",
    "automated",
    "automated_reasons",
    "agent",
    "outcome",
    "author",
    "text",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# First characters that send a printable cell down the careful path: the formula starts and
# the one printable character ``lstrip`` removes (tab and CR are not printable anyway).
_RISKY_FIRST = frozenset("=+-@ ")
BOM = b"\xef\xbb\xbf"


def safe_cell(value: object) -> str | int:
    """Numbers pass through; text loses control characters and is defused if it could be a formula."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    cleaned = _CONTROL.sub(" ", text)
    if text.startswith(FORMULA_STARTS) or cleaned.lstrip().startswith(FORMULA_STARTS):
        return "'" + cleaned
    return cleaned


def _safe_text(text: str | None) -> str | int:
    """``safe_cell`` for a string, with the common case (nothing to change) decided in C."""
    if text is None:
        return ""
    if text.isprintable() and text[:1] not in _RISKY_FIRST:
        return text  # no control character (they are all unprintable), no formula start
    return safe_cell(text)


def status(outcome: Outcome) -> str:
    """``answered``, ``unanswered``, or ``answered-automated`` when no person had replied by as-of."""
    if outcome.first_response is None:
        return "unanswered"
    return "answered" if outcome.first_human_response is not None else "answered-automated"


class _Clock:
    """ISO 8601 strings of a moment, local (with offset) and UTC, worked out once per minute.

    A week of posts falls in about 10,000 minutes; offsets change on whole minutes (an offset
    with seconds, as in historic local mean time, is formatted moment by moment).
    """

    def __init__(self, timezone: str) -> None:
        self.tz = ZoneInfo(timezone)
        self._minutes: dict[int, tuple[str, str, str, str] | None] = {}

    def local_and_utc(self, moment: int) -> tuple[str, str]:
        minute, second = divmod(moment, 60)
        parts = self._minutes.get(minute, False)
        if parts is False:
            start = datetime.fromtimestamp(minute * 60, self.tz)
            offset = start.utcoffset()
            if offset is None or offset.total_seconds() % 60:
                parts = None
            else:
                local = start.isoformat()
                utc = iso(minute * 60)
                parts = (local[:17], local[19:], utc[:17], utc[19:])
            self._minutes[minute] = parts
        if parts is None:
            return datetime.fromtimestamp(moment, self.tz).isoformat(), iso(moment)
        seconds = f"{second:02d}"
        return parts[0] + seconds + parts[1], parts[2] + seconds + parts[3]


# What a row needs of its profile: the profile, its brand, handle and platform as cells, its
# clock and its business-seconds function, worked out once per profile.
_ProfileCells = tuple[Profile, str | int, str | int, str | int, "_Clock", Callable[[int, int], int]]


def row_writer(brands: Iterable[Brand]) -> Callable[[Outcome], list[object]]:
    """A function from an outcome of one of ``brands`` to its CSV row (cells made safe;
    numbers stay numbers)."""
    brands = tuple(brands)  # iterated twice below
    profiles: dict[
        str, tuple[Profile, str | int, str | int, str | int, _Clock, Callable[[int, int], int]]
    ] = {}
    for brand in brands:
        for profile in brand.profiles:
            profiles[profile.key] = (
                profile,
                _safe_text(brand.brand_id),
                _safe_text(profile.handle),
                _safe_text(profile.platform),
                _Clock(profile.timezone),
                calendar(profile.timezone, profile.business_hours).business_seconds,
            )
    reasons_text: dict[tuple[str, ...], str | int] = {}
    # Brands with agent figures turned off (brands file ``agents: false``): an empty agent cell.
    no_agents = {brand.brand_id for brand in brands if not brand.agents}

    def row(outcome: Outcome) -> list[object]:
        profile, brand_id, handle, platform, clock, business_seconds = profiles[outcome.profile_key]
        post = outcome.post
        first, human = outcome.first_response, outcome.first_human_response
        created = post.created_at
        local, utc = clock.local_and_utc(created)
        url = post.url
        link = "" if url is None else _safe_text(safe_url(url) or "")
        if first is None:
            state, first_id, first_seconds, business, automated, reasons = (
                "unanswered",
                "",
                None,
                None,
                "",
                "",
            )
        else:
            state = "answered" if human is not None else "answered-automated"
            first_id = _safe_text(first.post_id)
            first_seconds = first.seconds
            business = business_seconds(created, first.created_at)
            automated = "yes" if first.automated else "no"
            reasons = ""
            if first.automated and first.reasons:
                reasons = reasons_text.get(first.reasons, "")
                if reasons == "":
                    reasons = reasons_text[first.reasons] = _safe_text("; ".join(first.reasons))
        if outcome.kind != OPENER:
            within = ""  # the SLA figure is defined on openers only (METRICS.md)
        else:
            within = "yes" if human is not None and human.seconds <= profile.sla_seconds else "no"
        return [
            brand_id,
            handle,
            platform,
            _safe_text(post.post_id),
            link,
            local,
            utc,
            outcome.kind,
            state,
            first_id,
            first_seconds,
            business,
            "" if human is None else _safe_text(human.post_id),
            None if human is None else human.seconds,
            within,
            automated,
            reasons,
            "" if outcome.agent is None or outcome.brand_id in no_agents else _safe_text(outcome.agent),
            outcome.ending or "",
            _safe_text(post.author_handle),
            _safe_text(post.text),
        ]

    return row


def _row_writer(report: WeeklyReport) -> Callable[[Outcome], list[object]]:
    return row_writer([report.brand])


class CsvWriter:
    """Rows written one outcome at a time to a binary stream: the same bytes as
    :func:`write_csv` (byte-order mark, CRLF), for files of any size, since nothing but the
    row being written is held. ``close`` flushes and returns the row count (the stream stays
    open)."""

    def __init__(self, target: IO[bytes], brands: Iterable[Brand]) -> None:
        target.write(BOM)
        # errors="replace": one post with a broken character (a lone surrogate) must not stop the file.
        self._text = io.TextIOWrapper(
            target, encoding="utf-8", errors="replace", newline="", write_through=False
        )
        self._writer = csv.writer(self._text, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        self._writer.writerow(COLUMNS)
        self._row = row_writer(brands)
        self.count = 0

    def write(self, outcome: Outcome) -> None:
        self._writer.writerow(self._row(outcome))
        self.count += 1

    def write_all(self, outcomes: Iterable[Outcome]) -> None:
        writerow, row = self._writer.writerow, self._row
        for outcome in outcomes:
            writerow(row(outcome))
            self.count += 1

    def close(self) -> int:
        self._text.flush()
        self._text.detach()
        return self.count


def stream_csv(target: IO[bytes], brands: Iterable[Brand], outcomes: Iterable[Outcome]) -> int:
    """Write the CSV of ``outcomes`` to the binary stream ``target``; the row count."""
    writer = CsvWriter(target, brands)
    writer.write_all(outcomes)
    return writer.close()


def rows(report: WeeklyReport) -> list[list[object]]:
    """Every row as a list (for tests and small weeks; ``write_csv`` streams instead)."""
    row = _row_writer(report)
    return [["" if v is None else v for v in row(outcome)] for outcome in report.outcomes]


def write_csv(
    report: WeeklyReport,
    outcomes: Iterable[Outcome] | None = None,
    *,
    max_bytes: int | None = None,
) -> tuple[bytes, int]:
    """The CSV of ``outcomes`` (default: every customer post of the week) and its row count.

    UTF-8 with a byte-order mark (so Excel reads accents right) and CRLF line ends (RFC 4180).
    With ``max_bytes``, rows stop before the file would grow past it (the header always fits).
    """
    buffer = io.BytesIO()
    source = report.outcomes if outcomes is None else outcomes
    if max_bytes is None:
        count = stream_csv(buffer, [report.brand], source)
        return buffer.getvalue(), count
    # Each row is checked on its own so the cap is exact; only capped files (small) pay for it.
    buffer.write(BOM)
    head = io.StringIO()
    csv.writer(head, lineterminator="\r\n").writerow(COLUMNS)
    buffer.write(head.getvalue().encode("utf-8"))
    size = buffer.tell()
    row = _row_writer(report)
    line = io.StringIO()
    one = csv.writer(line, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    count = 0
    for outcome in source:
        line.seek(0)
        line.truncate()
        one.writerow(row(outcome))
        # errors="replace": one post with a broken character (a lone surrogate) must not stop the report.
        encoded = line.getvalue().encode("utf-8", errors="replace")
        if size + len(encoded) > max_bytes:
            break
        buffer.write(encoded)
        size += len(encoded)
        count += 1
    return buffer.getvalue(), count


def to_csv(report: WeeklyReport) -> bytes:
    """Every customer post of the week: UTF-8 with a byte-order mark, CRLF line ends."""
    return write_csv(report)[0]


def unanswered(report: WeeklyReport) -> Iterable[Outcome]:
    """What a leader acts on: unanswered openers and follow-ups left hanging, oldest first."""
    return (o for o in report.outcomes if o.first_response is None)


def gzip_within(data: bytes, max_bytes: int, *, level: int = 6, chunk: int = 1 << 20) -> bytes | None:
    """``data`` gzip-compressed, or None as soon as the result would be larger than ``max_bytes``.

    The header carries no time or name, so the same CSV always compresses to the same bytes.
    """
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: gzip container, mtime 0
    out = []
    size = 0
    view = memoryview(data)
    for start in range(0, len(data), chunk):
        piece = compressor.compress(view[start : start + chunk])
        size += len(piece)
        if size > max_bytes:
            return None
        out.append(piece)
    tail = compressor.flush()
    if size + len(tail) > max_bytes:
        return None
    out.append(tail)
    return b"".join(out)


# The name pipeline/weekly.py looks for.
outcomes_csv = to_csv
