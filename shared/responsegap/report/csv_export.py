"""Every customer post of the week as CSV, for analysts.

Customer text is untrusted: a cell that a spreadsheet would run as a formula gets a leading
``'`` and control characters (including line breaks) become spaces, so one post is one line.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from responsegap.domain.business_hours import business_seconds
from responsegap.domain.matching import OPENER, Outcome
from responsegap.domain.periods import iso
from responsegap.report.compose import WeeklyReport
from responsegap.report.render import safe_url

COLUMNS = (
    "profile",
    "platform",
    "post_id",
    "link",
    "created_local",
    "created_utc",
    "kind",
    "status",
    "first_response_seconds",
    "first_response_business_seconds",
    "first_human_response_seconds",
    "within_sla",
    "automated_reasons",
    "author",
    "text",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def safe_cell(value: object) -> str | int:
    """Numbers pass through; text loses control characters and is defused if it could be a formula."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    cleaned = _CONTROL.sub(" ", text)
    if text.startswith(FORMULA_STARTS) or cleaned.lstrip().startswith(FORMULA_STARTS):
        return "'" + cleaned
    return cleaned


def status(outcome: Outcome) -> str:
    """``answered``, ``unanswered``, or ``answered-automated`` when no person had replied by as-of."""
    if outcome.first_response is None:
        return "unanswered"
    return "answered" if outcome.first_human_response is not None else "answered-automated"


def rows(report: WeeklyReport) -> list[list[str | int]]:
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
            within = ""  # the SLA figure is defined on openers only (METRICS.md)
        else:
            within = "yes" if human is not None and human.seconds <= profile.sla_seconds else "no"
        values: list[object] = [
            profile.handle,
            profile.platform,
            post.post_id,
            safe_url(post.url) or "",
            local.isoformat(),
            iso(post.created_at),
            outcome.kind,
            status(outcome),
            first.seconds if first else None,
            business,
            human.seconds if human else None,
            within,
            "; ".join(first.reasons) if first and first.automated else "",
            post.author_handle,
            post.text,
        ]
        out.append([safe_cell(v) for v in values])
    return out


def to_csv(report: WeeklyReport) -> bytes:
    """UTF-8 with a byte-order mark (so Excel reads accents right) and CRLF line ends (RFC 4180)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    writer.writerows(rows(report))
    return buffer.getvalue().encode("utf-8-sig")


# The name pipeline/weekly.py looks for.
outcomes_csv = to_csv
