"""The weekly report of one brand with ~1,000,000 customer posts in the week, read from the store.

moto serves only a few thousand items a second, so this measures *our* code on recorded
``Query`` pages instead: the generated week is turned into the items ``PostStore`` writes
(``store/items.py: post_to_item``), sorted by sort key and cut into the pages DynamoDB would
return (<= 1 MB of item data each, ``Items`` in DynamoDB JSON, ``LastEvaluatedKey``,
``ConsumedCapacity`` computed with DynamoDB's rule: a page's item sizes summed, rounded up to
4 KB, half a unit per 4 KB for an eventually consistent read). The pages are written to a
temp directory by a separate process, then a fresh process serves them to a real boto3
DynamoDB client: a ``before-send`` hook answers each signed HTTP request with the recorded
page's bytes (one file read), so request serialisation, signing, retries and response parsing
are botocore's own (with the store's JSON fast path for Query, ``store/query_parsing.py``).
The real ``PostStore`` on that client runs the real weekly report: ``compose_weekly_report`` (posts_between
per profile, completeness from the poll log, snapshots), then the archive files (HTML, CSV,
JSON) and the MIME email when ``report/`` has them.

Printed: wall time split into read / match+figures / rendering, peak RSS of the measuring
process (targets: < 60 s, < 1 GB), requests made and read units consumed against the minimum
(every item of the read range read once: sum of item sizes / 4 KB, halved; target within 10%),
and what botocore's own parser would cost per page without the fast path.

    .venv/bin/python -m tests.bench.report_from_store [--customer-posts 1000000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.bench.synthetic import Scenario

PAGE_BYTES = 1024 * 1024
TABLE = "responsegap-bench"
TARGET_SECONDS = 60
TARGET_MB = 1024
POSTS_PER_CUSTOMER_POST = 2.25  # generated posts per customer post inside the period (measured)


# ----------------------------------------------------------------------- item size (DynamoDB rules)
def _value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        digits = inner.lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + _value_size(v) + 1 for k, v in inner.items())
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: v}) for v in inner)
    raise ValueError(kind)


def item_size(item: dict[str, dict[str, Any]]) -> int:
    """Bytes DynamoDB bills for ``item``: attribute names plus values (developer guide, item sizes)."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


def read_units(size: int, consistent: bool = False) -> float:
    return math.ceil(size / 4096) * (1.0 if consistent else 0.5)


# ----------------------------------------------------------------------- building the pages
def scenario_for(customer_posts: int) -> Scenario:
    return Scenario(
        n_posts=int(customer_posts * POSTS_PER_CUSTOMER_POST),
        brands=1,
        platforms=("x",),
        seed=4711,
        customers_per_conversation=0.5,
    )


def build(directory: Path, customer_posts: int) -> dict[str, Any]:
    from responsegap.domain.periods import week_period
    from responsegap.store.items import (
        post_sk,
        post_to_item,
        profile_pk,
        sk_lower,
        sk_upper_exclusive,
        stored_form,
    )

    scenario = scenario_for(customer_posts)
    brand = scenario.brand_config[0]
    profile = brand.profiles[0]
    period = week_period(scenario.week, profile.timezone)
    as_of = scenario.as_of
    lo, hi = sk_lower(period.start), sk_upper_exclusive(as_of + 1)
    own = {p.handle for p in brand.profiles}
    rows: dict[str, Any] = {}
    in_week_customer = 0
    for post in scenario.posts():
        sk = post_sk(post.created_at, post.post_id)
        if not (lo <= sk <= hi) or sk in rows:
            continue  # outside the read range, or a duplicate the store kept once
        rows[sk] = post
        if post.author_handle not in own and post.created_at in period:
            in_week_customer += 1
    pages, page, page_bytes = [], [], 0
    total_bytes = 0
    retention = 90 * 86400
    for sk in sorted(rows):
        post = rows.pop(sk)
        is_open = post.author_handle not in own and post.in_reply_to_id is None and (hash(sk) % 5 == 0)
        item = post_to_item(
            profile.key, stored_form(post), expires_at=post.created_at + retention, is_open=is_open
        )
        size = item_size(item)
        page.append(item)
        page_bytes += size
        total_bytes += size
        if page_bytes >= PAGE_BYTES:
            pages.append((page, page_bytes))
            page, page_bytes = [], 0
    if page:
        pages.append((page, page_bytes))
    items = 0
    for number, (items_of_page, size) in enumerate(pages):
        last = items_of_page[-1]
        response: dict[str, Any] = {
            "Items": items_of_page,
            "Count": len(items_of_page),
            "ScannedCount": len(items_of_page),
            "ConsumedCapacity": {"TableName": TABLE, "CapacityUnits": read_units(size)},
        }
        if number < len(pages) - 1:
            response["LastEvaluatedKey"] = {"pk": last["pk"], "sk": last["sk"]}
        (directory / f"page-{number:05d}.json").write_text(json.dumps(response, separators=(",", ":")))
        items += len(items_of_page)
    meta = {
        "pk": profile_pk(profile.key),
        "lo": lo,
        "hi": hi,
        "pages": len(pages),
        "items": items,
        "bytes": total_bytes,
        "customer_posts_in_week": in_week_customer,
        "min_read_units": total_bytes / 4096 / 2,
        "as_of": as_of,
        "week": scenario.week,
        "customer_posts": customer_posts,
    }
    project_pages(directory)
    (directory / "meta.json").write_text(json.dumps(meta))
    return meta


def project_pages(directory: Path) -> None:
    """Each page as DynamoDB answers a Query with the store's ProjectionExpression.

    Only the attributes asked for are sent; Count, LastEvaluatedKey and the read units (of the
    whole items) are those of the full page.
    """
    from responsegap.store.items import POST_PROJECTION_NAMES

    wanted = set(POST_PROJECTION_NAMES.values())
    for page in sorted(directory.glob("page-?????.json")):
        response = json.loads(page.read_bytes())
        response["Items"] = [{k: v for k, v in item.items() if k in wanted} for item in response["Items"]]
        page.with_suffix(".projected.json").write_text(json.dumps(response, separators=(",", ":")))


