"""Gathering one brand's week: posts from the store, matching, figures, trend and advice.

Everything the email, the CSV and the JSON attachment show is computed here once, so the
HTML, the plain text and the attachments cannot disagree. Rendering is in ``render.py``.
"""

from __future__ import annotations

import copy
import dataclasses
import gc
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Protocol

from responsegap.domain import metrics
from responsegap.domain.business_hours import calendar
from responsegap.domain.corrections import Corrections
from responsegap.domain.matching import FOLLOWUP, OPENER, Outcome, match
from responsegap.domain.model import Brand, BrandAccount, ConfigError, Post, Profile
from responsegap.domain.periods import Period, iso, parse_iso_week, previous_week, week_period
from responsegap.domain.poll_plan import plan_brands
from responsegap.report.exchange_sections import exchange_actions, redirect_actions
from responsegap.report.format import (
    WEEKDAYS,
    duration,
    hour_range,
    number,
    percent,
    platform_name,
    plural,
    ratio,
)

TREND_WEEKS = 8
OLDEST_SHOWN = 10
# Below these the figures are flagged as resting on missing data (docs/report.md).
MIN_POLL_SUCCESS = 0.95
MAX_BLIND_SECONDS = 3600
# Headline keys of a brand (and of each profile) kept in the weekly snapshot.
_SNAPSHOT_KEYS = (
    "openers",
    "answered",
    "unanswered",
    "response_rate",
    "answered_by_human",
    "answered_within_sla",
    "followups",
    "followups_answered",
    "answered_automated",
)


class ReportStore(Protocol):
    """The part of ``store.dynamo.PostStore`` the report reads and writes."""

    def posts_between(self, profile_key: str, start: int, end: int) -> Iterator[Post]:
        """Posts with ``start <= created_at < end``."""
        ...

    def completeness(
        self, profile_key: str, start: int, end: int, interval_seconds: int
    ) -> dict[str, int]: ...

    def put_snapshot(self, brand_id: str, week: str, figures: dict) -> None: ...

    def recent_snapshots(self, brand_id: str, before_week: str, count: int = 8) -> list[tuple[str, dict]]: ...

    def get_brand(self, brand_id: str) -> Brand: ...

    def list_brands(self) -> list[Brand]:
        """Every configured brand (profiles sharing a credential share its budget)."""
        ...

    def brand_accounts(self) -> list[BrandAccount]:
        """Every brand profile known (a post by any of them is never a customer post)."""
        ...

    def corrections_for(self, brand_id: str) -> Corrections:
        """The brand's own verdicts on its replies (``responsegap automation mark``)."""
        ...


@dataclass(frozen=True, slots=True)
class TrendWeek:
    week: str
    figures: dict[str, Any] | None  # the brand part of a snapshot; None when none was stored
    current: bool = False


