"""``responsegap analyze``: the response-gap figures of an archive file, without an AWS account.

The file goes through the real store code: it is bulk-loaded into an embedded DynamoDB
(moto, in this process), each profile's posts are read back with the same Query the weekly
report uses, and the engine (``match`` + ``metrics.report``) runs on what came back.
``--store memory`` skips DynamoDB and hands the parsed posts to the engine directly: same
figures, for files too big for the embedded table (the 1M-post benchmark).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from responsegap.archive.twcs import ReadStats, TwcsIndex, brands_from_twcs, index_twcs, load_twcs, read_twcs
from responsegap.domain.matching import match
from responsegap.domain.metrics import report
from responsegap.domain.model import Brand, ConfigError, Post
from responsegap.domain.periods import Period, iso, parse_instant

FORMATS = ("twcs",)
STORES = ("dynamodb", "memory")
TABLE_NAME = "responsegap-analyze"
REGION = "us-east-1"
# Posts this long before --from are read too, so a follow-up inside the period still finds
# the brand post it replies to (as the weekly report does with its look-back).
CONTEXT_SECONDS = 7 * 86400


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
        "--store",
        default="dynamodb",
        help="dynamodb: embedded, through the real store code (default); memory: no store, for huge files",
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
    index = None
    if args.store == "memory":
        posts, brands = load_twcs(path, stats)
    else:
        # Two streaming passes: the first keeps only what routing to partitions needs.
        index = index_twcs(path)
        brands = brands_from_twcs(path, index)
        posts = list(read_twcs(path, stats))
    if not posts:
        raise ConfigError(
            f"{args.file}: no readable posts ({stats.rows} rows, skipped {dict(stats.skipped)})"
        )
    selected = _select(brands, args.profiles)

    as_of = as_of_arg if as_of_arg is not None else max(p.created_at for p in posts)
    start = start_arg if start_arg is not None else min(p.created_at for p in posts)
    end = end_arg if end_arg is not None else max(as_of + 1, start + 1)
    if start >= end:
        raise ConfigError(f"the period is empty: start {iso(start)} is not before end {iso(end)}")
    period = Period(start, end)
    window = (start - CONTEXT_SECONDS, max(end, as_of + 1))

    store_stats: dict[str, Any] | None = None
    if index is None:
        working: Iterable[Post] = [p for p in posts if window[0] <= p.created_at < window[1]]
    else:
        working, store_stats = _through_dynamodb(posts, brands, index, window)
    outcomes = match(working, brands, as_of)
    figures = report(outcomes, selected, period, as_of)

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
    print(f"{detail}; {elapsed:.1f} s", file=sys.stderr)
    return 0


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
    return "\n".join(lines)
