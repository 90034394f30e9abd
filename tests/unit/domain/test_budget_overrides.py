import pytest

from responsegap.brands_file import parse_brands
from responsegap.domain.budget import DEFAULT_BUDGETS, profile_credential
from responsegap.domain.budget_overrides import budget_for, parse_budget_overrides
from responsegap.domain.model import ConfigError


def test_overrides_change_only_what_they_name():
    budgets = parse_budget_overrides(
        {
            "x:default": {"limits": {"mentions": {"requests": 900}}, "price_per_post": 0.004},
            "youtube:big": {"daily_quota": 50_000},
            "/responsegap/mastodon/acme": {
                "platform": "mastodon",
                "limits": {"any": {"window_seconds": 600}},
            },
        }
    )
    x = budgets["x:default"]
    assert x.limit("mentions").requests == 900 and x.limit("mentions").window_seconds == 900
    assert x.limit("search_recent") == DEFAULT_BUDGETS["x"].limit("search_recent")
    assert x.price_per_post == 0.004 and x.price_per_user == 0.010
    assert budgets["youtube:big"].limit("list").requests == 50_000
    assert budgets["/responsegap/mastodon/acme"].limits[0].window_seconds == 600
    assert budget_for("x:other", "x", budgets) is DEFAULT_BUDGETS["x"]


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ({"x:default": {"limit": {}}}, "budgets.x:default: unknown fields ['limit']"),
        (
            {"x:default": {"limits": {"mention": {"requests": 1}}}},
            "budgets.x:default.limits.mention: unknown endpoint",
        ),
        (
            {"x:default": {"limits": {"mentions": {"requests": 0}}}},
            "budgets.x:default.limits.mentions.requests",
        ),
        ({"x:default": {"daily_quota": 5}}, "budgets.x:default.daily_quota: x has no daily quota"),
        ({"acme": {"price_per_post": 1}}, "budgets.acme: which platform?"),
        ({"x:default": {"price_per_user": -1}}, "budgets.x:default.price_per_user"),
    ],
)
def test_bad_overrides_name_the_key(raw, names):
    with pytest.raises(ConfigError) as error:
        parse_budget_overrides(raw)
    assert names in str(error.value)


def test_brands_file_reads_budgets_and_each_profiles_credential():
    parsed = parse_brands(
        {
            "budgets": {"x:acme-app": {"limits": {"mentions": {"requests": 100}}}},
            "brands": [
                {
                    "id": "acme",
                    "recipients": ["a@example.com"],
                    "profiles": [
                        {"platform": "x", "handle": "acme", "budget_credential": "x:acme-app"},
                        {"platform": "x", "handle": "acmehelp"},
                        {"platform": "facebook", "handle": "acmepage"},
                    ],
                }
            ],
        }
    )
    first, second, page = parsed.brands[0].profiles
    assert profile_credential(first.platform, first.handle, first.budget_credential) == "x:acme-app"
    assert profile_credential(second.platform, second.handle) == "x:default"
    # Graph limits are per page: each page spends its own budget.
    assert profile_credential(page.platform, page.handle) == "facebook:acmepage"
    assert parsed.budgets["x:acme-app"].limit("mentions").requests == 100


def test_a_profile_cannot_spend_another_platforms_budget():
    with pytest.raises(ConfigError, match="is a x budget"):
        parse_brands(
            {
                "budgets": {"x:app": {}},
                "brands": [
                    {
                        "id": "b",
                        "profiles": [{"platform": "mastodon", "handle": "m", "budget_credential": "x:app"}],
                    }
                ],
            }
        )
