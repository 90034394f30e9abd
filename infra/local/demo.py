"""``make demo``: the real pipeline, end to end, on this machine (no AWS account, no Docker, no internet).

What runs:

1. An embedded AWS (moto, in this process, on a loopback port) provisioned from template.yaml:
   the table, queues with their dead-letter queues, the archive bucket, the SES sender.
2. A local X API v2 and Mastodon server replaying the "Customer Support on Twitter" sample
   as if it were happening last week, on a simulated clock.
3. Brands and profiles stored with ``PostStore.put_brand``; platform tokens in SSM.
4. Rounds of the simulated clock: an EventBridge Scheduler event to ``dispatch``, the poll
   queue delivered in SQS batches to ``poll`` (whose connectors call the local platforms
   over HTTP with ``requests``), ``recheck`` now and then, and the hourly ``report_dispatch``.
   Monday 07:00 the weekly report is composed and emailed through SES.
5. The email is read back from the embedded SES and written to ``out/``; the figures are
   compared with ``responsegap analyze`` on the same file and week.
6. Overdue-post alerts: after each round's polls the alert queue is delivered to ``alert``;
   a loopback webhook receiver (started and stopped here) plays the brands' Slack, Teams and
   generic webhooks, and the SNS email digests are read back from the embedded AWS.
   ``out/alerts.jsonl`` lists every alerted post; ``out/alerts/`` keeps one payload of each kind.

Ctrl-C stops it cleanly: both servers are shut down and their ports released.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import io
import json
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from infra.local.clock import WEEK, SimClock, iso_week, iso_z, last_full_week, weeks_shift
from infra.local.embedded_aws import EmbeddedAws, embedded_aws
from infra.local.handlers import Functions
from infra.local.platform_server import PlatformServer, ServerConfig, World, build_world, platform_server
from infra.local.webhook_receiver import WebhookReceiver, webhook_receiver
from responsegap.commands.analyze import duration  # the demo's table is analyze's table

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "infra" / "data" / "twcs" / "twcs-head-public.csv"
SENDER = "reports@responsegap.local"
# (brand handle as in the archive, platform it is served on). Chosen among the brands busiest
# in the data's last full week; no conversation touches brands on both platforms, so every
# customer post reaches its brand (build_world counts the ones that would not).
BRANDS: tuple[tuple[str, str], ...] = (
    ("Uber_Support", "x"),
    ("AmericanAir", "x"),
    ("SpotifyCares", "mastodon"),
)
# More brands for `--more`: another on each platform (about a third more polls).
MORE_BRANDS: tuple[tuple[str, str], ...] = (("Ask_WellsFargo", "x"), ("AlaskaAir", "mastodon"))
QUICK_BRANDS: tuple[tuple[str, str], ...] = (("Uber_Support", "x"), ("SpotifyCares", "mastodon"))
# Alerting per brand: (chat target kind, profile alert rules). One of each chat kind; one brand
# with a separate out-of-hours threshold, one with a quiet period at night.
ALERT_SETUP: dict[str, tuple[str, dict[str, Any]]] = {
    "Uber_Support": ("slack", {"out_of_hours_threshold_seconds": 2 * 3600}),
    "AmericanAir": ("teams", {"quiet": {"daily": "01:00-06:00"}}),
    "SpotifyCares": ("webhook", {}),
    "Ask_WellsFargo": ("slack", {}),
    "AlaskaAir": ("webhook", {}),
}
URGENT_TERMS = ("lawsuit", "unsafe", "scam", "fraud", "stolen", "police")
ALERT_EMAIL = "on-call@responsegap.local"
# The fields of out/alerts.jsonl, in this order (issue 16).
ALERT_FIELDS = (
    "brand",
    "profile",
    "post_id",
    "url",
    "waited_seconds",
    "out_of_hours",
    "alerted_at",
    "answered_after_alert",
)
# Figures of a brand row that must agree between the demo's email and `responsegap analyze`.
IDENTITY_KEYS = ("brand", "name", "profiles", "platform", "profile", "timezone", "period", "completeness")


@dataclass
class DemoOptions:
    out: Path = Path("out")
    quick: bool = False
    more: bool = False
    data: Path = DATA
    poll_minutes: int = 60  # each profile's poll interval = one round of the simulated clock
    recheck_hours: int = 6
    rate_limit_every: int = 0  # every Nth platform request answers 429 (0: never)
    brands: tuple[tuple[str, str], ...] = ()
    now: int | None = None  # the real "now" the data is moved next to (tests pin it)

    def chosen_brands(self) -> tuple[tuple[str, str], ...]:
        return self.brands or (QUICK_BRANDS if self.quick else BRANDS + (MORE_BRANDS if self.more else ()))


@dataclass
class Tally:
    """What the pipeline did, observed at the store (the functions themselves are untouched)."""

    polls: int = 0
    posts_stored: int = 0
    brand_replies: set[str] = field(default_factory=set)  # ids of brand replies seen
    answered: int = 0
    expired: int = 0
    rate_limited: int = 0
    failed_records: int = 0
    alert_runs: int = 0


@dataclass
class DemoResult:
    week: str
    as_of: int
    shift: int
    rounds: int
    tally: Tally
    files: dict[str, Path]
    demo_figures: dict[str, dict[str, Any]]  # brand -> brand row of the emailed JSON
    analyze_figures: dict[str, dict[str, Any]]  # brand -> brand row of `responsegap analyze`
    differences: list[tuple[str, str, Any, Any]] = field(default_factory=list)
    emails: int = 0
    seconds: float = 0.0
    alerts: dict[str, Any] = field(default_factory=dict)

    @property
    def figures_match(self) -> bool:
        return not self.differences and set(self.demo_figures) == set(self.analyze_figures)


# ------------------------------------------------------------------------------ run


def run(options: DemoOptions, echo: Callable[[str], None] = print) -> DemoResult:
    began = time.monotonic()
    brands = options.chosen_brands()
    out = options.out
    out.mkdir(parents=True, exist_ok=True)

    from responsegap.archive.twcs import read_twcs

    moments = [p.created_at for p in read_twcs(options.data)]
    # A stray 2011 post would make "the data" span six years: the week is found among posts
    # of the final 90 days.
    recent = [m for m in moments if m >= max(moments) - 90 * 86400]
    data_week = last_full_week(recent)
    shift = weeks_shift(data_week, int(options.now if options.now is not None else time.time()))
    week_start = data_week + shift
    # Reports go out Monday 07:00 (the brands' report hour): that is the as-of time.
    as_of = week_start + WEEK + 7 * 3600
    week = iso_week(week_start)
    world = build_world(options.data, dict(brands), shift)
    echo(
        f"responsegap demo: {len(brands)} brands, week {week} (the archive's {iso_week(data_week)} moved "
        f"{shift // WEEK} weeks to last week), report as of {iso_z(as_of)}"
    )
    clock = SimClock(week_start)
    tokens = {
        f"local-mastodon-token-{h.lower()}": world.brand_account("mastodon", h).id
        for h, p in brands
        if p == "mastodon"
    }
    config = ServerConfig(
        mastodon_tokens=tokens, rate_limit_every=options.rate_limit_every, retry_after_seconds=1
    )

    with contextlib.ExitStack() as stack:
        server = stack.enter_context(platform_server(world, clock, config))
        receiver = stack.enter_context(webhook_receiver())
        aws = stack.enter_context(
            embedded_aws(
                sender=SENDER,
                # A quiet local run: warnings and errors only, written to out/pipeline.log.
                # Alert jobs are not held back: the simulated round is over when they are read.
                parameters={
                    "LogLevel": "WARNING",
                    "LeaderEmails": "",
                    "AlertEmail": ALERT_EMAIL,
                    "AlertDelaySeconds": "0",
                },
                extra_env={
                    "PLATFORM_ENDPOINTS": json.dumps(server.endpoints),
                    "ALLOW_LOCAL_ENDPOINTS": "true",
                },
            )
        )
        queues = len(aws.resource_of_type("AWS::SQS::Queue"))
        echo(f"  embedded AWS   {aws.endpoint}  (table, {queues} queues, bucket, SES)")
        echo(f"  X API v2       {server.endpoints['x']}")
        echo(f"  Mastodon       {server.endpoints['mastodon']}")
        echo(f"  chat webhooks  {receiver.url('')}  (Slack, Teams and JSON receiver, loopback)")
        log = stack.enter_context((out / "pipeline.log").open("w", encoding="utf-8"))
        _register(aws, world, brands, tokens, config, options.poll_minutes * 60, receiver)
        functions = Functions(aws, clock, log_stream=log)
        tally = _observe(functions)
        rounds = _simulate(functions, server, clock, week_start, as_of, options, tally, echo)
        emails = aws.sent_emails()
        requests_served = server.stats.requests
        echo(f"  {len(emails)} report emails sent through SES")
        alerts = _alerts(aws, receiver, [h for h, _ in brands], out, echo)
        files, demo_figures = _write_reports(emails, out, [h for h, _ in brands], week)
    # Both servers are stopped here. analyze runs after them on purpose: its embedded
    # DynamoDB is moto's in-process mock, which resets moto's state.

    analyze_figures, analyze_text = run_analyze(
        options.data, data_week, data_week + WEEK, as_of - shift, [h for h, _ in brands]
    )
    (out / "analyze.txt").write_text(analyze_text, encoding="utf-8")
    differences = compare(demo_figures, analyze_figures)
    # What was compared, for tests and for anyone re-running analyze by hand.
    (out / "demo.json").write_text(
        json.dumps(
            {
                "week": week,
                "as_of": iso_z(as_of),
                "archive_week": iso_week(data_week),
                "archive_period": {"start": iso_z(data_week), "end": iso_z(data_week + WEEK)},
                "archive_as_of": iso_z(as_of - shift),
                "shift_seconds": shift,
                "brands": {handle: platform for handle, platform in brands},
                "demo": demo_figures,
                "analyze": analyze_figures,
                "differences": [list(d) for d in differences],
                "figures_match": not differences and set(demo_figures) == set(analyze_figures),
                "pipeline": {
                    "rounds": rounds,
                    "polls_ok": tally.polls,
                    "polls_rate_limited": tally.rate_limited,
                    "posts_stored": tally.posts_stored,
                    "brand_replies_seen": len(tally.brand_replies),
                    "open_posts_answered": tally.answered,
                    "open_posts_expired": tally.expired,
                    "failed_records": tally.failed_records,
                    "platform_requests": requests_served,
                    "emails": len(emails),
                    "alert_runs": tally.alert_runs,
                },
                "alerts": alerts,
            },
            indent=2,
            default=str,
        )
        + "\n",
        encoding="utf-8",
    )
    return DemoResult(
        week=week,
        as_of=as_of,
        shift=shift,
        rounds=rounds,
        tally=tally,
        files=files,
        demo_figures=demo_figures,
        analyze_figures=analyze_figures,
        differences=differences,
        emails=len(emails),
        seconds=time.monotonic() - began,
        alerts=alerts,
    )


def _register(
    aws: EmbeddedAws,
    world: World,
    brands: Sequence[tuple[str, str]],
    tokens: dict[str, str],
    config: ServerConfig,
    interval: int,
    receiver: WebhookReceiver,
) -> None:
    """Brands and profiles in the table, through the store's own API; tokens as SecureStrings.

    Each brand alerts to the stack's SNS topic (email) and to one chat webhook on the local
    receiver, whose URL is a SecureString under ``{CREDENTIALS_PATH}alerts/`` as in a deploy.
    """
    from responsegap.domain.alerts import AlertTarget, BrandAlerts, ProfileAlertRules, parse_quiet
    from responsegap.domain.model import Brand, Profile
    from responsegap.store.dynamo import PostStore

    store = PostStore(aws.environment["TABLE_NAME"], aws.client("dynamodb"))
    by_account = {account: token for token, account in tokens.items()}
    path = aws.environment.get("CREDENTIALS_PATH", "/responsegap/")
    for handle, platform in brands:
        account = world.brand_account(platform, handle)
        # Profiles use UTC and the default business hours, as `responsegap analyze` gives the
        # archive's brands: the two paths then measure exactly the same thing.
        profile = Profile(
            brand_id=handle,
            platform=platform,
            handle=handle.lower(),
            account_id=account.id,
            timezone="UTC",
            poll_interval_seconds=interval,
        )
        kind, rules = ALERT_SETUP.get(handle, ("webhook", {}))
        url_parameter = f"{path}alerts/{handle.lower()}/{kind}"
        aws.put_secure_parameter(url_parameter, receiver.url(f"{kind}/{handle.lower()}"))
        quiet = rules.get("quiet")
        alerts = BrandAlerts(
            targets=(
                AlertTarget("on-call-email", "sns"),
                AlertTarget(f"on-call-{kind}", kind, url_parameter),
            ),
            urgent_terms=URGENT_TERMS,
            profiles=(
                (
                    profile.key,
                    ProfileAlertRules(
                        out_of_hours_threshold_seconds=rules.get("out_of_hours_threshold_seconds"),
                        quiet=parse_quiet(quiet) if quiet else None,
                    ),
                ),
            ),
        )
        brand = Brand(
            brand_id=handle,
            name=handle.replace("_", " "),
            profiles=(profile,),
            timezone="UTC",
            recipients=(f"care-lead@{handle.lower().replace('_', '-')}.example",),
            report_weekday=0,
            report_hour=7,
            alerts=alerts,
        )
        store.put_brand(brand)
        secret = (
            {"bearer_token": config.x_bearer_token}
            if platform == "x"
            else {"access_token": by_account[account.id]}
        )
        aws.put_secure_parameter(f"{path}{platform}/{profile.handle}", secret)


def _observe(functions: Functions) -> Tally:
    """Count what the poll function stores and closes, by wrapping its store's methods."""
    tally = Tally()
    module = functions.modules.get("poll")
    store = getattr(getattr(module, "DEPS", None), "store", None)
    if store is None:
        return tally
    save_posts, close_open, record_poll = store.save_posts, store.close_open, store.record_poll

    def counted_save(profile_key: str, posts: Sequence[Any], open_post_ids: Any = ()) -> Any:
        result = save_posts(profile_key, posts, open_post_ids=open_post_ids)
        tally.posts_stored += result.new
        own = profile_key.partition("#")[2]
        tally.brand_replies.update(p.post_id for p in posts if p.author_handle == own and p.in_reply_to_id)
        return result

    def counted_close(profile_key: str, post: Any, status: str) -> bool:
        closed = close_open(profile_key, post, status)
        if closed and status == "answered":
            tally.answered += 1
        elif closed:
            tally.expired += 1
        return closed

    def counted_poll(
        profile_key: str, started_at: int, outcome: str, posts: int = 0, detail: str = ""
    ) -> None:
        tally.polls += outcome == "ok"
        tally.rate_limited += outcome == "rate_limited"
        record_poll(profile_key, started_at, outcome, posts=posts, detail=detail)

    store.save_posts, store.close_open, store.record_poll = counted_save, counted_close, counted_poll
    return tally


