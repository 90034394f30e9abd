"""Post <-> DynamoDB item (low-level client format) and the key formats of the table.

Every ``Post`` field round-trips exactly, with one documented exception: text longer than
``TEXT_LIMIT_BYTES`` (UTF-8) is cut and ends with ``TRUNCATION_MARKER``, because an item
may not exceed 400 KB and one oversized post must never fail a whole batch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from responsegap.domain.model import Post

TEXT_LIMIT_BYTES = 32 * 1024
TRUNCATION_MARKER = "…[truncated]"

# Fields an edit may change; an update rewrites these and nothing else (open markers, status
# and expiry stay as they are).
CONTENT_FIELDS = (
    "author_handle",
    "text",
    "in_reply_to_id",
    "in_reply_to_author_id",
    "mentions",
    "application",
    "url",
    "conversation_id",
)
_OPTIONAL = ("in_reply_to_id", "in_reply_to_author_id", "application", "url", "conversation_id")

Item = dict[str, dict[str, Any]]


def profile_pk(profile_key: str) -> str:
    """``x#acme`` -> ``PROFILE#x#acme``."""
    platform, sep, handle = profile_key.partition("#")
    if not sep or not platform or not handle:
        raise ValueError(f"profile key {profile_key!r} is not 'platform#handle'")
    return f"PROFILE#{profile_key}"


def open_pk(profile_key: str) -> str:
    profile_pk(profile_key)
    return f"OPEN#{profile_key}"


def post_sk(created_at: int, post_id: str) -> str:
    return f"POST#{created_at:010d}#{post_id}"


def sk_lower(start: int) -> str:
    return f"POST#{max(start, 0):010d}"


def sk_upper_exclusive(end: int) -> str:
    """The last sort key of ``[.., end)``: '~' sorts after every character of a post id we store."""
    return f"POST#{max(end - 1, 0):010d}~"


def truncate_text(text: str, limit: int = TEXT_LIMIT_BYTES) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    room = limit - len(TRUNCATION_MARKER.encode("utf-8"))
    # errors="ignore" drops a multi-byte character cut in half at the boundary.
    return encoded[:room].decode("utf-8", errors="ignore") + TRUNCATION_MARKER


def body_hash(post: Post) -> str:
    content = [getattr(post, name) for name in CONTENT_FIELDS]
    digest = hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    return digest.hexdigest()[:32]


def version_rank(post: Post) -> str:
    """Which of two versions of a post is kept (METRICS rule 7: the larger of text, reply
    target, app, link), encoded so that DynamoDB's string order is the tuple order.

    A NUL inside a field is escaped to NUL+2 and fields are joined with NUL+1, so a field
    that is a prefix of the other's still sorts first, as in a tuple comparison.
    """
    parts = (post.text, post.in_reply_to_id or "", post.application or "", post.url or "")
    return "\x00\x01".join(p.replace("\x00", "\x00\x02") for p in parts)


def valid_text(value: str) -> str:
    """``value`` as text DynamoDB will take: a lone surrogate (an emoji cut in half by a
    platform, sent as a JSON escape) becomes U+FFFD instead of failing every write of the
    profile from then on."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value


def stored_form(post: Post) -> Post:
    """The post as it will be stored: valid UTF-8 everywhere, text cut to the limit."""
    fields = {
        name: valid_text(value)
        for name in (
            "post_id",
            "author_id",
            "author_handle",
            "text",
            "in_reply_to_id",
            "in_reply_to_author_id",
            "application",
            "url",
            "conversation_id",
        )
        if isinstance(value := getattr(post, name), str) and not value.isascii()
    }
    mentions = tuple(valid_text(m) for m in post.mentions)
    if mentions != post.mentions:
        fields["mentions"] = mentions
    text = truncate_text(fields.get("text", post.text))
    if text is not post.text:
        fields["text"] = text
    changed = {name: value for name, value in fields.items() if value is not getattr(post, name)}
    return dataclasses.replace(post, **changed) if changed else post


def content_values(post: Post) -> dict[str, dict[str, Any] | None]:
    """Attribute values of the content fields; ``None`` means 'absent' (REMOVE on update)."""
    values: dict[str, dict[str, Any] | None] = {
        "author_handle": {"S": post.author_handle},
        "text": {"S": post.text},
        "mentions": {"L": [{"S": m} for m in post.mentions]},
    }
    for name in _OPTIONAL:
        value = getattr(post, name)
        values[name] = None if value is None else {"S": value}
    return values


def post_to_item(
    profile_key: str,
    post: Post,
    *,
    expires_at: int,
    is_open: bool = False,
) -> Item:
    """The item of ``post`` in ``profile_key``'s partition; ``post`` must be in stored form."""
    sk = post_sk(post.created_at, post.post_id)
    item: Item = {
        "pk": {"S": profile_pk(profile_key)},
        "sk": {"S": sk},
        "platform": {"S": post.platform},
        "post_id": {"S": post.post_id},
        "author_id": {"S": post.author_id},
        "created_at": {"N": str(post.created_at)},
        "body_hash": {"S": body_hash(post)},
        "version_rank": {"S": version_rank(post)},
        "expires_at": {"N": str(expires_at)},
    }
    for name, value in content_values(post).items():
        if value is not None:
            item[name] = value
    if is_open:
        item["open_pk"] = {"S": open_pk(profile_key)}
        item["open_sk"] = {"S": sk}
        item["status"] = {"S": "open"}
    return item


