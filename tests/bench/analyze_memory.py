"""``responsegap analyze --store memory`` on a generated 1,000,000-row TWCS CSV.

The file has the real Customer Support on Twitter columns and quirks (brand author ids are
screen names, customers numbers, ``Tue Oct 31 22:10:47 +0000 2017`` times, comma-separated
``response_tweet_id``, float ``in_response_to_tweet_id``, rows not in time order). The command
runs in a child process exactly as a user would start it; its wall time and peak RSS (from
``wait4``'s rusage of that child) are printed. Target: peak RSS < 512 MB.

    .venv/bin/python -m tests.bench.analyze_memory [--posts 1000000] [--keep FILE] [--file FILE]

``--file`` measures an existing CSV (e.g. one written earlier with ``--keep``) instead of
generating one. Compare CPU time and peak RSS between runs, not wall time (shared machines).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.synthetic import Scenario, write_twcs_csv

TARGET_MB = 512


def run_child(argv: list[str]) -> tuple[int, float, float, float, str, str]:
    """(exit code, wall s, user+sys CPU s, peak RSS MB, stdout, stderr) of one child process."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (
            process.returncode,
            wall,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024,
            out.read().decode(),
            err.read().decode(),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--brands", type=int, default=20)
    parser.add_argument("--keep", help="write the CSV here and keep it")
    parser.add_argument("--file", help="measure this existing TWCS CSV instead of generating one")
    args = parser.parse_args(argv)

    scenario = Scenario(n_posts=args.posts, brands=args.brands, twcs=True)
    with tempfile.TemporaryDirectory() as tmp:
        if args.file:
            path = Path(args.file)
            with path.open("rb") as csv_file:
                rows = sum(1 for _ in csv_file) - 1  # lines: rows unless texts hold newlines
            written = 0.0
        else:
            path = Path(args.keep) if args.keep else Path(tmp) / "twcs-generated.csv"
            began = time.perf_counter()
            rows = write_twcs_csv(scenario, path)
            written = time.perf_counter() - began
        size = path.stat().st_size
        json_path = Path(tmp) / "figures.json"
        code, wall, cpu, rss, _out, err = run_child(
            [
                sys.executable,
                "-m",
                "responsegap.cli",
                "analyze",
                str(path),
                "--store",
                "memory",
                "--json",
                str(json_path),
            ]
        )
        figures = json.loads(json_path.read_text()) if code == 0 and json_path.exists() else None
    origin = f"from {path}" if args.file else f"written in {written:.1f} s, {args.brands} brands"
    print(f"analyze_memory: {rows:,} TWCS lines ({size / 2**20:.0f} MB, {origin})")
    if code != 0:
        print(f"  responsegap analyze FAILED (exit {code}):\n{err[-2000:]}")
        return 1
    print(
        f"  responsegap analyze --store memory: wall {wall:.1f} s, CPU {cpu:.1f} s, "
        f"peak RSS {rss:.0f} MB (target < {TARGET_MB} MB: {'MET' if rss < TARGET_MB else 'NOT MET'})"
    )
    print(f"  its own summary: {err.strip().splitlines()[-1] if err.strip() else '-'}")
    if figures:
        overall = figures["overall"]
        print(
            f"  overall: openers {overall['openers']:,}, answered {overall['answered']:,}, "
            f"follow-ups {overall['followups']:,}"
        )
    return 0  # a figure, not a test: the line above says whether the target is met


if __name__ == "__main__":
    raise SystemExit(main())
