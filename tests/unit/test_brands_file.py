"""The brands file: the documented example loads; hostile or mistaken input fails clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from responsegap.brands_file import load_brands_file, parse_brands
from responsegap.domain.model import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "infra" / "brands.example.yaml"


def one(profile: dict[str, Any] | None = None, **brand: Any) -> dict[str, Any]:
    base_profile = {"platform": "mastodon", "handle": "acme", "base_url": "https://mastodon.social"}
    return {
        "brands": [
            {"id": "acme", "timezone": "Europe/Paris", "recipients": ["a@acme.example"]}
            | brand
            | {"profiles": [base_profile | (profile or {})]}
        ]
    }


def test_example_file_loads() -> None:
    loaded = load_brands_file(EXAMPLE)
    (brand,) = loaded.brands
    assert brand.brand_id == "acme" and brand.report_weekday == 0 and brand.report_hour == 7
    assert [p.key for p in brand.profiles] == ["x#acmesupport", "mastodon#acme@mastodon.social"]
    x = brand.profiles[0]
    assert x.business_hours.days[5] == ((540, 720), (780, 1020))
    assert x.credentials == "/responsegap/x/acmesupport"
    assert brand.profiles[1].base_url == "https://mastodon.social"
    # Empty business hours are allowed, with a warning that says what it means.
    assert len(loaded.warnings) == 1 and "business_hours is empty" in loaded.warnings[0]


def test_defaults_and_normalisation() -> None:
    (brand,) = parse_brands(one({"handle": "@ACME"}, report={"weekday": "fri", "hour": 16})).brands
    profile = brand.profiles[0]
    assert profile.handle == "acme" and profile.timezone == "Europe/Paris"
    assert (profile.sla_seconds, profile.poll_interval_seconds, profile.enabled) == (3600, 300, True)
    assert (brand.report_weekday, brand.report_hour) == (4, 16)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (one({"base_url": "http://mastodon.social"}), "must use https"),
        (one({"base_url": "https://169.254.169.254/latest"}), "private or loopback"),
        (one({"base_url": "https://localhost:8080"}), "private or loopback"),
        (one({"base_url": "https://user:pw@mastodon.social"}), "credentials do not belong"),
        (one({"platform": "myspace"}), "unknown platform 'myspace'"),
        (one({"timezone": "Mars/Olympus"}), "unknown timezone 'Mars/Olympus'"),
        (one(timezone="CEST"), "brands[0] (acme).timezone: unknown timezone"),
        (one({"business_hours": {"mon": "9-5"}}), "is not 'HH:MM-HH:MM'"),
        (one({"business_hours": {"funday": "09:00-17:00"}}), "unknown weekdays"),
        (one({"hanlde": "x"}), "unknown fields ['hanlde']"),
        (one({"sla_seconds": "fast"}), "sla_seconds must be a whole number"),
        (one({"sla_seconds": 0}), "sla_seconds must be positive"),
        (one({"poll_interval_seconds": 10}), "at least 60"),
        (one({"enabled": "yes"}), "enabled must be true or false"),
        (one({"credentials": "/other-app/token"}), "must be an SSM parameter under '/responsegap/'"),
        (one(recipients=["boss@acme.example\nBcc: all@evil.example"]), "is not an email address"),
        (one(id="../etc"), "brand id '../etc'"),
        (one(report={"weekday": "someday"}), "is not a weekday name"),
        (one(report={"hour": 24}), "hour must be 0-23"),
        (one(bot_accounts=["acmebot"]), "must be 'platform:handle'"),
        ({"brands": []}, "at least one brand"),
        ({"profiles": []}, "top-level 'brands:' list"),
        ("just text", "top-level 'brands:' list"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(data: Any, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_brands(data)
    assert message in str(error.value)


def test_errors_say_where() -> None:
    with pytest.raises(ConfigError, match=r"brands\[0\] \(acme\)\.profiles\[0\] \(mastodon:acme\)\.base_url"):
        parse_brands(one({"base_url": "http://example.com"}))


def test_duplicates_are_refused() -> None:
    data = one()
    data["brands"].append(dict(data["brands"][0]))
    with pytest.raises(ConfigError, match="appears twice"):
        parse_brands(data)
    twice = one()
    twice["brands"][0]["profiles"].append(dict(twice["brands"][0]["profiles"][0]))
    with pytest.raises(ConfigError, match="listed more than once"):
        parse_brands(twice)


def test_local_endpoints_only_when_allowed() -> None:
    data = one({"base_url": "http://127.0.0.1:9000"})
    with pytest.raises(ConfigError):
        parse_brands(data)
    (brand,) = parse_brands(data, allow_local_endpoints=True).brands
    assert brand.profiles[0].base_url == "http://127.0.0.1:9000"


def test_warnings_for_missing_recipients_and_profiles() -> None:
    loaded = parse_brands({"brands": [{"id": "quiet"}]})
    assert any("no recipients" in w for w in loaded.warnings)
    assert any("no profiles" in w for w in loaded.warnings)


def test_file_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="cannot read"):
        load_brands_file(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("brands: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_brands_file(broken)
    # safe_load: YAML tags that would build Python objects are refused, not executed.
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text("brands: !!python/object/apply:os.system ['echo hi']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_brands_file(hostile)
    big = tmp_path / "big.yaml"
    big.write_text(yaml.safe_dump({"brands": [{"id": "a", "name": "x" * 1_100_000}]}), encoding="utf-8")
    with pytest.raises(ConfigError, match="limit"):
        load_brands_file(big)
