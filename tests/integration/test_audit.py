"""Static and dependency audits as tests, so CI fails on a high finding (``make audit`` runs them too).

- ``bandit -r shared functions -lll``: no high-severity finding in our code. Medium and low
  ones are listed in docs/security.md with why they are accepted.
- ``pip-audit`` against the installed environment: no dependency with a known vulnerability.
  pip-audit asks PyPI's JSON API for advisories; on a machine that reaches only a package
  mirror without that API, every package comes back "not found on PyPI" and nothing is
  audited. The test then SKIPS with that message, unless ``RESPONSEGAP_REQUIRE_AUDIT=1``
  (set it in a CI that reaches pypi.org), where it fails: an audit that audited nothing is
  not a pass.
- The PyPA Advisory Database snapshot (infra/advisories, read by infra/advisory_check.py):
  always runs, offline. The installed runtime set (the layer's requirements, their closure and
  the runtime's SDK) must not be affected by any advisory in the snapshot. The snapshot ages
  (see infra/advisories/SOURCE.md): it complements pip-audit, it does not replace it. The OSV
  matching logic is tested here too, on small hand-written documents and on real snapshot files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.advisory_check import (
    SNAPSHOT,
    Advisory,
    SnapshotError,
    check,
    is_affected,
    load_advisories,
    main,
    parse_advisory,
    runtime_distributions,
)

ROOT = Path(__file__).resolve().parents[2]
# Advisory ids we have looked at and accepted, each with the reason (keep empty if possible).
ACCEPTED: dict[str, str] = {}


def _tool(name: str) -> list[str]:
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return [str(beside)]
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: it is a dev dependency (pip install -e '.[dev]')")
    return [found]


def test_bandit_finds_nothing_of_high_severity() -> None:
    completed = subprocess.run(
        [*_tool("bandit"), "-r", "shared", "functions", "-lll", "-f", "json", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"bandit did not produce JSON (exit {completed.returncode}): {completed.stderr[-2000:]}")
    assert report["errors"] == [], report["errors"]
    high = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
        for r in report["results"]
        if r["issue_severity"] == "HIGH"
    ]
    assert high == [], "bandit high-severity findings:\n" + "\n".join(high)
    assert report["metrics"]["_totals"]["loc"] > 1000  # it really scanned the code


def test_pip_audit_finds_no_known_vulnerability() -> None:
    completed = subprocess.run(
        [*_tool("pip-audit"), "--progress-spinner", "off", "-f", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        report = None
    if report is None:
        message = f"pip-audit could not run (exit {completed.returncode}): {completed.stderr[-1500:]}"
        _unaudited(message)
        return
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    vulnerable = [
        f"{d['name']} {d['version']}: {v['id']} (fix: {', '.join(v.get('fix_versions', [])) or 'none'})"
        for d in audited
        for v in d.get("vulns", [])
        if v["id"] not in ACCEPTED
    ]
    assert vulnerable == [], "dependencies with known vulnerabilities:\n" + "\n".join(vulnerable)
    if not audited:
        reasons = {d.get("skip_reason", "").split(":")[0] for d in dependencies}
        _unaudited(
            f"pip-audit reached no vulnerability data: all {len(dependencies)} packages were skipped "
            f"({'; '.join(sorted(reasons))[:300]}). This machine reaches a package mirror, not PyPI's "
            "advisory API."
        )


def _unaudited(message: str) -> None:
    if os.environ.get("RESPONSEGAP_REQUIRE_AUDIT", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message + " Set RESPONSEGAP_REQUIRE_AUDIT=1 where pypi.org is reachable to make this fail.")


# --- the offline snapshot check ---------------------------------------------------------------

# The runtime set: shared/requirements*.txt, pyproject's dependencies, their installed closure and
# the SDK the Lambda runtime provides. Listed so that a change in the set is seen here.
RUNTIME_SET = {
    "aws-lambda-powertools",
    "aws-xray-sdk",
    "boto3",
    "botocore",
    "certifi",
    "charset-normalizer",
    "idna",
    "jinja2",
    "jmespath",
    "markupsafe",
    "python-dateutil",
    "pyyaml",
    "requests",
    "s3transfer",
    "six",
    "slack-sdk",
    "typing-extensions",
    "urllib3",
    "wrapt",
    "vadersentiment",
}


@pytest.fixture(scope="module")
def snapshot() -> list[Advisory]:
    return load_advisories()


def test_snapshot_finds_no_known_vulnerability_in_the_runtime_dependencies(snapshot: list[Advisory]) -> None:
    installed = runtime_distributions()
    assert set(installed) == RUNTIME_SET
    findings = [f for f in check(installed, snapshot) if f.advisory not in ACCEPTED]
    listed = [
        f"{f.package} {f.installed}: {f.advisory} {', '.join(f.aliases)} "
        f"(fixed in {', '.join(f.fixed) or '-'}; infra/advisories/pypa/{f.source})"
        for f in findings
    ]
    assert findings == [], "runtime dependencies with a known vulnerability (snapshot):\n" + "\n".join(listed)


def test_snapshot_is_loaded_whole(snapshot: list[Advisory]) -> None:
    # An empty or half-read snapshot would make the test above pass for nothing.
    files = sorted(SNAPSHOT.rglob("*.yaml"))
    assert len(snapshot) == len(files) >= 50
    packages = {affected.package for advisory in snapshot for affected in advisory.affected}
    assert {"certifi", "idna", "jinja2", "pyyaml", "requests", "urllib3"} <= packages
    assert all(advisory.source.endswith(f"{advisory.id}.yaml") for advisory in snapshot)


def test_snapshot_reports_old_versions_as_affected(snapshot: list[Advisory]) -> None:
    findings = check({"requests": "2.19.0", "urllib3": "1.24.1", "jinja2": "2.10"}, snapshot)
    found = {(f.package, f.advisory): f for f in findings}
    # requests < 2.20.0 sends the Authorization header on an https->http redirect.
    assert "CVE-2018-18074" in found["requests", "PYSEC-2018-28"].aliases
    assert found["requests", "PYSEC-2018-28"].fixed == ("2.20.0",)
    assert ("requests", "PYSEC-2023-74") in found  # introduced 2.3.0, fixed 2.31.0
    # urllib3 through 1.24.1: CRLF injection (fixed 1.24.3) and CA-certificate mishandling (1.24.2).
    assert found["urllib3", "PYSEC-2019-132"].fixed == ("1.24.3",)
    assert ("urllib3", "PYSEC-2019-133") in found
    # Fixed before 1.24.1 (1.23) or introduced after it (1.25.4): not reported.
    assert ("urllib3", "PYSEC-2018-32") not in found
    assert ("urllib3", "PYSEC-2021-108") not in found
    assert ("jinja2", "PYSEC-2019-217") in found  # sandbox escape, fixed 2.10.1
    # The same packages at their fixed versions.
    fixed = check({"requests": "2.20.0", "urllib3": "1.24.3"}, snapshot)
    assert "PYSEC-2018-28" not in {f.advisory for f in fixed}
    assert "PYSEC-2019-132" not in {f.advisory for f in fixed}


def test_one_real_file_and_the_logic_agree() -> None:
    [advisory] = [a for a in load_advisories() if a.id == "PYSEC-2018-28"]
    assert is_affected(advisory, "requests", "2.19.0")
    assert is_affected(advisory, "Requests", "0.2.0")  # names are PEP 503 normalised
    assert not is_affected(advisory, "requests", "2.20.0")
    assert not is_affected(advisory, "urllib3", "1.0")


def test_command_line_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "20 runtime packages checked" in capsys.readouterr().out
    assert main(["--check", "urllib3==1.24.1"]) == 1
    out = capsys.readouterr().out
    assert "PYSEC-2019-132" in out and "CVE-2019-11236" in out
    assert main(["--check", "urllib3"]) == 2


def _osv(*affected: dict[str, object], withdrawn: str | None = None) -> Advisory:
    document: dict[str, object] = {"id": "TEST-1", "aliases": ["CVE-0000-0001"], "affected": list(affected)}
    if withdrawn:
        document["withdrawn"] = withdrawn
    return parse_advisory(document, "test")


def _pkg(name: str = "demo", ecosystem: str = "PyPI") -> dict[str, str]:
    return {"name": name, "ecosystem": ecosystem}


def _range(*events: tuple[str, str], kind: str = "ECOSYSTEM") -> dict[str, object]:
    return {"type": kind, "events": [{event: version} for event, version in events]}


INTRODUCED_FIXED = _osv({"package": _pkg(), "ranges": [_range(("introduced", "1.0"), ("fixed", "1.5"))]})
FROM_ZERO = _osv({"package": _pkg(), "ranges": [_range(("introduced", "0"), ("fixed", "2.0"))]})
LAST_AFFECTED = _osv(
    {"package": _pkg(), "ranges": [_range(("introduced", "0"), ("last_affected", "2.1.214"))]}
)
VERSIONS_ONLY = _osv({"package": _pkg(), "versions": ["1.2", "1.3rc1"]})
TWO_RANGES = _osv(
    {
        "package": _pkg(),
        "ranges": [
            _range(("introduced", "1.0"), ("fixed", "1.0.2")),
            _range(("introduced", "3.0"), ("fixed", "3.2.5")),
        ],
    }
)
# Two intervals in one range, listed newest first as in PYSEC-2023-192: evaluation sorts them.
UNSORTED_EVENTS = _osv(
    {
        "package": _pkg(),
        "ranges": [
            _range(("introduced", "2.0.0"), ("fixed", "2.0.6"), ("introduced", "0"), ("fixed", "1.26.17"))
        ],
    }
)
LIMITED = _osv({"package": _pkg(), "ranges": [_range(("introduced", "0"), ("limit", "2.0"))]})
UNFIXED = _osv({"package": _pkg(), "ranges": [_range(("introduced", "4.0"))]})
GIT_ONLY = _osv({"package": _pkg(), "ranges": [_range(("introduced", "0"), ("fixed", "a" * 40), kind="GIT")]})
GIT_AND_VERSIONS = _osv(
    {
        "package": _pkg(),
        "ranges": [_range(("introduced", "0"), ("fixed", "a" * 40), kind="GIT")],
        "versions": ["0.9"],
    }
)


@pytest.mark.parametrize(
    ("advisory", "version", "expected"),
    [
        (INTRODUCED_FIXED, "0.9", False),
        (INTRODUCED_FIXED, "1.0", True),  # exactly at introduced: affected
        (INTRODUCED_FIXED, "1.0.0", True),  # PEP 440: the same version
        (INTRODUCED_FIXED, "1.4.99", True),
        (INTRODUCED_FIXED, "1.5", False),  # exactly at fixed: not affected
        (INTRODUCED_FIXED, "1.5.post1", False),
        (INTRODUCED_FIXED, "2.0", False),
        (INTRODUCED_FIXED, "1.5rc1", True),  # a pre-release of the fix comes before it
        (INTRODUCED_FIXED, "1.0rc1", False),  # a pre-release of the first affected version does not
        (INTRODUCED_FIXED, "1.0.dev0", False),
        (FROM_ZERO, "0.0.1", True),  # "0": from the very first version
        (FROM_ZERO, "0.0.0.dev0", True),
        (FROM_ZERO, "1.9.9", True),
        (FROM_ZERO, "2.0", False),
        (LAST_AFFECTED, "2.1.214", True),  # last_affected is included
        (LAST_AFFECTED, "2.1.215a1", False),
        (LAST_AFFECTED, "2.1.215", False),
        (VERSIONS_ONLY, "1.2", True),
        (VERSIONS_ONLY, "1.2.0", True),
        (VERSIONS_ONLY, "1.3rc1", True),
        (VERSIONS_ONLY, "1.2.1", False),
        (VERSIONS_ONLY, "1.3", False),
        (TWO_RANGES, "1.0.1", True),
        (TWO_RANGES, "1.0.2", False),
        (TWO_RANGES, "2.5", False),
        (TWO_RANGES, "3.0", True),
        (TWO_RANGES, "3.2.4", True),
        (TWO_RANGES, "3.2.5", False),
        (UNSORTED_EVENTS, "1.26.16", True),
        (UNSORTED_EVENTS, "1.26.17", False),
        (UNSORTED_EVENTS, "1.26.20", False),
        (UNSORTED_EVENTS, "2.0.0", True),
        (UNSORTED_EVENTS, "2.0.5", True),
        (UNSORTED_EVENTS, "2.0.6", False),
        (LIMITED, "1.9", True),
        (LIMITED, "2.0", False),
        (UNFIXED, "3.9", False),
        (UNFIXED, "4.0", True),
        (UNFIXED, "99.0", True),
        (GIT_ONLY, "0.1", False),  # a commit range alone cannot be evaluated offline
        (GIT_AND_VERSIONS, "0.9", True),  # ...its versions list can
    ],
)
def test_osv_version_logic(advisory: Advisory, version: str, expected: bool) -> None:
    assert is_affected(advisory, "demo", version) is expected


def test_osv_package_and_ecosystem_must_match() -> None:
    advisory = _osv(
        {"package": _pkg("Py_YAML.Demo"), "ranges": [_range(("introduced", "0"))]},
        {"package": _pkg("demo", ecosystem="npm"), "ranges": [_range(("introduced", "0"))]},
    )
    assert is_affected(advisory, "py-yaml-demo", "1.0")
    assert not is_affected(advisory, "demo", "1.0")  # the npm package of that name is another one
    assert not is_affected(advisory, "other", "1.0")


def test_osv_withdrawn_advisory_affects_nothing() -> None:
    withdrawn = _osv(
        {"package": _pkg(), "ranges": [_range(("introduced", "0"))]}, withdrawn="2026-06-09T15:56:00Z"
    )
    assert not is_affected(withdrawn, "demo", "1.0")
    assert check({"demo": "1.0"}, [withdrawn]) == []


def test_osv_finding_lists_aliases_and_fixed_versions() -> None:
    [finding] = check({"Demo": "2.0.1"}, [UNSORTED_EVENTS])
    assert (finding.package, finding.installed, finding.advisory) == ("demo", "2.0.1", "TEST-1")
    assert finding.aliases == ("CVE-0000-0001",)
    assert finding.fixed == ("1.26.17", "2.0.6")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"id": "X", "package": {"name": "demo"}, "affects": {"ranges": []}}, "no 'affected'"),
        ({"id": "X", "affected": [{"package": _pkg(), "versions": [3.10]}]}, "must be a string"),
        (
            {
                "id": "X",
                "affected": [{"package": _pkg(), "ranges": [_range(("introduced", "0"), kind="SEMVER")]}],
            },
            "SEMVER",
        ),
        (
            {
                "id": "X",
                "affected": [{"package": _pkg(), "ranges": [_range(("introduced", "not a version"))]}],
            },
            "PEP 440",
        ),
        (
            {
                "id": "X",
                "affected": [
                    {
                        "package": _pkg(),
                        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}],
                    }
                ],
            },
            "exactly one key",
        ),
    ],
)
def test_osv_documents_it_cannot_evaluate_are_errors(document: dict[str, object], message: str) -> None:
    with pytest.raises(SnapshotError, match=message):
        parse_advisory(document, "test")
