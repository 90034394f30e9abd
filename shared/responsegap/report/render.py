"""The report as an email: subject, HTML and plain text (jinja2, autoescaping on).

Templates only lay out values prepared here; every customer-supplied string goes through
autoescape in HTML and ``oneline`` (control characters out, truncated) everywhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from responsegap.domain.matching import Outcome
from responsegap.domain.periods import parse_iso_week
from responsegap.report.automated_texts import automated_texts
from responsegap.report.compose import RollupReport, WeeklyReport, completeness_status
from responsegap.report.exchange_sections import outcome_view, redirect_view, team_view
from responsegap.report.format import (
    NO_CHANGE_DATA,
    PLATFORM_NAMES,
    WEEKDAYS,
    Change,
    duration,
    duration_change,
    number,
    oneline,
    percent,
    plural,
    rate_change,
    ratio,
)

# ColorBrewer "Blues", a single-hue sequential scale: readable with every common colour-vision
# deficiency, and every cell also carries its number. Text colour per level keeps WCAG AA.
GRID_PALETTE = (
    ("#edf0f3", "#57606a"),
    ("#c6dbef", "#1f2328"),
    ("#6baed6", "#1f2328"),
    ("#2171b5", "#ffffff"),
    ("#08306b", "#ffffff"),
)
TONE_COLOURS = {"better": "#0550ae", "worse": "#9a3b00", "same": "#57606a", "none": "#57606a"}
REASON_WORDS = {
    "automation app": "posted with an app that posts by itself",
    "bot account": "posted by an account configured as a bot",
    "same text for many customers": "the same text went to many different customers",
    "too fast for a person": "sent faster than a person could read the post and type",
    "acknowledgement or out-of-hours notice": "an automatic acknowledgement or out-of-hours notice",
    "campaign reply": "a prepared campaign line sent whatever the customer wrote",
    "corrected by the brand": "marked automated by the brand (responsegap automation mark)",
}
TEXT_LIMIT = 160
DEFAULT_ATTACHMENTS = {
    "sentence": "Attached: every customer post of the week (CSV) and the full figures (JSON).",
    "notice": "",
}


@cache
def environment() -> Environment:
    """HTML templates autoescape; only ``*.txt.j2`` (the plain-text part) is left unescaped."""
    env = Environment(
        loader=PackageLoader("responsegap.report", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2"),
            disabled_extensions=("txt.j2",),
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(duration=duration, percent=percent, oneline=oneline)
    return env


def safe_url(url: object) -> str | None:
    """A link to a post, only if it is a plain http(s) URL (no javascript:, data:, spaces or quotes)."""
    if not isinstance(url, str) or len(url) > 2000 or re.search(r"[\s\"'<>\\\x00-\x1f\x7f]", url):
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def brand_label(name: str) -> str:
    """A brand name safe for a header: one line, no control characters, not too long."""
    return oneline(name, 60) or "Brand"


def subject(report: WeeklyReport) -> str:
    """``Response gap, week 47: 61% answered, median 2h 10m · Acme`` (figures only, no customer text)."""
    f = report.figures
    if not f["openers"]:
        body = "no customer posts"
    else:
        median = f["first_human_response_seconds"]["median"]
        wait = f"median {duration(median)}" if median is not None else "no reply from a person"
        body = f"{percent(f['response_rate'])} answered, {wait}"
    flag = " (incomplete data)" if report.incomplete else ""
    return f"Response gap, week {report.week_number}: {body}{flag} · {brand_label(report.brand.name)}"


def render_html(report: WeeklyReport) -> str:
    return render_template("report.html.j2", context(report))


def render_text(report: WeeklyReport) -> str:
    return render_template("report.txt.j2", context(report))


def render_template(name: str, view: dict[str, Any]) -> str:
    """One template with a prepared ``context`` (build it once to render HTML and text)."""
    return environment().get_template(name).render(**view)


def rollup_subject(rollup: RollupReport) -> str:
    o = rollup.overall
    median = o["first_human_median"]
    wait = f"median {duration(median)}" if median is not None else "no reply from a person"
    return (
        f"Response gap, week {rollup.week_number}, all brands: {percent(o['response_rate'])} answered, {wait}"
    )


def render_rollup_html(rollup: RollupReport) -> str:
    return environment().get_template("rollup.html.j2").render(**rollup_context(rollup))


def render_rollup_text(rollup: RollupReport) -> str:
    return environment().get_template("rollup.txt.j2").render(**rollup_context(rollup))


# ---------------------------------------------------------------------------------------------
# View models


def week_label(week: str) -> str:
    year, number_ = parse_iso_week(week)
    monday, sunday = date.fromisocalendar(year, number_, 1), date.fromisocalendar(year, number_, 7)
    if monday.month == sunday.month:
        span = f"{monday.day}–{sunday.day} {sunday:%B %Y}"
    elif monday.year == sunday.year:
        span = f"{monday.day} {monday:%B} – {sunday.day} {sunday:%B %Y}"
    else:
        span = f"{monday.day} {monday:%B %Y} – {sunday.day} {sunday:%B %Y}"
    return f"Week {number_}, {span}"


def local_time(moment: int, timezone: str, *, with_zone: bool = False) -> str:
    local = datetime.fromtimestamp(moment, ZoneInfo(timezone))
    text = f"{local:%a} {local.day} {local:%b %H:%M}"
    return f"{text} {local:%Z}" if with_zone else text


def _change_view(change: Change) -> dict[str, str]:
    return {"text": change.text, "tone": change.tone, "colour": TONE_COLOURS[change.tone]}


def _headline_cards(report: WeeklyReport) -> list[dict[str, Any]]:
    f = report.figures
    prev = report.previous
    human = f["first_human_response_seconds"]
    within = ratio(f["answered_within_sla"], f["openers"])
    slas = sorted({p.sla_seconds for p in report.brand.profiles})
    target = duration(slas[0]) if len(slas) == 1 else "the profile's target"

    def change(kind: str, key: str, now: Any) -> dict[str, str]:
        if prev is None:
            return _change_view(NO_CHANGE_DATA)
        fn = rate_change if kind == "rate" else duration_change
        return _change_view(fn(now, prev.get(key)))

    return [
        {
            "label": "Answered",
            "value": percent(f["response_rate"]),
            "detail": f"{f['answered']} of {plural(f['openers'], 'customer post')}",
            "change": change("rate", "response_rate", f["response_rate"]),
        },
        {
            "label": "Median wait for a person",
            "value": duration(human["median"]),
            "detail": f"half of {plural(f['answered_by_human'], 'human reply', 'human replies')} came faster",
            "change": change("duration", "first_human_median", human["median"]),
        },
        {
            "label": "Slowest 10% waited",
            "value": duration(human["p90"]),
            "detail": "or longer for a person; p90",
            "change": change("duration", "first_human_p90", human["p90"]),
        },
        {
            "label": f"Answered by a person within {target}",
            "value": percent(within),
            "detail": f"{f['answered_within_sla']} of {f['openers']}",
            "change": change("rate", "within_sla_rate", within),
        },
    ]


def _trend_rows(report: WeeklyReport) -> list[dict[str, Any]]:
    rows = []
    for item in report.trend:
        f = item.figures
        rate = number(f.get("response_rate")) if f else None
        rows.append(
            {
                "week": f"W{parse_iso_week(item.week)[1]:02d}",
                "current": item.current,
                "has_data": f is not None,
                "rate": percent(rate),
                "bar": None if rate is None else max(0, min(100, round(rate * 100))),
                "openers": f.get("openers") if f else None,
                "median": duration(f.get("first_human_median")) if f else "n/a",
                "within": percent(f.get("within_sla_rate")) if f else "n/a",
            }
        )
    return rows


def _figure_row(name: str, f: dict[str, Any], sub: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "sub": sub,
        # A profile's figures that rest on missing polls say so next to its name.
        "flag": completeness_status(f.get("completeness")) or "",
        "openers": f["openers"],
        "answered": f["answered"],
        "rate": percent(f["response_rate"]),
        "median": duration(f["first_human_response_seconds"]["median"]),
        "p90": duration(f["first_human_response_seconds"]["p90"]),
        "within": percent(ratio(f["answered_within_sla"], f["openers"])),
        "followups": f"{f['followups_answered']} of {f['followups']}" if f["followups"] else "none",
    }


def _grid(report: WeeklyReport) -> dict[str, Any]:
    grid = report.figures["unanswered_by_weekday_hour"]
    top = max((c for row in grid for c in row), default=0)
    rows = []
    for day, counts in enumerate(grid):
        cells = []
        for hour, count in enumerate(counts):
            level = 0 if not count else max(1, math.ceil(count / top * 4))
            bg, fg = GRID_PALETTE[level]
            cells.append({"count": count, "bg": bg, "fg": fg, "hour": hour})
        rows.append(
            {"day": WEEKDAYS[day][:3], "day_full": WEEKDAYS[day], "cells": cells, "total": sum(counts)}
        )
    legend = []
    if top:
        for level in range(1, 5):
            low = math.floor((level - 1) * top / 4) + 1
            high = math.floor(level * top / 4)
            if high >= low:
                bg, fg = GRID_PALETTE[level]
                legend.append({"bg": bg, "fg": fg, "label": str(low) if low == high else f"{low}–{high}"})
    return {"rows": rows, "top": top, "legend": legend, "hours": list(range(24))}


def _post_row(report: WeeklyReport, outcome: Outcome) -> dict[str, Any]:
    profile = report.profile_by_key[outcome.profile_key]
    post = outcome.post
    return {
        "profile": f"@{profile.handle}",
        "platform": PLATFORM_NAMES.get(profile.platform, profile.platform),
        "created": local_time(post.created_at, profile.timezone),
        "waiting": duration(report.as_of - post.created_at),
        "text": oneline(post.text, TEXT_LIMIT) or "(no text)",
        "author": oneline(post.author_handle, 40),
        "url": safe_url(post.url),
    }


def _completeness_rows(report: WeeklyReport) -> list[dict[str, Any]]:
    rows = []
    for row in report.profiles:
        stats = row.get("completeness") or {}
        planned = int(stats.get("polls_planned") or 0)
        succeeded = int(stats.get("polls_succeeded") or 0)
        success = ratio(succeeded, planned)
        blind = int(stats.get("longest_blind_seconds") or 0)
        problem = completeness_status(stats)
        rows.append(
            {
                "name": f"@{row['profile']}",
                "platform": PLATFORM_NAMES.get(row["platform"], row["platform"]),
                "planned": planned,
                "succeeded": succeeded,
                "failed": int(stats.get("polls_failed") or 0),
                "success": percent(success),
                "blind": duration(blind) if stats else "n/a",
                "ok": problem is None,
                "status": problem.capitalize() if problem else "OK",
                "budget": _budget_words(stats),
            }
        )
    return rows


def _budget_words(stats: Mapping[str, Any]) -> str | None:
    """ "polled every 67 min (budget)" when the platform budget, not the profile's own
    setting, sets how often it can be polled; the planned polls are counted against it."""
    seconds = int(stats.get("budget_interval_seconds") or 0)
    if not seconds:
        return None
    return f"polled every {duration(seconds)} (budget)"


def _automation(report: WeeklyReport) -> dict[str, Any]:
    f = report.figures
    reasons = [
        {"name": name, "count": count, "words": REASON_WORDS.get(name, name)}
        for name, count in sorted(f["automated_reasons"].items(), key=lambda kv: -kv[1])
    ]
    return {
        "count": f["answered_automated"],
        "share": percent(ratio(f["answered_automated"], f["answered"])),
        "answered": f["answered"],
        "only_bot": f["answered"] - f["answered_by_human"],
        "reasons": reasons,
        "texts": automated_texts(report.outcomes, report.brand.brand_id, REASON_WORDS),
    }


def _hours(report: WeeklyReport) -> list[dict[str, Any]]:
    h = report.figures["business_hours"]
    wait = report.human_wait
    rows = []
    for key, label, openers, answered in (
        ("in_hours", "In business hours", h["openers_in_hours"], h["answered_in_hours"]),
        ("out_of_hours", "Out of hours", h["openers_out_of_hours"], h["answered_out_of_hours"]),
    ):
        rows.append(
            {
                "label": label,
                "openers": openers,
                "answered": answered,
                "unanswered": openers - answered,
                "rate": percent(ratio(answered, openers)),
                "median": duration(wait.get(key, {}).get("median")),
                "p90": duration(wait.get(key, {}).get("p90")),
            }
        )
    return rows


def context(report: WeeklyReport, *, attachments: dict[str, str] | None = None) -> dict[str, Any]:
    """Everything the templates show. ``attachments`` is what to say about the attached files
    (``artefacts.attachment_note``); by default, that the complete CSV and the JSON are attached.
    """
    f = report.figures
    tz = report.brand.timezone
    # A platform table only adds something when a platform has several profiles.
    multi_platform = len(report.platforms) > 1 and any(len(p["profiles"]) > 1 for p in report.platforms)
    return {
        "subject": subject(report),
        "brand": brand_label(report.brand.name),
        "week": report.week,
        "week_label": week_label(report.week),
        "as_of": local_time(report.as_of, tz, with_zone=True),
        "figures": f,
        "cards": _headline_cards(report),
        "has_previous": report.previous is not None,
        "trend": _trend_rows(report),
        "profiles": [
            _figure_row(f"@{row['profile']}", row, PLATFORM_NAMES.get(row["platform"], row["platform"]))
            for row in report.profiles
        ],
        "platforms": [
            _figure_row(PLATFORM_NAMES.get(p["platform"], p["platform"]), p) for p in report.platforms
        ]
        if multi_platform
        else [],
        "hours": _hours(report),
        "grid": _grid(report),
        "automation": _automation(report),
        "followups": {
            "total": f["followups"],
            "answered": f["followups_answered"],
            "hanging": f["followups"] - f["followups_answered"],
            "rows": [_post_row(report, o) for o in report.hanging_followups],
        },
        "unanswered_total": f["unanswered"],
        "oldest": [_post_row(report, o) for o in report.oldest_unanswered],
        "team": team_view(f),
        "endings": outcome_view(f),
        "redirects": redirect_view(f, report.profiles),
        "completeness": _completeness_rows(report),
        "warnings": report.warnings,
        "actions": report.actions,
        "timezones": sorted({p.timezone for p in report.brand.profiles}) or [tz],
        "attachments": attachments or dict(DEFAULT_ATTACHMENTS),
    }


def rollup_context(rollup: RollupReport) -> dict[str, Any]:
    o = rollup.overall
    prev = rollup.previous_overall
    change = rate_change(o["response_rate"], prev["response_rate"]) if prev else NO_CHANGE_DATA
    rows = []
    for row in rollup.rows:
        f = row.figures
        brand_change = (
            rate_change(f["response_rate"], row.previous.get("response_rate"))
            if row.previous
            else NO_CHANGE_DATA
        )
        rows.append(
            {
                "name": brand_label(row.name),
                "openers": f["openers"],
                "answered": f["answered"],
                "rate": percent(f["response_rate"]),
                "bar": None if f["response_rate"] is None else round(f["response_rate"] * 100),
                "median": duration(f["first_human_median"]),
                "p90": duration(f["first_human_p90"]),
                "within": percent(f["within_sla_rate"]),
                "change": _change_view(brand_change),
                "incomplete": row.incomplete,
            }
        )
    return {
        "subject": rollup_subject(rollup),
        "week_label": week_label(rollup.week),
        "overall": {
            "brands": o["brands"],
            "brands_label": plural(o["brands"], "brand"),
            "openers_label": plural(o["openers"], "customer post"),
            "openers": o["openers"],
            "answered": o["answered"],
            "rate": percent(o["response_rate"]),
            "median": duration(o["first_human_median"]),
            "p90": duration(o["first_human_p90"]),
            "within": percent(o["within_sla_rate"]),
            "change": _change_view(change),
        },
        "rows": rows,
        "any_incomplete": any(r.incomplete for r in rollup.rows),
    }
