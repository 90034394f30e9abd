"""``responsegap analyze``: the response-gap figures of an archive file, without an AWS account.

The file goes through the real store code: it is bulk-loaded into an embedded DynamoDB
(moto, in this process), each profile's posts are read back with the same Query the weekly
report uses, and the engine (``match`` + ``metrics.report``) runs on what came back.

``--store memory`` skips DynamoDB, for files too big for the embedded table (the 1M-post
benchmark), and never holds the whole file: two streaming passes index the threads and the
brands in each; a third writes every post of the period to a temporary partition file per
brand whose threads it is in (so a post naming two brands goes to both); then each brand's
partition is read back and judged on its own, keeping only that brand's outcomes. Memory is
about the largest brand's partition. Customer posts lose their text when read back (the
engine reads only brand replies' text) unless ``--csv`` asks for them; the figures are the same.

Only the period is read (up to ``--as-of``), as the weekly report reads only its week: whether
a reply is a follow-up is decided by the file's index (who wrote its parent), never by how far
back the posts were read. ``--csv`` writes one row per customer post of the period and brand,
with the weekly report's CSV columns and writer, streamed as the brands are judged.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from responsegap.archive.twcs import (
    PLATFORM,
    Interner,
    ReadStats,
    TwcsIndex,
    brands_from_twcs,
    index_twcs,
    read_twcs,
    records_twcs,
)
from responsegap.domain.matching import Outcome, match
from responsegap.domain.metrics import report
from responsegap.domain.model import Brand, ConfigError, Post
from responsegap.domain.periods import Period, iso, parse_instant

FORMATS = ("twcs",)
STORES = ("dynamodb", "memory")
TABLE_NAME = "responsegap-analyze"
REGION = "us-east-1"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="response-gap figures of an archive file (Customer Support on Twitter CSV)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", help="the archive file")
    parser.add_argument(
        "--format", default="twcs", help=f"archive format: {', '.join(FORMATS)} (default twcs)"
    )
    parser.add_argument("--from", dest="start", help="period start, ISO 8601 (default: the oldest post)")
    parser.add_argument(
        "--to", dest="end", help="period end, exclusive, ISO 8601 (default: just after --as-of)"
    )
    parser.add_argument(
        "--as-of", dest="as_of", help="count answers posted up to this time (default: the newest post)"
    )
    parser.add_argument("--profiles", help="only these brand handles, comma-separated (any letter case)")
    parser.add_argument("--json", dest="json_out", help="also write the JSON report to this file")
    parser.add_argument(
        "--csv",
        dest="csv_out",
        help="also write every customer post of the period to this CSV file (the weekly report's columns)",
    )
    parser.add_argument(
        "--store",
        default="dynamodb",
        help="dynamodb: embedded, through the real store code (default); memory: no store, for huge "
        "files: one brand at a time from temporary partition files, openers' text dropped "
        "(the figures do not use it)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    began = time.monotonic()
    if args.format not in FORMATS:
        raise ConfigError(f"unknown --format {args.format!r}; known: {', '.join(FORMATS)}")
    if args.store not in STORES:
        raise ConfigError(f"unknown --store {args.store!r}; known: {', '.join(STORES)}")
    path = Path(args.file)
    if not path.is_file():
        raise ConfigError(f"no such file: {args.file}")
    start_arg = _instant("--from", args.start)
    end_arg = _instant("--to", args.end)
    as_of_arg = _instant("--as-of", args.as_of)
    if start_arg is not None and end_arg is not None and start_arg >= end_arg:
        raise ConfigError(f"--from {args.start} is not before --to {args.end}")

    stats = ReadStats()
    # Two streaming passes: brands, threads, and which brands each thread concerns.
    index = index_twcs(path, stats)
    brands = brands_from_twcs(path, index)
    if index.first_created is None or index.last_created is None:
        raise ConfigError(
            f"{args.file}: no readable posts ({stats.rows} rows, skipped {dict(stats.skipped)})"
        )
    selected = _select(brands, args.profiles)

    as_of = as_of_arg if as_of_arg is not None else index.last_created
    start = start_arg if start_arg is not None else index.first_created
    end = end_arg if end_arg is not None else max(as_of + 1, start + 1)
    if start >= end:
        raise ConfigError(f"the period is empty: start {iso(start)} is not before end {iso(end)}")
    period = Period(start, end)
    window = (start, max(end, as_of + 1))

    store_stats: dict[str, Any] | None = None
    partition_stats: dict[str, int] | None = None
    with _csv_rows(args.csv_out, selected, period) as written:
        if args.store == "memory":
            with tempfile.TemporaryDirectory(prefix="responsegap-analyze-") as spill_dir:
                partitions = Partitions(Path(spill_dir), keep_customer_text=args.csv_out is not None)
                partition_path(path, index, brands, selected, window, partitions)
                del index  # pass 3 needs only the partition files
                outcomes = written(partitions.outcomes(brands, selected, as_of))
                figures = report(outcomes, selected, period, as_of)
                partition_stats = partitions.stats
        else:
            posts = list(read_twcs(path, index=index))
            working, store_stats = _through_dynamodb(posts, brands, index, window)
            del posts
            figures = report(written(match(working, brands, as_of)), selected, period, as_of)

    print(render(figures, path.name, stats, len(brands)))
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    elapsed = time.monotonic() - began
    detail = f"{stats.posts} posts read, {stats.skipped_total} rows skipped"
    if stats.skipped:
        detail += f" ({', '.join(f'{k} {v}' for k, v in sorted(stats.skipped.items()))})"
    if store_stats is not None:
        detail += (
            f"; store: {store_stats['writes']} writes, {store_stats['queries']} queries, "
            f"{store_stats['pages']} pages, {store_stats['items_read']} items read"
        )
    if partition_stats is not None:
        detail += (
            f"; partitions: {partition_stats['partitions']}, {partition_stats['written']} posts written, "
            f"largest {partition_stats['largest']} posts"
        )
    print(f"{detail}; {elapsed:.1f} s", file=sys.stderr)
    return 0


@contextlib.contextmanager
def _csv_rows(
    target: str | None, selected: Sequence[Brand], period: Period
) -> Iterator[Callable[[Iterable[Outcome]], Iterator[Outcome]]]:
    """A pass-through for the outcomes on their way to the figures that also writes each one
    of a selected brand in ``period`` to the CSV file ``target`` (nothing when it is None)."""
    if target is None:
        yield iter
        return
    from responsegap.report.csv_export import CsvWriter

    wanted = {b.brand_id for b in selected}
    with open(target, "wb") as out:
        writer = CsvWriter(out, selected)

        def written(outcomes: Iterable[Outcome]) -> Iterator[Outcome]:
            for outcome in outcomes:
                if outcome.brand_id in wanted and outcome.post.created_at in period:
                    writer.write(outcome)
                yield outcome

        yield written
        writer.close()


def _instant(option: str, text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ConfigError as error:
        raise ConfigError(f"{option}: {error}") from error


def _select(brands: Sequence[Brand], profiles: str | None) -> list[Brand]:
    if not profiles:
        return list(brands)
    wanted = [h.strip().lstrip("@").lower() for h in profiles.split(",") if h.strip()]
    by_handle = {p.handle: b for b in brands for p in b.profiles}
    unknown = [h for h in wanted if h not in by_handle]
    if unknown:
        raise ConfigError(f"--profiles: no brand with handle {', '.join(unknown)} in the file")
    keep = {by_handle[h].brand_id for h in wanted}
    return [b for b in brands if b.brand_id in keep]


# --------------------------------------------------------------------------- partitions


class Partitions:
    """Posts spilled to one file per brand: buffered in memory, appended in chunks of pickled
    tuples, so at most one file is open at any time and the buffers stay bounded."""

    def __init__(self, directory: Path, buffered: int = 1 << 15, *, keep_customer_text: bool = False) -> None:
        self.directory = directory
        self.keep_customer_text = keep_customer_text
        self.buffered = buffered
        self._buffers: dict[str, list[tuple]] = {}
        self._pending = 0
        self._files: dict[str, Path] = {}
        self.stats = {"partitions": 0, "written": 0, "largest": 0}

    def add(self, brand_id: str, record: tuple) -> None:
        buffer = self._buffers.get(brand_id)
        if buffer is None:
            buffer = self._buffers[brand_id] = []
        buffer.append(record)
        self._pending += 1
        if self._pending >= self.buffered:
            self.flush()

    def flush(self) -> None:
        for brand_id, buffer in self._buffers.items():
            if not buffer:
                continue
            file = self._files.get(brand_id)
            if file is None:
                file = self._files[brand_id] = self.directory / f"{len(self._files)}.pickle"
            with file.open("ab") as out:
                pickle.dump(buffer, out, protocol=pickle.HIGHEST_PROTOCOL)
            self.stats["written"] += len(buffer)
            buffer.clear()
        self._pending = 0

    def records(self, brand_id: str) -> Iterator[tuple]:
        file = self._files.get(brand_id)
        if file is None:
            return
        with file.open("rb") as source:
            while True:
                try:
                    chunk = pickle.load(source)  # noqa: S301 - our own file, in our private temp dir
                except EOFError:
                    return
                yield from chunk

    def posts(self, brand_id: str, brand_handles: frozenset[str]) -> list[Post]:
        """The partition as posts; customer openers without their text (unless an id repeats:
        the engine then picks a version by text, so the copies keep theirs)."""
        posts, repeated = self._posts(brand_id, brand_handles, frozenset())
        if repeated:
            posts, _ = self._posts(brand_id, brand_handles, frozenset(repeated))
        return posts

    def _posts(
        self, brand_id: str, brand_handles: frozenset[str], keep_text: frozenset[str]
    ) -> tuple[list[Post], set[str]]:
        intern = Interner(limit=1 << 30)  # one partition: keep everything it shares
        posts: list[Post] = []
        seen: set[str] = set()
        repeated: set[str] = set()
        mentions_of: dict[tuple[str, ...], tuple[str, ...]] = {}
        drop_text = not self.keep_customer_text
        for post_id, author, created_at, text, parent, parent_author, mentions in self.records(brand_id):
            author, handle = intern.author(author)
            if post_id in seen:
                repeated.add(post_id)
            seen.add(post_id)
            # A customer reply keeps its text: the outcome of an exchange reads its tone.
            if drop_text and parent is None and handle not in brand_handles and post_id not in keep_text:
                text = ""
            posts.append(
                Post(
                    platform=PLATFORM,
                    post_id=post_id,
                    author_id=author,
                    author_handle=handle,
                    created_at=created_at,
                    text=text,
                    in_reply_to_id=parent,
                    in_reply_to_author_id=parent_author,
                    mentions=mentions_of.setdefault(mentions, mentions),
                )
            )
        return posts, repeated

    def outcomes(self, brands: Sequence[Brand], selected: Sequence[Brand], as_of: int) -> Iterator[Outcome]:
        """Each selected brand judged in its own partition: only its outcomes, one brand at a time."""
        self.flush()
        handles = frozenset(p.handle for b in brands for p in b.profiles)
        for brand in selected:
            posts = self.posts(brand.brand_id, handles)
            self.stats["partitions"] += 1
            self.stats["largest"] = max(self.stats["largest"], len(posts))
            judged = match(posts, brands, as_of)
            del posts
            mine = [o for o in judged if o.brand_id == brand.brand_id]
            del judged
            yield from mine
            del mine


def partition_path(
    path: Path,
    index: TwcsIndex,
    brands: Sequence[Brand],
    selected: Sequence[Brand],
    window: tuple[int, int],
    partitions: Partitions,
) -> None:
    """Third pass: every post of the window into the partition of each selected brand of its thread."""
    brand_of = {p.handle: b.brand_id for b in brands for p in b.profiles}
    wanted = {p.handle for b in selected for p in b.profiles}
    every = wanted == set(brand_of)
    low, high = window
    intern = Interner()
    for tweet_id, author, _inbound, created_at, text, parent in records_twcs(path):
        if not low <= created_at < high:
            continue
        routes = index.routes_of(tweet_id)
        if not routes:
            continue
        record = (
            tweet_id,
            intern.author(author)[0],
            created_at,
            text,
            parent,
            index.brand_author(parent),
            intern.mentions(text),
        )
        for handle in routes:
            if every or handle in wanted:
                partitions.add(brand_of[handle], record)
    partitions.flush()


def _through_dynamodb(
    posts: Sequence[Post], brands: Sequence[Brand], index: TwcsIndex, window: tuple[int, int]
) -> tuple[list[Post], dict[str, Any]]:
    """Bulk-load into an embedded table, then read every profile back with one Query each."""
    import boto3

    try:
        from moto import mock_aws  # the "local" extra: only this command and the tests need it
    except ImportError as error:
        raise ConfigError(
            "--store dynamodb needs the embedded AWS: pip install 'responsegap[local]', or use --store memory"
        ) from error

    from responsegap.store.dynamo import PostStore
    from responsegap.store.schema import create_table

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", REGION),
    ):
        os.environ.setdefault(name, value)
    profile_of = {p.handle: p.key for b in brands for p in b.profiles}
    routed: dict[str, list[Post]] = {key: [] for key in profile_of.values()}
    for post in posts:
        for handle in index.routes(post):
            routed[profile_of[handle]].append(post)

    with mock_aws():
        # An explicit AWS endpoint: moto intercepts AWS hosts only, and AWS_ENDPOINT_URL
        # (if set for a real or local stack) must not send this load elsewhere.
        client = boto3.client(
            "dynamodb", region_name=REGION, endpoint_url=f"https://dynamodb.{REGION}.amazonaws.com"
        )
        create_table(client, TABLE_NAME)
        # Archive posts are years old: keep them far longer than the retention of live data.
        store = PostStore(TABLE_NAME, client, retention_days=3650, sleep=lambda _s: None)
        for key, chunk in routed.items():
            if chunk:
                store.bulk_load(key, chunk)
        read: list[Post] = []
        for key in routed:
            read.extend(store.posts_between(key, *window))
    return read, store.stats.as_dict()


# --------------------------------------------------------------------------- output


def duration(seconds: float | None) -> str:
    """``7800`` -> ``2h 10m``: two units, the way people say durations."""
    if seconds is None:
        return "-"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def render(figures: dict[str, Any], source: str, stats: ReadStats, brand_count: int) -> str:
    """A readable table: one line per profile."""
    period = figures["period"] or {"start": "-", "end": "-"}
    lines = [
        f"{source}: {stats.posts} posts, {brand_count} brands; "
        f"period {period['start']} to {period['end']} (as of {figures['as_of']})",
        "",
    ]
    header = (
        "brand",
        "openers",
        "answered",
        "rate",
        "1st median",
        "1st p90",
        "human median",
        "human p90",
        "in SLA",
        "follow-ups answered",
    )
    rows = [header]
    for row in figures["profiles"]:
        rate = row["response_rate"]
        rows.append(
            (
                row["brand"],
                str(row["openers"]),
                str(row["answered"]),
                "-" if rate is None else f"{rate * 100:.1f}%",
                duration(row["first_response_seconds"]["median"]),
                duration(row["first_response_seconds"]["p90"]),
                duration(row["first_human_response_seconds"]["median"]),
                duration(row["first_human_response_seconds"]["p90"]),
                str(row["answered_within_sla"]),
                f"{row['followups_answered']}/{row['followups']}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    lines += _exchange_lines(figures)
    return "\n".join(lines)


AGENTS_SHOWN = 5


def _exchange_lines(figures: dict[str, Any]) -> list[str]:
    """How each brand's answered openers ended, and its agents by first human responses
    (shown by their sign-off only; none for a brand with agent figures turned off)."""
    names = ("moved_private", "customer_positive", "customer_negative", "customer_waiting", "no_reply")
    rows = [("brand", *names)]
    agent_lines = []
    for row in figures["brands"]:
        rows.append((row["brand"], *(str(row["outcomes"][name]) for name in names)))
        agents = row.get("agents")
        if not agents:
            continue
        shown = [
            f"{a['agent']} {a['first_human_responses']} "
            f"({duration(a['first_human_response_seconds']['median'])}, {a['answered_within_sla']} in SLA)"
            for a in agents[:AGENTS_SHOWN]
            if a["first_human_responses"]
        ]
        more = len(agents) - AGENTS_SHOWN
        if shown:
            agent_lines.append(
                f"  {row['brand']}: " + ", ".join(shown) + (f", and {more} more" if more > 0 else "")
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["", "How answered openers ended:"]
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        lines.append("  " + "  ".join(cells).rstrip())
    if agent_lines:
        lines += ["", "Agents by first human responses (median wait, within SLA):", *agent_lines]
    return lines
