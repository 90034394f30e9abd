"""Figures of the hand-computed week in report_sample.py, and how the store is read."""

from __future__ import annotations

import dataclasses
import json

import pytest

from responsegap.domain.model import Brand, ConfigError, Post, Profile
from responsegap.domain.periods import week_period
from responsegap.report import compose_rollup, compose_weekly_report, week_figures_snapshot
from tests.unit.report import report_sample as s


def compose(**store_kw):
    store = s.FakeStore(**store_kw)
    return store, compose_weekly_report(store, s.brand(), s.WEEK, s.AS_OF)


def test_brand_figures_match_the_hand_computation():
    _, report = compose()
    f = report.figures
    assert (f["openers"], f["answered"], f["unanswered"]) == (8, 5, 3)
    assert f["response_rate"] == pytest.approx(5 / 8)
    assert f["first_human_response_seconds"] == {"median": 4800, "p90": pytest.approx(35520)}
    assert f["answered_by_human"] == 4
    assert f["answered_within_sla"] == 2
    assert (f["followups"], f["followups_answered"]) == (1, 0)
    assert f["answered_automated"] == 1
    assert f["automated_reasons"] == {"automation app": 1, "too fast for a person": 1}
    grid = f["unanswered_by_weekday_hour"]
    assert grid[5][10] == 2 and grid[6][22] == 1 and sum(map(sum, grid)) == 3
    hours = f["business_hours"]
    assert (hours["openers_in_hours"], hours["answered_in_hours"]) == (4, 4)
    assert (hours["openers_out_of_hours"], hours["answered_out_of_hours"]) == (4, 1)
    assert report.human_wait["in_hours"]["median"] == 1800
    assert report.human_wait["out_of_hours"]["median"] == 47400


def test_one_posts_query_per_profile_from_week_start_through_as_of():
    store, _ = compose()
    reads = [c for c in store.calls if c[0] == "posts_between"]
    start = week_period(s.WEEK, "Europe/London").start
    assert sorted(reads) == sorted(
        [
            ("posts_between", "x#acme", start, s.AS_OF + 1),
            ("posts_between", "instagram#acme.help", start, s.AS_OF + 1),
        ]
    )
    completeness = [c for c in store.calls if c[0] == "completeness"]
    # the week is over by as_of, so completeness covers the whole week
    assert {c[3] for c in completeness} == {week_period(s.WEEK, "Europe/London").end}
    assert {c[4] for c in completeness} == {300}


def test_a_reply_after_the_week_counts_if_seen_by_as_of_and_not_after():
    posts = s.posts()
    c4 = next(p for p in posts["x#acme"] if p.post_id == "c4")
    late = s.reply("late", s.AS_OF - 60, c4, "So sorry, fixed now -Anna")
    posts["x#acme"].append(late)
    _, report = compose(by_profile=posts)
    assert report.figures["answered"] == 6
    posts["x#acme"][-1] = s.reply("late", s.AS_OF + 60, c4, "So sorry, fixed now -Anna")
    _, report = compose(by_profile=posts)
    assert report.figures["answered"] == 5


def test_each_profile_has_its_own_local_week():
    brand = s.brand()
    import dataclasses

    ny = dataclasses.replace(brand.profiles[1], timezone="America/New_York")
    brand = dataclasses.replace(brand, profiles=(brand.profiles[0], ny))
    store = s.FakeStore()
    report = compose_weekly_report(store, brand, s.WEEK, s.AS_OF)
    assert report.periods["instagram#acme.help"] == week_period(s.WEEK, "America/New_York")
    # i2 (Sun 22:00 UTC = Sun 17:00 New York) is still in New York's week
    assert report.profiles[1]["openers"] == 2


def test_previous_week_comes_only_from_last_weeks_snapshot():
    _, report = compose(snapshots={"2026-W46": s.W46, "2026-W44": s.W44})
    assert report.previous == s.W46["brand"]
    _, report = compose(snapshots={"2026-W44": s.W44})
    assert report.previous is None  # W44 is not passed off as last week
    trend = report.trend
    assert [t.week for t in trend] == [f"2026-W{n}" for n in range(40, 48)]
    assert trend[4].figures["response_rate"] == 0.8 and trend[5].figures is None
    assert trend[-1].current and trend[-1].figures["openers"] == 8


