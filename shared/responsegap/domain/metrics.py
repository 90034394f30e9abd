"""The figures of METRICS.md "Figures for a period", per profile, per brand and overall.

The output is the JSON report: its key names are a public contract (see docs/report-json.md).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from responsegap.domain.agents import UNSIGNED
from responsegap.domain.automation import reason_category
from responsegap.domain.business_hours import BusinessCalendar, calendar
from responsegap.domain.exchanges import OUTCOMES
from responsegap.domain.matching import FOLLOWUP, OPENER, Outcome
from responsegap.domain.model import Brand, Profile
from responsegap.domain.periods import Period, iso


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """``median`` is statistics.median; ``p90`` is quantiles(n=10, inclusive)[8]; one value: itself."""
    if not values:
        return {"median": None, "p90": None}
    if len(values) == 1:
        return {"median": values[0], "p90": values[0]}
    return {
        "median": statistics.median(values),
        "p90": statistics.quantiles(values, n=10, method="inclusive")[8],
    }


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


class _AgentTally:
    """One agent's figures within one profile or brand (METRICS.md "Agent")."""

    __slots__ = ("first", "replies", "seconds", "within_sla")

    def __init__(self) -> None:
        self.replies = self.first = self.within_sla = 0
        self.seconds: list[int] = []

    def merge(self, other: _AgentTally) -> None:
        self.replies += other.replies
        self.first += other.first
        self.within_sla += other.within_sla
        self.seconds.extend(other.seconds)


