"""The brands file's ``budgets:`` section: per-credential changes to the default budgets (no I/O).

Limits change and plans differ (an X app on a higher tier, a Google project with more
quota), so every figure of a credential's budget can be set in the brands file::

    budgets:
      "x:default":                 # a credential: <platform>:<name>, or a token's SSM path
        limits:
          mentions: {requests: 900, window_seconds: 900}
        monthly_post_cap: 10000000
        price_per_post: 0.005
        price_per_user: 0.010
      "youtube:default":
        daily_quota: 50000          # the daily-window endpoint's limit (YouTube units)
      "/responsegap/mastodon/acme":
        platform: mastodon          # needed when the key does not start with <platform>:

What is not set keeps the platform's default; an endpoint not set keeps its default limit.
Every error names the bad key (``budgets.x:default.limits.mention: ...``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from responsegap.domain.budget import DAY, DEFAULT_BUDGETS, Budget, EndpointLimit, profile_credential
from responsegap.domain.model import ConfigError

CREDENTIAL_FIELDS = {
    "platform",
    "limits",
    "daily_quota",
    "monthly_post_cap",
    "price_per_post",
    "price_per_user",
}
LIMIT_FIELDS = {"requests", "window_seconds"}
MAX_CREDENTIALS = 10_000


def parse_budget_overrides(raw: Any, where: str = "budgets") -> dict[str, Budget]:
    """The budgets the section sets, by credential, each complete (defaults filled in)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping of credential to budget, got {type(raw).__name__}")
    if len(raw) > MAX_CREDENTIALS:
        raise ConfigError(f"{where}: more than {MAX_CREDENTIALS} credentials")
    budgets: dict[str, Budget] = {}
    for credential, fields in raw.items():
        if not isinstance(credential, str) or not credential.strip():
            raise ConfigError(f"{where}: {credential!r} is not a credential name")
        budgets[credential.strip()] = _credential_budget(credential.strip(), fields, f"{where}.{credential}")
    return budgets


def _credential_budget(credential: str, raw: Any, where: str) -> Budget:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping of fields, got {type(raw).__name__}")
    unknown = sorted(str(k) for k in set(raw) - CREDENTIAL_FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown fields {unknown}; known fields are {sorted(CREDENTIAL_FIELDS)}")
    platform = _platform(credential, raw.get("platform"), where)
    budget = DEFAULT_BUDGETS[platform]
    limits = {limit.endpoint: limit for limit in budget.limits}
    limits_raw = raw.get("limits")
    if limits_raw is not None:
        if not isinstance(limits_raw, Mapping):
            raise ConfigError(f"{where}.limits: expected a mapping of endpoint to limit")
        for endpoint, limit_raw in limits_raw.items():
            at = f"{where}.limits.{endpoint}"
            if endpoint not in limits:
                raise ConfigError(f"{at}: unknown endpoint; {platform} has {', '.join(sorted(limits))}")
            limits[endpoint] = _limit(str(endpoint), limit_raw, limits[endpoint], at)
    if "daily_quota" in raw:
        daily = [e for e, limit in limits.items() if limit.window_seconds == DAY]
        if not daily:
            raise ConfigError(
                f"{where}.daily_quota: {platform} has no daily quota (its windows are shorter); set limits"
            )
        quota = _whole(raw["daily_quota"], f"{where}.daily_quota")
        for endpoint in daily:
            limits[endpoint] = EndpointLimit(endpoint, quota, DAY)
    changes: dict[str, Any] = {"limits": tuple(limits.values())}
    if "monthly_post_cap" in raw:
        cap = raw["monthly_post_cap"]
        changes["monthly_post_cap"] = None if cap is None else _whole(cap, f"{where}.monthly_post_cap")
    for name in ("price_per_post", "price_per_user"):
        if name in raw:
            changes[name] = _price(raw[name], f"{where}.{name}")
    return replace(budget, **changes)


def _platform(credential: str, named: Any, where: str) -> str:
    prefix = credential.partition(":")[0].lower() if ":" in credential else ""
    if named is not None:
        if not isinstance(named, str) or named.lower() not in DEFAULT_BUDGETS:
            raise ConfigError(
                f"{where}.platform: {named!r} is not one of {', '.join(sorted(DEFAULT_BUDGETS))}"
            )
        return named.lower()
    if prefix in DEFAULT_BUDGETS:
        return prefix
    raise ConfigError(
        f"{where}: which platform? name the credential <platform>:<name> or add "
        f"platform: (one of {', '.join(sorted(DEFAULT_BUDGETS))})"
    )


def _limit(endpoint: str, raw: Any, default: EndpointLimit, where: str) -> EndpointLimit:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected {{requests: N, window_seconds: S}}")
    unknown = sorted(str(k) for k in set(raw) - LIMIT_FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown fields {unknown}; known fields are {sorted(LIMIT_FIELDS)}")
    requests = _whole(raw.get("requests", default.requests), f"{where}.requests")
    window = _whole(raw.get("window_seconds", default.window_seconds), f"{where}.window_seconds")
    return EndpointLimit(endpoint, requests, window)


def _whole(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where} must be a positive whole number, not {value!r}")
    return value


def _price(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 100:
        raise ConfigError(f"{where} must be a price in dollars (0 or more), not {value!r}")
    return float(value)


def budget_for(credential: str, platform: str, overrides: Mapping[str, Budget]) -> Budget | None:
    """The budget a credential spends: its override, else the platform's default (None when
    the platform has no modelled budget)."""
    budget = overrides.get(credential)
    if budget is not None and budget.platform == platform:
        return budget
    return DEFAULT_BUDGETS.get(platform)


def check_budget_credentials(brands: Any, overrides: Mapping[str, Budget]) -> None:
    """A profile may only spend a budget set for its own platform (``brands`` are Brands)."""

    for brand in brands:
        for profile in brand.profiles:
            credential = profile_credential(
                profile.platform, profile.handle, profile.budget_credential, profile.credentials
            )
            budget = overrides.get(credential)
            if budget is not None and budget.platform != profile.platform:
                raise ConfigError(
                    f"brand {brand.brand_id!r} profile {profile.key}: budget_credential {credential!r} "
                    f"is a {budget.platform} budget (budgets.{credential})"
                )
