"""Alert rules and rendering with plain data: thresholds, quiet periods, urgent terms, the brands
file's alerts blocks, excerpts and each target's escaping."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from responsegap.alerts.delivery import TargetError, check_webhook_url
from responsegap.alerts.digest import Digest, DigestPost, excerpt, safe_url
from responsegap.alerts.render import (
    email_text,
    slack_escape,
    slack_payload,
    sms_text,
    sns_subject,
    teams_payload,
    webhook_payload,
)
from responsegap.brands_file import parse_brands
from responsegap.domain.alerts import (
    AlertTarget,
    BrandAlerts,
    ProfileAlertRules,
    alerts_from_json,
    alerts_to_json,
    assess,
    is_due,
    is_quiet,
    parse_quiet,
    quiet_ends_at,
    urgent_term,
    was_held,
)
from responsegap.domain.model import ConfigError, Post, Profile


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


PROFILE = Profile(brand_id="acme", platform="x", handle="acme", timezone="UTC", sla_seconds=3600)


def post(created_at: int, text: str = "@acme help") -> Post:
    return Post("x", "1", "9", "cust", created_at, text, mentions=("acme",))


# ------------------------------------------------------------------------------ thresholds


def test_threshold_is_the_sla_unless_set_and_out_of_hours_has_its_own() -> None:
    monday_10 = at("2026-11-23T10:00:00")  # in the default hours (Mon-Fri 09-17)
    monday_23 = at("2026-11-23T23:00:00")
    plain = assess(post(monday_10), PROFILE, ProfileAlertRules(), ())
    assert (plain.overdue_at, plain.out_of_hours, plain.threshold_seconds) == (monday_10 + 3600, False, 3600)
    rules = ProfileAlertRules(threshold_seconds=1800, out_of_hours_threshold_seconds=7200)
    day, night = assess(post(monday_10), PROFILE, rules, ()), assess(post(monday_23), PROFILE, rules, ())
    assert day.overdue_at == monday_10 + 1800 and not day.out_of_hours
    assert night.overdue_at == monday_23 + 7200 and night.out_of_hours
    # Due only once a poll that started at or after that moment saw no answer.
    assert not is_due(day, monday_10 + 1799) and is_due(day, monday_10 + 1800)


def test_urgent_terms_match_whole_words_in_any_case_and_width() -> None:
    terms = ("lawsuit", "food poisoning", "unsafe")
    assert urgent_term("I will file a LAWSUIT!", terms) == "lawsuit"
    assert urgent_term("ｕｎｓａｆｅ stairs", terms) == "unsafe"  # fullwidth letters
    assert urgent_term("got food\n  POISONING here", terms) == "food poisoning"
    assert urgent_term("lawsuits are unsafely filed", terms) is None
    assert urgent_term("", terms) is None and urgent_term("lawsuit", ()) is None
    urgent = assess(post(at("2026-11-23T10:00:00"), "@acme lawsuit"), PROFILE, ProfileAlertRules(), terms)
    assert urgent.due_at == urgent.overdue_at - 3600 and is_due(urgent, 0)


def test_quiet_periods_run_overnight_and_end_where_the_next_day_says() -> None:
    quiet = parse_quiet({"fri": "22:00-07:00", "sat": "00:00-24:00", "sun": ["00:00-08:00"]})
    rules = ProfileAlertRules(quiet=quiet)
    assert quiet.days[4] == ((1320, 1440),) and quiet.days[5] == ((0, 1440),)
    friday_23 = at("2026-11-27T23:00:00")
    assert is_quiet(friday_23, PROFILE, rules) and not is_quiet(at("2026-11-27T21:59:00"), PROFILE, rules)
    # Friday 22:00 runs on through Saturday into Sunday 08:00.
    assert quiet_ends_at(friday_23, PROFILE, rules) == at("2026-11-29T08:00:00")
    assert quiet_ends_at(at("2026-11-25T12:00:00"), PROFILE, rules) == at("2026-11-25T12:00:00")
    due = assess(post(at("2026-11-27T20:00:00")), PROFILE, rules, ())  # due 21:00, before quiet
    assert not was_held(due, at("2026-11-27T21:30:00"), PROFILE, rules)
    assert was_held(due, at("2026-11-29T09:00:00"), PROFILE, rules)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"fri": "22:00"}, "not 'HH:MM-HH:MM'"),
        ({"friday": "22:00-07:00"}, "unknown days"),
        ({"mon": "10:00-10:00"}, "start != end"),
        ({"mon": "25:00-26:00"}, "not a range"),
        ({}, "must be a mapping"),
    ],
)
def test_bad_quiet_periods_say_what_is_wrong(spec: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_quiet(spec, "brands[0].profiles[0].alerts.quiet")


# ------------------------------------------------------------------------------ brands file


def brands(alerts: Any = None, profile_alerts: Any = None) -> dict[str, Any]:
    profile: dict[str, Any] = {"platform": "x", "handle": "AcmeHelp"}
    if profile_alerts is not None:
        profile["alerts"] = profile_alerts
    brand: dict[str, Any] = {"id": "acme", "profiles": [profile]}
    if alerts is not None:
        brand["alerts"] = alerts
    return {"brands": [brand]}


def test_the_brands_file_reads_targets_terms_and_per_profile_rules_and_they_round_trip() -> None:
    loaded = parse_brands(
        brands(
            {
                "targets": [
                    {"type": "sns"},
                    {
                        "name": "care-slack",
                        "type": "slack",
                        "url_parameter": "/responsegap/alerts/acme/slack",
                    },
                ],
                "urgent_terms": ["lawsuit"],
                "urgent_during_quiet": False,
            },
            {
                "threshold_seconds": 1800,
                "out_of_hours_threshold_seconds": 7200,
                "quiet": {"daily": "23:00-06:00"},
            },
        )
    )
    alerts = loaded.brands[0].alerts
    assert alerts is not None
    assert [(t.name, t.kind) for t in alerts.targets] == [("sns", "sns"), ("care-slack", "slack")]
    rules = alerts.rules_for("x#acmehelp")
    assert rules.threshold_seconds == 1800 and rules.out_of_hours_threshold_seconds == 7200
    assert rules.quiet is not None and rules.quiet.days[0] == ((0, 360), (1380, 1440))
    assert alerts.urgent_during_quiet is False
    assert alerts_from_json(json.loads(json.dumps(alerts_to_json(alerts)))) == alerts


@pytest.mark.parametrize(
    ("alerts", "profile_alerts", "message"),
    [
        ({"targets": [{"type": "slack"}]}, None, r"url_parameter is required"),
        (
            {"targets": [{"type": "slack", "url_parameter": "/other/slack"}]},
            None,
            r"brands\[0\] \(acme\)\.alerts\.targets\[0\]\.url_parameter: '/other/slack' must be an SSM "
            r"SecureString under '/responsegap/alerts/'",
        ),
        ({"targets": [{"type": "pager"}]}, None, "type must be one of sns, slack, teams, webhook"),
        (
            {"targets": [{"type": "sns", "url_parameter": "/responsegap/alerts/x"}]},
            None,
            "takes no url_parameter",
        ),
        ({"targets": [{"type": "sns"}, {"type": "sns"}]}, None, r"must be unique: \['sns'\] repeated"),
        ({"targets": [], "urgent_terms": ["  "]}, None, "must be a list of text"),
        ({"targets": [], "pager": 1}, None, r"unknown fields \['pager'\]"),
        ({"targets": []}, {"threshold_seconds": 10}, r"alerts\.threshold_seconds must be .* at least 60"),
        ({"targets": []}, {"quiet": {"mon": "x"}}, r"profiles\[0\] \(x:acmehelp\)\.alerts\.quiet\.mon"),
        ({"targets": []}, {"threshold": 600}, r"unknown fields \['threshold'\]"),
    ],
)
def test_bad_alert_config_names_the_field(alerts: Any, profile_alerts: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_brands(brands(alerts, profile_alerts))


def test_profile_rules_without_brand_targets_are_kept_with_a_warning() -> None:
    loaded = parse_brands(brands(None, {"threshold_seconds": 600}))
    assert loaded.brands[0].alerts is not None and not loaded.brands[0].alerts.enabled
    assert any("no alerts.targets" in w for w in loaded.warnings)


def test_targets_are_checked_when_built_too() -> None:
    with pytest.raises(ConfigError, match="needs url_parameter"):
        AlertTarget("chat", "teams")
    with pytest.raises(ConfigError, match="empty once spaces are removed"):
        BrandAlerts(urgent_terms=(" ",))


# ------------------------------------------------------------------------------ excerpts and links


def test_excerpts_are_one_short_line_with_mentions_defused() -> None:
    text = "<!channel> hi @here\r\nSubject: x\u202e\u200b" + "y" * 500
    cut = excerpt(text)
    visible = cut.replace("\u2060", "")
    assert len(visible) <= 140 and visible.endswith("…")
    assert "\r" not in cut and "\n" not in cut and "\u202e" not in cut and "\u200b" not in cut
    assert cut.startswith("<\u2060!channel> hi @\u2060here Subject: x")
    assert excerpt("＠everyone") == "＠\u2060everyone"  # a fullwidth at-sign too


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.com/a/status/1", "https://x.com/a/status/1"),
        ("https://x.com/a b|c>d", "https://x.com/a%20b%7Cc%3Ed"),
        ("javascript:alert(1)", None),
        ("https://user:pw@x.com/", None),
        ("https://x.com/\r\nSet-Cookie: a", None),
        ("", None),
    ],
)
def test_links_are_http_and_cannot_break_out_of_chat_markup(url: str, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_webhook_urls_must_be_the_services_own_https_hosts() -> None:
    assert check_webhook_url("slack", "https://hooks.slack.com/services/T/B/X")
    assert check_webhook_url("teams", "https://prod-1.westeurope.logic.azure.com/workflows/a")
    assert check_webhook_url("webhook", "https://hooks.example.com/alerts")
    for kind, url, message in [
        ("slack", "https://hooks.evil.example/services/T/B/secret", "hooks.slack.com"),
        ("teams", "https://outlook.office.com/webhook/secret", "Workflows"),
        ("webhook", "http://hooks.example.com/secret", "https"),
        ("webhook", "https://169.254.169.254/secret", "private or loopback"),
        ("webhook", "https://u:secret@hooks.example.com/", "credentials"),
    ]:
        with pytest.raises(TargetError, match=message) as raised:
            check_webhook_url(kind, url)
        assert "secret" not in str(raised.value)  # the URL is a secret: never in an error
    assert check_webhook_url("slack", "http://127.0.0.1:9/slack", allow_local=True)


# ------------------------------------------------------------------------------ rendering


def digest(text: str = "<!here> <@U1> <at>Bob</at> *bold* & done", brand_name: str = "Acme") -> Digest:
    item = DigestPost(
        profile_key="x#acme",
        platform="x",
        handle="acme",
        post_id="1",
        url="https://x.com/c/status/1",
        created_at=at("2026-11-23T23:00:00"),
        waited_seconds=7500,
        out_of_hours=True,
        excerpt=excerpt(text),
        urgent_term="lawsuit",
    )
    return Digest("acme", brand_name, "Europe/London", at("2026-11-24T01:05:00"), posts=(item,))


def test_slack_text_is_escaped_verbatim_and_the_notification_carries_no_customer_text() -> None:
    text, blocks = slack_payload(digest())
    assert text == "responsegap acme: 1 overdue post, 1 urgent"
    section = blocks[2].to_dict()["text"]
    assert section["verbatim"] is True
    assert (
        "&lt;\u2060!here&gt; &lt;\u2060@\u2060U1&gt;" in section["text"] and "&amp; done" in section["text"]
    )
    assert "<https://x.com/c/status/1|open post>" in section["text"]
    assert slack_escape("<&>") == "&lt;&amp;&gt;"


def test_teams_excerpts_are_text_runs_and_no_card_can_mention() -> None:
    card = teams_payload(digest())["attachments"][0]["content"]
    assert "entities" not in json.dumps(card) and card["version"] == "1.4"
    runs = [i for b in card["body"] if b["type"] == "RichTextBlock" for i in b["inlines"]]
    assert any("<\u2060at>Bob<\u2060/at>" in r["text"] for r in runs)
    assert {b["type"] for b in card["body"]} <= {"RichTextBlock", "ActionSet"}  # no markdown TextBlock
    actions = [a for b in card["body"] if b["type"] == "ActionSet" for a in b["actions"]]
    assert actions == [{"type": "Action.OpenUrl", "title": "Open post", "url": "https://x.com/c/status/1"}]


def test_sns_subject_and_sms_are_ascii_counts_and_the_email_has_the_facts() -> None:
    hostile = digest(brand_name="Café\r\nBcc: x@example.com")
    subject = sns_subject(hostile)
    assert (
        subject == "responsegap acme: 1 overdue post, 1 urgent" and subject.isascii() and len(subject) < 100
    )
    assert "<" not in sms_text(hostile) and len(sms_text(hostile)) <= 140
    body = email_text(hostile)
    assert body.splitlines()[0] == "Café Bcc: x@example.com: 1 overdue post, 1 urgent"
    assert "waited 2h 5m, arrived out of hours" in body and 'URGENT: contains "lawsuit"' in body
    assert "as of Tue 24 Nov 01:05 GMT" in body


def test_the_generic_webhook_document_has_every_field() -> None:
    document = webhook_payload(digest())
    (item,) = document["overdue"]
    assert document["type"] == "responsegap.alert_digest" and document["brand"]["id"] == "acme"
    assert set(item) == {
        "profile",
        "platform",
        "post_id",
        "url",
        "created_at",
        "waited_seconds",
        "out_of_hours",
        "urgent_term",
        "held_by_quiet_period",
        "excerpt",
    }
