"""The brands file: brands and their profiles as YAML, read into validated :class:`Brand` objects.

Profiles and brands are data, not code: ``responsegap profiles import brands.yaml`` writes
them to the table. Everything is checked before anything is written, and every error names
where it is (``brands[0].profiles[1].base_url: ...``). See infra/brands.example.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from responsegap.config import check_base_url
from responsegap.domain.alerts import (
    URL_KINDS,
    AlertTarget,
    BrandAlerts,
    ProfileAlertRules,
    parse_quiet,
)
from responsegap.domain.budget import Budget
from responsegap.domain.budget_overrides import check_budget_credentials, parse_budget_overrides
from responsegap.domain.model import (
    PLATFORMS,
    Brand,
    BusinessHours,
    ConfigError,
    Profile,
    check_timezone,
    normalise_handle,
)

MAX_FILE_BYTES = 1_000_000
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")

BRAND_FIELDS = {
    "id",
    "name",
    "timezone",
    "recipients",
    "bot_accounts",
    "automation_apps",
    "report",
    "profiles",
    "alerts",
    "agents",
}
PROFILE_FIELDS = {
    "platform",
    "handle",
    "account_id",
    "timezone",
    "business_hours",
    "sla_seconds",
    "base_url",
    "credentials",
    "poll_interval_seconds",
    "enabled",
    "alerts",
    "budget_credential",
}
REPORT_FIELDS = {"weekday", "hour"}
BRAND_ALERT_FIELDS = {"targets", "urgent_terms", "urgent_during_quiet"}
TARGET_FIELDS = {"name", "type", "url_parameter"}
PROFILE_ALERT_FIELDS = {"threshold_seconds", "out_of_hours_threshold_seconds", "quiet"}
MAX_URGENT_TERMS = 200


@dataclass(frozen=True, slots=True)
class BrandsFile:
    brands: tuple[Brand, ...]
    warnings: tuple[str, ...] = ()
    # The ``budgets:`` section: complete budgets by credential (domain/budget_overrides.py).
    budgets: Mapping[str, Budget] = field(default_factory=dict)


def load_brands_file(
    path: str | Path, *, credentials_path: str = "/responsegap/", allow_local_endpoints: bool = False
) -> BrandsFile:
    file = Path(path)
    try:
        size = file.stat().st_size
    except OSError as error:
        raise ConfigError(f"{file}: cannot read ({error.strerror})") from error
    if size > MAX_FILE_BYTES:
        raise ConfigError(f"{file}: {size} bytes is more than a brands file needs (limit {MAX_FILE_BYTES})")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{file}: not valid YAML: {error}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{file}: not UTF-8 text") from error
    return parse_brands(data, credentials_path=credentials_path, allow_local_endpoints=allow_local_endpoints)


def parse_brands(
    data: Any, *, credentials_path: str = "/responsegap/", allow_local_endpoints: bool = False
) -> BrandsFile:
    if not isinstance(data, Mapping) or not isinstance(data.get("brands"), list) or not data["brands"]:
        raise ConfigError("the brands file needs a top-level 'brands:' list with at least one brand")
    unknown = set(data) - {"brands", "budgets"}
    if unknown:
        raise ConfigError(f"unknown top-level keys {sorted(unknown)}: only 'brands' and 'budgets' are read")
    budgets = parse_budget_overrides(data.get("budgets"))
    warnings: list[str] = []
    brands: list[Brand] = []
    seen_brands: set[str] = set()
    seen_profiles: dict[str, str] = {}
    for index, raw in enumerate(data["brands"]):
        where = f"brands[{index}]"
        brand = _brand(raw, where, credentials_path, allow_local_endpoints, warnings)
        if brand.brand_id in seen_brands:
            raise ConfigError(f"{where}: brand id {brand.brand_id!r} appears twice")
        seen_brands.add(brand.brand_id)
        for profile in brand.profiles:
            owner = seen_profiles.setdefault(profile.key, brand.brand_id)
            if owner != brand.brand_id or sum(p.key == profile.key for p in brand.profiles) > 1:
                raise ConfigError(
                    f"{where}: profile {profile.key} is listed more than once (also in {owner!r})"
                )
        brands.append(brand)
    check_budget_credentials(brands, budgets)
    return BrandsFile(tuple(brands), tuple(warnings), budgets)


def _mapping(raw: Any, where: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping of fields, got {type(raw).__name__}")
    unknown = sorted(str(k) for k in set(raw) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown fields {unknown}; known fields are {sorted(allowed)}")
    return raw


def _text(raw: Mapping[str, Any], name: str, where: str, *, default: str | None = None) -> str:
    value = raw.get(name, default)
    if value is None:
        raise ConfigError(f"{where}.{name} is required")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"{where}.{name} must be text")
    text = str(value).strip()
    if not text or any(c in text for c in "\r\n\0"):
        raise ConfigError(f"{where}.{name} must be one line of text")
    return text


def _strings(raw: Mapping[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = raw.get(name) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}.{name} must be a list of text")
    return tuple(v.strip() for v in value)


def _int(raw: Mapping[str, Any], name: str, where: str, default: int) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}.{name} must be a whole number, not {value!r}")
    return value


def _brand(raw: Any, where: str, credentials_path: str, allow_local: bool, warnings: list[str]) -> Brand:
    fields = _mapping(raw, where, BRAND_FIELDS)
    brand_id = _text(fields, "id", where)
    where = f"{where} ({brand_id})"
    timezone = _text(fields, "timezone", where, default="UTC")
    _timezone(timezone, f"{where}.timezone")
    recipients = _strings(fields, "recipients", where)
    for address in recipients:
        if not _EMAIL.match(address):
            raise ConfigError(f"{where}.recipients: {address!r} is not an email address")
    if not recipients:
        warnings.append(f"{where}: no recipients; its weekly report is archived but not emailed")
    weekday, hour = _report_time(fields.get("report"), f"{where}.report")
    profiles_raw = fields.get("profiles") or []
    if not isinstance(profiles_raw, list):
        raise ConfigError(f"{where}.profiles must be a list")
    if not profiles_raw:
        warnings.append(f"{where}: no profiles; nothing will be polled")
    profiles = tuple(
        _profile(p, f"{where}.profiles[{i}]", brand_id, timezone, credentials_path, allow_local, warnings)
        for i, p in enumerate(profiles_raw)
    )
    alerts = _brand_alerts(fields.get("alerts"), profiles_raw, profiles, where, credentials_path, warnings)
    agents = fields.get("agents", True)
    if not isinstance(agents, bool):
        raise ConfigError(f"{where}.agents must be true or false")
    try:
        return Brand(
            brand_id=brand_id,
            name=_text(fields, "name", where, default=brand_id),
            profiles=profiles,
            timezone=timezone,
            recipients=recipients,
            bot_accounts=tuple(b.lower() for b in _strings(fields, "bot_accounts", where)),
            automation_apps=_strings(fields, "automation_apps", where),
            report_weekday=weekday,
            report_hour=hour,
            alerts=alerts,
            agents=agents,
        )
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None


def _brand_alerts(
    raw: Any,
    profiles_raw: list[Any],
    profiles: tuple[Profile, ...],
    where: str,
    credentials_path: str,
    warnings: list[str],
) -> BrandAlerts | None:
    """The brand's ``alerts:`` block and its profiles' ``alerts:`` rules (docs/alerts.md)."""
    rules: list[tuple[str, ProfileAlertRules]] = []
    for index, (profile_raw, profile) in enumerate(zip(profiles_raw, profiles, strict=True)):
        if isinstance(profile_raw, Mapping) and profile_raw.get("alerts") is not None:
            at = f"{where}.profiles[{index}] ({profile.platform}:{profile.handle}).alerts"
            rules.append((profile.key, _profile_alerts(profile_raw["alerts"], at)))
    if raw is None:
        if rules:
            warnings.append(f"{where}: profiles have alert rules but the brand has no alerts.targets")
            return BrandAlerts(profiles=tuple(rules))
        return None
    at = f"{where}.alerts"
    fields = _mapping(raw, at, BRAND_ALERT_FIELDS)
    targets_raw = fields.get("targets") or []
    if not isinstance(targets_raw, list):
        raise ConfigError(f"{at}.targets must be a list")
    if not targets_raw:
        warnings.append(f"{at}: no targets; overdue posts are not alerted")
    targets = tuple(
        _alert_target(t, f"{at}.targets[{i}]", credentials_path) for i, t in enumerate(targets_raw)
    )
    terms = _strings(fields, "urgent_terms", at)
    if len(terms) > MAX_URGENT_TERMS or any(len(t) > 100 for t in terms):
        raise ConfigError(f"{at}.urgent_terms: at most {MAX_URGENT_TERMS} terms of at most 100 characters")
    during_quiet = fields.get("urgent_during_quiet", True)
    if not isinstance(during_quiet, bool):
        raise ConfigError(f"{at}.urgent_during_quiet must be true or false")
    try:
        return BrandAlerts(
            targets=targets, urgent_terms=terms, urgent_during_quiet=during_quiet, profiles=tuple(rules)
        )
    except ConfigError as error:
        raise ConfigError(f"{at}: {error}") from None


def _alert_target(raw: Any, where: str, credentials_path: str) -> AlertTarget:
    fields = _mapping(raw, where, TARGET_FIELDS)
    kind = _text(fields, "type", where).lower()
    name = _text(fields, "name", where, default=kind)
    parameter = ""
    if kind in URL_KINDS:
        parameter = _text(fields, "url_parameter", where)
        prefix = f"{credentials_path}alerts/"
        if not parameter.startswith(prefix) or ".." in parameter:
            raise ConfigError(
                f"{where}.url_parameter: {parameter!r} must be an SSM SecureString under {prefix!r} "
                "(the only path the alert function may read); it holds the webhook URL, never the file"
            )
    elif "url_parameter" in fields:
        raise ConfigError(f"{where}: a {kind!r} target takes no url_parameter")
    try:
        return AlertTarget(name=name, kind=kind, url_parameter=parameter)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None


def _profile_alerts(raw: Any, where: str) -> ProfileAlertRules:
    fields = _mapping(raw, where, PROFILE_ALERT_FIELDS)
    values: dict[str, int | None] = {}
    for name in ("threshold_seconds", "out_of_hours_threshold_seconds"):
        value = fields.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 60):
            raise ConfigError(f"{where}.{name} must be a whole number of seconds, at least 60, not {value!r}")
        values[name] = value
    quiet = parse_quiet(fields["quiet"], f"{where}.quiet") if fields.get("quiet") is not None else None
    return ProfileAlertRules(
        threshold_seconds=values["threshold_seconds"],
        out_of_hours_threshold_seconds=values["out_of_hours_threshold_seconds"],
        quiet=quiet,
    )


def _report_time(raw: Any, where: str) -> tuple[int, int]:
    if raw is None:
        return 0, 7
    fields = _mapping(raw, where, REPORT_FIELDS)
    weekday_raw = fields.get("weekday", "monday")
    if isinstance(weekday_raw, str):
        names = [d for d in WEEKDAYS if d.startswith(weekday_raw.strip().lower())]
        if len(weekday_raw.strip()) < 3 or len(names) != 1:
            raise ConfigError(f"{where}.weekday: {weekday_raw!r} is not a weekday name like monday")
        weekday = WEEKDAYS.index(names[0])
    else:
        raise ConfigError(f"{where}.weekday must be a weekday name like monday")
    hour = _int(fields, "hour", where, 7)
    if not 0 <= hour <= 23:
        raise ConfigError(f"{where}.hour must be 0-23, not {hour}")
    return weekday, hour


def _timezone(name: str, where: str) -> None:
    try:
        check_timezone(name)
    except ConfigError:
        raise ConfigError(
            f"{where}: unknown timezone {name!r} (use an IANA name like Europe/Paris)"
        ) from None


def _profile(
    raw: Any,
    where: str,
    brand_id: str,
    brand_timezone: str,
    credentials_path: str,
    allow_local: bool,
    warnings: list[str],
) -> Profile:
    fields = _mapping(raw, where, PROFILE_FIELDS)
    platform = _text(fields, "platform", where).lower()
    if platform not in PLATFORMS:
        raise ConfigError(f"{where}.platform: unknown platform {platform!r}; known: {', '.join(PLATFORMS)}")
    handle = normalise_handle(_text(fields, "handle", where))
    where = f"{where} ({platform}:{handle})"
    timezone = _text(fields, "timezone", where, default=brand_timezone)
    _timezone(timezone, f"{where}.timezone")
    hours_raw = fields.get("business_hours")
    try:
        hours = BusinessHours.parse(hours_raw)
    except ConfigError as error:
        raise ConfigError(f"{where}.business_hours: {error}") from None
    if hours.is_empty:
        warnings.append(
            f"{where}: business_hours is empty (closed all week); business-hours response times will all be 0"
        )
    base_url = fields.get("base_url")
    if base_url is not None:
        if not isinstance(base_url, str):
            raise ConfigError(f"{where}.base_url must be text")
        base_url = check_base_url(base_url, allow_local=allow_local, what=f"{where}.base_url")
    credentials = fields.get("credentials")
    if credentials is not None:
        credentials = _text(fields, "credentials", where)
        if not (credentials.startswith("secret:") or credentials.startswith(credentials_path)):
            raise ConfigError(
                f"{where}.credentials: {credentials!r} must be an SSM parameter under {credentials_path!r} "
                "(the only path the poll function may read) or 'secret:<name>'"
            )
    enabled = fields.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}.enabled must be true or false")
    budget_credential = None
    if fields.get("budget_credential") is not None:
        budget_credential = _text(fields, "budget_credential", where)
    try:
        return Profile(
            brand_id=brand_id,
            platform=platform,
            handle=handle,
            account_id=str(fields.get("account_id") or "").strip(),
            timezone=timezone,
            business_hours=hours,
            sla_seconds=_int(fields, "sla_seconds", where, 3600),
            base_url=base_url,
            credentials=credentials,
            poll_interval_seconds=_int(fields, "poll_interval_seconds", where, 300),
            enabled=enabled,
            budget_credential=budget_credential,
        )
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None