def test_snapshot_is_small_json_with_brand_and_profile_headlines():
    _, report = compose()
    snapshot = week_figures_snapshot(report)
    encoded = json.dumps(snapshot)
    assert len(encoded) < 2000
    assert snapshot["brand"]["response_rate"] == pytest.approx(0.625)
    assert snapshot["brand"]["first_human_median"] == 4800
    assert snapshot["brand"]["within_sla_rate"] == 0.25
    assert set(snapshot["profiles"]) == {"x#acme", "instagram#acme.help"}
    assert snapshot["profiles"]["x#acme"]["openers"] == 6
    assert "unanswered_by_weekday_hour" not in encoded


def test_missing_polls_raise_a_warning_and_an_action():
    _, clean = compose()
    assert clean.warnings == [] and not clean.incomplete
    _, report = compose(completeness={"instagram#acme.help": s.BAD_COMPLETENESS})
    assert report.incomplete
    assert report.warnings == [
        "@acme.help on Instagram: only 1700 of 2016 polls succeeded (84%) "
        "and no successful poll for 4h at a stretch."
    ]
    assert report.actions[-1].startswith("Polling missed part of the week")


def test_actions_cite_the_figures():
    _, report = compose()
    assert report.actions[0] == (
        "Out-of-hours posts wait 26x longer for a person: "
        "100% of unanswered posts arrived outside business hours. "
        "Cover those hours or tell customers when someone will reply."
    )
    assert any(
        "Only 25% of customers got a reply from a person within the 1h target" in a for a in report.actions
    )
    assert any(a.startswith("1 customer replied to the brand and heard nothing back") for a in report.actions)


def test_a_quiet_week_and_a_good_week():
    _, empty = compose(by_profile={})
    assert empty.figures["openers"] == 0
    assert empty.actions == ["No customer posts reached the brand's profiles this week."]
    good = {"x#acme": [p for p in s.posts()["x#acme"] if p.post_id in ("c1", "r1")]}
    _, report = compose(by_profile=good)
    assert report.actions == ["Nothing needs action: customers were answered quickly this week."]


def test_bad_inputs_are_config_errors():
    store = s.FakeStore()
    with pytest.raises(ConfigError):
        compose_weekly_report(store, s.brand(), "2026-47", s.AS_OF)
    with pytest.raises(ConfigError):
        compose_weekly_report(store, s.brand(), "2026-W53", s.AS_OF)
    with pytest.raises(ConfigError, match="before week"):
        compose_weekly_report(store, s.brand(), "2026-W49", s.AS_OF)


def test_a_brand_without_profiles_gets_an_empty_report():
    import dataclasses

    from responsegap.report.render import render_html, render_text

    bare = dataclasses.replace(s.brand(), profiles=())
    report = compose_weekly_report(s.FakeStore(), bare, s.WEEK, s.AS_OF)
    assert report.figures["openers"] == 0 and report.profiles == []
    assert "No customer posts" in render_text(report) and "<table" in render_html(report)


def test_oldest_unanswered_and_hanging_followups():
    _, report = compose()
    assert [o.post.post_id for o in report.oldest_unanswered] == ["c4", "c5", "i2"]
    assert [o.post.post_id for o in report.hanging_followups] == ["c7"]


def test_rollup_measures_all_posts_together():
    _, acme = compose(snapshots={"2026-W46": s.W46})
    other_brand = s.brand("Other Co")

    other_brand = dataclasses.replace(
        other_brand,
        brand_id="other",
        profiles=tuple(dataclasses.replace(p, brand_id="other") for p in other_brand.profiles),
    )
    only_c1 = {"x#acme": [p for p in s.posts()["x#acme"] if p.post_id in ("c1", "r1", "c4")]}
    other = compose_weekly_report(s.FakeStore(by_profile=only_c1), other_brand, s.WEEK, s.AS_OF)
    rollup = compose_rollup([acme, other])
    o = rollup.overall
    assert (o["openers"], o["answered"], o["brands"]) == (10, 6, 2)
    # human waits: acme [1800, 1800, 7800, 47400] + other [1800] -> median 1800
    assert o["first_human_median"] == 1800
    assert o["answered_within_sla"] == 3
    assert [r.brand_id for r in rollup.rows] == ["other", "acme"]  # lowest answered first
    assert rollup.previous_overall is None  # "other" has no last week
    with pytest.raises(ValueError):
        compose_rollup([])

    # From a generator, one brand's week at a time: the same roll-up, and a brand's report is
    # let go once the roll-up has taken what it needs (its rows keep only figures).
    import gc
    import weakref

    class Tracked(list):  # a list that can be weakly referenced: the report's warnings
        pass

    seen: list[weakref.ref] = []

    def one_at_a_time():
        for report in (acme, other, acme):
            warnings = Tracked(report.warnings)
            seen.append(weakref.ref(warnings))
            if len(seen) > 2:
                gc.collect()
                assert seen[-3]() is None  # the report of the brand before last is gone
            yield dataclasses.replace(report, warnings=warnings)

    streamed = compose_rollup(one_at_a_time())
    assert streamed.overall["openers"] == 2 * acme.figures["openers"] + other.figures["openers"]
    assert streamed.overall["brands"] == 3
    assert compose_rollup(iter([acme, other])) == rollup


