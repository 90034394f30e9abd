"""responsegap report: render a brand's weekly report locally, and optionally send it.

Without ``--send`` nothing leaves the machine: report.html, report.txt, report.eml,
report.csv and report.json are written to ``--out`` for preview. With ``--send`` the same
message goes out through SES, the week's snapshot is stored for next week's trend and, when
ARCHIVE_BUCKET is set, the files are archived in S3: what the weekly job does.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from responsegap.config import Settings
from responsegap.domain.model import ConfigError
from responsegap.domain.periods import iso, parse_instant, parse_iso_week, week_period
from responsegap.report import compose_weekly_report, week_figures_snapshot
from responsegap.report.compose import WeeklyReport
from responsegap.report.csv_export import to_csv
from responsegap.report.mime import AddressError, build_message, report_json
from responsegap.report.render import render_html, render_text, subject

PREVIEW_SENDER = "responsegap-preview@example.invalid"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="render (and optionally send) a brand's weekly response-gap report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--brand", required=True, help="brand id, as configured")
    parser.add_argument("--week", required=True, help="ISO week, like 2026-W47")
    parser.add_argument(
        "--as-of",
        help="ISO 8601 time the figures are taken at (default: now); replies after it are not counted",
    )
    parser.add_argument("--send", action="store_true", help="send through SES and store the week's snapshot")
    parser.add_argument("--out", default="out", help="directory for the preview files (default: out/)")
    parser.add_argument(
        "--stack",
        help="a deployed responsegap stack: its outputs give the table, bucket and sender "
        "(AWS credentials as usual); without it the environment (TABLE_NAME, ...) is used",
    )
    parser.add_argument("--region", help="AWS region of --stack (default: your AWS configuration)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, *, store: Any = None, mailer: Any = None, archive: Any = None) -> int:
    """``store``/``mailer``/``archive`` are for tests; by default they are built from the settings."""
    parse_iso_week(args.week)  # a bad week fails before any AWS call
    as_of = parse_instant(args.as_of) if args.as_of else int(time.time())
    if getattr(args, "stack", None):
        import boto3

        from responsegap.stack import stack_environment

        cloudformation = boto3.client("cloudformation", region_name=args.region)
        for variable, value in stack_environment(cloudformation, args.stack).items():
            os.environ.setdefault(variable, value)
    settings = Settings.from_env()
    if store is None:
        from responsegap.store.dynamo import PostStore

        store = PostStore(settings.table_name, retention_days=settings.retention_days)
    try:
        brand = store.get_brand(args.brand)
    except LookupError as error:
        raise ConfigError(
            f"unknown brand {args.brand!r}: configure it first (responsegap profiles)"
        ) from error
    if brand is None:
        raise ConfigError(f"unknown brand {args.brand!r}: configure it first (responsegap profiles)")
    starts = min(week_period(args.week, p.timezone).start for p in brand.profiles) if brand.profiles else None
    if starts is not None and as_of <= starts:
        raise ConfigError(f"week {args.week} has not started at {iso(as_of)}")

    report = compose_weekly_report(
        store, brand, args.week, as_of, poll_interval_seconds=settings.dispatch_interval_seconds
    )
    recipients = list(brand.recipients) or list(settings.leaders)
    sender = settings.sender or PREVIEW_SENDER
    try:
        message = build_message(report, sender, recipients or ["preview@example.invalid"])
    except AddressError as error:
        raise ConfigError(str(error)) from error

    files = _files(report, message.as_bytes())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    print(subject(report))
    print(f"wrote {', '.join(str(out / name) for name in files)}")

    if not args.send:
        return 0
    if not settings.sender:
        raise ConfigError("SENDER_EMAIL is not set: it is the verified SES identity reports come from")
    if not recipients:
        raise ConfigError(f"brand {brand.brand_id!r} has no recipients and LEADER_EMAILS is empty")
    if archive is None and settings.archive_bucket:
        from responsegap.report.archive import ReportArchive

        archive = ReportArchive(settings.archive_bucket)
    if archive is not None:
        keys = archive.put(brand.brand_id, args.week, files)
        print(f"archived {len(keys)} files in s3://{getattr(archive, 'bucket', '?')}/")
    store.put_snapshot(brand.brand_id, args.week, week_figures_snapshot(report))
    if mailer is None:
        from responsegap.report.mailer import SesMailer

        mailer = SesMailer()
    # The email goes last, as in the weekly job: nothing after it can fail.
    message_id = mailer.send(message, sender, recipients)
    print(f"sent to {len(recipients)} recipients, SES message id {message_id}")
    return 0


def _files(report: WeeklyReport, eml: bytes) -> dict[str, bytes]:
    return {
        "report.html": render_html(report).encode("utf-8"),
        "report.txt": render_text(report).encode("utf-8"),
        "report.eml": eml,
        "report.csv": to_csv(report),
        "report.json": report_json(report),
    }