def _simulate(
    functions: Functions,
    server: PlatformServer,
    clock: SimClock,
    start: int,
    as_of: int,
    options: DemoOptions,
    tally: Tally,
    echo: Callable[[str], None],
) -> int:
    """Scheduled rounds from Monday 00:00 to the report on the next Monday 07:00."""
    step = options.poll_minutes * 60
    # Rounds every poll interval from Monday 00:00, and always one at the report time.
    moments = [*range(start, as_of, step), as_of]
    interactive = sys.stdout.isatty()
    round_no = 0
    for round_no, moment in enumerate(moments, start=1):
        clock.set(moment)
        functions.run_scheduled("DispatchFunction", moment)
        tally.failed_records += functions.drain("PollFunction").failed
        if functions.pending("PollFunction")["delayed"]:
            # A rate-limited poll was re-sent with DelaySeconds (one simulated second, but
            # SQS counts real ones): wait for it, so the retry lands in this round as it
            # would in production, instead of hours of simulated time later.
            _settle(functions, clock, patience=5.0)
        # After the round's polls: the alert jobs they sent (one FIFO group per brand).
        alerted = functions.drain("AlertFunction")
        tally.alert_runs += alerted.records
        tally.failed_records += alerted.failed
        since_start = moment - start
        if options.recheck_hours and since_start and since_start % (options.recheck_hours * 3600) < step:
            functions.run_scheduled("RecheckFunction", moment)
            tally.failed_records += functions.drain("PollFunction").failed
            alerted = functions.drain("AlertFunction")  # posts a recheck found may be overdue
            tally.alert_runs += alerted.records
            tally.failed_records += alerted.failed
        if moment == as_of:
            _settle(functions, clock)
        if moment == as_of:
            # The report dispatcher is hourly in the template; the demo runs it at the
            # report time only. Earlier runs would find nothing to do but the Monday 07:00
            # at the start, which would report the week before the brands were registered.
            functions.run_scheduled("ReportDispatchFunction", moment)
            functions.drain("ReportFunction")
        line = (
            f"  round {round_no:>3}/{len(moments)}  {time.strftime('%a %d %b %H:%M', time.gmtime(moment))}  "
            f"polls {tally.polls:>4}  posts stored {tally.posts_stored:>5}  "
            f"brand replies {len(tally.brand_replies):>4}  matched by recheck {tally.answered:>4}  "
            f"rate-limited {tally.rate_limited}"
        )
        if interactive:
            print("\r" + line, end="", flush=True)
        elif round_no % 24 == 1 or moment == as_of:
            echo(line)
    if interactive:
        print()
    return round_no


