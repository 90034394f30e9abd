"""The weekly email's team table, outcome bars, redirects and their "What to do" sentences."""

from __future__ import annotations

import dataclasses
import email
import email.policy

from responsegap.report import compose_weekly_report
from responsegap.report.exchange_sections import (
    MIN_REDIRECTS_UNANSWERED,
    account_label,
    exchange_actions,
    label,
    outcome_view,
    redirect_actions,
    redirect_view,
    team_view,
)
from responsegap.report.mime import build_message
from responsegap.report.render import render_html, render_text
from tests.unit.report import report_sample as s
from tests.unit.report.test_report_mime import NOW, SENDER


def _report(brand=None, by_profile=None):
    b = brand or s.brand()
    store = s.FakeStore(by_profile=by_profile, brands={"acme": b})
    return compose_weekly_report(store, b, s.WEEK, s.AS_OF)


def _outcomes(**kw):
    base = dict.fromkeys(
        ("moved_private", "customer_positive", "customer_negative", "customer_waiting", "no_reply"), 0
    )
    return {**base, **kw}


def test_team_table_lists_the_sample_sign_offs_in_html_and_text():
    report = _report()
    text = render_text(report)
    html = render_html(report)
    section = text[text.index("TEAM") : text.index("HOW EXCHANGES ENDED")]
    # Four signed first human responses in the sample week (^JK, -Anna, ^MB, -Sam) and the
    # IFTTT acknowledgement, which is a reply with no sign-off.
    for agent in ("jk", "anna", "mb", "sam"):
        assert f"- {agent}: 1 first, 1 reply" in section
    assert "- unsigned: 0 first, 1 reply" in section
    assert "within target 1 of 1 (100%)" in section
    assert "Team" in html and ">jk<" in html


def test_agents_false_leaves_no_agent_anywhere_in_the_message():
    brand = dataclasses.replace(s.brand(), agents=False)
    report = _report(brand)
    raw = build_message(report, SENDER, ["leader@example.com"], now=NOW).as_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts = []
    for part in message.walk():
        if part.get_content_maintype() == "multipart":
            continue
        content = part.get_content()
        parts.append(content if isinstance(content, str) else content.decode("utf-8", "replace"))
    whole = "\n".join(parts)
    assert "TEAM" not in whole and "Sign-off" not in whole
    for agent in ("jk", "anna", "mb", "sam", "unsigned"):
        # The sign-offs still stand inside the quoted reply texts of the CSV; no column or
        # table names them as agents.
        assert f"- {agent}:" not in whole
        assert f">{agent}<" not in whole
        assert f",{agent}," not in whole
    # Outcomes are not about agents, so they stay.
    assert "HOW EXCHANGES ENDED" in whole


def test_hostile_sign_off_is_escaped_in_html_and_one_line_in_text():
    figures = {
        "agents": [
            {
                "agent": "<script>x</script>\u202e\r\nBcc: a@b",
                "replies": 3,
                "first_human_responses": 2,
                "first_human_response_seconds": {"median": 60, "p90": 90},
                "answered_within_sla": 2,
            }
        ]
    }
    view = team_view(figures)
    name = view["rows"][0]["agent"]
    assert "\r" not in name and "\n" not in name and "\u202e" not in name
    assert name.startswith("<script>")  # escaped by the template, not mangled here
    assert label("=HYPERLINK(\u200b)", 40) == "=HYPERLINK()"
    report = _report()
    report.figures["agents"] = figures["agents"]
    html = render_html(report)
    assert "<script>x" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_outcome_bars_share_and_width():
    view = outcome_view({"outcomes": _outcomes(moved_private=3, no_reply=1)})
    rows = {r["name"]: r for r in view["rows"]}
    assert view["total"] == 4
    assert rows["moved_private"]["share"] == "75%" and rows["moved_private"]["bar"] == 75
    assert rows["moved_private"]["text_bar"] == "#" * 15
    assert rows["customer_positive"]["bar"] == 0 and rows["customer_positive"]["text_bar"] == ""
    thin = outcome_view({"outcomes": _outcomes(moved_private=999, customer_waiting=1)})
    assert {r["name"]: r["bar"] for r in thin["rows"]}["customer_waiting"] == 1
    assert outcome_view({}) is None


def test_redirect_view_sent_by_target_and_received_with_answered():
    figures = {
        "redirects": {"sent": {"x#AmazonHelp": 2, "x#AppleSupport": 5}, "received": 3, "received_answered": 1}
    }
    profiles = [
        {
            "platform": "x",
            "profile": "acme",
            "redirects": {"sent": {}, "received": 3, "received_answered": 1},
        },
        {
            "platform": "instagram",
            "profile": "acme.help",
            "redirects": {"sent": {}, "received": 0, "received_answered": 0},
        },
    ]
    view = redirect_view(figures, profiles)
    assert [r["account"] for r in view["sent"]] == ["@AppleSupport on X", "@AmazonHelp on X"]
    assert view["sent_total"] == 7
    assert view["received"] == [
        {"account": "@acme on X", "received": 3, "answered": 1, "unanswered": 2, "rate": "33%"}
    ]
    assert redirect_view({}, profiles) is None
    assert account_label("bare") == "@bare"


def test_redirect_actions_name_the_account_that_dropped_redirected_customers():
    dropped = [{"platform": "x", "profile": "acme", "redirects": {"received": 4, "received_answered": 1}}]
    [sentence] = redirect_actions(dropped)
    assert "3 customers sent to @acme on X" in sentence and "1 of 4 answered" in sentence
    one_short = [
        {
            "platform": "x",
            "profile": "acme",
            "redirects": {"received": MIN_REDIRECTS_UNANSWERED - 1, "received_answered": 0},
        }
    ]
    assert redirect_actions(one_short) == []


def test_exchange_actions_speak_only_when_the_figures_say_so():
    mostly_private = exchange_actions({"outcomes": _outcomes(moved_private=6, no_reply=4), "answered": 10})
    assert any(
        a.startswith("Most answered exchanges (60%, 6 of 10) moved to a private channel")
        for a in mostly_private
    )
    # Half is not most.
    assert exchange_actions({"outcomes": _outcomes(moved_private=5, no_reply=5), "answered": 10}) == []
    # Too few exchanges to read a share.
    assert exchange_actions({"outcomes": _outcomes(moved_private=4), "answered": 4}) == []
    unhappy = exchange_actions({"outcomes": _outcomes(customer_negative=3, no_reply=7), "answered": 10})
    assert any("3 customers (30% of answered exchanges) ended unhappy" in a for a in unhappy)
    sent = exchange_actions({"answered": 20, "redirects": {"sent": {"x#AmazonHelp": 2, "x#Other": 1}}})
    assert any(
        "3 replies sent customers on to another account, 2 of them to @AmazonHelp on X" in a for a in sent
    )
    assert exchange_actions({"answered": 40, "redirects": {"sent": {"x#AmazonHelp": 3}}}) == []
    one_person = [
        {"agent": "jk", "first_human_responses": 8},
        {"agent": "mb", "first_human_responses": 2},
    ]
    assert any("signed jk" in a for a in exchange_actions({"agents": one_person}))
    unsigned = [
        {"agent": "unsigned", "first_human_responses": 6},
        {"agent": "jk", "first_human_responses": 4},
    ]
    assert any(
        "60% of first replies from a person carry no sign-off" in a
        for a in exchange_actions({"agents": unsigned})
    )
