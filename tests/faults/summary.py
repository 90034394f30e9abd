"""The fault suite's counts at the end of a run: cases run, data lost, posts doubled or altered.

``tests/faults/conftest.py`` imports these hooks, so ``pytest tests/faults`` prints them. In a
whole-suite run under xdist the controller does not load that conftest; load this module as a
plugin there (``-p tests.faults.summary`` in ``addopts``, or ``pytest_plugins`` in the root
conftest). Each test is counted once and the section printed once however often the hooks run.
"""

from __future__ import annotations

from typing import Any

import pytest

# nodeid -> (outcome, [diff counts]); keyed, so a hook that runs twice counts once.
_RESULTS: dict[str, tuple[str, list[dict[str, int]]]] = {}
_PRINTED: list[bool] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "tests/faults/" not in report.nodeid.replace("\\", "/"):
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        outcome = "xfailed" if hasattr(report, "wasxfail") else report.outcome
        diffs = [found for name, found in report.user_properties if name == "fault_diff"]
        _RESULTS[report.nodeid] = (outcome, diffs)


def summary_lines() -> list[str]:
    counts: dict[str, int] = {}
    total = {"comparisons": 0, "posts": 0, "lost": 0, "extra": 0, "changed": 0, "figures": 0}
    known = []
    for nodeid, (outcome, diffs) in sorted(_RESULTS.items()):
        counts[outcome] = counts.get(outcome, 0) + 1
        for found in diffs:
            total["comparisons"] += 1
            total["posts"] += found["posts"]
            if outcome == "xfailed":
                known.append(
                    f"known (xfail, reported to the lead): {nodeid.split('::')[-1]}: {found['lost']} lost, "
                    f"{found['changed']} altered, figures {'differ' if found['figures'] else 'equal'}"
                )
            else:
                for name in ("lost", "extra", "changed", "figures"):
                    total[name] += found[name]
    return [
        f"cases run: {len(_RESULTS)} ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}); "
        f"runs compared with the fault-free run: {total['comparisons']}, posts compared: {total['posts']}",
        f"data lost: {total['lost']}; posts stored twice: {total['extra']}; "
        f"posts altered: {total['changed']}; figure mismatches: {total['figures']}",
        *known,
    ]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _RESULTS or _PRINTED:
        return
    _PRINTED.append(True)
    terminalreporter.section("fault injection")
    for line in summary_lines():
        terminalreporter.write_line(line)
