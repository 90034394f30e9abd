"""Platform connectors. ``make_connector`` picks the one for a profile's platform."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from responsegap.domain.model import ConfigError, Profile

if TYPE_CHECKING:  # requests costs ~40 ms of cold start to the handlers that never call out
    from responsegap.connectors.base import Connector
    from responsegap.connectors.http import PlatformHttp

# platform -> "module:Class"; modules are imported only when a profile needs them, which
# keeps a poll Lambda's cold start to the one connector it runs.
REGISTRY: dict[str, str] = {
    "x": "responsegap.connectors.x:XConnector",
    "mastodon": "responsegap.connectors.mastodon:MastodonConnector",
    "bluesky": "responsegap.connectors.bluesky:BlueskyConnector",
    "facebook": "responsegap.connectors.facebook:FacebookConnector",
    "instagram": "responsegap.connectors.instagram:InstagramConnector",
    "youtube": "responsegap.connectors.youtube:YouTubeConnector",
    "reddit": "responsegap.connectors.reddit:RedditConnector",
}


def make_connector(
    profile: Profile,
    http: PlatformHttp,
    credentials: Mapping[str, str],
    base_url: str | None = None,
) -> Connector:
    """The connector for ``profile``; ``base_url`` overrides the platform's public API root."""
    target = REGISTRY.get(profile.platform)
    if target is None:
        raise ConfigError(f"profile {profile.key}: platform {profile.platform!r} has no connector")
    module_name, class_name = target.split(":")
    connector_class = getattr(importlib.import_module(module_name), class_name)
    return connector_class(profile, http, credentials, base_url=base_url)
