"""The weekly report counts planned polls against the budget's interval and says so."""

from __future__ import annotations

from responsegap.domain.model import Brand, Profile
from responsegap.report import compose_weekly_report
from responsegap.report.render import render_html, render_text
from tests.unit.report import report_sample as s


def _crowded_x(count: int) -> Brand:
    """Another brand whose X profiles spend the same default X app as acme's."""
    return Brand(
        brand_id="crowd",
        name="Crowd",
        timezone="UTC",
        recipients=("a@example.com",),
        profiles=tuple(Profile("crowd", "x", f"care{i}", account_id=f"c{i}") for i in range(count)),
    )


def _report(brands):
    store = s.FakeStore(brands=brands)
    return store, compose_weekly_report(store, s.brand(), s.WEEK, s.AS_OF)


def test_profile_on_a_crowded_credential_is_counted_against_the_budget_interval():
    store, report = _report({"acme": s.brand(), "crowd": _crowded_x(2_999)})
    x_row = next(r for r in report.profiles if r["platform"] == "x")
    interval = x_row["completeness"]["budget_interval_seconds"]
    # 3,000 profiles on one app's 450 mention reads per 15 minutes: an even share is one
    # poll every 6,000 s, and the planner's guarantee (half of it, capped) is slower than 5 min.
    assert interval > 300
    asked = [c for c in store.calls if c[0] == "completeness" and c[1] == "x#acme"]
    assert asked and asked[0][4] == interval
    text = render_text(report)
    assert "polled every" in text and "(budget)" in text
    assert "(budget)" in render_html(report)
    # Instagram spends its own account's budget: untouched by the crowd on X.
    ig_row = next(r for r in report.profiles if r["platform"] == "instagram")
    assert "budget_interval_seconds" not in ig_row["completeness"]


def test_a_budget_that_fits_leaves_the_configured_interval():
    store, report = _report({"acme": s.brand()})
    assert all("budget_interval_seconds" not in r["completeness"] for r in report.profiles)
    asked = {c[1]: c[4] for c in store.calls if c[0] == "completeness"}
    assert asked == {"x#acme": 300, "instagram#acme.help": 300}
    assert "(budget)" not in render_text(report)
