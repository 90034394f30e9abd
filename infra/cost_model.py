"""Monthly AWS cost of responsegap for N profiles polled every 5 minutes (us-east-1, on-demand).

    .venv/bin/python -m infra.cost_model                      # the table for 100, 1,000, 5,000
    .venv/bin/python -m infra.cost_model --profiles 250 --posts-per-profile-day 400
    .venv/bin/python -m infra.cost_model --measure            # re-measure the per-poll requests

Every usage constant below says where it comes from; each can be overridden with the flag of
the same name (``--poll-gb-seconds 0.5``...). Request counts per poll / dispatch / recheck were
measured with ``--measure``: the real ``pipeline.poll.poll_profile`` / ``recheck_profile`` /
``dispatch_due_profiles`` on moto, counting the DynamoDB calls the code makes (moto does not
bill, so units are computed from item sizes with DynamoDB's rules). Durations are NOT
measured on Lambda: they are estimates (see each constant) and the biggest uncertainty.

Prices: public list prices, us-east-1, as constants with the date they were looked up and the
page they come from. AWS's own pricing pages render prices client-side, so the numbers were
confirmed from the sources named in ``PRICES`` (third-party copies of the AWS pages dated 2025-26);
the ones marked ``confirmed=False`` could not be confirmed from any source found and are the
well-known list price, flagged in the table.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, fields
from typing import Any

from infra.platform_fees import DEFAULT_MIX, PlatformPlan, Traffic, plan_platforms

DAYS_PER_MONTH = 30.4375  # 365.25 / 12
LOOKED_UP = "2026-11-26"


@dataclass(frozen=True)
class Price:
    value: float
    unit: str
    source: str
    confirmed: bool = True


PRICES: dict[str, Price] = {
    "lambda_request": Price(
        0.20 / 1e6,
        "per request",
        "aws.amazon.com/lambda/pricing (via artillery prices.js, "
        "api-evangelist lambda-plans-pricing.yml read 2026-09-20)",
    ),
    "lambda_gb_s_arm": Price(
        0.0000133334,
        "per GB-second, arm64",
        "aws.amazon.com/lambda/pricing (artillery lib/platform/aws-lambda/prices.js: arm64 1333340e-10)",
    ),
    "sqs_fifo_request": Price(
        0.50 / 1e6,
        "per request (64 KB chunk), FIFO queue",
        "aws.amazon.com/sqs/pricing (list price)",
        False,
    ),
    "sqs_request": Price(
        0.40 / 1e6,
        "per request (64 KB chunk), standard queue",
        "aws.amazon.com/sqs/pricing (cloudburn.io 2026-03, factualminds 2026-06)",
    ),
    "ddb_wru": Price(
        0.625 / 1e6,
        "per write request unit, on-demand",
        "aws.amazon.com/dynamodb/pricing/on-demand (airbyte.com DynamoDB pricing; price cut of 2024-11)",
    ),
    "ddb_rru": Price(
        0.125 / 1e6,
        "per read request unit, on-demand",
        "aws.amazon.com/dynamodb/pricing/on-demand (airbyte.com; infratally.com still shows the "
        "pre-2024-11 $0.25)",
    ),
    "ddb_storage_gb": Price(
        0.25,
        "per GB-month (first 25 GB free, ignored here)",
        "aws.amazon.com/dynamodb/pricing (not confirmed from a dated source)",
        False,
    ),
    "ddb_pitr_gb": Price(
        0.20,
        "per GB-month, continuous backups",
        "aws.amazon.com/dynamodb/pricing (not confirmed from a dated source)",
        False,
    ),
    "s3_gb": Price(0.023, "per GB-month, Standard", "aws.amazon.com/s3/pricing (not confirmed)", False),
    "s3_put": Price(0.005 / 1000, "per PUT", "aws.amazon.com/s3/pricing (not confirmed)", False),
    "ses_email": Price(
        0.10 / 1000,
        "per email",
        "aws.amazon.com/ses/pricing (osmarks superuser Q&A: '$0.10 per thousand'; SES FAQ)",
    ),
    "ses_attachment_gb": Price(
        0.12, "per GB of attachments", "aws.amazon.com/ses/pricing (Q&A above: $0.44 for 3.70 GB)"
    ),
    "logs_ingest_gb": Price(
        0.50, "per GB ingested", "aws.amazon.com/cloudwatch/pricing (hivebook, c3x.dev 2026-06)"
    ),
    "logs_store_gb": Price(
        0.03, "per GB-month stored", "aws.amazon.com/cloudwatch/pricing (hivebook, c3x.dev)"
    ),
    "metric": Price(
        0.30, "per custom metric-month (first 10k)", "aws.amazon.com/cloudwatch/pricing (signoz.io 2026-02)"
    ),
    "alarm": Price(
        0.10, "per standard alarm-month", "aws.amazon.com/cloudwatch/pricing (not confirmed)", False
    ),
    "scheduler_invocation": Price(
        1.00 / 1e6,
        "per invocation after 14M free/month",
        "aws.amazon.com/eventbridge/pricing (cloudburn.io 2026-03)",
    ),
    "xray_trace": Price(
        5.00 / 1e6,
        "per trace recorded after 100k free/month",
        "aws.amazon.com/xray/pricing (not confirmed)",
        False,
    ),
}


@dataclass
class Usage:
    """Per-unit usage. Each field: value, then where it comes from."""

    poll_interval_minutes: float = 5  # template DispatchIntervalMinutes default
    recheck_interval_minutes: float = 30  # template RecheckIntervalMinutes default
    # The median brand of the real sample infra/data/twcs/twcs-random-5000.csv, scaled to the
    # full file's 2,811,774 tweets over 2017-10-01..12-03 (infra/platform_fees.py); mean 383.
    posts_per_profile_day: float = 185
    item_kb: float = (
        0.6  # measured: post items of tests/bench/synthetic.py are ~0.3-0.7 KB (report_from_store)
    )
    retention_days: float = 90  # template RetentionDays default
    # --- DynamoDB requests, measured with --measure on 2026-11-26 (moto, real pipeline code):
    #   poll, 20 new posts:          Query 1, GetItem 1, PutItem 21, UpdateItem 2
    #   poll, same 20 posts again:   Query 1, GetItem 1, PutItem 21, UpdateItem 22
    #   dispatch round, 1 due:       Query 1, UpdateItem 1
    #   recheck, 20 open, none new:  Query 3, GetItem 1 (+ the platform's reply lookups)
    poll_fixed_reads: float = 2  # Query BRAND# (get_brand) + GetItem STATE (strongly consistent)
    poll_fixed_writes: float = 3  # PutItem poll log + UpdateItem cursor + UpdateItem last_success_at
    poll_overlap_posts: float = 1.0  # assumption: posts a poll fetches again (cursor overlap, edits)
    overlap_wru_per_post: float = (
        2  # measured: failed conditional PutItem + conditional UpdateItem, 1 WRU each
    )
    open_fraction: float = (
        0.6  # share of new posts stored with open markers (customer posts): +1 GSI WRU each
    )
    dispatch_reads_per_profile: float = 0.05  # one Query of DIRECTORY per round; ~200 B per entry
    dispatch_writes_per_due: float = (
        1  # measured: mark_dispatched, one conditional UpdateItem per due profile
    )
    recheck_reads_per_profile: float = 4  # measured: 3 Query (brand, open_posts GSI, posts_between) + GetItem
    recheck_writes_per_profile: float = 1  # assumption: close_open of answered/expired posts, avg per recheck
    # --- Lambda durations: estimates, not measured on Lambda (moto runs say nothing about Lambda)
    poll_gb_seconds: float = 0.5 * 1.0  # 512 MB x ~1.0 s per profile (the platform HTTP call dominates)
    dispatch_gb_seconds: float = 0.5 * 0.5  # 512 MB x 0.5 s for up to 5,000 profiles
    recheck_gb_seconds: float = 0.5 * 0.8  # 512 MB x ~0.8 s per profile
    report_gb_seconds_per_brand: float = (
        1.0 * 10
    )  # 1,024 MB x 10 s (report_from_store: far less for normal brands)
    sqs_batch: float = 10  # template poll event source BatchSize: 10 messages per invocation
    profiles_per_brand: float = 3  # assumption
    log_kb_per_invocation: float = 2.0  # Powertools JSON logs: START/END/REPORT + ~3 structured lines
    metrics_count: float = 14  # pipeline/observability.py metric names, namespace responsegap, no dimensions
    alarms: float = 11  # the template's: 3 DLQs, 6 function errors, failing polls, failing alert target
    report_email_kb: float = (
        300  # measured: rendered email of a 20k-post week was 4.9 MB; typical brand ~300 KB
    )
    tracing: bool = True  # template Globals Tracing: Active -> one X-Ray trace per invocation
    # --- overdue-post alerts (docs/alerts.md): one FIFO job per successful poll of a brand with
    # alert targets; counted from the alert step's code paths (tests/bench/alert_latency.py):
    #   job dropped (poll stored nothing, nothing due yet): GetItem STATE (strongly consistent)
    #   run: GetItem + UpdateItem STATE, Query open_posts per profile, Query watches, UpdateItem
    #        STATE at the end, and while something is due GetItem poll state + Query posts
    alerting_fraction: float = 1.0  # assumption: share of profiles whose brand has alert targets
    alert_run_fraction: float = 0.4  # assumption: jobs that run (the demo's week: ~1/3 of jobs)
    alert_reads_per_run: float = 2 + 3 * 0.5 + 1  # GetItem x2 (1 RRU each), Queries (0.5), open items
    alert_writes_per_run: float = 2.5  # start + finish of the run; claims and marks of alerted posts
    alert_gb_seconds_per_job: float = 0.5 * 0.05  # estimate: 512 MB x 50 ms (runs ~0.1 s, drops ~0.02 s)
    alert_batch: float = 3  # estimate: jobs per invocation (FIFO, one brand's polls of a round together)


def monthly(profiles: int, u: Usage, polls_per_day: float | None = None) -> dict[str, tuple[float, str]]:
    """(USD, detail) per line item for one month. ``polls_per_day``: the polls the platforms'
    budgets allow (``infra.platform_fees``); None polls every profile every
    ``poll_interval_minutes`` (the unreachable "every 5 minutes" at scale)."""
    p = PRICES
    if polls_per_day is None:
        polls = profiles * DAYS_PER_MONTH * 24 * 60 / u.poll_interval_minutes
    else:
        polls = polls_per_day * DAYS_PER_MONTH
    dispatch_runs = DAYS_PER_MONTH * 24 * 60 / u.poll_interval_minutes
    rechecks = profiles * DAYS_PER_MONTH * 24 * 60 / u.recheck_interval_minutes
    recheck_runs = DAYS_PER_MONTH * 24 * 60 / u.recheck_interval_minutes
    brands = max(1, math.ceil(profiles / u.profiles_per_brand))
    reports = brands * DAYS_PER_MONTH / 7
    report_dispatch_runs = DAYS_PER_MONTH * 24

    poll_invocations = (polls + rechecks) / u.sqs_batch
    alert_jobs = polls * u.alerting_fraction
    alert_runs = alert_jobs * u.alert_run_fraction
    alert_invocations = alert_jobs / u.alert_batch
    invocations = (
        poll_invocations + dispatch_runs + recheck_runs + report_dispatch_runs + reports + alert_invocations
    )
    gb_s = (
        polls * u.poll_gb_seconds  # BatchProcessor handles a batch's messages one after another
        + rechecks * u.recheck_gb_seconds
        + dispatch_runs * u.dispatch_gb_seconds
        + recheck_runs * u.dispatch_gb_seconds
        + report_dispatch_runs * 0.5 * 0.3
        + reports * u.report_gb_seconds_per_brand
        + alert_jobs * u.alert_gb_seconds_per_job
    )
    # SQS: send (batched 10) + Lambda's receive (batches of 10) + delete (batched) per message, and
    # the event source mapping's empty long-polls: ~5 pollers x 3 receives/min per queue, two queues.
    messages = polls + rechecks + reports
    sqs_requests = messages / 10 * 3 + 2 * 5 * 3 * 60 * 24 * DAYS_PER_MONTH

    new_posts = profiles * u.posts_per_profile_day * DAYS_PER_MONTH
    item_wru = math.ceil(u.item_kb)
    wru = (
        new_posts * item_wru * (1 + u.open_fraction)  # put + open-marker GSI write
        + polls * (u.poll_fixed_writes + u.poll_overlap_posts * u.overlap_wru_per_post)
        + polls * u.dispatch_writes_per_due
        + rechecks * u.recheck_writes_per_profile
        + reports  # weekly snapshot
        + alert_runs * u.alert_writes_per_run
    )
    item_rru = 0.5 * u.item_kb / 4  # eventually consistent, Query reads are summed then rounded
    rru = (
        polls * u.poll_fixed_reads
        + dispatch_runs * max(0.5, profiles * u.dispatch_reads_per_profile)
        + rechecks * u.recheck_reads_per_profile
        + reports * u.profiles_per_brand * (u.posts_per_profile_day * 7 * item_rru + 1)
        + alert_jobs * 1  # the STATE GetItem every job makes
        + alert_runs * u.alert_reads_per_run
    )
    stored_gb = new_posts / DAYS_PER_MONTH * u.retention_days * u.item_kb * (1 + u.open_fraction * 0.3) / 1e6
    log_gb = invocations * u.log_kb_per_invocation / 1e6
    email_gb = reports * u.report_email_kb / 1e6
    # X-Ray's default sampling rule: the first request each second, then 5% (bursts after each
    # dispatch round make this an upper bound).
    seconds = DAYS_PER_MONTH * 86400
    traces = (min(invocations, seconds) + 0.05 * max(0.0, invocations - seconds)) if u.tracing else 0
    schedules = dispatch_runs + recheck_runs + report_dispatch_runs

    out = {
        "Lambda requests": (invocations * p["lambda_request"].value, f"{invocations:,.0f} invocations"),
        "Lambda compute (arm64)": (gb_s * p["lambda_gb_s_arm"].value, f"{gb_s:,.0f} GB-s"),
        "SQS": (sqs_requests * p["sqs_request"].value, f"{sqs_requests:,.0f} requests"),
        # Send one by one (a poll sends its own job), receive and delete in batches, idle long-polls.
        "SQS FIFO (alert jobs)": (
            (alert_jobs * (1 + 2 / u.alert_batch) + 5 * 3 * 60 * 24 * DAYS_PER_MONTH)
            * p["sqs_fifo_request"].value,
            f"{alert_jobs:,.0f} jobs, {alert_runs:,.0f} runs",
        ),
        "DynamoDB writes": (wru * p["ddb_wru"].value, f"{wru / 1e6:,.1f} M WRU"),
        "DynamoDB reads": (rru * p["ddb_rru"].value, f"{rru / 1e6:,.1f} M RRU"),
        "DynamoDB storage + PITR": (
            stored_gb * (p["ddb_storage_gb"].value + p["ddb_pitr_gb"].value),
            f"{stored_gb:,.1f} GB",
        ),
        "S3 (report archive)": (
            reports * 3 * p["s3_put"].value + reports * 12 * 0.4 / 1e3 * p["s3_gb"].value,
            f"{reports * 3:,.0f} PUTs",
        ),
        "SES": (
            reports * p["ses_email"].value + email_gb * p["ses_attachment_gb"].value,
            f"{reports:,.0f} emails",
        ),
        "CloudWatch Logs": (
            log_gb * (p["logs_ingest_gb"].value + p["logs_store_gb"].value),
            f"{log_gb:,.1f} GB",
        ),
        "CloudWatch metrics + alarms": (
            u.metrics_count * p["metric"].value + u.alarms * p["alarm"].value,
            f"{u.metrics_count:.0f} metrics, {u.alarms:.0f} alarms",
        ),
        "EventBridge Scheduler": (
            max(0.0, schedules - 14e6) * p["scheduler_invocation"].value,
            f"{schedules:,.0f} invocations (14M free)",
        ),
        "X-Ray traces": (max(0.0, traces - 1e5) * p["xray_trace"].value, f"{traces:,.0f} traces (100k free)"),
    }
    return out


# ------------------------------------------------------------------------ measuring requests
def measure() -> dict[str, Any]:  # pragma: no cover - a tool, run by hand
    """DynamoDB calls of one poll (new posts, then the same posts again), one dispatch, one recheck."""
    import os

    import boto3
    from moto import mock_aws

    from responsegap.connectors.base import PollResult
    from responsegap.domain.model import Brand, Post, Profile
    from responsegap.pipeline.dispatch import DispatchDeps, dispatch_due_profiles
    from responsegap.pipeline.events import ProfileJob, ScheduledRun
    from responsegap.pipeline.poll import PollDeps, poll_profile
    from responsegap.store.dynamo import PostStore
    from responsegap.store.schema import create_table

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "x"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)
    now = 1_793_000_000
    profile = Profile("acme", "x", "acme", account_id="1", timezone="Europe/London")
    brand = Brand("acme", "Acme", (profile,), timezone="Europe/London")
    posts = tuple(
        Post(
            "x",
            str(1000 + i),
            str(50 + i),
            f"c{i}",
            now - 600 + i,
            f"@acme order {i} still missing",
            mentions=("acme",),
        )
        for i in range(20)
    )

    class Counting:
        def __init__(self, client: Any) -> None:
            self.client, self.calls = client, {}

        def __getattr__(self, name: str) -> Any:
            attr = getattr(self.client, name)
            if not callable(attr) or name.startswith("_") or name in ("meta", "exceptions"):
                return attr

            def call(*args: Any, **kwargs: Any) -> Any:
                self.calls[name] = self.calls.get(name, 0) + 1
                return attr(*args, **kwargs)

            return call

    class Connector:
        platform = "x"

        def fetch(self, cursor: dict[str, str]) -> PollResult:
            return PollResult(posts, {"since": "1"})

        def fetch_replies(self, post: Post) -> PollResult:
            return PollResult(())

    class Queue:
        def send_all(self, messages: Any) -> list[int]:
            return []

        def send(self, *a: Any, **k: Any) -> None:
            return None

    out: dict[str, Any] = {}
    with mock_aws():
        raw = boto3.client("dynamodb", region_name="us-east-1")
        create_table(raw, "t")
        client = Counting(raw)
        store = PostStore("t", client, clock=lambda: now)
        store.put_brand(brand)
        deps = PollDeps(
            store=store, poll_queue=Queue(), connector_for=lambda p: Connector(), clock=lambda: now
        )
        job = ProfileJob(profile_key=profile.key, brand_id="acme", kind="poll")
        for label in ("poll with 20 new posts", "poll re-fetching the same 20 posts"):
            client.calls = {}
            poll_profile(job, deps, now)
            out[label] = dict(client.calls)
        client.calls = {}
        dispatch_due_profiles(
            ScheduledRun(job="dispatch", scheduled_time=now + 300),
            DispatchDeps(store=store, poll_queue=Queue()),
        )
        out["dispatch round, 1 profile"] = dict(client.calls)
        try:
            from responsegap.pipeline.recheck import recheck_profile

            client.calls = {}
            recheck_profile(
                ProfileJob(profile_key=profile.key, brand_id="acme", kind="recheck"), deps, now + 600
            )
            out["recheck, 20 open posts"] = dict(client.calls)
        except Exception as error:  # the platform reply lookup needs a real connector
            out["recheck, 20 open posts"] = f"not measured: {type(error).__name__}: {error}"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profiles", type=int, nargs="*", default=[100, 1000, 5000])
    parser.add_argument("--measure", action="store_true", help="count DynamoDB calls of the pipeline on moto")
    defaults = Usage()
    for f in fields(Usage):
        kind = type(getattr(defaults, f.name))
        if kind is bool:
            parser.add_argument(
                f"--{f.name.replace('_', '-')}", type=lambda s: s.lower() in ("1", "true", "yes")
            )
        else:
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=float)
    parser.add_argument(
        "--markdown", action="store_true", help="print the table as Markdown (for infra/cost.md)"
    )
    parser.add_argument(
        "--every-5-minutes",
        action="store_true",
        help="bill AWS for every profile polled every poll-interval-minutes, ignoring the platform budgets",
    )
    parser.add_argument("--platform-mix", help="shares per platform, e.g. x=0.5,youtube=0.5")
    parser.add_argument("--x-users-per-post", type=float, default=Traffic().x_users_per_post)
    parser.add_argument("--x-rereads-per-post", type=float, default=Traffic().x_rereads_per_post)
    args = parser.parse_args(argv)
    if args.measure:
        for label, calls in measure().items():
            print(f"{label}: {calls}")
        return 0
    overrides = {f.name: getattr(args, f.name) for f in fields(Usage) if getattr(args, f.name) is not None}
    usage = Usage(**{**{f.name: getattr(defaults, f.name) for f in fields(Usage)}, **overrides})
    traffic = Traffic(
        posts_per_profile_day=usage.posts_per_profile_day,
        x_users_per_post=args.x_users_per_post,
        x_rereads_per_post=args.x_rereads_per_post,
    )
    mix = parse_mix(args.platform_mix) if args.platform_mix else DEFAULT_MIX
    plans = {n: plan_platforms(n, traffic, mix) for n in args.profiles}
    results = {
        n: monthly(
            n, usage, None if args.every_5_minutes else sum(p.polls_per_day for p in plans[n].values())
        )
        for n in args.profiles
    }
    items = list(next(iter(results.values())))
    unconfirmed = {k for k, v in PRICES.items() if not v.confirmed}
    flag = {
        "DynamoDB storage + PITR": "ddb_storage_gb" in unconfirmed,
        "SQS FIFO (alert jobs)": "sqs_fifo_request" in unconfirmed,
        "S3 (report archive)": "s3_gb" in unconfirmed,
        "CloudWatch metrics + alarms": "alarm" in unconfirmed,
        "X-Ray traces": "xray_trace" in unconfirmed,
    }
    header = ["line item (USD / month)"] + [f"{n:,} profiles" for n in args.profiles]
    rows = []
    for item in items:
        name = item + (" (price not confirmed)" if flag.get(item) else "")
        rows.append([name] + [f"{results[n][item][0]:,.2f}" for n in args.profiles])
    aws = {n: sum(v for v, _ in results[n].values()) for n in args.profiles}
    fees = {n: sum(p.fee_per_month for p in plans[n].values()) for n in args.profiles}
    rows.append(["**AWS total**"] + [f"**{aws[n]:,.2f}**" for n in args.profiles])
    rows.append(["AWS per profile"] + [f"{aws[n] / n:,.3f}" for n in args.profiles])
    rows.append(
        ["X API pay-per-usage (post and user reads)"]
        + [f"{plans[n]['x'].fee_per_month if 'x' in plans[n] else 0.0:,.2f}" for n in args.profiles]
    )
    rows.append(
        ["YouTube, Mastodon, Bluesky, Reddit, Graph (free within quota)"] + ["0.00" for _ in args.profiles]
    )
    rows.append(["**total with platform fees**"] + [f"**{aws[n] + fees[n]:,.2f}**" for n in args.profiles])
    rows.append(["per profile"] + [f"{(aws[n] + fees[n]) / n:,.3f}" for n in args.profiles])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            print(
                "  ".join(
                    [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
                )
            )
        largest = args.profiles[-1]
        print(f"\nusage behind the {largest:,}-profile column:")
        for item, (_, detail) in results[largest].items():
            print(f"  {item}: {detail}")
        print(f"\nprices looked up {LOOKED_UP} (us-east-1):")
        for key, price in PRICES.items():
            print(
                f"  {key}: ${price.value:.10g} {price.unit} [{price.source}]"
                f"{'' if price.confirmed else ' NOT CONFIRMED'}"
            )
    print()
    print_plans(plans, markdown=args.markdown)
    return 0


def parse_mix(text: str) -> dict[str, float]:
    """``x=0.4,youtube=0.1,...`` -> shares per platform."""
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, _, share = part.partition("=")
        mix[name.strip()] = float(share)
    return mix


def print_plans(plans: dict[int, dict[str, PlatformPlan]], *, markdown: bool) -> None:
    """Per column and platform: the interval the budget allows instead of the wanted 5 min."""
    header = [
        "profiles",
        "platform",
        "profiles on it",
        "credentials",
        "achievable interval",
        "polls / day",
        "requests allowed / day",
        "fee / month",
        "note",
    ]
    rows = []
    for n, per_platform in plans.items():
        for plan in per_platform.values():
            rows.append(
                [
                    f"{n:,}",
                    plan.platform,
                    f"{plan.profiles:,}",
                    f"{plan.credentials:,}",
                    f"{plan.interval_seconds / 60:,.1f} min",
                    f"{plan.polls_per_day:,.0f}",
                    "-" if plan.requests_allowed_per_day is None else f"{plan.requests_allowed_per_day:,.0f}",
                    f"${plan.fee_per_month:,.2f}",
                    plan.note,
                ]
            )
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    raise SystemExit(main())
