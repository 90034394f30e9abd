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
        "aws_xray_sdk",
        "wrapt",
        "jinja2",
        "yaml",
    ):
        assert (layer / path).exists(), path
    for function in FUNCTIONS:
        assert (build / function / "app.py").is_file(), function
    # The runtime's boto3/botocore, never a second copy (30 MB, and it would shadow the runtime's).
    assert not (layer / "botocore").exists() and not (layer / "boto3").exists()
    assert not layer_requirements_missing(layer)
    # arm64 wheels, whatever machine built the layer.
    native = [p.name for p in layer.rglob("*.so")]
    assert native and all("aarch64" in name for name in native), native
    # Bytecode for 3.12 ships with the sources: /opt is read-only, nothing would cache it.
    assert (layer / "responsegap" / "pipeline" / "__pycache__" / "poll.cpython-312.pyc").is_file()
    assert (layer / "aws_lambda_powertools" / "__pycache__" / "__init__.cpython-312.pyc").is_file()
    total = sum(f.stat().st_size for f in build.rglob("*") if f.is_file())
    assert total < 40 * 1024 * 1024  # ~17 MB with the bytecode; 33 MB when botocore came along


# What the python3.12 Lambda runtime provides: boto3 and its dependencies.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}


def layer_requirements_missing(layer: Path) -> list[str]:
    """Requirements of the layer's distributions found neither in the layer nor in the runtime.

    shared/requirements-nodeps.txt is installed without dependencies: a new requirement of
    aws-xray-sdk (say) would otherwise only show as an ImportError in Lambda.
    """
    from email.parser import HeaderParser

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    environment = {"python_version": "3.12", "python_full_version": "3.12.0", "platform_machine": "aarch64"}
    environment |= {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "extra": ""}
    metadata = {
        info: HeaderParser().parse(info.joinpath("METADATA").open(encoding="utf-8"))
        for info in layer.glob("*.dist-info")
    }
    present = {canonicalize_name(m["Name"]) for m in metadata.values()}
    missing = []
    for info, meta in metadata.items():
        for line in meta.get_all("Requires-Dist") or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            name = canonicalize_name(requirement.name)
            if name not in present and name not in RUNTIME_PROVIDED:
                missing.append(f"{info.name} requires {line}")
    return missing


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
