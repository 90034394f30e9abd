"""Keyed hashing of customer identities before they are stored (optional, off by default).

With ``HANDLE_HASH_KEY_PARAMETER`` set, the poller reads a secret key from SSM Parameter
Store (a SecureString, through Powertools Parameters) and every post is pseudonymised
before it reaches the table:

- author id and handle of a post not written by the brand (any profile of the brand on that
  platform, or one of its bot accounts);
- ``in_reply_to_author_id`` when it is not a brand account;
- mentions that are not the brand's handles;
- ``@handle`` mentions of anyone but the brand inside the text (brand replies start with
  the customer's handle), and the customer's handle inside the post URL.

Values become ``h_`` + 24 hex digits of HMAC-SHA256(key, value): deterministic, so the same
customer is the same pseudonym in every post and matching (which compares author ids and
mentions) gives exactly the figures it gives on clear values; not reversible without the key.
Brand handles and ids stay clear, because matching needs to recognise the brand.

Limits (docs/security.md): post ids are kept, and a Bluesky post id (an ``at://`` URI)
carries its author's DID, an opaque public identifier; the text of a customer post is kept
apart from mentions. Rotating the key gives every customer a new pseudonym: only posts
stored after the rotation match each other, so rotate between reporting weeks.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace
from typing import Any

from responsegap.domain.model import Brand, ConfigError, Post

PREFIX = "h_"
DIGITS = 24  # 96 bits: no collisions among any realistic number of customers
MIN_KEY_BYTES = 32
_HASHED = re.compile(rf"{PREFIX}[0-9a-f]{{{DIGITS}}}")
# The mention pattern of responsegap.domain.model.mentions_in.
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?)")


class HandleHasher:
    """``hasher(value)`` -> ``h_<24 hex>``; already hashed values come back unchanged."""

    def __init__(self, key: bytes | str) -> None:
        raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        if len(raw) < MIN_KEY_BYTES:
            raise ConfigError(f"the handle hash key must be at least {MIN_KEY_BYTES} bytes")
        self._key = raw

    def __call__(self, value: str) -> str:
        if not value or _HASHED.fullmatch(value):
            return value
        digest = hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        return PREFIX + digest[:DIGITS]

    def __repr__(self) -> str:  # never the key
        return "HandleHasher(<key>)"


class Pseudonymiser:
    """Turns posts of one brand's partition into their stored, pseudonymous form."""

    def __init__(self, hasher: Callable[[str], str]) -> None:
        self.hasher = hasher

    def post(self, post: Post, brand: Brand | None, own_handle: str = "") -> Post:
        handles, ids = _brand_accounts(brand, post.platform, own_handle)
        by_brand = post.author_handle in handles or (bool(post.author_id) and post.author_id in ids)
        swaps: dict[str, str] = {}

        def handle(value: str) -> str:
            if not value or value.lower() in handles:
                return value
            hashed = self.hasher(value.lower())
            if hashed != value:
                swaps[value.lower()] = hashed
            return hashed

        author_id, author_handle = post.author_id, post.author_handle
        if not by_brand:
            author_id = self.hasher(post.author_id) if post.author_id else post.author_id
            author_handle = handle(post.author_handle)
        reply_author = post.in_reply_to_author_id
        if reply_author and reply_author not in ids and reply_author.lower() not in handles:
            reply_author = self.hasher(reply_author)
        mentions = tuple(handle(m) for m in post.mentions)
        text = _MENTION.sub(lambda m: "@" + handle(m.group(1)), post.text)
        url = post.url
        if url:
            for clear, hashed in sorted(swaps.items(), key=lambda kv: -len(kv[0])):
                url = re.sub(rf"(?i)(?<=[/@]){re.escape(clear)}(?=[/?#]|$)", hashed, url)
        return replace(
            post,
            author_id=author_id,
            author_handle=author_handle,
            in_reply_to_author_id=reply_author,
            mentions=tuple(dict.fromkeys(mentions)),
            text=text,
            url=url,
        )

    def posts(self, posts: Iterable[Post], brand: Brand | None, own_handle: str = "") -> list[Post]:
        return [self.post(p, brand, own_handle) for p in posts]


