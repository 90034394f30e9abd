"""Streaming reader of the Kaggle "Customer Support on Twitter" CSV (format ``twcs``).

Columns: ``tweet_id, author_id, inbound, created_at, text, response_tweet_id,
in_response_to_tweet_id``, optionally after an unnamed index column (pandas exports).
The full file is ~3M rows, so everything here streams row by row through the csv module;
nothing holds the file. Rows that cannot be read are skipped and counted by reason, never
raised: one bad row must not stop a back-fill.
"""

from __future__ import annotations

import calendar
import csv
import io
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from responsegap.domain.model import Brand, ConfigError, Post, Profile, mentions_in

PLATFORM = "twcs"
COLUMNS = (
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
)
_MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
_INT_ID = re.compile(r"\d{1,30}(?:\.0*)?")
_TRUE = frozenset({"true", "1", "t", "yes"})
_FALSE = frozenset({"false", "0", "f", "no"})
_AUTHOR = re.compile(r"[A-Za-z0-9_]{1,64}")

# A quoted field left open by a broken file would otherwise swallow the rest of it; this
# bounds one field (tweets are < 1 KB, the csv default limit is 128 KB).
csv.field_size_limit(min(sys.maxsize, 1 << 20))


@dataclass(slots=True)
class ReadStats:
    """What a read found: data rows (header excluded), posts produced, rows skipped by reason."""

    rows: int = 0
    posts: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def parse_id(raw: str) -> str | None:
    """``848``, ``848.0`` or ``8.48e2`` -> ``"848"``; anything else -> None."""
    text = raw.strip()
    if _INT_ID.fullmatch(text):
        return str(int(text.split(".", 1)[0]))
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number != number.to_integral_value() or number < 0:
        return None
    return str(int(number))


def parse_created_at(raw: str) -> int | None:
    """``Tue Oct 31 22:10:47 +0000 2017`` -> epoch seconds; strptime is too slow for 3M rows."""
    parts = raw.split()
    if len(parts) != 6:
        return None
    _, month, day, clock, offset, year = parts
    try:
        hour, minute, second = (int(p) for p in clock.split(":"))
        offset_seconds = int(offset[1:3]) * 3600 + int(offset[3:5]) * 60
        if offset[0] == "-":
            offset_seconds = -offset_seconds
        elif offset[0] != "+" or len(offset) != 5:
            return None
        moment = (int(year), _MONTHS[month], int(day), hour, minute, second)
    except (ValueError, KeyError, IndexError):
        return None
    if not (1 <= moment[2] <= 31 and hour < 24 and minute < 60 and second < 61 and 1970 <= moment[0] < 3000):
        return None
    return calendar.timegm((*moment, 0, 0, 0)) - offset_seconds


def parse_inbound(raw: str) -> bool | None:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


@dataclass(frozen=True, slots=True)
class _Layout:
    index: dict[str, int]
    width: int


def _layout(header: list[str]) -> _Layout | None:
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    if not set(COLUMNS) <= set(names):
        return None
    return _Layout({name: names.index(name) for name in COLUMNS}, len(names))


def _open_text(source: str | os.PathLike[str] | IO[str] | IO[bytes]) -> tuple[IO[str], bool]:
    """A text stream with universal-newline splitting left to csv; True when we opened it."""
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise ConfigError(f"no such file: {path}")
        return open(path, encoding="utf-8-sig", errors="replace", newline=""), True
    if isinstance(source, io.TextIOBase):
        return source, False  # type: ignore[return-value]
    return io.TextIOWrapper(source, encoding="utf-8-sig", errors="replace", newline=""), False  # type: ignore[arg-type]


def _rows(stream: IO[str], stats: ReadStats) -> Iterator[list[str]]:
    reader = csv.reader(stream)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            # The reader resumes at the next line after an error (e.g. an oversized field).
            stats.rows += 1
            stats.skipped["csv_error"] += 1
            continue
        yield row


def read_twcs(
    source: str | os.PathLike[str] | IO[str] | IO[bytes], stats: ReadStats | None = None
) -> Iterator[Post]:
    """Posts of a twcs CSV, in file order. Pass ``stats`` to learn what was read and skipped.

    A bare ``\\r`` outside quotes ends a record early in the csv module (as it would in any
    reader): both halves then have the wrong number of fields and are skipped as
    ``broken_record``.
    """
    for tweet_id, author, _inbound, created_at, text, parent in _records(source, stats):
        yield Post(
            platform=PLATFORM,
            post_id=tweet_id,
            author_id=author,
            author_handle=author.lower(),
            created_at=created_at,
            text=text,
            in_reply_to_id=parent,
            mentions=mentions_in(text),
        )


_Record = tuple[str, str, bool, int, str, str | None]


def _records(
    source: str | os.PathLike[str] | IO[str] | IO[bytes], stats: ReadStats | None
) -> Iterator[_Record]:
    """Validated (tweet_id, author_id, inbound, created_at, text, parent_id) of every good row."""
    stats = stats if stats is not None else ReadStats()
    stream, owned = _open_text(source)
    try:
        rows = _rows(stream, stats)
        layout = None
        for header in rows:
            if not header or not any(cell.strip() for cell in header):
                continue
            layout = _layout(header)
            if layout is None:
                raise ConfigError(
                    f"not a twcs file: header {header[:8]!r} lacks the columns {', '.join(COLUMNS)}"
                )
            break
        if layout is None:
            return
        yield from _validated(rows, layout, stats)
    finally:
        if owned:
            stream.close()


def _validated(rows: Iterable[list[str]], layout: _Layout, stats: ReadStats) -> Iterator[_Record]:
    i = layout.index
    tweet_col, author_col, inbound_col = i["tweet_id"], i["author_id"], i["inbound"]
    created_col, text_col, parent_col = i["created_at"], i["text"], i["in_response_to_tweet_id"]
    skipped = stats.skipped
    for row in rows:
        if not row:
            continue  # blank line: not a record
        stats.rows += 1
        if len(row) != layout.width:
            skipped["broken_record"] += 1
            continue
        tweet_id = parse_id(row[tweet_col])
        if tweet_id is None:
            skipped["bad_tweet_id"] += 1
            continue
        author = row[author_col].strip()
        if not _AUTHOR.fullmatch(author):
            skipped["bad_author_id"] += 1
            continue
        inbound = parse_inbound(row[inbound_col])
        if inbound is None:
            skipped["bad_inbound"] += 1
            continue
        created_at = parse_created_at(row[created_col])
        if created_at is None:
            skipped["bad_created_at"] += 1
            continue
        parent_raw = row[parent_col].strip()
        parent = parse_id(parent_raw) if parent_raw else None
        if parent_raw and parent is None:
            skipped["bad_in_response_to_tweet_id"] += 1
            continue
        stats.posts += 1
        yield tweet_id, author, inbound, created_at, row[text_col], parent


# --------------------------------------------------------------------------- brands


def _compact_id(post_id: str) -> int | str:
    """Numeric ids as ints: a dict of a million int keys is a fraction of one of str keys."""
    return int(post_id) if post_id.isdigit() else post_id


@dataclass(slots=True)
class TwcsIndex:
    """What a first pass over the file keeps: brand handles and who each brand tweet replied to.

    ``brand_of`` maps a brand tweet id to its brand's (lower-case) handle. ``answered_by``
    maps a customer tweet id to the brand handles that replied to it or to a later tweet of
    the same thread (propagated up customer-only reply chains), so routing can put every
    tweet a brand's answer depends on into that brand's partition.
    """

    brands: dict[str, str] = field(default_factory=dict)  # lower handle -> author_id as written
    brand_of: dict[int | str, str] = field(default_factory=dict)
    answered_by: dict[int | str, frozenset[str] | str] = field(default_factory=dict)

    def routes(self, post: Post) -> set[str]:
        """Lower-case brand handles whose partitions ``post`` belongs to."""
        # A brand's own tweet may address another brand too; the engine judges it like any
        # customer post there, so it goes to every partition it could count in.
        out = {m for m in post.mentions if m in self.brands}
        if post.author_handle in self.brands:
            out.add(post.author_handle)
        if post.in_reply_to_id is not None:
            owner = self.brand_of.get(_compact_id(post.in_reply_to_id))
            if owner is not None:
                out.add(owner)
        answered = self.answered_by.get(_compact_id(post.post_id))
        if answered is not None:
            out.update((answered,) if isinstance(answered, str) else answered)
        return out


def index_twcs(source: str | os.PathLike[str], stats: ReadStats | None = None) -> TwcsIndex:
    """First streaming pass: brand handles, brand tweet owners, and brand answers up threads."""
    index = TwcsIndex()
    customer_parent: dict[int | str, int | str] = {}
    brand_replies: list[tuple[int | str, str]] = []
    for tweet_id, author, inbound, _created_at, _text, parent in _records(source, stats):
        key = _compact_id(tweet_id)
        if not inbound:
            handle = author.lower()
            index.brands.setdefault(handle, author)
            index.brand_of[key] = handle
            if parent is not None:
                brand_replies.append((_compact_id(parent), handle))
        elif parent is not None:
            customer_parent[key] = _compact_id(parent)
    for parent, handle in brand_replies:
        node: int | str | None = parent
        seen = 0
        while node is not None and node not in index.brand_of and seen < 10_000:
            seen += 1
            current = index.answered_by.get(node)
            if current is None:
                index.answered_by[node] = handle
            elif isinstance(current, str):
                if current == handle:
                    break
                index.answered_by[node] = frozenset((current, handle))
            elif handle in current:
                break
            else:
                index.answered_by[node] = current | {handle}
            node = customer_parent.get(node)
    return index


def brands_from_twcs(source: str | os.PathLike[str], index: TwcsIndex | None = None) -> list[Brand]:
    """One brand per author of non-inbound tweets: brand_id = the handle as written, one twcs profile."""
    index = index if index is not None else index_twcs(source)
    return _brands(index.brands)


def _brands(handles: dict[str, str]) -> list[Brand]:
    brands = []
    for handle, written in sorted(handles.items()):
        try:
            profile = Profile(brand_id=written, platform=PLATFORM, handle=handle, account_id=written)
            brands.append(Brand(brand_id=written, name=written, profiles=(profile,)))
        except ConfigError:
            continue  # _AUTHOR already limits handles to what Brand accepts; defensive only
    return brands


def load_twcs(
    source: str | os.PathLike[str], stats: ReadStats | None = None
) -> tuple[list[Post], list[Brand]]:
    """All posts and the brands, in one pass (for the engine, which needs the whole set anyway)."""
    posts: list[Post] = []
    brand_handles: dict[str, str] = {}
    for tweet_id, author, inbound, created_at, text, parent in _records(source, stats):
        handle = author.lower()
        if not inbound:
            brand_handles.setdefault(handle, author)
        posts.append(
            Post(
                platform=PLATFORM,
                post_id=tweet_id,
                author_id=author,
                author_handle=handle,
                created_at=created_at,
                text=text,
                in_reply_to_id=parent,
                mentions=mentions_in(text),
            )
        )
    return posts, _brands(brand_handles)
