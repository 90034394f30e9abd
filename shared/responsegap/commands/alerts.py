"""``responsegap alerts test|history``: try a brand's alert targets, and read what was alerted.

``test`` sends a sample digest (marked TEST, with made-up posts) to every alert target of the
brand, or only ``--target NAME``, exactly as the alert function would: the stack's SNS topic
(``ALERT_TOPIC_ARN`` or the ``AlertTopicArn`` output of ``--stack``) and the chat webhooks whose
URLs sit in SSM. Nothing is marked as alerted. It exits 1 when a target was not reached.

``history`` prints the brand's alerts as JSON lines (the fields of the demo's alerts.jsonl).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from responsegap.alerts.digest import AnsweredNote, Digest, DigestPost
from responsegap.config import Settings
from responsegap.domain.alerts import thresholds
from responsegap.domain.model import Brand, ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "alerts",
        help="send a sample alert digest to a brand's targets, or list its alerts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", help="a deployed stack: its outputs give the table and alert topic")
    parser.add_argument("--region", help="AWS region (default: your AWS configuration)")
    actions = parser.add_subparsers(dest="action", required=True)
    test = actions.add_parser("test", help="send a sample digest to the brand's alert targets")
    test.add_argument("--brand", required=True)
    test.add_argument("--target", help="only this target (its name in the brands file)")
    history = actions.add_parser("history", help="the brand's alerts as JSON lines")
    history.add_argument("--brand", required=True)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, *, store: Any = None, deliverer: Any = None) -> int:
    """``store`` / ``deliverer`` are for tests; by default they come from the settings."""
    if getattr(args, "stack", None):
        from responsegap.stack import use_stack

        use_stack(args.stack, args.region)
    settings = Settings.from_env()
    if store is None:
        from responsegap.store.dynamo import PostStore

        store = PostStore(settings.table_name, retention_days=settings.retention_days)
    try:
        brand = store.get_brand(args.brand)
    except LookupError as error:
        raise ConfigError(f"unknown brand {args.brand!r}: configure it first (profiles import)") from error
    if args.action == "history":
        from responsegap.store.alert_records import AlertStore

        for row in AlertStore(store).history(brand.brand_id):
            print(json.dumps(alert_row(row), sort_keys=True))
        return 0
    return _test(args, settings, brand, deliverer)


def alert_row(row: dict[str, Any]) -> dict[str, Any]:
    """A history item as one alerts.jsonl object (the issue's fields, then the extra ones)."""
    return {
        "brand": row.get("brand_id"),
        "profile": row.get("profile_key"),
        "post_id": row.get("post_id"),
        "url": row.get("url"),
        "waited_seconds": int(row["alerted_at"]) - int(row["created_at"]),
        "out_of_hours": bool(row.get("out_of_hours")),
        "alerted_at": _iso(int(row["alerted_at"])),
        "answered_after_alert": bool(row.get("answered_after_alert")),
        "overdue_at": _iso(int(row["overdue_at"])),
        "minutes_overdue_to_alert": round((int(row["alerted_at"]) - int(row["due_at"])) / 60, 1),
        "urgent_term": row.get("urgent_term"),
        "held_by_quiet_period": bool(row.get("held")),
        "targets": row.get("targets", []),
    }


def _iso(moment: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def sample_digest(brand: Brand, now: int) -> Digest:
    """Made-up posts, one per profile, clearly marked as a test."""
    posts = []
    for number, profile in enumerate(brand.profiles or (), start=1):
        rules = brand.alerts.rules_for(profile.key) if brand.alerts else None
        in_hours, _ = thresholds(profile, rules) if rules else (profile.sla_seconds, 0)
        posts.append(
            DigestPost(
                profile_key=profile.key,
                platform=profile.platform,
                handle=profile.handle,
                post_id=f"sample-{number}",
                url=f"https://example.invalid/responsegap-sample/{number}",
                created_at=now - in_hours - 300,
                waited_seconds=in_hours + 300,
                out_of_hours=number % 2 == 1,
                excerpt="Sample post: nobody is waiting. This digest checks that alerts reach you.",
                urgent_term="sample" if number == 1 else None,
            )
        )
    answered = ()
    if brand.profiles:
        first = brand.profiles[0]
        answered = (
            AnsweredNote(first.key, first.platform, first.handle, "sample-0", None, now - 1800, now - 600),
        )
    return Digest(
        brand_id=brand.brand_id,
        brand_name=brand.name,
        timezone=brand.timezone,
        generated_at=now,
        posts=tuple(posts),
        answered=answered,
        sample=True,
        digest_id=f"sample-{brand.brand_id}-{now}",
    )


def _test(args: argparse.Namespace, settings: Settings, brand: Brand, deliverer: Any) -> int:
    targets = list(brand.alerts.targets) if brand.alerts else []
    if args.target:
        targets = [t for t in targets if t.name == args.target]
        if not targets:
            raise ConfigError(f"brand {brand.brand_id!r} has no alert target named {args.target!r}")
    if not targets:
        raise ConfigError(f"brand {brand.brand_id!r} has no alert targets (alerts.targets, brands file)")
    if deliverer is None:
        from responsegap.alerts.delivery import Deliverer, WebhookUrls

        urls = WebhookUrls(settings.credentials_path, allow_local=settings.allow_local_endpoints)
        deliverer = Deliverer(urls=urls, topic_arn=settings.alert_topic_arn)
    digest = sample_digest(brand, int(time.time()))
    failed = 0
    for target in targets:
        outcome = deliverer.deliver(target, digest)
        state = "delivered" if outcome.ok else "NOT delivered"
        print(f"{target.name} ({target.kind}): {state} after {outcome.attempts} attempt(s): {outcome.detail}")
        failed += not outcome.ok
    if failed:
        print(f"{failed} of {len(targets)} targets were not reached", file=sys.stderr)
    return 1 if failed else 0