def test_a_one_platform_brand_reuses_its_figures_as_the_platform_row():
    import dataclasses

    from responsegap.report.compose import _platform_figures

    full = s.brand()
    brand = dataclasses.replace(full, profiles=full.profiles[:1])  # x only
    store = s.FakeStore(brands={"acme": brand})
    report = compose_weekly_report(store, brand, s.WEEK, s.AS_OF)
    measured = _platform_figures(brand, report.outcomes, report.periods, report.as_of)
    assert report.platforms == measured
    assert report.platforms[0]["openers"] == 6
    # A copy: changing the platform row cannot change the brand's figures.
    report.platforms[0]["first_response_seconds"]["median"] = -1
    assert report.figures["first_response_seconds"]["median"] != -1


def test_the_week_judges_old_parents_and_other_brands_as_the_platform_names_them():
    """METRICS.md "Things" in the weekly path: follow-ups to brand posts of 30 days and 2 years
    before the week (never read by the report) are follow-ups, and another monitored brand's
    posts in the profile's feed are never customer posts."""
    by_profile = s.posts()
    # Replies to brand posts of 30 days and 2 years before the week, which the report never
    # reads; X names the parent's author (in_reply_to_user_id).
    for pid in ("f30", "f2y"):
        by_profile["x#acme"].append(
            Post("x", pid, "cust7-id", "cust7", s.at(2, 12), "it broke again", f"old-{pid}", "acme-id")
        )
    banter = "@acme who has the best coffee?"
    redirect = "@cust2 DM our friends @acme"
    by_profile["x#acme"] += [
        Post("x", "g1", "globex-id", "globex", s.at(2, 13), banter, mentions=("acme",)),
        Post("x", "g2", "globex-id", "globex", s.at(2, 14), redirect, mentions=("acme",)),
    ]
    globex = Brand("globex", "Globex", profiles=(Profile("globex", "x", "globex", account_id="globex-id"),))
    store = s.FakeStore(by_profile=by_profile, brands={"acme": s.brand(), "globex": globex})
    report = compose_weekly_report(store, s.brand(), s.WEEK, s.AS_OF)
    f = report.figures
    assert (f["openers"], f["followups"], f["followups_answered"]) == (8, 3, 0)
    assert {o.post.post_id for o in report.outcomes} >= {"f30", "f2y"}
    assert not {"g1", "g2"} & {o.post.post_id for o in report.outcomes}


UNAVAILABLE = {
    "polls_planned": 2016,
    "polls_succeeded": 1716,
    "polls_failed": 300,
    "longest_blind_seconds": 90000,
    "polls_account_unavailable": 300,
    "account_unavailable_at_end": 1,
}


def test_an_unavailable_account_is_named_in_data_completeness_and_flags_its_figures():
    from responsegap.report.render import render_html, render_text, subject

    _, report = compose(completeness={"instagram#acme.help": UNAVAILABLE})

    assert report.incomplete
    assert report.warnings == [
        "@acme.help on Instagram: account unavailable. Instagram reported the account suspended or "
        "not found in 300 of 2016 planned polls and still did at the last poll; nothing could be read "
        "while it was, so its figures are missing for that time. Check the account and the profile's "
        "account id."
    ]
    assert "(incomplete data)" in subject(report)
    text = render_text(report)
    assert "@acme.help (Instagram): 1716 of 2016 polls succeeded" in text
    assert "<< ACCOUNT UNAVAILABLE" in text
    assert "- @acme.help (Instagram) [account unavailable]:" in text  # the profile's figures
    assert "- @acme (X):" in text  # a healthy profile is not flagged
    html = render_html(report)
    assert "⚠ Account unavailable" in html and "&#9888; account unavailable" in html


def test_missing_polls_flag_the_profile_figures_as_missing_data():
    from responsegap.report.render import render_text

    _, report = compose(completeness={"instagram#acme.help": s.BAD_COMPLETENESS})

    text = render_text(report)
    assert "- @acme.help (Instagram) [missing data]:" in text and "<< MISSING DATA" in text
