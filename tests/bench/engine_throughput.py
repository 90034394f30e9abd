"""Engine throughput: ``match()`` + ``metrics.report()`` on pre-built posts.

Target: >= 200,000 posts/s on 1,000,000 posts. Prints posts/s, the split between match and
report, and peak memory (ru_maxrss for the process; tracemalloc peak of the engine run with
``--tracemalloc``, which slows the run several-fold so its time is not reported). With
``--profile`` it prints the cProfile hot spots of one run. ``--gc`` compares the garbage
collector left on (default, what production does), frozen after the posts are built
(``gc.freeze()``) and disabled during the run.

    .venv/bin/python -m tests.bench.engine_throughput [--posts 1000000] [--profile] [--gc]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import resource
import time
import tracemalloc

from responsegap.domain import metrics
from responsegap.domain.matching import match
from tests.bench.synthetic import Scenario

TARGET = 200_000


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


CPU = {"last": 0.0}


def run_once(posts, scenario: Scenario) -> tuple[float, float, int, dict]:
    """Wall seconds of match and of report; CPU seconds of both go to CPU["last"]."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    outcomes = match(posts, scenario.brand_config, scenario.as_of)
    t1 = time.perf_counter()
    report = metrics.report(outcomes, scenario.brand_config, scenario.period_of, scenario.as_of)
    t2 = time.perf_counter()
    CPU["last"] = time.process_time() - c0
    return t1 - t0, t2 - t1, len(outcomes), report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--brands", type=int, default=12)
    parser.add_argument("--profile", action="store_true", help="print cProfile hot spots")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations of a run")
    parser.add_argument("--gc", action="store_true", help="compare gc on / frozen / disabled")
    args = parser.parse_args(argv)

    scenario = Scenario(n_posts=args.posts, brands=args.brands)
    base_rss = rss_mb()
    t = time.perf_counter()
    posts = list(scenario.posts())
    built = time.perf_counter() - t
    posts_rss = rss_mb()
    print(
        f"engine_throughput: {len(posts):,} posts, {args.brands} brands (built in {built:.1f} s, "
        f"ru_maxrss {base_rss:.0f} -> {posts_rss:.0f} MB after building)"
    )

    t_match, t_report, n_outcomes, report = run_once(posts, scenario)
    total = t_match + t_report
    rate = len(posts) / total
    overall = report["overall"]
    print(
        f"  match {t_match:.2f} s + report {t_report:.2f} s = {total:.2f} s -> {rate:,.0f} posts/s "
        f"(target >= {TARGET:,}: {'MET' if rate >= TARGET else 'NOT MET'})"
    )
    cpu_rate = len(posts) / CPU["last"]
    print(
        f"  CPU time {CPU['last']:.2f} s -> {cpu_rate:,.0f} posts/s per CPU second "
        f"(the figure to trust on a shared machine: wall time includes other processes' load)"
    )
    print(
        f"  outcomes {n_outcomes:,}; openers {overall['openers']:,}, answered {overall['answered']:,}, "
        f"by human {overall['answered_by_human']:,}, follow-ups {overall['followups']:,}"
    )
    print(
        f"  peak RSS (ru_maxrss) {rss_mb():.0f} MB; "
        f"engine run added {rss_mb() - posts_rss:.0f} MB over the posts"
    )

    if args.gc:
        del report
        for mode in ("frozen", "disabled"):
            gc.collect()
            if mode == "frozen":
                gc.freeze()
            else:
                gc.disable()
            t_match, t_report, _, report = run_once(posts, scenario)
            del report
            gc.enable()
            gc.unfreeze()
            print(
                f"  gc {mode:8s}: match {t_match:.2f} s + report {t_report:.2f} s -> "
                f"{len(posts) / (t_match + t_report):,.0f} posts/s; CPU {CPU['last']:.2f} s -> "
                f"{len(posts) / CPU['last']:,.0f} posts/CPU-s"
            )

    if args.tracemalloc:
        gc.collect()
        tracemalloc.start()
        run_once(posts, scenario)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  tracemalloc peak of one engine run (posts excluded): {peak / 2**20:.0f} MB")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run_once(posts, scenario)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print("  cProfile hot spots (tottime):")
        for line in out.getvalue().splitlines():
            if line.strip() and ("ncalls" in line or "{" in line or ".py:" in line):
                print("    " + line.strip()[:150])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