class _Tally:
    """Running figures for one group of outcomes (a profile, a brand or everything)."""

    __slots__ = (
        "agents",
        "answered",
        "automated",
        "business",
        "by_human",
        "first",
        "followups",
        "followups_answered",
        "grid",
        "human",
        "in_hours",
        "in_hours_answered",
        "openers",
        "outcomes",
        "reasons",
        "within_sla",
    )

    def __init__(self) -> None:
        self.openers = self.answered = self.by_human = self.within_sla = 0
        self.followups = self.followups_answered = self.automated = 0
        self.in_hours = self.in_hours_answered = 0
        self.first: list[int] = []
        self.human: list[int] = []
        self.business: list[int] = []
        self.reasons: dict[str, int] = {}
        self.grid = [[0] * 24 for _ in range(7)]
        self.agents: dict[str, _AgentTally] = {}
        self.outcomes = dict.fromkeys(OUTCOMES, 0)

    def _agent(self, agent: str) -> _AgentTally:
        tally = self.agents.get(agent)
        if tally is None:
            tally = self.agents[agent] = _AgentTally()
        return tally

    def add(self, outcome: Outcome, sla_seconds: int, calendar: BusinessCalendar) -> None:
        first = outcome.first_response
        if outcome.reply_agents is not None:
            for agent in outcome.reply_agents:
                self._agent(agent).replies += 1
        if outcome.kind == FOLLOWUP:
            self.followups += 1
            if first is not None:
                self.followups_answered += 1
            return
        self.openers += 1
        created = outcome.post.created_at
        opened = calendar.is_open(created)
        if opened:
            self.in_hours += 1
        if first is None:
            _, weekday, hour = calendar.local(created)
            self.grid[weekday][hour] += 1
            return
        self.answered += 1
        if opened:
            self.in_hours_answered += 1
        self.first.append(first.seconds)
        self.business.append(calendar.business_seconds(created, first.created_at))
        if first.automated:
            self.automated += 1
            for reason in first.reasons:
                category = reason_category(reason)
                if category:
                    self.reasons[category] = self.reasons.get(category, 0) + 1
        if outcome.ending is not None:
            self.outcomes[outcome.ending] += 1
        human = outcome.first_human_response
        if human is not None:
            self.by_human += 1
            self.human.append(human.seconds)
            agent = self._agent(outcome.agent or UNSIGNED)
            agent.first += 1
            agent.seconds.append(human.seconds)
            if human.seconds <= sla_seconds:
                self.within_sla += 1
                agent.within_sla += 1

    def merge(self, other: _Tally) -> None:
        for name in (
            "openers",
            "answered",
            "by_human",
            "within_sla",
            "followups",
            "followups_answered",
            "automated",
            "in_hours",
            "in_hours_answered",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.first.extend(other.first)
        self.human.extend(other.human)
        self.business.extend(other.business)
        for category, count in other.reasons.items():
            self.reasons[category] = self.reasons.get(category, 0) + count
        for row, other_row in zip(self.grid, other.grid, strict=True):
            for hour, count in enumerate(other_row):
                row[hour] += count
        for name, count in other.outcomes.items():
            self.outcomes[name] += count
        for agent, tally in other.agents.items():
            self._agent(agent).merge(tally)

    def agent_rows(self) -> list[dict[str, Any]]:
        """Agents by first human responses given, then replies, then name."""
        order = sorted(self.agents.items(), key=lambda item: (-item[1].first, -item[1].replies, item[0]))
        return [
            {
                "agent": agent,
                "replies": tally.replies,
                "first_human_responses": tally.first,
                "first_human_response_seconds": percentiles(sorted(tally.seconds)),
                "answered_within_sla": tally.within_sla,
            }
            for agent, tally in order
        ]

    def figures(self) -> dict[str, Any]:
        return {
            "openers": self.openers,
            "answered": self.answered,
            "unanswered": self.openers - self.answered,
            "response_rate": _rate(self.answered, self.openers),
            "first_response_seconds": percentiles(sorted(self.first)),
            "answered_by_human": self.by_human,
            "first_human_response_seconds": percentiles(sorted(self.human)),
            "answered_within_sla": self.within_sla,
            "followups": self.followups,
            "followups_answered": self.followups_answered,
            "answered_automated": self.automated,
            "automated_reasons": dict(sorted(self.reasons.items())),
            "business_hours": {
                "openers_in_hours": self.in_hours,
                "openers_out_of_hours": self.openers - self.in_hours,
                "answered_in_hours": self.in_hours_answered,
                "answered_out_of_hours": self.answered - self.in_hours_answered,
                "first_response_business_seconds": percentiles(sorted(self.business)),
            },
            "unanswered_by_weekday_hour": [row[:] for row in self.grid],
            "outcomes": dict(self.outcomes),
        }


PeriodFor = Period | Callable[[Profile], Period]


def report(
    outcomes: Iterable[Outcome],
    brands: Sequence[Brand],
    period: PeriodFor,
    as_of: int,
    completeness: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The JSON report for ``period`` (one period, or one per profile such as local weeks)."""
    profiles = {p.key: p for b in brands for p in b.profiles}
    period_of = {key: (period(p) if callable(period) else period) for key, p in profiles.items()}
    per_profile = {key: _Tally() for key in profiles}
    per_brand = {b.brand_id: _Tally() for b in brands}
    overall = _Tally()
    calendars = {key: calendar(p.timezone, p.business_hours) for key, p in profiles.items()}
    for outcome in outcomes:
        key = outcome.profile_key
        period_of_profile = period_of.get(key)
        if period_of_profile is None or not (
            period_of_profile.start <= outcome.post.created_at < period_of_profile.end
        ):
            continue
        per_profile[key].add(outcome, profiles[key].sla_seconds, calendars[key])
    # Every outcome belongs to one profile of its own brand, so brand and overall figures
    # are the profiles' tallies put together: the values are pooled, never averaged.
    for brand in brands:
        for profile in brand.profiles:
            per_brand[brand.brand_id].merge(per_profile[profile.key])
        overall.merge(per_brand[brand.brand_id])

    starts = [p.start for p in period_of.values()]
    ends = [p.end for p in period_of.values()]
    profile_rows = []
    for brand in brands:
        for profile in brand.profiles:
            row = {
                "brand": brand.brand_id,
                "platform": profile.platform,
                "profile": profile.handle,
                "timezone": profile.timezone,
                "sla_seconds": profile.sla_seconds,
                "period": _period_json(period_of[profile.key]),
                **per_profile[profile.key].figures(),
            }
            if brand.agents:
                row["agents"] = per_profile[profile.key].agent_rows()
            if completeness is not None:
                row["completeness"] = dict(completeness.get(profile.key, {}))
            profile_rows.append(row)
    brand_rows = [
        {
            "brand": brand.brand_id,
            "name": brand.name,
            "profiles": [p.key for p in brand.profiles],
            **per_brand[brand.brand_id].figures(),
            # Agents are per brand only, never pooled overall (METRICS.md "Agent"), and left
            # out altogether for a brand that turned them off.
            **({"agents": per_brand[brand.brand_id].agent_rows()} if brand.agents else {}),
        }
        for brand in brands
    ]
    return {
        "period": {"start": iso(min(starts)), "end": iso(max(ends))} if starts else None,
        "as_of": iso(as_of),
        "profiles": profile_rows,
        "brands": brand_rows,
        "overall": overall.figures(),
    }


def _period_json(period: Period) -> dict[str, str]:
    return {"start": iso(period.start), "end": iso(period.end)}


__all__ = ["FOLLOWUP", "OPENER", "percentiles", "report"]