# ----------------------------------------------------------------------- the recorded server
class RecordedDynamoDB:
    """DynamoDB's side of the wire: request JSON in, response bytes out, from recorded pages.

    Post queries must ask for exactly the recorded range; their pages are served as the bytes
    on disk. The poll log (one ``ok`` poll every 5 minutes of the week) and snapshots (none)
    are answered from memory with the same paging and capacity rules.
    """

    def __init__(self, directory: Path, meta: dict[str, Any], poll_items: list[dict[str, Any]]) -> None:
        self.directory = directory
        self.meta = meta
        self.poll_items = poll_items
        self.requests: dict[str, int] = {}
        self.read_units = 0.0
        self.post_read_units = 0.0
        self.write_units = 0.0
        self.seconds = 0.0
        self._page_after: dict[str, int] = {}

    def respond(self, operation: str, params: dict[str, Any]) -> bytes:
        began = time.perf_counter()
        self.requests[operation] = self.requests.get(operation, 0) + 1
        answer = getattr(self, f"_{operation}")(params)
        body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        self.seconds += time.perf_counter() - began
        return body

    # Named after the operations (the X-Amz-Target header) they answer.
    def _Query(self, params: dict[str, Any]) -> bytes | dict[str, Any]:
        values = params["ExpressionAttributeValues"]
        consistent = bool(params.get("ConsistentRead"))
        pk, lo = values[":pk"]["S"], values.get(":lo", {}).get("S", "")
        if pk == self.meta["pk"] and lo.startswith("POST#"):
            if (lo, values[":hi"]["S"]) != (self.meta["lo"], self.meta["hi"]):
                raise AssertionError(f"query range {lo}..{values[':hi']['S']} was not recorded")
            start = params.get("ExclusiveStartKey")
            number = 0 if start is None else self._page_after[start["sk"]["S"]]
            suffix = ".json"
            if "ProjectionExpression" in params:
                from responsegap.store.items import POST_PROJECTION, POST_PROJECTION_NAMES

                asked = (params["ProjectionExpression"], params.get("ExpressionAttributeNames"))
                if asked != (POST_PROJECTION, POST_PROJECTION_NAMES):
                    raise AssertionError(f"projection {asked} was not recorded")
                suffix = ".projected.json"
            body = (self.directory / f"page-{number:05d}{suffix}").read_bytes()
            # The page ends with ConsumedCapacity and LastEvaluatedKey (build() writes them last).
            tail = json.loads(b"{" + body[body.rindex(b'"ConsumedCapacity":') :])
            if tail.get("LastEvaluatedKey"):
                self._page_after[tail["LastEvaluatedKey"]["sk"]["S"]] = number + 1
            units = tail["ConsumedCapacity"]["CapacityUnits"] * (2 if consistent else 1)
            self.post_read_units += units
            self.read_units += units
            if consistent:
                response = json.loads(body)
                response["ConsumedCapacity"]["CapacityUnits"] = units
                return response
            return body
        if lo.startswith("POLL#"):
            hi = values[":hi"]["S"]
            items = [i for i in self.poll_items if lo <= i["sk"]["S"] <= hi]
            units = read_units(sum(map(item_size, items)), consistent)
        else:  # snapshots: none stored
            items, units = [], read_units(0, consistent) or 0.5
        self.read_units += units
        return {
            "Items": items,
            "Count": len(items),
            "ScannedCount": len(items),
            "ConsumedCapacity": {"TableName": TABLE, "CapacityUnits": units},
        }

    def _GetItem(self, params: dict[str, Any]) -> dict[str, Any]:
        self.read_units += 1.0
        return {"ConsumedCapacity": {"TableName": TABLE, "CapacityUnits": 1.0}}

    def _PutItem(self, params: dict[str, Any]) -> dict[str, Any]:
        units = math.ceil(item_size(params["Item"]) / 1024)
        self.write_units += units
        return {"ConsumedCapacity": {"TableName": TABLE, "CapacityUnits": float(units)}}

    def _UpdateItem(self, params: dict[str, Any]) -> dict[str, Any]:
        self.write_units += 1
        return {"ConsumedCapacity": {"TableName": TABLE, "CapacityUnits": 1.0}}