@dataclass(slots=True)
class WeeklyReport:
    """One brand's week, ready to render."""

    brand: Brand
    week: str
    as_of: int
    data: dict[str, Any]  # metrics.report() for this brand, per-profile local weeks
    periods: dict[str, Period]
    outcomes: list[Outcome]  # customer posts of the week (openers and follow-ups), oldest first
    history: list[tuple[str, dict[str, Any]]]  # stored snapshots, newest first
    platforms: list[dict[str, Any]] = field(default_factory=list)
    human_wait: dict[str, dict[str, float | None]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    @property
    def figures(self) -> dict[str, Any]:
        return self.data["brands"][0]

    @property
    def profiles(self) -> list[dict[str, Any]]:
        return self.data["profiles"]

    @property
    def week_number(self) -> int:
        return parse_iso_week(self.week)[1]

    @property
    def previous(self) -> dict[str, Any] | None:
        """Last week's stored brand figures, or None: an older week is never passed off as last week's."""
        wanted = previous_week(self.week)
        for week, snapshot in self.history:
            if week == wanted:
                return snapshot.get("brand")
        return None

    @property
    def trend(self) -> list[TrendWeek]:
        """The last ``TREND_WEEKS`` weeks, oldest first, this one last; gaps where nothing was stored."""
        stored = {week: snapshot.get("brand") for week, snapshot in self.history}
        weeks = [previous_week(self.week, n) for n in range(TREND_WEEKS - 1, 0, -1)]
        rows = [TrendWeek(w, stored.get(w)) for w in weeks]
        rows.append(TrendWeek(self.week, week_figures_snapshot(self)["brand"], current=True))
        return rows

    @property
    def unanswered(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.first_response is None]

    @property
    def oldest_unanswered(self) -> list[Outcome]:
        # Stops at the tenth: a big week has hundreds of thousands of outcomes.
        found = (o for o in self.outcomes if o.first_response is None and o.kind == OPENER)
        return list(islice(found, OLDEST_SHOWN))

    @property
    def hanging_followups(self) -> list[Outcome]:
        found = (o for o in self.outcomes if o.first_response is None and o.kind == FOLLOWUP)
        return list(islice(found, OLDEST_SHOWN))

    @property
    def profile_by_key(self) -> dict[str, Profile]:
        return {p.key: p for p in self.brand.profiles}

    @property
    def incomplete(self) -> bool:
        return bool(self.warnings)

    def json_document(self) -> dict[str, Any]:
        """The JSON attachment: the metrics report plus what the email adds to it."""
        return {
            "week": self.week,
            "brand": {"id": self.brand.brand_id, "name": self.brand.name},
            **self.data,
            "platforms": self.platforms,
            "first_human_response_by_business_hours": self.human_wait,
            "data_warnings": self.warnings,
            "actions": self.actions,
            "previous_weeks": [{"week": w, **s} for w, s in self.history],
        }


@contextmanager
def bulk_work() -> Iterator[None]:
    """The cyclic garbage collector off while millions of acyclic objects are made.

    Posts, outcomes and figures hold no reference cycles, so reference counting frees them
    all; but every collection of the oldest generation walks every live post, again and
    again as the week is read (about 40% of the read time for a big week). Restores the
    collector's previous state.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compose_weekly_report(
    store: ReportStore,
    brand: Brand,
    week: str,
    as_of: int,
    *,
    poll_interval_seconds: int = 300,
) -> WeeklyReport:
    """Read, match and measure ``brand``'s ``week`` (e.g. ``2026-W47``) as seen at ``as_of``.

    See :func:`_compose_weekly_report`; runs with the cyclic garbage collector paused.
    """
    with bulk_work():
        return _compose_weekly_report(store, brand, week, as_of, poll_interval_seconds=poll_interval_seconds)


def _compose_weekly_report(
    store: ReportStore,
    brand: Brand,
    week: str,
    as_of: int,
    *,
    poll_interval_seconds: int,
) -> WeeklyReport:
    """Read, match and measure ``brand``'s ``week`` (e.g. ``2026-W47``) as seen at ``as_of``.

    Each profile's week is its own local Monday-to-Monday. One ``posts_between`` per profile
    reads from its week start up to ``as_of``, so replies that came after the week still count
    if they were seen by then. ``poll_interval_seconds`` is how often dispatch runs: a profile
    is never polled more often than that, so the planned polls use the slower of the two.
    """
    # A brand without profiles still gets an (empty) report rather than failing the roll-up.
    first_start = week_period(week, brand.timezone).start
    periods = {p.key: week_period(week, p.timezone) for p in brand.profiles}
    if as_of <= min((p.start for p in periods.values()), default=first_start):
        raise ConfigError(f"as-of {iso(as_of)} is before week {week} starts")

    posts: list[Post] = []
    completeness: dict[str, dict[str, int]] = {}
    # Profiles of every brand share credentials' budgets: the plan needs all of them. A profile
    # the budget cannot poll as configured is counted against the plan, not the unreachable wish.
    budget_intervals = _budget_intervals(store, brand)
    for profile in brand.profiles:
        period = periods[profile.key]
        # posts_between is [start, end): + 1 so a reply at exactly as_of is seen.
        posts.extend(store.posts_between(profile.key, period.start, as_of + 1))
        # Only the part of the week that has happened by as_of could have been polled.
        seen_until = min(period.end, as_of)
        interval = max(profile.poll_interval_seconds, poll_interval_seconds)
        budget_interval = budget_intervals.get(profile.key, 0)
        if seen_until > period.start:
            completeness[profile.key] = dict(
                store.completeness(profile.key, period.start, seen_until, max(interval, budget_interval))
            )
            if budget_interval > interval:
                completeness[profile.key]["budget_interval_seconds"] = budget_interval

    # Other brands' posts in these profiles (banter, a redirect naming this brand) are never
    # customer posts: match needs their accounts, not their figures.
    # The brand's corrections overrule the evidence on its replies (and only on its replies).
    corrections = {brand.brand_id: store.corrections_for(brand.brand_id)}
    matched = match(posts, [brand], as_of, others=store.brand_accounts(), corrections=corrections)
    # The brand's replies are only needed by match(): let them go before the figures and the
    # rendering (a big week is millions of posts).
    del posts
    bounds = {key: (p.start, p.end) for key, p in periods.items()}
    brand_id = brand.brand_id
    outcomes = []
    keep = outcomes.append
    for o in matched:
        span = bounds.get(o.profile_key)
        if span is not None and o.brand_id == brand_id and span[0] <= o.post.created_at < span[1]:
            keep(o)
    del matched
    data = metrics.report(outcomes, [brand], lambda p: periods[p.key], as_of, completeness)
    history = [(w, _plain(s)) for w, s in store.recent_snapshots(brand.brand_id, week, count=TREND_WEEKS - 1)]
    report = WeeklyReport(
        brand=brand,
        week=week,
        as_of=as_of,
        data=data,
        periods=periods,
        outcomes=outcomes,
        history=history,
    )
    report.platforms = _platform_figures(brand, outcomes, periods, as_of, report.figures)
    report.human_wait = _human_wait(outcomes, report.profile_by_key)
    report.warnings = _completeness_warnings(report)
    report.actions = _actions(report)
    return report


def week_figures_snapshot(report: WeeklyReport) -> dict[str, Any]:
    """What ``put_snapshot`` stores for the trend: brand headline figures and per-profile headlines.

    Small on purpose (one DynamoDB item, read eight at a time); the full report lives in S3.
    """
    figures = report.figures
    return {
        "as_of": iso(report.as_of),
        "brand": _headline(figures),
        "profiles": {
            f"{row['platform']}#{row['profile']}": _headline(row, profile=True) for row in report.profiles
        },
    }


def _headline(figures: dict[str, Any], *, profile: bool = False) -> dict[str, Any]:
    keys = _SNAPSHOT_KEYS[:6] if profile else _SNAPSHOT_KEYS
    out: dict[str, Any] = {k: figures.get(k) for k in keys}
    out["first_response_median"] = figures["first_response_seconds"]["median"]
    out["first_human_median"] = figures["first_human_response_seconds"]["median"]
    if not profile:
        out["first_response_p90"] = figures["first_response_seconds"]["p90"]
        out["first_human_p90"] = figures["first_human_response_seconds"]["p90"]
    out["within_sla_rate"] = ratio(figures.get("answered_within_sla"), figures.get("openers"))
    return out


def _plain(value: Any) -> Any:
    """Decimals (DynamoDB) to int/float, so the JSON attachment and the templates see plain numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    n = number(value)
    if n is not None and not isinstance(value, int | float):
        return int(n) if n.is_integer() else n
    return value


def _platform_figures(
    brand: Brand,
    outcomes: Sequence[Outcome],
    periods: dict[str, Period],
    as_of: int,
    brand_figures: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Figures per platform, measured by ``metrics.report`` itself on the platform's profiles.

    Medians cannot be added up from the profile rows, so each platform is measured as if it
    were a brand of its own. A brand on one platform only is that platform: its figures
    (``brand_figures``) are reused instead of measuring the same outcomes twice.
    """
    platforms = list(dict.fromkeys(p.platform for p in brand.profiles))
    if len(platforms) == 1 and brand_figures is not None:
        figures = copy.deepcopy(brand_figures)
        figures.pop("brand", None)
        figures.pop("name", None)
        return [{"platform": platforms[0], **figures}]
    rows = []
    for platform in platforms:
        profiles = tuple(p for p in brand.profiles if p.platform == platform)
        keys = {p.key for p in profiles}
        part = dataclasses.replace(brand, profiles=profiles)
        chosen = [o for o in outcomes if o.profile_key in keys]
        figures = metrics.report(chosen, [part], lambda p: periods[p.key], as_of)["brands"][0]
        figures.pop("brand", None)
        figures.pop("name", None)
        rows.append({"platform": platform, **figures})
    return rows


def _human_wait(outcomes: Iterable[Outcome], profiles: dict[str, Profile]) -> dict[str, dict[str, Any]]:
    """Median and p90 first human response of openers that arrived in and out of business hours."""
    in_hours: list[int] = []
    out_of_hours: list[int] = []
    is_open = {key: calendar(p.timezone, p.business_hours).is_open for key, p in profiles.items()}
    for outcome in outcomes:
        human = outcome.first_human_response
        if human is None or outcome.kind != OPENER:
            continue
        opened = is_open.get(outcome.profile_key)
        if opened is None:
            continue
        (in_hours if opened(outcome.post.created_at) else out_of_hours).append(human.seconds)
    in_hours.sort()
    out_of_hours.sort()
    return {"in_hours": metrics.percentiles(in_hours), "out_of_hours": metrics.percentiles(out_of_hours)}


ACCOUNT_UNAVAILABLE = "account unavailable"
MISSING_DATA = "missing data"


def _budget_intervals(store: ReportStore, brand: Brand) -> dict[str, int]:
    """Each profile's guaranteed interval on the published budgets (docs/budgets.md), from the
    profiles of every configured brand, since those sharing a credential share its budget."""
    brands = list(store.list_brands())
    if not any(b.brand_id == brand.brand_id for b in brands):
        brands.append(brand)
    plan = plan_brands(brands)
    return {
        p.key: plan.by_profile[p.key].guaranteed_interval for p in brand.profiles if p.key in plan.by_profile
    }


def completeness_status(stats: Mapping[str, Any] | None) -> str | None:
    """What is wrong with one profile's polling, if anything: ``ACCOUNT_UNAVAILABLE`` when the
    platform refused polls because the account itself is suspended or not found, else
    ``MISSING_DATA`` below the thresholds (docs/report.md), else ``None``."""
    stats = stats or {}
    if int(stats.get("polls_account_unavailable") or 0):
        return ACCOUNT_UNAVAILABLE
    planned = int(stats.get("polls_planned") or 0)
    succeeded = int(stats.get("polls_succeeded") or 0)
    blind = int(stats.get("longest_blind_seconds") or 0)
    if (planned and succeeded / planned < MIN_POLL_SUCCESS) or blind > MAX_BLIND_SECONDS:
        return MISSING_DATA
    return None


def _completeness_warnings(report: WeeklyReport) -> list[str]:
    warnings = []
    for row in report.profiles:
        stats = row.get("completeness") or {}
        planned = int(stats.get("polls_planned") or 0)
        succeeded = int(stats.get("polls_succeeded") or 0)
        blind = int(stats.get("longest_blind_seconds") or 0)
        name = f"@{row['profile']} on {platform_name(row['platform'])}"
        refused = int(stats.get("polls_account_unavailable") or 0)
        if refused:
            still = " and still did at the last poll" if stats.get("account_unavailable_at_end") else ""
            warnings.append(
                f"{name}: account unavailable. {platform_name(row['platform'])} reported the account "
                f"suspended or not found in {refused} of {plural(planned, 'planned poll')}{still}; nothing "
                "could be read while it was, so its figures are missing for that time. "
                "Check the account and the profile's account id."
            )
            continue
        if planned and succeeded == 0:
            warnings.append(f"{name}: no poll succeeded this week, so its figures are missing.")
            continue
        problems = []
        if planned and succeeded / planned < MIN_POLL_SUCCESS:
            problems.append(f"only {succeeded} of {planned} polls succeeded ({percent(succeeded / planned)})")
        if blind > MAX_BLIND_SECONDS:
            problems.append(f"no successful poll for {duration(blind)} at a stretch")
        if problems:
            warnings.append(f"{name}: {' and '.join(problems)}.")
    return warnings


def _actions(report: WeeklyReport) -> list[str]:
    """Plain-language next steps, most important first; each one cites the figure behind it."""
    f = report.figures
    openers, unanswered = f["openers"], f["unanswered"]
    out: list[str] = []
    polling = (
        "Polling missed part of the week for some profiles: treat the figures as a lower bound "
        "and check the connection (see Data completeness)."
    )
    if openers == 0:
        out.append("No customer posts reached the brand's profiles this week.")
        return [*out, polling] if report.warnings else out

    hours = f["business_hours"]
    out_unanswered = hours["openers_out_of_hours"] - hours["answered_out_of_hours"]
    in_wait = report.human_wait.get("in_hours", {}).get("median")
    out_wait = report.human_wait.get("out_of_hours", {}).get("median")
    if unanswered and out_unanswered / unanswered >= 0.5:
        share = percent(out_unanswered / unanswered)
        lead = ""
        if in_wait and out_wait and out_wait >= 2 * in_wait:
            lead = f"Out-of-hours posts wait {out_wait / in_wait:.0f}x longer for a person: "
        out.append(
            f"{lead}{share} of unanswered posts arrived outside business hours. "
            "Cover those hours or tell customers when someone will reply."
        )
    elif in_wait and out_wait and out_wait >= 3 * in_wait:
        out.append(
            f"Out-of-hours posts wait {out_wait / in_wait:.0f}x longer for a person "
            f"({duration(out_wait)} against {duration(in_wait)}): cover the first hours of the morning."
        )

    peak = _peak_slot(f["unanswered_by_weekday_hour"])
    if peak and peak[2] >= 3:
        day, hour, count = peak
        out.append(
            f"The most posts left unanswered arrived on {WEEKDAYS[day]} {hour_range(hour)} "
            f"({plural(count, 'post')}): put someone on that slot."
        )

    rate = f["response_rate"] or 0
    for row in sorted(report.profiles, key=lambda r: r["response_rate"] or 0):
        if row["openers"] >= 5 and (row["response_rate"] or 0) <= rate - 0.15:
            out.append(
                f"@{row['profile']} on {platform_name(row['platform'])} answered only "
                f"{percent(row['response_rate'])} ({row['answered']} of {row['openers']}): "
                "check who watches it."
            )
            break

    slas = {p.sla_seconds for p in report.brand.profiles}
    within = ratio(f["answered_within_sla"], openers)
    if within is not None and within < 0.8:
        target = duration(slas.pop()) if len(slas) == 1 else "target"
        out.append(
            f"Only {percent(within)} of customers got a reply from a person within the {target} target "
            f"(median {duration(f['first_human_response_seconds']['median'])})."
        )
    # Customers another account sent here and then dropped: as urgent as unanswered posts.
    out.extend(redirect_actions(report.profiles))

    hanging = f["followups"] - f["followups_answered"]
    if hanging:
        out.append(
            f"{plural(hanging, 'customer')} replied to the brand and heard nothing back: "
            "follow-ups need the same care as first posts."
        )

    only_bot = f["answered"] - f["answered_by_human"]
    if only_bot and f["answered"] and only_bot / f["answered"] >= 0.2:
        out.append(
            f"{plural(only_bot, 'post')} got only an automated reply "
            f"({percent(only_bot / f['answered'])} of answered posts): make sure a person follows up."
        )
    # How exchanges ended, redirects sent and the team (METRICS.md "Who answered, and how it ended").
    out.extend(exchange_actions(f))
    if not out:
        out.append("Nothing needs action: customers were answered quickly this week.")
    # Customer-facing steps first; the polling caveat is also in the banner, so it never crowds them out.
    return [*out[:4], polling] if report.warnings else out[:5]


def _peak_slot(grid: list[list[int]]) -> tuple[int, int, int] | None:
    best = None
    for day, row in enumerate(grid):
        for hour, count in enumerate(row):
            if count and (best is None or count > best[2]):
                best = (day, hour, count)
    return best


# ---------------------------------------------------------------------------------------------
# Leaders' roll-up across brands


@dataclass(frozen=True, slots=True)
class RollupRow:
    brand_id: str
    name: str
    figures: dict[str, Any]
    previous: dict[str, Any] | None
    incomplete: bool


@dataclass(frozen=True, slots=True)
class RollupReport:
    week: str
    as_of: int
    rows: list[RollupRow]
    overall: dict[str, Any]
    previous_overall: dict[str, Any] | None

    @property
    def week_number(self) -> int:
        return parse_iso_week(self.week)[1]


def compose_rollup(reports: Iterable[WeeklyReport]) -> RollupReport:
    """One row per brand and an overall headline, measured on the outcomes themselves.

    The overall median is the median over every brand's posts, not a median of medians.
    ``reports`` may be a generator: each brand's report is reduced to its row and the human
    response times of its openers as it comes, so the roll-up of many big brands holds one
    brand's outcomes at a time.
    """
    rows: list[RollupRow] = []
    weeks: set[str] = set()
    as_of = 0
    openers = answered = within = 0
    human = array("q")  # 8 bytes per answered opener, whatever the number of brands
    previous: list[dict[str, Any] | None] = []
    for r in reports:
        weeks.add(r.week)
        as_of = max(as_of, r.as_of)
        rows.append(RollupRow(r.brand.brand_id, r.brand.name, _headline(r.figures), r.previous, r.incomplete))
        previous.append(r.previous)
        for o in r.outcomes:
            if o.kind != OPENER:
                continue
            openers += 1
            if o.answered:
                answered += 1
            if o.first_human_response:
                human.append(o.first_human_response.seconds)
                if o.first_human_response.seconds <= r.profile_by_key[o.profile_key].sla_seconds:
                    within += 1
    if not rows:
        raise ValueError("a roll-up needs at least one brand report")
    if len(weeks) != 1:
        raise ValueError(f"a roll-up covers one week, got {sorted(weeks)}")
    rows.sort(key=lambda row: (row.figures["response_rate"] is None, row.figures["response_rate"] or 0))
    waits = metrics.percentiles(sorted(human))
    overall = {
        "brands": len(rows),
        "openers": openers,
        "answered": answered,
        "unanswered": openers - answered,
        "response_rate": ratio(answered, openers),
        "first_human_median": waits["median"],
        "first_human_p90": waits["p90"],
        "answered_within_sla": within,
        "within_sla_rate": ratio(within, openers),
    }
    previous_overall = None
    if all(previous):
        prev_openers = sum(int(p["openers"] or 0) for p in previous if p)
        prev_answered = sum(int(p["answered"] or 0) for p in previous if p)
        previous_overall = {"openers": prev_openers, "response_rate": ratio(prev_answered, prev_openers)}
    return RollupReport(weeks.pop(), as_of, rows, overall, previous_overall)
