"""Figures for a period, per METRICS.md 'Figures for a period'."""

from __future__ import annotations

import statistics

from responsegap.domain.matching import match
from responsegap.domain.metrics import percentiles, report
from responsegap.domain.periods import Period, parse_instant, week_of, week_period
from tests.unit.domain.conversations import acme, at, brand_reply, customer


def test_percentiles_follow_the_statistics_module():
    values = [60, 120, 180, 600, 7200, 30]
    assert percentiles(values) == {
        "median": statistics.median(values),
        "p90": statistics.quantiles(values, n=10, method="inclusive")[8],
    }
    assert percentiles([42]) == {"median": 42, "p90": 42}
    assert percentiles([]) == {"median": None, "p90": None}


def conversation():
    return [
        customer("c1", "1", 0, "@acmehelp one"),
        brand_reply("b1", 10, "c1"),
        customer("c2", "2", 5, "@acmehelp two"),
        brand_reply("b2", 125, "c2"),  # outside the 1 h SLA
        customer("c3", "3", 7, "@acmehelp three"),  # never answered
        customer("f1", "1", 20, "@acmehelp thanks, still broken", reply_to="b1"),  # follow-up, unanswered
        customer("late", "4", 300, "@acmehelp after the period"),
    ]


def test_profile_figures():
    brand = acme()
    figures = report(match(conversation(), [brand], at(1000)), [brand], Period(at(0), at(200)), at(1000))
    row = next(p for p in figures["profiles"] if p["profile"] == "acmehelp")
    assert row["openers"] == 3
    assert row["answered"] == 2
    assert row["unanswered"] == 1
    assert row["response_rate"] == 2 / 3
    assert row["first_response_seconds"] == {
        "median": (600 + 7200) / 2,
        "p90": statistics.quantiles([600, 7200], n=10, method="inclusive")[8],
    }
    assert row["answered_by_human"] == 2
    assert row["answered_within_sla"] == 1
    assert (row["followups"], row["followups_answered"]) == (1, 0)
    assert sum(map(sum, row["unanswered_by_weekday_hour"])) == 1
    brand_row = figures["brands"][0]
    assert brand_row["openers"] == 3 and brand_row["brand"] == "acme"
    assert figures["overall"]["answered"] == 2


def test_no_openers_gives_null_rate_and_percentiles():
    brand = acme()
    figures = report([], [brand], Period(at(0), at(10)), at(10))
    row = figures["profiles"][0]
    assert row["response_rate"] is None
    assert row["first_response_seconds"] == {"median": None, "p90": None}


def test_week_starts_monday_midnight_local():
    period = week_period("2023-W43", "Europe/London")
    assert period.start == parse_instant("2023-10-23T00:00:00+01:00")
    assert period.end == parse_instant("2023-10-30T00:00:00+00:00")  # DST ended inside the week
    assert period.end - period.start == 7 * 86400 + 3600
    assert week_of(period.start, "Europe/London") == "2023-W43"
    assert week_of(period.end - 1, "Europe/London") == "2023-W43"