def item_to_post(item: Item) -> Post:
    """One item back to its ``Post`` (for many items, :func:`items_to_posts` is cheaper)."""
    return next(items_to_posts((item,)))


# ``Post``'s fields in the order items_to_posts passes them; checked against the class so a
# change of the model cannot silently shift values into the wrong field.
_POST_FIELDS = (
    "platform",
    "post_id",
    "author_id",
    "author_handle",
    "created_at",
    "text",
    "in_reply_to_id",
    "in_reply_to_author_id",
    "mentions",
    "application",
    "url",
    "conversation_id",
)
_POSITIONAL = tuple(f.name for f in dataclasses.fields(Post)) == _POST_FIELDS

# Reads of many posts ask only for the attributes ``items_to_posts`` uses: the bookkeeping
# (keys, version rank, body hash, expiry, open markers) is about half of an item's bytes,
# and what is not sent is not parsed. Read units are the same (DynamoDB bills whole items).
POST_PROJECTION = ", ".join(f"#a{n}" for n in range(len(_POST_FIELDS)))
POST_PROJECTION_NAMES = {f"#a{n}": name for n, name in enumerate(_POST_FIELDS)}


def items_to_posts(items: Iterable[Item]) -> Iterator[Post]:
    """Decode items lazily, page by page as they arrive.

    Reading a week means millions of items, so this is written for speed and memory: one
    ``dict.get`` per attribute, no per-field helper calls, and values that repeat across
    posts (platform, authors, reply targets and their authors, apps, mention lists, template
    texts, the second a post was made) are shared objects instead of one copy per post. The
    table of shared values lives as long as the iteration.
    """
    shared: dict[Any, Any] = {}
    share = shared.setdefault
    new_post = Post if _POSITIONAL else _post_by_name
    for item in items:
        get = item.get
        value = get("text")
        text = share(value["S"], value["S"]) if value is not None else ""
        value = get("in_reply_to_id")
        # Usually the id of a post read just before: the same string object then.
        in_reply_to_id = share(value["S"], value["S"]) if value is not None else None
        value = get("in_reply_to_author_id")
        in_reply_to_author_id = share(value["S"], value["S"]) if value is not None else None
        value = get("mentions")
        if value is None or not value["L"]:
            mentions: tuple[str, ...] = ()
        else:
            names = tuple([m["S"] for m in value["L"]])
            mentions = share(names, names)
        value = get("application")
        application = share(value["S"], value["S"]) if value is not None else None
        value = get("url")
        url = value["S"] if value is not None else None
        value = get("conversation_id")
        conversation_id = share(value["S"], value["S"]) if value is not None else None
        platform = item["platform"]["S"]
        author_id = item["author_id"]["S"]
        author_handle = item["author_handle"]["S"]
        post_id = item["post_id"]["S"]
        created_at = int(item["created_at"]["N"])
        yield new_post(
            share(platform, platform),
            share(post_id, post_id),
            share(author_id, author_id),
            share(author_handle, author_handle),
            share(created_at, created_at),  # a busy week has several posts per second
            text,
            in_reply_to_id,
            in_reply_to_author_id,
            mentions,
            application,
            url,
            conversation_id,
        )


def _post_by_name(*values: Any) -> Post:
    return Post(**dict(zip(_POST_FIELDS, values, strict=True)))
