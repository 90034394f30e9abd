"""Cold start of each Lambda handler, and deployment package sizes.

Import time: each ``functions/<name>/app.py`` is imported in a fresh interpreter (its module
level runs, as in a Lambda init: Settings from the environment, boto3 clients, Powertools),
5 times; the median is printed with its ratio to importing boto3 alone (and to creating one
boto3 client), measured the same way. The environment is the template's (dummy values, no
network is touched at import) with ``AWS_LAMBDA_FUNCTION_NAME`` set, so Powertools behaves as
in Lambda (the tracer imports the X-Ray SDK and patches botocore; ``LAMBDA_TASK_ROOT`` is set,
without which the tracer disables itself and the X-Ray SDK builds an X-Ray client it never
builds in Lambda). Target: < 300 ms CPU (the verdict is on CPU time: wall time on a shared
machine measures the other tenants). This machine is not a Lambda (x86, shared, maybe 3.11
instead of 3.12 on arm64): read the ratios. Time with ``--python`` pointing at a venv that
holds only what the runtime and the layer hold:

    python3 -m venv /tmp/rg-lambda-venv
    /tmp/rg-lambda-venv/bin/pip install boto3 -r shared/requirements.txt -r shared/requirements-nodeps.txt
    .venv/bin/python -m tests.bench.cold_start --python /tmp/rg-lambda-venv/bin/python

The runs above import ``shared/`` and the venv with their ``.pyc`` files written by a warm-up
run. In Lambda the layer is read-only: a module without a shipped ``.pyc`` is compiled on every
cold start. ``--layer`` times exactly that: the handlers against a built layer directory (its
``python/``, e.g. ``.aws-sam/build/ResponsegapLayer/python``) instead of ``shared/``, with
bytecode writing off, so the layer's own ``.pyc`` files (shared/Makefile ships them, compiled
by 3.12) are all there is. It needs a Python 3.12 ``--python`` with boto3 (the runtime's part):

    python3.12 -m venv /tmp/rg-lambda-312 && /tmp/rg-lambda-312/bin/pip install boto3
    .venv/bin/python -m tests.bench.cold_start --python /tmp/rg-lambda-312/bin/python \
        --layer .aws-sam/build/ResponsegapLayer/python

Package size: from ``.aws-sam/build`` when a ``sam build`` has run; otherwise the zipped
size of ``functions/<name>/`` and of the layer (``shared/responsegap`` plus the installed
distributions of ``shared/requirements.txt`` and their dependencies, from this venv).

    .venv/bin/python -m tests.bench.cold_start [--runs 5]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_MS = 300
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "responsegap-bench",
    # What the Lambda runtime sets. Without LAMBDA_TASK_ROOT, Powertools' Tracer disables itself
    # (no patching) and the X-Ray SDK builds a botocore X-Ray client for its sampler (~80 ms CPU)
    # that it never builds in Lambda: timings without it are neither Lambda's nor a lower bound.
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "responsegap",
    "POWERTOOLS_METRICS_NAMESPACE": "responsegap",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "TABLE_NAME": "responsegap-table",
    "RETENTION_DAYS": "90",
    "REPLY_WINDOW_HOURS": "72",
    "CREDENTIALS_PATH": "/responsegap/",
    "POLL_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/poll",
    "REPORT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/report",
    "ARCHIVE_BUCKET": "responsegap-archive",
    "SENDER_EMAIL": "reports@example.com",
    "LEADER_EMAILS": "lead@example.com",
    "ALERT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/alerts.fifo",
    "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:responsegap-alerts",
}

_TIMER = """
import time, sys, importlib.util
t = time.perf_counter(); c = time.process_time()
{body}
print(time.perf_counter() - t, time.process_time() - c)
"""
_IMPORT_APP = """
sys.path.insert(0, {dir!r})
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.lambda_handler)
"""


# What a handler defers to its first use, timed after the import as well: the total a cold
# start pays when that first use comes in the same invocation.
FIRST_USE = {
    "report": (
        "clients and templates of the first report",
        "module.DEPS.mailer.client; module.DEPS.archive.client\n"
        "import responsegap.report.mime, responsegap.report.artefacts",
    ),
}


PYTHON = [sys.executable]
LAYER: list[Path] = []  # --layer: import the handlers' dependencies from this directory only


def time_in_fresh_interpreter(body: str, runs: int, cwd: Path) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of running ``body`` in each of ``runs`` fresh interpreters."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | LAMBDA_ENV
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # any non-empty value, "0" too, turns writing off
    if LAYER:
        env["PYTHONPATH"] = str(LAYER[0])
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # read-only /opt: only the shipped .pyc files count
    else:
        env["PYTHONPATH"] = str(ROOT / "shared")
    out = []
    for _ in range(runs + 1):  # the first run warms the OS file cache and writes .pyc files
        done = subprocess.run(
            [PYTHON[0], "-c", _TIMER.format(body=body)], env=env, cwd=cwd, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")
        wall, cpu = done.stdout.strip().splitlines()[-1].split()
        out.append((float(wall), float(cpu)))
    return out[1:]


def zipped_size(paths: list[tuple[Path, str]], *, bytecode: bool = False) -> tuple[int, int]:
    """(zipped bytes, unzipped bytes) of the files under ``paths`` (path, name inside the zip).

    ``.pyc`` files count only with ``bytecode``: a source tree's are local leftovers.
    """
    buffer = io.BytesIO()
    raw = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for base, prefix in paths:
            files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
            for file in files:
                if not bytecode and ("__pycache__" in file.parts or file.suffix == ".pyc"):
                    continue
                arcname = prefix + "/" + (file.name if base.is_file() else str(file.relative_to(base)))
                archive.write(file, arcname)
                raw += file.stat().st_size
    return len(buffer.getvalue()), raw


def requirement_closure(requirements: Path, *, follow: bool = True) -> list[str]:
    """Installed distributions named by the requirements file, and everything they require
    (only the named ones without ``follow``)."""
    import re

    wanted = []
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            wanted.append(re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0])
    seen: dict[str, metadata.Distribution] = {}
    stack = list(wanted)
    while stack:
        name = stack.pop().lower().replace("_", "-")
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[name] = dist
        for requirement in (dist.requires or []) if follow else []:
            if "extra ==" in requirement and "tracer" not in requirement:
                continue
            stack.append(re.split(r"[\[<>=!~; (]", requirement, maxsplit=1)[0])
    return sorted(seen)


def dist_files(name: str) -> list[Path]:
    dist = metadata.distribution(name)
    return [Path(dist.locate_file(f)) for f in dist.files or [] if Path(dist.locate_file(f)).is_file()]


def package_sizes() -> list[tuple[str, int, int, str]]:
    build = ROOT / ".aws-sam" / "build"
    rows = []
    if build.is_dir():
        for directory in sorted(p for p in build.iterdir() if p.is_dir()):
            # Everything sam build produced is deployed, .pyc files included.
            zipped, raw = zipped_size([(directory, directory.name)], bytecode=True)
            rows.append((directory.name, zipped, raw, ".aws-sam/build"))
        return rows
    for app in sorted((ROOT / "functions").glob("*/app.py")):
        zipped, raw = zipped_size([(app.parent, app.parent.name)])
        rows.append((f"function {app.parent.name}", zipped, raw, "zip of functions/<name>/"))
    closure = requirement_closure(ROOT / "shared" / "requirements.txt")
    nodeps = ROOT / "shared" / "requirements-nodeps.txt"
    if nodeps.is_file():  # installed without their dependencies (botocore): only themselves
        closure = sorted(set(closure) | set(requirement_closure(nodeps, follow=False)))
    layer_paths: list[tuple[Path, str]] = [(ROOT / "shared" / "responsegap", "python/responsegap")]
    own_zipped, own_raw = zipped_size(layer_paths)
    rows.append(("layer: responsegap package", own_zipped, own_raw, "zip of shared/responsegap"))
    total_zipped, total_raw = own_zipped, own_raw
    for name in closure:
        zipped, raw = _zip_dist(name)
        total_zipped += zipped
        total_raw += raw
        rows.append((f"layer:   + {name}", zipped, raw, "installed files (pip would put it in the layer)"))
    rows.append(
        (
            "layer: total",
            total_zipped,
            total_raw,
            "shared/responsegap + closure of shared/requirements.txt + requirements-nodeps.txt",
        )
    )
    return rows


def _zip_dist(name: str) -> tuple[int, int]:
    dist = metadata.distribution(name)
    buffer = io.BytesIO()
    raw = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in dist.files or []:
            file = Path(dist.locate_file(relative))
            if not file.is_file() or file.suffix == ".pyc" or "__pycache__" in file.parts:
                continue
            archive.write(file, f"python/{relative}")
            raw += file.stat().st_size
    return len(buffer.getvalue()), raw


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--layer",
        type=Path,
        help="a built layer's python/ directory to import from instead of shared/, with bytecode "
        "writing off as on Lambda's read-only /opt (use a 3.12 --python: the layer's .pyc are 3.12)",
    )
    parser.add_argument(
        "--python",
        help="interpreter to time with, e.g. a venv holding only boto3 + shared/requirements.txt "
        "(this project's .venv also has dev tools such as pyOpenSSL and awscrt that botocore "
        "imports when present, which the Lambda runtime does not have)",
    )
    args = parser.parse_args(argv)
    if args.python:
        PYTHON[0] = args.python
    if args.layer:
        LAYER.append(args.layer.resolve())
    apps = sorted((ROOT / "functions").glob("*/app.py"))
    print(f"cold_start: import in a fresh interpreter ({PYTHON[0]}), median of {args.runs}")
    source = f"{LAYER[0]} (bytecode writing off)" if LAYER else "shared/"
    print(f"  dependencies from {source}")
    print(
        "  wall ms is what a user waits; CPU ms is the same work without the other processes "
        "of a shared machine"
    )
    boto3_runs = time_in_fresh_interpreter("import boto3", args.runs, ROOT)
    boto3_alone = statistics.median(w for w, _ in boto3_runs)
    boto3_cpu = statistics.median(c for _, c in boto3_runs)
    client_runs = time_in_fresh_interpreter("import boto3; boto3.client('dynamodb')", args.runs, ROOT)
    print(
        f"  import boto3 alone: wall {boto3_alone * 1000:.0f} ms, CPU {boto3_cpu * 1000:.0f} ms; "
        f"import boto3 + one client: wall {statistics.median(w for w, _ in client_runs) * 1000:.0f} ms, "
        f"CPU {statistics.median(c for _, c in client_runs) * 1000:.0f} ms"
    )
    failures = 0
    for app in apps:
        body = _IMPORT_APP.format(dir=str(app.parent), path=str(app))
        try:
            times = time_in_fresh_interpreter(body, args.runs, app.parent)
        except RuntimeError as error:
            print(f"  {app.parent.name:16s} FAILED to import: {error}")
            failures += 1
            continue
        median = statistics.median(w for w, _ in times)
        cpu = statistics.median(c for _, c in times)
        verdict = "MET" if cpu * 1000 < TARGET_MS else "NOT MET"
        print(
            f"  {app.parent.name:16s} wall {median * 1000:5.0f} ms ({median / boto3_alone:.1f}x boto3), "
            f"CPU {cpu * 1000:5.0f} ms ({cpu / boto3_cpu:.1f}x boto3); target < {TARGET_MS} ms CPU: {verdict}"
        )
        if app.parent.name in FIRST_USE:
            what, then = FIRST_USE[app.parent.name]
            times = time_in_fresh_interpreter(body + then, args.runs, app.parent)
            total = statistics.median(c for _, c in times)
            print(
                f"  {'':16s} + {what} (made on first use): CPU {total * 1000:5.0f} ms in all "
                f"({total / boto3_cpu:.1f}x boto3)"
            )
    if not apps:
        print("  no functions/*/app.py yet")
    print("package sizes (zipped / unzipped):")
    for name, zipped, raw, source in package_sizes():
        print(f"  {name}: {zipped / 1024:,.0f} KB / {raw / 1024:,.0f} KB  [{source}]")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
