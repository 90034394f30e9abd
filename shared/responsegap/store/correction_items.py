"""How a brand's automation corrections are kept in the table: one partition per brand.

pk ``AUTOMATION#<brand_id>``; sk ``TEXT#<digest of the fingerprint>`` for a text (a
fingerprint can be longer than a sort key may be, so the key is its digest and the fingerprint
is kept as an attribute) or ``POST#<platform>#<post_id>`` for one post. Reading a brand's
corrections is then one Query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from responsegap.domain.corrections import Corrections

Item = dict[str, Any]
TEXT = "text"
POST = "post"
EXCERPT_CHARS = 280


@dataclass(frozen=True, slots=True)
class StoredCorrection:
    """One correction as stored. ``key`` is the fingerprint for a text, ``platform#post_id``
    for a post; ``excerpt`` is the text as the brand gave it (shortened), for listings."""

    brand_id: str
    kind: str
    key: str
    automated: bool
    excerpt: str
    marked_at: int


def correction_pk(brand_id: str) -> str:
    return f"AUTOMATION#{brand_id}"


def correction_sk(kind: str, key: str) -> str:
    if kind == TEXT:
        return "TEXT#" + hashlib.sha256(key.encode("utf-8")).hexdigest()
    if kind == POST:
        return "POST#" + key
    raise ValueError(f"unknown correction kind {kind!r}")


def post_key(platform: str, post_id: str) -> str:
    return f"{platform}#{post_id}"


def correction_to_item(correction: StoredCorrection) -> Item:
    return {
        "pk": {"S": correction_pk(correction.brand_id)},
        "sk": {"S": correction_sk(correction.kind, correction.key)},
        "kind": {"S": correction.kind},
        "key": {"S": correction.key},
        "verdict": {"S": "automated" if correction.automated else "human"},
        "excerpt": {"S": correction.excerpt[:EXCERPT_CHARS]},
        "marked_at": {"N": str(int(correction.marked_at))},
    }


def item_to_correction(item: Item) -> StoredCorrection:
    return StoredCorrection(
        brand_id=item["pk"]["S"].removeprefix("AUTOMATION#"),
        kind=item["kind"]["S"],
        key=item["key"]["S"],
        automated=item["verdict"]["S"] == "automated",
        excerpt=item.get("excerpt", {}).get("S", ""),
        marked_at=int(item["marked_at"]["N"]),
    )


def as_corrections(stored: Iterable[StoredCorrection]) -> Corrections:
    """The matching engine's form of one brand's stored corrections."""
    texts: dict[str, bool] = {}
    posts: dict[tuple[str, str], bool] = {}
    for correction in stored:
        if correction.kind == TEXT:
            texts[correction.key] = correction.automated
        elif correction.kind == POST:
            platform, _, post_id = correction.key.partition("#")
            posts[(platform, post_id)] = correction.automated
    return Corrections(texts, posts)
