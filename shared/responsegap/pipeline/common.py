"""Pieces poll and recheck share: finding the profile of a job, building its connector,
and deciding which stored customer posts start out waiting for an answer."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from responsegap.config import Settings, check_base_url
from responsegap.connectors.base import Connector, CredentialsError
from responsegap.domain.matching import attribute
from responsegap.domain.model import Brand, BrandAccount, ConfigError, Post, Profile
from responsegap.pipeline.observability import logger
from responsegap.pipeline.ports import StorePort

ConnectorFactory = Callable[[Profile], Connector]


def require(value: str, variable: str) -> str:
    """A setting this function cannot run without: fail the cold start naming the variable."""
    if not value:
        raise ConfigError(f"{variable} is not set: the template gives it to this function")
    return value


def make_store(settings: Settings, dynamodb: Any = None) -> Any:
    """The stack's PostStore (imported here so the pipeline modules load without boto3 calls)."""
    import boto3

    from responsegap.privacy import protect
    from responsegap.store.dynamo import PostStore

    store = PostStore(
        settings.table_name, dynamodb or boto3.client("dynamodb"), retention_days=settings.retention_days
    )
    # With HANDLE_HASH_KEY_PARAMETER set, customer handles are stored only as keyed hashes.
    return protect(store, settings)


def resolve_profile(store: StorePort, brand_id: str, profile_key: str) -> tuple[Brand, Profile] | None:
    """The brand and profile a job names, or None when it was removed since dispatch."""
    try:
        brand = store.get_brand(brand_id)
    except LookupError:  # store.NotFound: removed since the job was sent
        brand = None
    if brand is None:
        logger.warning("brand no longer exists; job dropped", brand_id=brand_id, profile_key=profile_key)
        return None
    for profile in brand.profiles:
        if profile.key == profile_key:
            if not profile.enabled:
                logger.info("profile disabled; job dropped", profile_key=profile_key)
                return None
            return brand, profile
    logger.warning("profile no longer in brand; job dropped", brand_id=brand_id, profile_key=profile_key)
    return None


def open_post_ids(
    posts: Iterable[Post],
    brand: Brand,
    now: int,
    reply_window_seconds: int,
    others: Iterable[BrandAccount] = (),
) -> list[str]:
    """Customer posts of ``brand`` (METRICS.md "Things") recent enough to still be answered.

    Older ones are stored for the figures but never opened: the recheck would only expire them.
    Posts by ``others`` (every other brand's accounts) are never customer posts.
    """
    oldest = now - reply_window_seconds
    return sorted(
        {
            post.post_id
            for post, brand_id, _profile_key, _kind in attribute(posts, [brand], others)
            if brand_id == brand.brand_id and post.created_at >= oldest
        }
    )


class BrandAccountCache:
    """Every brand account in the directory, read at most once per ``max_age`` seconds.

    A poll needs them to tell brand posts from customer posts, but brands change rarely:
    one directory Query per container every few minutes instead of one per poll. A brand
    added meanwhile is known within ``max_age``; until then its posts may be opened, and the
    recheck closes them like any answered post.
    """

    def __init__(self, store: Any, max_age: float = 300, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._max_age = max_age
        self._clock = clock
        self._accounts: list[BrandAccount] | None = None
        self._read_at = 0.0

    def get(self) -> list[BrandAccount]:
        now = self._clock()
        if self._accounts is None or now - self._read_at >= self._max_age:
            self._accounts = list(self._store.brand_accounts())
            self._read_at = now
        return self._accounts


def connector_factory(settings: Settings, credentials: Any) -> ConnectorFactory:
    """Connectors for profiles, with credentials from SSM and the base URL checked again.

    The base URL was validated when the profile was imported; it is checked again here
    because the table, not the import, is what the poller trusts.
    """
    from responsegap.connectors import make_connector
    from responsegap.connectors.http import PlatformHttp

    def build(profile: Profile) -> Connector:
        base_url = profile.base_url or settings.platform_endpoints.get(profile.platform)
        if base_url:
            base_url = check_base_url(
                base_url, allow_local=settings.allow_local_endpoints, what=f"profile {profile.key} base_url"
            )
        try:
            secrets = credentials.get(profile)
        except CredentialsError:
            if profile.credentials:
                raise
            # No parameter named and none at the default path: a public API (Mastodon,
            # Bluesky) needs none; a platform that does will refuse and say so.
            secrets = {}
        return make_connector(profile, PlatformHttp(profile.key), secrets, base_url=base_url)

    return build
