"""The template validates, lints and builds, as CI runs it on every change.

These run the real tools as subprocesses: ``sam validate --lint``, ``cfn-lint`` and
``sam build`` (through infra/with-python312, into a temporary directory, no Docker).
A machine without Python 3.12 FAILS here with the script's message: a skipped build
would let a broken layer through.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FUNCTIONS = (
    "DispatchFunction",
    "PollFunction",
    "RecheckFunction",
    "ReportDispatchFunction",
    "ReportFunction",
)


def run(
    command: list[str], *, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SAM_CLI_TELEMETRY": "0", **(env or {})}
    # The venv's tools (sam, cfn-lint) first, as `make` puts them.
    environment["PATH"] = f"{BIN}{os.pathsep}{environment.get('PATH', '')}"
    return subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout, check=False
    )


def explain(result: subprocess.CompletedProcess) -> str:
    return (
        f"exit {result.returncode}\n--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
    )


def test_sam_validate_lint() -> None:
    result = run([str(BIN / "sam"), "validate", "--lint", "--template-file", "template.yaml"])
    assert result.returncode == 0, explain(result)
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint() -> None:
    result = run([str(BIN / "cfn-lint"), "template.yaml"])
    assert result.returncode == 0, explain(result)


def test_sam_build(tmp_path: Path) -> None:
    build = tmp_path / "build"
    result = run(
        [
            str(ROOT / "infra" / "with-python312"),
            str(BIN / "sam"),
            "build",
            "--template-file",
            "template.yaml",
            "--build-dir",
            str(build),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        timeout=600,
    )
    assert result.returncode == 0, explain(result)
    layer = build / "ResponsegapLayer" / "python"
    # The package and its dependencies land where the Lambda runtime looks for layers.
    for path in (
        "responsegap/pipeline/poll.py",
        "responsegap/report/templates",
        "aws_lambda_powertools",
        "jinja2",
    ):
        assert (layer / path).exists(), path
    for function in FUNCTIONS:
        assert (build / function / "app.py").is_file(), function
    total = sum(f.stat().st_size for f in build.rglob("*") if f.is_file())
    assert total < 250 * 1024 * 1024  # the Lambda limit for function + layers, unzipped


def test_with_python312_fails_clearly_without_python312(tmp_path: Path) -> None:
    # A PATH with no python3.12 and no pyenv: the script must fail and say why.
    result = subprocess.run(
        [str(ROOT / "infra" / "with-python312"), "true"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    if Path("/usr/bin/python3.12").exists() or Path("/bin/python3.12").exists():
        assert result.returncode == 0  # a system python3.12 is a fine answer
    else:
        assert result.returncode != 0
        assert "no working Python 3.12 found" in result.stderr


def test_with_python312_puts_312_first() -> None:
    result = run(
        [
            str(ROOT / "infra" / "with-python312"),
            "python3.12",
            "-c",
            "import sys; print(sys.version_info[:2])",
        ]
    )
    assert result.returncode == 0, explain(result)
    assert result.stdout.strip() == "(3, 12)"