def _brand_accounts(brand: Brand | None, platform: str, own_handle: str) -> tuple[set[str], set[str]]:
    handles = {own_handle.lower()} if own_handle else set()
    ids: set[str] = set()
    if brand is not None:
        for profile in brand.profiles:
            if profile.platform == platform:
                handles.add(profile.handle.lower())
                if profile.account_id:
                    ids.add(profile.account_id)
        for bot in brand.bot_accounts:
            bot_platform, _, bot_handle = bot.partition(":")
            if bot_platform == platform:
                handles.add(bot_handle.lower().lstrip("@"))
    return handles, ids


class PseudonymisingStore:
    """A ``PostStore`` whose writes of posts go through a :class:`Pseudonymiser`.

    Everything else passes through. The brand of a partition is the one the pipeline just
    read with ``get_brand`` (it always resolves the profile before saving); otherwise it is
    looked up in the directory, and failing that only the profile's own handle stays clear.
    """

    _own = ("_store", "_pseudonymiser", "_brands")

    def __init__(self, store: Any, pseudonymiser: Pseudonymiser) -> None:
        object.__setattr__(self, "_store", store)
        object.__setattr__(self, "_pseudonymiser", pseudonymiser)
        object.__setattr__(self, "_brands", {})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._own:
            object.__setattr__(self, name, value)
        else:
            setattr(self._store, name, value)

    @property
    def inner(self) -> Any:
        return self._store

    def _remember(self, brand: Brand) -> Brand:
        for profile in brand.profiles:
            self._brands[profile.key] = brand
        return brand

    def get_brand(self, brand_id: str) -> Brand:
        brand = self._store.get_brand(brand_id)
        return self._remember(brand) if brand is not None else brand

    def list_brands(self) -> list[Brand]:
        return [self._remember(b) for b in self._store.list_brands()]

    def _brand_for(self, profile_key: str) -> Brand | None:
        if profile_key not in self._brands:
            for entry in self._store.directory():
                if entry.profile_key == profile_key:
                    with contextlib.suppress(LookupError):
                        self.get_brand(entry.brand_id)
                    break
        return self._brands.get(profile_key)

    def prepare(self, profile_key: str, posts: Iterable[Post]) -> list[Post]:
        """The posts as they will be stored (callers that keep posts in memory use these)."""
        own = profile_key.partition("#")[2]
        return self._pseudonymiser.posts(posts, self._brand_for(profile_key), own)

    def save_posts(self, profile_key: str, posts: Sequence[Post], open_post_ids: Collection[str] = ()) -> Any:
        return self._store.save_posts(profile_key, self.prepare(profile_key, posts), open_post_ids)

    def bulk_load(self, profile_key: str, posts: Iterable[Post], open_post_ids: Collection[str] = ()) -> int:
        return self._store.bulk_load(profile_key, self.prepare(profile_key, posts), open_post_ids)


def load_hasher(parameter: str, ssm: Any = None, max_age: int = 3600) -> HandleHasher:
    """The key from SSM (SecureString, decrypted) via Powertools Parameters; errors never quote it."""
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    provider = ssm if ssm is not None else SSMProvider()
    try:
        value = provider.get(parameter, decrypt=True, max_age=max_age)
    except GetParameterError:
        raise ConfigError(f"HANDLE_HASH_KEY_PARAMETER {parameter!r} could not be read") from None
    if not isinstance(value, str | bytes) or not value:
        raise ConfigError(f"HANDLE_HASH_KEY_PARAMETER {parameter!r} is empty")
    try:
        return HandleHasher(value)
    except ConfigError:
        raise ConfigError(
            f"HANDLE_HASH_KEY_PARAMETER {parameter!r} holds fewer than {MIN_KEY_BYTES} bytes"
        ) from None


def protect(store: Any, settings: Any, ssm: Any = None) -> Any:
    """``store`` as the pipeline should use it: pseudonymising when the key parameter is set.

    The one hook the pipeline needs (``pipeline.common.make_store``)::

        return protect(PostStore(...), settings)
    """
    parameter = getattr(settings, "handle_hash_key_parameter", "")
    if not parameter or isinstance(store, PseudonymisingStore):
        return store
    return PseudonymisingStore(store, Pseudonymiser(load_hasher(parameter, ssm)))
