"""Settings: one typed model, read once from the environment and validated at start.

A bad value raises :class:`ConfigError` naming the variable, so a Lambda fails at cold
start with a message that says what to fix instead of failing later on a poll.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from responsegap.domain.model import PLATFORMS, ConfigError


@dataclass(frozen=True, slots=True)
class Settings:
    table_name: str
    poll_queue_url: str = ""
    report_queue_url: str = ""
    archive_bucket: str = ""
    sender: str = ""
    leaders: tuple[str, ...] = ()
    retention_days: int = 90
    reply_window_hours: int = 72
    credentials_path: str = "/responsegap/"
    handle_hash_key_parameter: str = ""
    platform_endpoints: Mapping[str, str] = field(default_factory=dict)
    allow_local_endpoints: bool = False
    dispatch_interval_seconds: int = 300
    alert_queue_url: str = ""
    alert_topic_arn: str = ""
    alert_claim_seconds: int = 300

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        table = env.get("TABLE_NAME", "").strip()
        if not table:
            raise ConfigError("TABLE_NAME is not set: it names the DynamoDB table of the stack")
        allow_local = _flag(env, "ALLOW_LOCAL_ENDPOINTS")
        endpoints = _endpoints(env.get("PLATFORM_ENDPOINTS", ""), allow_local)
        settings = cls(
            table_name=table,
            poll_queue_url=env.get("POLL_QUEUE_URL", ""),
            report_queue_url=env.get("REPORT_QUEUE_URL", ""),
            archive_bucket=env.get("ARCHIVE_BUCKET", ""),
            sender=_header_safe("SENDER_EMAIL", env.get("SENDER_EMAIL", "")),
            leaders=tuple(
                _header_safe("LEADER_EMAILS", a.strip())
                for a in env.get("LEADER_EMAILS", "").split(",")
                if a.strip()
            ),
            retention_days=_int(env, "RETENTION_DAYS", 90, low=1, high=3650),
            reply_window_hours=_int(env, "REPLY_WINDOW_HOURS", 72, low=1, high=24 * 60),
            credentials_path=env.get("CREDENTIALS_PATH", "/responsegap/"),
            handle_hash_key_parameter=env.get("HANDLE_HASH_KEY_PARAMETER", ""),
            platform_endpoints=endpoints,
            allow_local_endpoints=allow_local,
            dispatch_interval_seconds=_dispatch_interval(env),
            alert_queue_url=env.get("ALERT_QUEUE_URL", "").strip(),
            alert_topic_arn=env.get("ALERT_TOPIC_ARN", "").strip(),
            # Longer than the alert function's timeout: a live run's claim never lapses.
            alert_claim_seconds=_int(env, "ALERT_CLAIM_SECONDS", 300, low=30, high=3600),
        )
        if not settings.credentials_path.startswith("/") or not settings.credentials_path.endswith("/"):
            raise ConfigError("CREDENTIALS_PATH must start and end with '/', like /responsegap/")
        key_parameter = settings.handle_hash_key_parameter
        if key_parameter and not key_parameter.startswith(settings.credentials_path):
            # The poll function may read parameters under CREDENTIALS_PATH and nothing else.
            raise ConfigError(
                f"HANDLE_HASH_KEY_PARAMETER {key_parameter!r} must sit under CREDENTIALS_PATH "
                f"{settings.credentials_path!r}"
            )
        return settings


def _dispatch_interval(env: Mapping[str, str]) -> int:
    """The template gives minutes (the schedule's own unit); seconds remain for local runs."""
    if env.get("DISPATCH_INTERVAL_MINUTES", "").strip():
        return 60 * _int(env, "DISPATCH_INTERVAL_MINUTES", 5, low=1, high=1440)
    return _int(env, "DISPATCH_INTERVAL_SECONDS", 300, low=60, high=86400)


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "false").strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("", "0", "false", "no"):
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from error
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _header_safe(name: str, value: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise ConfigError(f"{name} contains a line break")
    return value.strip()


def _endpoints(raw: str, allow_local: bool) -> dict[str, str]:
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigError(f"PLATFORM_ENDPOINTS is not JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise ConfigError('PLATFORM_ENDPOINTS must be a JSON object like {"x": "https://..."}')
    out = {}
    for platform, url in parsed.items():
        if platform not in PLATFORMS:
            raise ConfigError(f"PLATFORM_ENDPOINTS names unknown platform {platform!r}")
        out[platform] = check_base_url(
            str(url), allow_local=allow_local, what=f"PLATFORM_ENDPOINTS[{platform}]"
        )
    return out


def check_base_url(url: str, *, allow_local: bool = False, what: str = "base_url") -> str:
    """An API base URL we may call: https to a public host (local http only when allowed)."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if not host:
        raise ConfigError(f"{what}: {url!r} has no host")
    if parts.username or parts.password:
        raise ConfigError(f"{what}: credentials do not belong in the URL")
    local = _is_private_host(host)
    if allow_local and local:
        if parts.scheme not in ("http", "https"):
            raise ConfigError(f"{what}: {url!r} must be http(s)")
        return url.strip().rstrip("/")
    if parts.scheme != "https":
        raise ConfigError(f"{what}: {url!r} must use https")
    if local:
        raise ConfigError(f"{what}: {host!r} is a private or loopback address")
    return url.strip().rstrip("/")


def _is_private_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        try:
            # The C resolver also takes 2852039166, 0xa9fea9fe, 127.1 and octal for IPv4:
            # classify what it would actually connect to.
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return host.lower().endswith((".internal", ".local"))
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )
