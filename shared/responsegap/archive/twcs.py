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
import dataclasses
import io
import os
import re
import sys
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from responsegap.domain.model import Brand, ConfigError, Post, Profile, mentions_in
from responsegap.domain.text import unescape_entities

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
    source: str | os.PathLike[str] | IO[str] | IO[bytes],
    stats: ReadStats | None = None,
    index: TwcsIndex | None = None,
) -> Iterator[Post]:
    """Posts of a twcs CSV, in file order. Pass ``stats`` to learn what was read and skipped.

    With the file's ``index`` (:func:`index_twcs`), a reply to a brand tweet anywhere in the
    file names that brand in ``in_reply_to_author_id``, as X's ``in_reply_to_user_id`` does:
    whether it is a follow-up then never depends on whether the parent was read too.

    A bare ``\\r`` outside quotes ends a record early in the csv module (as it would in any
    reader): both halves then have the wrong number of fields and are skipped as
    ``broken_record``.
    """
    intern = Interner()
    parent_author = index.brand_author if index is not None else _no_author
    for tweet_id, author, _inbound, created_at, text, parent in _records(source, stats):
        yield intern.post(tweet_id, author, created_at, text, parent, parent_author(parent))


def _no_author(_post_id: str | None) -> None:
    return None


class Interner:
    """Shares the strings and tuples that repeat from row to row, so a million posts do not
    hold a million copies of a few thousand authors and mention lists.

    The caches are bounded (cleared when full): an object seen again after a clear is a new
    copy, which costs memory, never correctness.
    """

    __slots__ = ("_authors", "_limit", "_mentions")

    def __init__(self, limit: int = 1 << 16) -> None:
        self._limit = limit
        self._authors: dict[str, tuple[str, str]] = {}
        self._mentions: dict[tuple[str, ...], tuple[str, ...]] = {}

    def post(
        self,
        tweet_id: str,
        author: str,
        created_at: int,
        text: str,
        parent: str | None,
        parent_author: str | None = None,
    ) -> Post:
        """One archive row as a post, with its repeated strings shared."""
        author, handle = self.author(author)
        return Post(
            platform=PLATFORM,
            post_id=tweet_id,
            author_id=author,
            author_handle=handle,
            created_at=created_at,
            text=text,
            in_reply_to_id=parent,
            in_reply_to_author_id=parent_author,
            mentions=self.mentions(text),
        )

    def author(self, author: str) -> tuple[str, str]:
        """(author id, lower-case handle): shared objects, the same object when they are equal."""
        found = self._authors.get(author)
        if found is None:
            if len(self._authors) >= self._limit:
                self._authors.clear()
            handle = author.lower()
            found = self._authors[author] = (author, author if handle == author else handle)
        return found

    def mentions(self, text: str) -> tuple[str, ...]:
        if "@" not in text:
            return ()
        mentions = mentions_in(text, PLATFORM)
        found = self._mentions.get(mentions)
        if found is None:
            if len(self._mentions) >= self._limit:
                self._mentions.clear()
            found = self._mentions[mentions] = mentions
        return found


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
        # METRICS.md "Text": the archive escapes as X does; undone once, here, where it is read.
        yield tweet_id, author, inbound, created_at, unescape_entities(row[text_col]), parent


# --------------------------------------------------------------------------- brands


def _compact_id(post_id: str) -> int | str:
    """Numeric ids as ints: a dict of a million int keys is a fraction of one of str keys."""
    return int(post_id) if post_id.isdigit() else post_id


_NO_ROUTES: frozenset[str] = frozenset()


@dataclass(slots=True)
class TwcsIndex:
    """What the first passes over the file keep: brand handles, threads, and their brands.

    A *thread* is a connected set of tweets under "replies to" (a reply to a tweet missing
    from the file still joins the others replying to it). ``routes`` puts a tweet into the
    partition of every brand that authored, or was @mentioned by, any tweet of its thread.
    A brand's partition is then closed under everything ``match`` looks at for that brand:
    its customers' posts and the parents they reply to, every reply of the brand with the
    whole chain above it, and so every post the brand's template count sees. So ``match``
    over one partition judges that partition's brand exactly as ``match`` over the file.

    ``first_created`` and ``last_created`` are the oldest and newest ``created_at`` read.
    """

    brands: dict[str, str] = field(default_factory=dict)  # lower handle -> author_id as written
    first_created: int | None = None
    last_created: int | None = None
    # union-find over tweet ids: id -> an id of the same thread (absent: the id is its root)
    up: dict[int | str, int | str] = field(default_factory=dict)
    # thread root -> handles of the brands in that thread (absent: none)
    tags: dict[int | str, frozenset[str]] = field(default_factory=dict)
    # every tweet written by a brand -> that brand's author id as written
    brand_tweets: BrandTweets = field(default_factory=lambda: BrandTweets())

    def brand_author(self, post_id: str | None) -> str | None:
        """The brand (author id as written) of tweet ``post_id`` when a brand wrote it, else None."""
        return None if post_id is None else self.brand_tweets.author(post_id)

    def thread(self, post_id: str) -> int | str:
        """The root id of the thread ``post_id`` belongs to."""
        return _find(self.up, _compact_id(post_id))

    def routes_of(self, post_id: str) -> frozenset[str]:
        """Lower-case brand handles whose partitions the tweet ``post_id`` belongs to."""
        return self.tags.get(_find(self.up, _compact_id(post_id)), _NO_ROUTES)

    def routes(self, post: Post) -> frozenset[str]:
        """Lower-case brand handles whose partitions ``post`` belongs to."""
        return self.routes_of(post.post_id)


class BrandTweets:
    """Which brand wrote which tweet, for every brand tweet of a file: what decides whether a
    reply is a follow-up when its parent lies outside the period read (METRICS.md "Things").

    A brand writes about half the tweets of the full archive (1.3M), so ids are kept as two
    sorted arrays (8 bytes and 2 bytes a tweet) rather than a dict (about 90 bytes a tweet);
    ids that are not 63-bit integers, which the archive never has, go to a dict.
    """

    __slots__ = ("_authors", "_brands", "_ids", "_of", "_other", "_sorted")

    def __init__(self) -> None:
        self._ids = array("q")
        self._brands = array("H")
        self._authors: list[str] = []
        self._of: dict[str, int] = {}
        self._other: dict[str, int] = {}
        self._sorted = True

    def add(self, post_id: str, author: str) -> None:
        brand = self._of.get(author)
        if brand is None:
            brand = self._of[author] = len(self._authors)
            self._authors.append(author)
        number = int(post_id) if post_id.isdigit() else -1
        if not 0 <= number < 1 << 63 or brand > 0xFFFF:
            self._other[post_id] = brand
            return
        if self._ids and number < self._ids[-1]:
            self._sorted = False
        self._ids.append(number)
        self._brands.append(brand)

    def author(self, post_id: str) -> str | None:
        if not self._sorted:
            self._sort()
        if post_id.isdigit():
            number = int(post_id)
            at = bisect_left(self._ids, number)
            if at < len(self._ids) and self._ids[at] == number:
                return self._authors[self._brands[at]]
        brand = self._other.get(post_id)
        return None if brand is None else self._authors[brand]

    def _sort(self) -> None:
        order = sorted(range(len(self._ids)), key=self._ids.__getitem__)
        self._ids = array("q", (self._ids[i] for i in order))
        self._brands = array("H", (self._brands[i] for i in order))
        self._sorted = True

    def __len__(self) -> int:
        return len(self._ids) + len(self._other)


def _find(up: dict[int | str, int | str], node: int | str) -> int | str:
    root = node
    while (nxt := up.get(root)) is not None:
        root = nxt
    while node != root:  # path compression: a second look-up is one step
        nxt = up[node]
        up[node] = root
        node = nxt
    return root


def index_twcs(source: str | os.PathLike[str], stats: ReadStats | None = None) -> TwcsIndex:
    """Two streaming passes: brands and threads first, then which brands each thread holds.

    Only ids (as ints) and a few shared frozensets are kept, never a post.
    """
    index = TwcsIndex()
    up = index.up
    first = last = None
    for tweet_id, author, inbound, created_at, _text, parent in _records(source, stats):
        if not inbound:
            index.brands.setdefault(author.lower(), author)
        if first is None or created_at < first:
            first = created_at
        if last is None or created_at > last:
            last = created_at
        if parent is not None:
            a, b = _find(up, _compact_id(tweet_id)), _find(up, _compact_id(parent))
            if a != b:
                up[a] = b
    index.first_created, index.last_created = first, last
    for node in up:  # every id straight to its root: one step from now on, shared root objects
        up[node] = _find(up, node)

    # The engine's brands are these handles (see _brands): a tweet is a brand's when its
    # author is that handle, inbound or not.
    handles = frozenset(p.handle for b in _brands(index.brands) for p in b.profiles)
    shared: dict[frozenset[str], frozenset[str]] = {}
    tags = index.tags
    brand_tweets = index.brand_tweets
    for tweet_id, author, _inbound, _created_at, text, _parent in _records(source, None):
        handle = author.lower()
        if handle in handles:
            brand_tweets.add(tweet_id, author)
            found = [handle]
        else:
            found = []
        if "@" in text:
            found.extend(m for m in mentions_in(text, PLATFORM) if m in handles)
        if not found:
            continue
        root = _find(up, _compact_id(tweet_id))
        old = tags.get(root)
        if old is not None and old.issuperset(found):
            continue
        new = frozenset(found) if old is None else old.union(found)
        tags[root] = shared.setdefault(new, new)
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


def records_twcs(
    source: str | os.PathLike[str] | IO[str] | IO[bytes], stats: ReadStats | None = None
) -> Iterator[_Record]:
    """``(tweet_id, author_id, inbound, created_at, text, parent_id)`` of every readable row:
    what ``read_twcs`` makes posts of, for callers that keep less than a post."""
    return _records(source, stats)


def load_twcs(
    source: str | os.PathLike[str], stats: ReadStats | None = None
) -> tuple[list[Post], list[Brand]]:
    """All posts and the brands, in one pass (for the engine, which needs the whole set anyway)."""
    posts: list[Post] = []
    brand_handles: dict[str, str] = {}
    intern = Interner()
    for tweet_id, author, inbound, created_at, text, parent in _records(source, stats):
        post = intern.post(tweet_id, author, created_at, text, parent)
        if not inbound:
            brand_handles.setdefault(post.author_handle, post.author_id)
        posts.append(post)
    # As read_twcs with the file's index: a reply to a brand tweet names that brand.
    brand_of = {p.post_id: p.author_id for p in posts if p.author_handle in brand_handles}
    for i, post in enumerate(posts):
        author = brand_of.get(post.in_reply_to_id) if post.in_reply_to_id is not None else None
        if author is not None:
            posts[i] = dataclasses.replace(post, in_reply_to_author_id=author)
    return posts, _brands(brand_handles)
