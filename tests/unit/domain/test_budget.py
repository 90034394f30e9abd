import pytest

from responsegap.domain.budget import (
    DEFAULT_BUDGETS,
    EndpointLimit,
    achievable_interval,
    default_credential,
)
from responsegap.domain.model import ConfigError


def test_youtube_quota_fits_34_channels_at_five_minutes_and_not_35():
    daily = DEFAULT_BUDGETS["youtube"].limit("list")
    assert achievable_interval(daily, 34) == 300
    assert achievable_interval(daily, 35) > 300


def test_profiles_sharing_a_credential_stretch_the_interval():
    mentions = DEFAULT_BUDGETS["x"].limit("mentions")
    alone = achievable_interval(mentions, 1)
    crowd = achievable_interval(mentions, 5_000)
    assert alone == 300
    # 5,000 polls per 15 minutes on 450 requests: every profile waits about 2.8 hours.
    assert crowd == 10_000
    assert 5_000 * mentions.window_seconds / crowd <= mentions.requests


def test_window_start_is_fixed_per_window():
    limit = EndpointLimit("any", 300, 300)
    assert limit.window_start(1_000) == 900
    assert limit.window_start(1_199) == 900
    assert limit.window_start(1_200) == 1_200


def test_unknown_endpoint_and_bad_limits_are_config_errors():
    with pytest.raises(ConfigError):
        DEFAULT_BUDGETS["mastodon"].limit("mentions")
    with pytest.raises(ConfigError):
        EndpointLimit("any", 0, 300)


def test_default_credential_names_the_platform():
    assert default_credential("x") == "x:default"
