"""One digest: a brand's newly overdue posts and the earlier alerts a person has since answered.

Customer text enters a digest only through :func:`excerpt`: one line, no control, zero-width
or bidirectional-override characters, at most ``EXCERPT_CHARS`` long, and with every mention
sign defused (a WORD JOINER after ``@``, and after ``<`` where a chat would read a mention
tag), so no target can be made to ping anyone. Each renderer then escapes it for its format.
Links come from the platform (the post's URL) and are checked by :func:`safe_url`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from responsegap.report.format import oneline

EXCERPT_CHARS = 140
MAX_DETAILED = 20  # posts listed one by one; the rest are counted per profile
WORD_JOINER = "\u2060"
# Zero-width characters and bidirectional controls: they can hide or reorder text.
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_AT = re.compile(r"[@\uff20\ufe6b](?=\S)")  # @, fullwidth and small commercial at
_TAG = re.compile(r"<(?=\s*[!@#/a-zA-Z])")  # <!channel>, <@U123>, <#C1>, <at>, </at>, <b>


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    cleaned = oneline(_INVISIBLE.sub("", text or ""), limit)
    return _TAG.sub("<" + WORD_JOINER, _AT.sub(lambda m: m.group(0) + WORD_JOINER, cleaned))


def safe_url(url: str | None) -> str | None:
    """A post link fit for a message: http(s) with a host, no credentials, no whitespace or
    control characters, and the characters chat markup uses (``<>|()[]"'`` and spaces)
    percent-encoded. Anything else is dropped rather than linked."""
    if not url or len(url) > 2000 or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in url):
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        return None
    return quote(url, safe=":/?&=%#~+,;@!$*-._")


@dataclass(frozen=True, slots=True)
class DigestPost:
    profile_key: str
    platform: str
    handle: str
    post_id: str
    url: str | None
    created_at: int
    waited_seconds: int
    out_of_hours: bool
    excerpt: str
    urgent_term: str | None = None
    held: bool = False


@dataclass(frozen=True, slots=True)
class AnsweredNote:
    profile_key: str
    platform: str
    handle: str
    post_id: str
    url: str | None
    alerted_at: int
    answered_found_at: int


@dataclass(frozen=True, slots=True)
class Digest:
    brand_id: str
    brand_name: str
    timezone: str
    generated_at: int
    posts: tuple[DigestPost, ...] = ()
    answered: tuple[AnsweredNote, ...] = ()
    sample: bool = False  # `responsegap alerts test`: nothing real is alerted
    digest_id: str = ""

    @property
    def detailed(self) -> tuple[DigestPost, ...]:
        return self.posts[:MAX_DETAILED]

    @property
    def rest_by_profile(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for post in self.posts[MAX_DETAILED:]:
            counts[post.profile_key] = counts.get(post.profile_key, 0) + 1
        return counts

    @property
    def urgent(self) -> int:
        return sum(1 for p in self.posts if p.urgent_term)


@dataclass
class DeliveryOutcome:
    """What delivering one digest to one target did (never the URL, never customer text)."""

    target: str
    kind: str
    ok: bool
    attempts: int = 0
    detail: str = ""
    status: int | None = None
    payload_bytes: int = 0
    extra: dict[str, str] = field(default_factory=dict)
