"""The demo as a newcomer runs it: ``python -m infra.local.demo``, in a subprocess.

A subprocess keeps the demo's embedded AWS, environment and loaded Lambda modules out of the
test process (and out of the other tests' moto state), and is the only honest way to test
Ctrl-C. The quick demo runs once per session; its output folder is shared by the tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def demo_env() -> dict[str, str]:
    env = dict(os.environ)
    # No real account can be reached, whatever the developer's shell has set.
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_SESSION_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"  # progress lines arrive as they are printed
    return env


@dataclass
class DemoRun:
    out: Path
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def quick_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    out = tmp_path_factory.mktemp("demo") / "out"
    completed = subprocess.run(
        [sys.executable, "-m", "infra.local.demo", "--quick", "--out", str(out)],
        cwd=REPO,
        env=demo_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    yield DemoRun(out, completed.returncode, completed.stdout, completed.stderr)
