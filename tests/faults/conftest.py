"""Fixtures of the fault suite and the counts it prints at the end of every run.

``compare(faulty, reference)`` asserts a faulty run stored exactly what the fault-free one
did and records what differed in the ledger; the terminal summary prints the cases run and
the posts lost or counted twice, so CI output shows them ("data lost" must be 0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.faults.harness import FakeX, Hooks, Outcome, run
from tests.faults.summary import pytest_runtest_logreport, pytest_terminal_summary  # noqa: F401

_REFERENCE: dict[str, Outcome] = {}


def diff(faulty: Outcome, reference: Outcome, *, open_markers: bool = True) -> dict[str, Any]:
    ours = faulty.posts if open_markers else faulty.content()
    theirs = reference.posts if open_markers else reference.content()
    return {
        "lost": sorted(set(theirs) - set(ours)),
        "extra": sorted(set(ours) - set(theirs)),
        "changed": sorted(k for k in set(ours) & set(theirs) if ours[k] != theirs[k]),
        "cursor": faulty.cursor != reference.cursor,
        "figures": faulty.figures != reference.figures,
    }


@pytest.fixture
def compare(request: pytest.FixtureRequest) -> Callable[..., None]:
    def check(faulty: Outcome, reference: Outcome, *, open_markers: bool = True, cursor: bool = True) -> None:
        found = diff(faulty, reference, open_markers=open_markers)
        # Travels with the test report (also from xdist workers) to the summary below.
        request.node.user_properties.append(
            (
                "fault_diff",
                {
                    "posts": len(reference.posts),
                    "lost": len(found["lost"]),
                    "extra": len(found["extra"]),
                    "changed": len(found["changed"]),
                    "figures": int(found["figures"]),
                },
            )
        )
        assert reference.posts, "the reference run stored nothing: the harness is broken"
        assert found["lost"] == [], f"posts lost: {found['lost']} (injected {faulty.injected})"
        assert found["extra"] == [], f"posts stored twice or invented: {found['extra']}"
        assert found["changed"] == [], {k: (faulty.posts[k], reference.posts[k]) for k in found["changed"]}
        if cursor:
            assert faulty.cursor == reference.cursor
        assert faulty.figures == reference.figures

    return check


@pytest.fixture
def reference(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Outcome]:
    """The fault-free run (same world, same schedule), built on demand."""

    def build(platform: FakeX | None = None, hooks: Hooks | None = None, **kwargs: Any) -> Outcome:
        if platform is None and hooks is None and not kwargs:
            # The plain fault-free run is the same for every case: computed once per process.
            if "plain" not in _REFERENCE:
                _REFERENCE["plain"] = run(monkeypatch, FakeX())
            return _REFERENCE["plain"]
        return run(monkeypatch, platform or FakeX(), hooks, **kwargs)

    return build


@pytest.fixture
def faulty(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Outcome]:
    def build(platform: FakeX, hooks: Hooks | None = None, **kwargs: Any) -> Outcome:
        return run(monkeypatch, platform, hooks, **kwargs)

    return build