class _Body:
    """The ``raw`` of a botocore ``AWSResponse``: what urllib3 would hand over."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def recorded_client(server: RecordedDynamoDB) -> Any:
    """A real boto3 DynamoDB client whose HTTP requests ``server`` answers."""
    import boto3
    from botocore.awsrequest import AWSResponse

    client = boto3.client(
        "dynamodb",
        region_name="eu-west-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )

    def send(request: Any, **_: Any) -> AWSResponse:
        target = request.headers["X-Amz-Target"]
        operation = (target.decode() if isinstance(target, bytes) else target).rpartition(".")[2]
        body = server.respond(operation, json.loads(request.body))
        headers = {"x-amzn-RequestId": "bench", "Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 200, headers, _Body(body))

    client.meta.events.register("before-send.dynamodb", send)
    return client


def poll_log(profile_key: str, start: int, end: int) -> list[dict[str, Any]]:
    from responsegap.store.items import profile_pk

    return [
        {
            "pk": {"S": profile_pk(profile_key)},
            "sk": {"S": f"POLL#{t:010d}#ok"},
            "started_at": {"N": str(t)},
            "outcome": {"S": "ok"},
            "posts": {"N": "500"},
            "detail": {"S": ""},
            "expires_at": {"N": str(t + 7776000)},
        }
        for t in range(start, end, 300)
    ]


def botocore_parse_seconds(page_file: Path) -> float:
    """How long botocore takes to parse one recorded page as an HTTP response body (median of 3)."""
    import botocore.session
    from botocore.parsers import create_parser

    model = botocore.session.get_session().get_service_model("dynamodb")
    shape = model.operation_model("Query").output_shape
    body = page_file.read_bytes()
    parser = create_parser("json")
    times = []
    for _ in range(3):
        began = time.process_time()
        parser.parse({"status_code": 200, "headers": {}, "body": body}, shape)
        times.append(time.process_time() - began)
    return sorted(times)[1]


def measure(directory: Path) -> dict[str, Any]:
    """Runs in a fresh process so that its peak RSS is the report's alone."""
    from responsegap.domain.periods import week_period
    from responsegap.report.compose import compose_weekly_report
    from responsegap.store.dynamo import PostStore

    meta = json.loads((directory / "meta.json").read_text())
    scenario = scenario_for(meta["customer_posts"])
    brand = scenario.brand_config[0]
    profile = brand.profiles[0]
    period = week_period(meta["week"], profile.timezone)
    server = RecordedDynamoDB(directory, meta, poll_log(profile.key, period.start, period.end))
    store = PostStore(TABLE, recorded_client(server), clock=lambda: meta["as_of"])

    timings = {"read": 0.0, "read_cpu": 0.0}
    original = store.posts_between

    def timed_posts_between(profile_key: str, start: int, end: int) -> Iterator[Any]:
        # Timed a few thousand posts at a time, so the measurement adds no list of all posts.
        posts = original(profile_key, start, end)
        while True:
            began, cpu = time.perf_counter(), time.process_time()
            chunk = list(itertools.islice(posts, 4096))
            timings["read"] += time.perf_counter() - began
            timings["read_cpu"] += time.process_time() - cpu
            if not chunk:
                return
            yield from chunk

    store.posts_between = timed_posts_between  # type: ignore[method-assign]
    cpu_began = time.process_time()
    began = time.perf_counter()
    report = compose_weekly_report(store, brand, meta["week"], meta["as_of"])
    composed = time.perf_counter()
    cpu_composed = time.process_time()
    rss_composed = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rendered: dict[str, Any] = {}
    try:
        # As pipeline/weekly.py does it: every file rendered once, for the archive and the email.
        from responsegap.report.artefacts import build_artefacts, describe
        from responsegap.report.mime import build_message

        artefacts = build_artefacts(
            report, archive_location=f"s3://bench-archive/reports/{brand.brand_id}/{meta['week']}/x.csv"
        )
        files = artefacts.archive_files()
        message = build_message(report, "reports@example.com", ["care-lead@example.com"], artefacts=artefacts)
        raw = message.as_bytes()
        rendered = (
            {name: len(content) for name, content in files.items()}
            | {"email": len(raw)}
            | describe(artefacts)
        )
    except ImportError as error:  # report rendering not there yet
        rendered = {"skipped": str(error)}
    done = time.perf_counter()
    figures = report.figures
    return {
        "meta": meta,
        "seconds_total": done - began,
        "cpu_seconds": time.process_time() - cpu_began,
        "cpu_read": timings["read_cpu"],
        "cpu_compose": cpu_composed - cpu_began - timings["read_cpu"],
        "cpu_render": time.process_time() - cpu_composed,
        "seconds_read": timings["read"],
        "seconds_server": server.seconds,
        "seconds_compose": composed - began - timings["read"],
        "seconds_render": done - composed,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_after_compose_mb": rss_composed,
        "requests": server.requests,
        "read_units": server.read_units,
        "post_read_units": server.post_read_units,
        "store_stats": store.stats.as_dict(),
        "openers": figures["openers"],
        "answered": figures["answered"],
        "followups": figures["followups"],
        "rendered": rendered,
        "parse_page_seconds": botocore_parse_seconds(directory / "page-00000.projected.json"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customer-posts", type=int, default=1_000_000)
    parser.add_argument("--build", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--measure", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--project", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument(
        "--pages",
        metavar="DIR",
        help="reuse (or keep) the recorded pages in DIR instead of a temporary directory",
    )
    args = parser.parse_args(argv)
    if args.build:
        meta = build(Path(args.build), args.customer_posts)
        print(json.dumps(meta))
        return 0
    if args.project:
        project_pages(Path(args.project))
        return 0
    if args.measure:
        print(json.dumps(measure(Path(args.measure))))
        return 0

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])),
    }
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.pages or scratch
        began = time.perf_counter()
        kept = Path(tmp, "meta.json")
        if not (
            args.pages
            and kept.exists()
            and json.loads(kept.read_text())["customer_posts"] == args.customer_posts
        ):
            Path(tmp).mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tests.bench.report_from_store",
                    "--customer-posts",
                    str(args.customer_posts),
                    "--build",
                    tmp,
                ],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
            )
        elif not Path(tmp, "page-00000.projected.json").exists():  # kept by an older version
            subprocess.run(
                [sys.executable, "-m", "tests.bench.report_from_store", "--project", tmp], check=True, env=env
            )
        built = time.perf_counter() - began
        out = subprocess.run(
            [sys.executable, "-m", "tests.bench.report_from_store", "--measure", tmp],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    meta = r["meta"]
    print(
        f"report_from_store: 1 brand, {meta['customer_posts_in_week']:,} customer posts "
        f"in week {meta['week']}; "
        f"{meta['items']:,} items ({meta['bytes'] / 2**20:.0f} MB) in {meta['pages']} recorded pages "
        f"(built in {built:.0f} s)"
    )
    ok_time = "MET" if r["seconds_total"] < TARGET_SECONDS else "NOT MET"
    ok_mem = "MET" if r["rss_mb"] < TARGET_MB else "NOT MET"
    print(
        f"  wall {r['seconds_total']:.1f} s (target < {TARGET_SECONDS} s: {ok_time}) "
        f"= read {r['seconds_read']:.1f} s "
        f"(of which the recorded server's file reads {r['seconds_server']:.1f} s) + match/figures/compose "
        f"{r['seconds_compose']:.1f} s + render/archive/email {r['seconds_render']:.1f} s"
    )
    print(
        f"  CPU time of the same: {r['cpu_seconds']:.1f} s = read {r.get('cpu_read', 0):.1f} s + "
        f"match/figures/compose {r.get('cpu_compose', 0):.1f} s + render/archive/email "
        f"{r.get('cpu_render', 0):.1f} s (wall includes the other processes on a shared machine)"
    )
    parse = r["parse_page_seconds"] * meta["pages"]
    print(
        f"  the read used a real boto3 client; without the store's JSON fast path botocore's parser "
        f"would add ~{parse:.0f} s CPU ({r['parse_page_seconds'] * 1000:.0f} ms per 1 MB page, "
        "one page measured)"
    )
    print(
        f"  peak RSS {r['rss_mb']:.0f} MB (target < {TARGET_MB} MB: {ok_mem}); "
        f"peak before rendering {r['rss_after_compose_mb']:.0f} MB"
    )
    print(
        f"  figures: openers {r['openers']:,}, answered {r['answered']:,}, follow-ups {r['followups']:,}; "
        f"rendered {r['rendered']}"
    )
    minimum = meta["min_read_units"]
    ratio = r["post_read_units"] / minimum
    print(
        f"  DynamoDB requests {r['requests']}; read units {r['read_units']:,.1f} in all, of which posts "
        f"{r['post_read_units']:,.1f} vs minimum {minimum:,.1f} (= {meta['bytes']:,} B / 4 KB / 2): "
        f"{ratio:.4f}x "
        f"(target <= 1.10: {'MET' if ratio <= 1.10 else 'NOT MET'}); the rest is the poll log and snapshots"
    )
    print(f"  PostStore.stats: {r['store_stats']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
