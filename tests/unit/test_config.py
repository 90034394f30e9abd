"""Settings are read once, validated, and a bad value names its variable."""

from __future__ import annotations

import pytest

from responsegap.config import Settings, check_base_url
from responsegap.domain.model import Brand, ConfigError, Profile


def test_defaults_and_values():
    settings = Settings.from_env(
        {"TABLE_NAME": "t", "RETENTION_DAYS": "30", "LEADER_EMAILS": "a@x.com, b@x.com"}
    )
    assert settings.retention_days == 30
    assert settings.leaders == ("a@x.com", "b@x.com")
    assert settings.reply_window_hours == 72


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "TABLE_NAME"),
        ({"TABLE_NAME": "t", "RETENTION_DAYS": "ninety"}, "RETENTION_DAYS"),
        ({"TABLE_NAME": "t", "RETENTION_DAYS": "0"}, "RETENTION_DAYS"),
        ({"TABLE_NAME": "t", "SENDER_EMAIL": "a@x.com\r\nBcc: evil@x.com"}, "SENDER_EMAIL"),
        ({"TABLE_NAME": "t", "PLATFORM_ENDPOINTS": "{not json"}, "PLATFORM_ENDPOINTS"),
        ({"TABLE_NAME": "t", "PLATFORM_ENDPOINTS": '{"myspace": "https://a.example"}'}, "myspace"),
        ({"TABLE_NAME": "t", "PLATFORM_ENDPOINTS": '{"x": "http://127.0.0.1:9"}'}, "https"),
        ({"TABLE_NAME": "t", "ALLOW_LOCAL_ENDPOINTS": "maybe"}, "ALLOW_LOCAL_ENDPOINTS"),
    ],
)
def test_bad_settings_name_the_problem(env, named):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)
    assert named in str(error.value)


def test_local_endpoints_only_when_allowed():
    env = {
        "TABLE_NAME": "t",
        "PLATFORM_ENDPOINTS": '{"x": "http://127.0.0.1:8080/"}',
        "ALLOW_LOCAL_ENDPOINTS": "1",
    }
    assert Settings.from_env(env).platform_endpoints == {"x": "http://127.0.0.1:8080"}


@pytest.mark.parametrize(
    "url",
    [
        "http://mastodon.social",
        "https://10.0.0.5",
        "https://169.254.169.254/latest",
        "https://localhost:8443",
        "https://[::1]/",
        "https://user:pw@mastodon.social",
        "ftp://mastodon.social",
        "https://",
    ],
)
def test_unsafe_base_urls_are_refused(url):
    with pytest.raises(ConfigError):
        check_base_url(url)


def test_public_https_base_url_is_accepted():
    assert check_base_url("https://mastodon.social/") == "https://mastodon.social"


@pytest.mark.parametrize(
    ("build", "named"),
    [
        (lambda: Profile("acme", "myspace", "acme"), "unknown platform"),
        (lambda: Profile("acme", "x", "Acme"), "lower-case"),
        (lambda: Profile("acme", "x", "acme", timezone="Mars/Olympus"), "timezone"),
        (lambda: Profile("acme", "x", "acme", sla_seconds=0), "sla_seconds"),
        (lambda: Brand("acme\r\nBcc", "Acme"), "brand id"),
        (lambda: Brand("acme", "Acme", bot_accounts=("acmebot",)), "platform:handle"),
    ],
)
def test_hostile_profile_config_is_refused(build, named):
    with pytest.raises(ConfigError) as error:
        build()
    assert named in str(error.value)


def test_dispatch_interval_from_the_templates_minutes():
    assert (
        Settings.from_env({"TABLE_NAME": "t", "DISPATCH_INTERVAL_MINUTES": "5"}).dispatch_interval_seconds
        == 300
    )
    assert (
        Settings.from_env({"TABLE_NAME": "t", "DISPATCH_INTERVAL_SECONDS": "600"}).dispatch_interval_seconds
        == 600
    )
    with pytest.raises(ConfigError, match="DISPATCH_INTERVAL_MINUTES"):
        Settings.from_env({"TABLE_NAME": "t", "DISPATCH_INTERVAL_MINUTES": "0"})