def _settle(functions: Functions, clock: SimClock, patience: float = 15.0) -> None:
    """Deliver poll messages that a rate limit re-sent with ``DelaySeconds``.

    SQS counts the delay in real seconds while the platform asked for simulated ones: the
    simulated clock moves on with the real time spent waiting, so the retried poll finds
    the platform's reset time passed, as it would in production.
    """
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        functions.drain("PollFunction")
        pending = functions.pending("PollFunction")
        if not pending["visible"] and not pending["delayed"]:
            return
        time.sleep(0.5)
        clock.advance(1)


# ------------------------------------------------------------------------------ alerts


def _alerts(
    aws: EmbeddedAws, receiver: WebhookReceiver, brands: Sequence[str], out: Path, echo: Callable[[str], None]
) -> dict[str, Any]:
    """Every alerted post to out/alerts.jsonl; one payload of each target kind to out/alerts/."""
    from responsegap.store.alert_records import AlertStore
    from responsegap.store.dynamo import PostStore

    alerts = AlertStore(PostStore(aws.environment["TABLE_NAME"], aws.client("dynamodb")))
    rows = [row for brand in brands for row in alerts.history(brand)]
    rows.sort(key=lambda r: (int(r["alerted_at"]), r["brand_id"], r["post_id"]))
    with (out / "alerts.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            record = {
                "brand": row["brand_id"],
                "profile": row["profile_key"],
                "post_id": row["post_id"],
                "url": row.get("url"),
                "waited_seconds": int(row["alerted_at"]) - int(row["created_at"]),
                "out_of_hours": bool(row["out_of_hours"]),
                "alerted_at": iso_z(int(row["alerted_at"])),
                "answered_after_alert": bool(row["answered_after_alert"]),
            }
            handle.write(json.dumps({k: record[k] for k in ALERT_FIELDS}) + "\n")
    # Time from becoming due (overdue, or posted when urgent) to the alert; alerts a quiet
    # period held back are counted apart.
    prompt = [(int(r["alerted_at"]) - int(r["due_at"])) / 60 for r in rows if not r.get("held")]
    emails = aws.published("AlertTopic")
    subscriptions = aws.subscriptions("AlertTopic")
    folder = out / "alerts"
    folder.mkdir(parents=True, exist_ok=True)
    kinds: dict[str, int] = {}
    for received in receiver.delivered():
        kinds[received.kind] = kinds.get(received.kind, 0) + 1
        sample = folder / f"{received.kind}.json"
        if not sample.exists():
            sample.write_text(
                json.dumps(received.json, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
    if emails:
        first = emails[0]
        (folder / "email.txt").write_text(
            f"Subject: {first.get('subject')}\n\n{first.get('email', first.get('default', ''))}\n",
            encoding="utf-8",
        )
    summary = {
        "alerted_posts": len(rows),
        "urgent": sum(1 for r in rows if r.get("urgent_term")),
        "held_by_quiet_period": sum(1 for r in rows if r.get("held")),
        "out_of_hours": sum(1 for r in rows if r.get("out_of_hours")),
        "answered_after_alert": sum(1 for r in rows if r.get("answered_after_alert")),
        "median_minutes_overdue_to_alert": round(statistics.median(prompt), 1) if prompt else None,
        "p95_minutes_overdue_to_alert": round(_p95(prompt), 1) if prompt else None,
        "webhook_digests": kinds,
        "sns_email_digests": len(emails),
        "sns_subscriptions": [f"{s['Protocol']}:{s['Endpoint']}" for s in subscriptions],
    }
    echo(
        f"  {len(rows)} overdue-post alerts sent ({summary['out_of_hours']} out of hours, "
        f"{summary['urgent']} urgent, "
        f"{summary['held_by_quiet_period']} held by a quiet period); "
        f"{summary['answered_after_alert']} answered after the alert"
    )
    echo(
        f"  median {summary['median_minutes_overdue_to_alert']} min from overdue to alert "
        f"(p95 {summary['p95_minutes_overdue_to_alert']}; poll interval + 1 min is the goal)"
    )
    echo(
        "  webhook receiver got "
        + ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        + f" digests; {len(emails)} SNS email digests read back from the embedded AWS"
    )
    return summary


def _p95(values: Sequence[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


# ------------------------------------------------------------------------------ reports


def _write_reports(
    emails: Sequence[dict[str, Any]], out: Path, brand_order: Sequence[str], week: str
) -> tuple[dict[str, Path], dict[str, dict[str, Any]]]:
    """Each brand's email of ``week`` as EML + its parts; the first brand's also as out/report.*."""
    files: dict[str, Path] = {}
    figures: dict[str, dict[str, Any]] = {}
    parsed = [parse_email(str(e.get("raw_data") or e.get("body") or "")) for e in emails]
    by_brand: dict[str, dict[str, Any]] = {}
    for parts in parsed:
        document = json.loads(parts["json"]) if parts.get("json") else {}
        brand = (document.get("brand") or {}).get("id")
        if brand and document.get("week") == week:
            by_brand[brand] = parts
            rows = document.get("brands") or []
            if rows:
                figures[brand] = rows[0]
    for index, brand in enumerate(b for b in brand_order if b in by_brand):
        parts = by_brand[brand]
        targets = [out / brand] + ([out] if index == 0 else [])
        for folder in targets:
            folder.mkdir(parents=True, exist_ok=True)
            for name, key in (
                ("report.eml", "eml"),
                ("report.html", "html"),
                ("report.txt", "text"),
                ("report.csv", "csv"),
                ("report.json", "json"),
            ):
                path = folder / name
                path.write_text(parts[key], encoding="utf-8")
                if folder == out:
                    files[name] = path
    return files, figures


def parse_email(raw: str) -> dict[str, str]:
    """The EML and its parts: text and HTML bodies, the CSV and JSON attachments."""
    message = email.message_from_string(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    parts = {"eml": raw, "subject": str(message.get("Subject", ""))}
    for kind in ("plain", "html"):
        body = message.get_body(preferencelist=(kind,))
        if body is not None:
            parts["text" if kind == "plain" else "html"] = body.get_content()
    for attachment in message.iter_attachments():
        name = (attachment.get_filename() or "").lower()
        content = attachment.get_content()
        text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
        if name.endswith(".csv") or attachment.get_content_type() == "text/csv":
            parts["csv"] = text
        elif name.endswith(".json") or attachment.get_content_type() == "application/json":
            parts["json"] = text
    return parts


# ------------------------------------------------------------------------------ analyze


def run_analyze(
    data: Path, start: int, end: int, as_of: int, handles: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], str]:
    """`responsegap analyze` in this process on the same file, week and as-of (archive time)."""
    from responsegap.cli import main as cli

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "analyze.json"
        output = io.StringIO()
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(io.StringIO()):
            code = cli(
                [
                    "analyze",
                    "--format",
                    "twcs",
                    str(data),
                    "--from",
                    iso_z(start),
                    "--to",
                    iso_z(end),
                    "--as-of",
                    iso_z(as_of),
                    "--profiles",
                    ",".join(h.lower() for h in handles),
                    "--json",
                    str(target),
                ]
            )
        if code != 0:
            raise RuntimeError(f"responsegap analyze exited with {code}: {output.getvalue()[-500:]}")
        document = json.loads(target.read_text(encoding="utf-8"))
    return {row["brand"]: row for row in document.get("brands", [])}, output.getvalue()


def compare(
    demo: dict[str, dict[str, Any]], analyze: dict[str, dict[str, Any]]
) -> list[tuple[str, str, Any, Any]]:
    """(brand, figure, demo value, analyze value) for every figure that differs."""
    out: list[tuple[str, str, Any, Any]] = []
    for brand in sorted(set(demo) | set(analyze)):
        left, right = demo.get(brand), analyze.get(brand)
        if left is None or right is None:
            out.append((brand, "(brand missing)", left is not None, right is not None))
            continue
        for key in sorted((set(left) | set(right)) - set(IDENTITY_KEYS)):
            if _normal(left.get(key)) != _normal(right.get(key)):
                out.append((brand, key, left.get(key), right.get(key)))
    return out


def _normal(value: Any) -> Any:
    """JSON numbers compare as numbers: 1800 and 1800.0 are the same figure."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return round(float(value), 6)
    return value


# ------------------------------------------------------------------------------ output


def summary(result: DemoResult, brands: Sequence[tuple[str, str]]) -> str:
    header = (
        "brand",
        "platform",
        "openers",
        "answered",
        "rate",
        "1st median",
        "human median",
        "in SLA",
        "follow-ups",
        "analyze",
    )
    rows = [header]
    platforms = dict(brands)
    different = {brand for brand, *_ in result.differences}
    for brand, _ in brands:
        row = result.demo_figures.get(brand)
        if row is None:
            rows.append((brand, platforms[brand], "-", "-", "-", "-", "-", "-", "-", "no email"))
            continue
        rate = row.get("response_rate")
        rows.append(
            (
                brand,
                platforms[brand],
                str(row["openers"]),
                str(row["answered"]),
                "-" if rate is None else f"{rate * 100:.0f}%",
                duration(row["first_response_seconds"]["median"]),
                duration(row["first_human_response_seconds"]["median"]),
                str(row["answered_within_sla"]),
                f"{row['followups_answered']}/{row['followups']}",
                "differs" if brand in different or brand not in result.analyze_figures else "same",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  "
        + "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines.insert(1, "  " + "-" * (sum(widths) + 2 * (len(widths) - 1)))
    return "\n".join(lines)


def side_by_side(result: DemoResult, brands: Sequence[tuple[str, str]]) -> str:
    keys = (
        "openers",
        "answered",
        "answered_by_human",
        "answered_within_sla",
        "followups",
        "followups_answered",
    )
    lines = ["  figure                 " + "".join(f"{b[:14]:>16}" for b, _ in brands)]
    for key in keys:
        demo = "".join(f"{result.demo_figures.get(b, {}).get(key, '-')!s:>16}" for b, _ in brands)
        other = "".join(f"{result.analyze_figures.get(b, {}).get(key, '-')!s:>16}" for b, _ in brands)
        lines.append(f"  {key:<21}  {demo}   (demo email)")
        lines.append(f"  {'':<21}  {other}   (analyze)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="two brands and fewer rounds (for tests)")
    parser.add_argument("--more", action="store_true", help="five brands instead of three (slower)")
    parser.add_argument("--out", default="out", help="where the report files go (default out/)")
    parser.add_argument(
        "--rate-limit-every",
        type=int,
        help="every Nth platform request gets a 429 (0: never; default 0, with --quick 97)",
    )
    parser.add_argument("--poll-minutes", type=int, default=60, help="poll interval = one round (default 60)")
    args = parser.parse_args(argv)
    options = DemoOptions(
        out=Path(args.out),
        quick=args.quick,
        more=args.more,
        rate_limit_every=max(0, args.rate_limit_every)
        if args.rate_limit_every is not None
        else (97 if args.quick else 0),
        poll_minutes=max(1, args.poll_minutes),
    )
    if options.quick:
        options.poll_minutes = max(options.poll_minutes, 180)
    # SIGTERM (a CI runner, `kill`) ends the demo like Ctrl-C: through the finally blocks.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = run(options)
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, ports released", file=sys.stderr)
        return 130
    brands = options.chosen_brands()
    print()
    print(summary(result, brands))
    print()
    print("Same figures from `responsegap analyze` on the same file and week:")
    print(side_by_side(result, brands))
    if result.figures_match:
        print(f"\n  MATCH: every figure of the {len(result.demo_figures)} emailed reports equals analyze's")
    else:
        print(f"\n  MISMATCH: {len(result.differences)} figures differ:")
        for brand, key, left, right in result.differences[:20]:
            print(f"    {brand} {key}: demo {left!r} vs analyze {right!r}")
    t = result.tally
    print(
        f"\n  {result.rounds} rounds, {t.polls} polls, {t.posts_stored} posts stored, "
        f"{t.answered} answers matched by recheck, {t.rate_limited} polls rate-limited (retried), "
        f"{result.emails} emails; {result.seconds:.1f} s"
    )
    a = result.alerts
    if a:
        print(
            f"  {a['alerted_posts']} alerts sent, median {a['median_minutes_overdue_to_alert']} min "
            f"from overdue to alert (p95 {a['p95_minutes_overdue_to_alert']}; poll interval "
            f"{options.poll_minutes} min); alerts: {options.out}/alerts.jsonl, {options.out}/alerts/"
        )
    print(f"\n  Report files: {', '.join(str(p) for p in result.files.values())}")
    print(
        f"  Every brand's email: {options.out}/<brand>/report.eml; pipeline log: {options.out}/pipeline.log"
    )
    return 0 if result.figures_match else 1


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
