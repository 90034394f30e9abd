"""``responsegap profiles add|list|remove|import``: brands and profiles are data in the table.

The table is ``--table``, else ``TABLE_NAME``, else the ``TableName`` output of ``--stack``.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from responsegap.domain.model import BusinessHours, ConfigError, Profile, normalise_handle


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("profiles", help="add, list, remove or import brands and their profiles")
    parser.add_argument("--table", help="DynamoDB table (default: $TABLE_NAME)")
    parser.add_argument("--stack", help="CloudFormation stack whose TableName output names the table")
    parser.add_argument("--region", help="AWS region (default: the SDK's)")
    actions = parser.add_subparsers(dest="action", required=True)

    imp = actions.add_parser("import", help="create or update the brands of a YAML file")
    imp.add_argument("file", help="brands YAML (see infra/brands.example.yaml)")
    imp.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    imp.add_argument(
        "--allow-local-endpoints", action="store_true", help="permit http/private base URLs (demo)"
    )

    lst = actions.add_parser("list", help="brands, profiles and when each is next polled")
    lst.add_argument("--brand", help="only this brand")

    add = actions.add_parser("add", help="add or replace one profile of an existing brand")
    add.add_argument("--brand", required=True)
    add.add_argument("--platform", required=True)
    add.add_argument("--handle", required=True)
    add.add_argument("--account-id", default="")
    add.add_argument("--timezone", help="default: the brand's")
    add.add_argument("--sla-seconds", type=int, default=3600)
    add.add_argument("--poll-interval", type=int, default=300)
    add.add_argument("--base-url")
    add.add_argument("--credentials", help="SSM parameter name under the credentials path, or secret:NAME")

    rm = actions.add_parser("remove", help="remove one profile (--profile platform#handle) or a whole brand")
    rm.add_argument("--brand", required=True)
    rm.add_argument("--profile", help="platform#handle; without it the whole brand is removed")
    rm.add_argument("--yes", action="store_true", help="needed to remove a whole brand")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "import":
        return _import(args)
    store = _store(args)
    return {"list": _list, "add": _add, "remove": _remove}[args.action](args, store)


def _credentials_path() -> str:
    return os.environ.get("CREDENTIALS_PATH", "/responsegap/")


def _import(args: argparse.Namespace) -> int:
    from responsegap.brands_file import load_brands_file

    loaded = load_brands_file(
        args.file, credentials_path=_credentials_path(), allow_local_endpoints=args.allow_local_endpoints
    )
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    profiles = sum(len(b.profiles) for b in loaded.brands)
    if args.dry_run:
        print(
            f"{args.file}: {len(loaded.brands)} brands, {profiles} profiles: valid (dry run, nothing written)"
        )
        return 0
    store = _store(args)
    for brand in loaded.brands:
        store.put_brand(brand)
        print(f"brand {brand.brand_id}: {len(brand.profiles)} profiles stored")
    print(f"imported {len(loaded.brands)} brands, {profiles} profiles into {store.table_name}")
    return 0


def _list(args: argparse.Namespace, store: Any) -> int:
    slots = {e.profile_key: e for e in store.directory()}
    brands = [store.get_brand(args.brand)] if args.brand else store.list_brands()
    for brand in brands:
        report = f"report weekday {brand.report_weekday} {brand.report_hour:02d}:00"
        print(f"{brand.brand_id}\t{brand.name}\t{brand.timezone}\t{report}")
        for profile in brand.profiles:
            slot = slots.get(profile.key)
            next_at = _when(slot.next_poll_at) if slot else "-"
            state = "enabled" if profile.enabled else "disabled"
            timing = f"every {profile.poll_interval_seconds}s\tsla {profile.sla_seconds}s\tnext {next_at}"
            print(f"  {profile.key}\t{state}\t{timing}")
    return 0


def _add(args: argparse.Namespace, store: Any) -> int:
    from responsegap.config import check_base_url

    brand = store.get_brand(args.brand)
    credentials = args.credentials
    if credentials and not (credentials.startswith("secret:") or credentials.startswith(_credentials_path())):
        raise ConfigError(
            f"--credentials {credentials!r} must be under {_credentials_path()!r} or 'secret:NAME'"
        )
    profile = Profile(
        brand_id=brand.brand_id,
        platform=args.platform.lower(),
        handle=normalise_handle(args.handle),
        account_id=args.account_id,
        timezone=args.timezone or brand.timezone,
        business_hours=BusinessHours(),
        sla_seconds=args.sla_seconds,
        base_url=check_base_url(args.base_url, what="--base-url") if args.base_url else None,
        credentials=credentials,
        poll_interval_seconds=args.poll_interval,
    )
    others = tuple(p for p in brand.profiles if p.key != profile.key)
    store.put_brand(replace(brand, profiles=(*others, profile)))
    print(f"profile {profile.key} stored in brand {brand.brand_id}")
    return 0


def _remove(args: argparse.Namespace, store: Any) -> int:
    if args.profile:
        store.remove_profile(args.brand, args.profile)
        print(f"profile {args.profile} removed from {args.brand}")
        return 0
    if not args.yes:
        raise ConfigError(f"removing the whole brand {args.brand!r} needs --yes")
    store.remove_brand(args.brand)
    print(f"brand {args.brand} removed (its posts expire by TTL)")
    return 0


def _when(epoch: int) -> str:
    return "now" if epoch <= 0 else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _store(args: argparse.Namespace) -> Any:
    import boto3

    from responsegap.store.dynamo import PostStore

    session = boto3.session.Session(region_name=args.region) if args.region else boto3.session.Session()
    table = args.table or os.environ.get("TABLE_NAME", "").strip()
    if not table and args.stack:
        table = _table_of_stack(session.client("cloudformation"), args.stack)
    if not table:
        raise ConfigError("no table: pass --table NAME, set TABLE_NAME, or pass --stack NAME")
    return PostStore(table, session.client("dynamodb"))


def _table_of_stack(cloudformation: Any, stack: str) -> str:
    from responsegap.stack import stack_environment

    return stack_environment(cloudformation, stack)["TABLE_NAME"]
