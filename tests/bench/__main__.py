"""Run every benchmark in turn: ``python -m tests.bench`` (``make bench``).

Each one runs in its own process (so one's memory does not count against the next) and
prints its figures; a benchmark that fails is reported and the others still run. Extra
arguments are passed to every benchmark only with ``--quick`` (smaller sizes for a smoke run).

    .venv/bin/python -m tests.bench            # full sizes (1M posts each; tens of minutes)
    .venv/bin/python -m tests.bench --quick    # 50,000 posts each, a couple of minutes
    .venv/bin/python -m tests.bench engine_throughput cold_start   # only these
"""

from __future__ import annotations

import subprocess
import sys
import time

BENCHMARKS: dict[str, list[str]] = {
    "engine_throughput": [],
    "engine_vs_duckdb": [],
    "analyze_memory": [],
    "report_from_store": [],
    "cold_start": [],
    "connector_requests": [],
    "fanout": [],
    "alert_latency": [],
}
QUICK: dict[str, list[str]] = {
    "engine_throughput": ["--posts", "50000"],
    "engine_vs_duckdb": ["--posts", "50000"],
    "analyze_memory": ["--posts", "50000"],
    "report_from_store": ["--customer-posts", "20000"],
    "cold_start": ["--runs", "3"],
    "connector_requests": [],
    "fanout": ["--quick"],
    "alert_latency": ["--posts", "150"],
}


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    names = [a for a in argv if not a.startswith("-")] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        args = QUICK[name] if quick else BENCHMARKS[name]
        print(f"\n=== {name} {' '.join(args)}", flush=True)
        began = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", f"tests.bench.{name}", *args])
        print(f"=== {name}: exit {code}, {time.perf_counter() - began:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
