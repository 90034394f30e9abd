"""``responsegap automation mark|list|unmark``: a brand's own verdicts on its replies.

A brand knows which of its replies a person sent. ``mark --human`` or ``mark --automated``
stores that verdict for a text (every reply of the brand with the same fingerprint: mentions,
numbers, signature and punctuation aside) or for one post; later reports of that brand follow
it and give "corrected by the brand" as the reason. Other brands are never affected.

    responsegap automation mark --brand acme --human --text "Here to help. Send us a note"
    responsegap automation mark --brand acme --automated --post 1234 --platform x
    responsegap automation list --brand acme
    responsegap automation unmark --brand acme --text "Here to help. Send us a note"

The table comes from ``--stack`` (its outputs) or the environment, as for ``alerts``.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from responsegap.config import Settings
from responsegap.domain.corrections import text_key
from responsegap.domain.model import Brand, ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "automation",
        help="correct the automated/human verdict on a brand's replies, list or remove corrections",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", help="a deployed stack: its outputs give the table")
    parser.add_argument("--region", help="AWS region (default: your AWS configuration)")
    actions = parser.add_subparsers(dest="action", required=True)
    mark = actions.add_parser("mark", help="store a verdict for a text or a post")
    mark.add_argument("--brand", required=True)
    verdict = mark.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--human", action="store_true", help="a person sent it")
    verdict.add_argument("--automated", action="store_true", help="no person decided to send it")
    _target(mark)
    listing = actions.add_parser("list", help="the brand's corrections as JSON lines")
    listing.add_argument("--brand", required=True)
    unmark = actions.add_parser("unmark", help="remove a correction")
    unmark.add_argument("--brand", required=True)
    _target(unmark)
    parser.set_defaults(run=run)


def _target(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--post", metavar="ID", help="one reply, by its post id on the platform")
    target.add_argument("--text", help="every reply of the brand with this text")
    parser.add_argument(
        "--platform", help="the post's platform (needed with --post when the brand is on several)"
    )


def run(args: argparse.Namespace, *, store: Any = None, clock: Any = time.time) -> int:
    """``store`` and ``clock`` are for tests; by default the store comes from the settings."""
    from responsegap.store.correction_items import POST, TEXT, StoredCorrection, post_key

    if store is None:
        if getattr(args, "stack", None):
            from responsegap.stack import use_stack

            use_stack(args.stack, args.region)
        from responsegap.store.dynamo import PostStore

        store = PostStore(Settings.from_env().table_name)
    try:
        brand = store.get_brand(args.brand)
    except LookupError as error:
        raise ConfigError(f"unknown brand {args.brand!r}: configure it first (profiles import)") from error
    if args.action == "list":
        for c in sorted(store.list_corrections(brand.brand_id), key=lambda c: (c.marked_at, c.kind, c.key)):
            row = {
                "brand": c.brand_id,
                "verdict": "automated" if c.automated else "human",
                "kind": c.kind,
                "key": c.key,
                "text": c.excerpt,
                "marked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c.marked_at)),
            }
            print(json.dumps(row, ensure_ascii=False))
        return 0
    if args.platform and not args.post:
        raise ConfigError("--platform goes with --post")
    if args.post is not None:
        kind, key, excerpt = POST, post_key(_platform(brand, args.platform), _post_id(args.post)), ""
        what = f"post {key}"
    else:
        kind, key, excerpt = TEXT, text_key(args.text), args.text.strip()
        if not key:
            raise ConfigError("--text has no words left once mentions, numbers and punctuation are taken out")
        what = f"text {excerpt!r}"
    if args.action == "unmark":
        if not store.delete_correction(brand.brand_id, kind, key):
            raise ConfigError(f"{brand.brand_id} has no correction for {what}")
        print(f"{brand.brand_id}: removed the correction for {what}")
        return 0
    automated = bool(args.automated)
    store.put_correction(StoredCorrection(brand.brand_id, kind, key, automated, excerpt, int(clock())))
    verdict = "automated" if automated else "human"
    print(f"{brand.brand_id}: {what} is {verdict} in the next reports (corrected by the brand)")
    return 0


def _platform(brand: Brand, given: str | None) -> str:
    platforms = sorted({p.platform for p in brand.profiles})
    if given:
        if given not in platforms:
            raise ConfigError(
                f"{brand.brand_id} has no profile on {given!r} (it is on: {', '.join(platforms) or 'none'})"
            )
        return given
    if len(platforms) != 1:
        raise ConfigError(
            f"{brand.brand_id} is on {', '.join(platforms) or 'no platform'}: say which with --platform"
        )
    return platforms[0]


def _post_id(value: str) -> str:
    post_id = value.strip()
    if not post_id or any(c.isspace() for c in post_id):
        raise ConfigError(f"--post {value!r} is not a post id")
    return post_id
