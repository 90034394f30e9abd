"""Offline check of the runtime dependencies against a dated snapshot of the PyPA Advisory Database.

    .venv/bin/python -m infra.advisory_check                          # the installed runtime set
    .venv/bin/python -m infra.advisory_check --check requests==2.19.0 # any pin, installed or not

Prints a table of findings and exits 1 if there is any (2 if the snapshot or the environment
cannot be read). The snapshot is ``infra/advisories/pypa/<package>/*.yaml``: OSV documents
copied verbatim, with their source and commit in ``infra/advisories/SOURCE.md``. It ages: it
complements pip-audit (tests/integration/test_audit.py), which reads live data where it can reach
it, and does not replace it.

The runtime set is what the Lambda functions import: the layer's requirements
(``shared/requirements.txt``, ``shared/requirements-nodeps.txt``), the project's own
dependencies (``pyproject.toml``), the installed dependency closure of all of them, and the SDK
the Lambda runtime provides (``RUNTIME_PROVIDED``). Versions are those installed in this
environment (``importlib.metadata``).

Matching follows the OSV schema's evaluation algorithm (ossf/osv-schema, docs/schema.md,
"Evaluation"): an ``affected[]`` entry applies when ``package.ecosystem`` is ``PyPI`` and
``package.name`` is the package (PEP 503 normalised); the version is affected if it equals one of
``affected[].versions`` or lies in one of ``affected[].ranges[]``. Only ``ECOSYSTEM`` ranges are
evaluated, with PEP 440 ordering (``packaging.version.Version``); ``GIT`` ranges need the
repository's commit graph, and the ``versions`` list that comes with them covers them. Withdrawn
advisories affect nothing. Anything else this module does not understand (another range type, a
pre-1.0 ``affects`` document, a version that is not a string) is an error, never a silent pass.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "infra" / "advisories" / "pypa"
SNAPSHOT_DATE = "2026-11-26"
ECOSYSTEM = "PyPI"
# The SDK the Lambda python3.12 runtime ships: not in the layer, but imported by the functions.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
REQUIREMENT_FILES = ("shared/requirements.txt", "shared/requirements-nodeps.txt")
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


class SnapshotError(ValueError):
    """An advisory file this module cannot evaluate exactly."""


@dataclass(frozen=True)
class Event:
    """One ``ranges[].events[]`` entry: ``kind`` is one of ``EVENT_KINDS``."""

    kind: str
    version: str


@dataclass(frozen=True)
class Range:
    type: str
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Affected:
    """One ``affected[]`` entry; ``package`` is the PEP 503 normalised name."""

    package: str
    ecosystem: str
    versions: tuple[str, ...]
    ranges: tuple[Range, ...]


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    withdrawn: bool
    affected: tuple[Affected, ...]
    source: str


@dataclass(frozen=True)
class Finding:
    package: str
    installed: str
    advisory: str
    aliases: tuple[str, ...]
    fixed: tuple[str, ...]
    source: str


# --- reading the snapshot -------------------------------------------------------------------


def load_advisories(directory: Path = SNAPSHOT) -> list[Advisory]:
    """Every ``*.yaml`` under ``directory``, parsed; raises SnapshotError if there is none."""
    paths = sorted(directory.rglob("*.yaml"))
    if not paths:
        raise SnapshotError(f"no advisory file under {directory}")
    advisories = []
    for path in paths:
        source = path.relative_to(directory).as_posix()
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise SnapshotError(f"{source}: not YAML: {error}") from error
        advisories.append(parse_advisory(document, source))
    return advisories


def parse_advisory(document: Any, source: str = "<document>") -> Advisory:
    """One OSV document (as loaded from YAML or JSON) to an Advisory, strictly."""
    if not isinstance(document, Mapping):
        raise SnapshotError(f"{source}: not an OSV document (top level is not a mapping)")
    ident = _string(document.get("id"), source, "id")
    if "affected" not in document:
        raise SnapshotError(f"{source}: {ident} has no 'affected' (pre-1.0 OSV 'affects'?)")
    entries = document["affected"]
    if not isinstance(entries, list):
        raise SnapshotError(f"{source}: 'affected' is not a list")
    aliases = document.get("aliases") or []
    if not isinstance(aliases, list):
        raise SnapshotError(f"{source}: 'aliases' is not a list")
    return Advisory(
        id=ident,
        aliases=tuple(_string(a, source, "aliases[]") for a in aliases),
        withdrawn=document.get("withdrawn") is not None,
        affected=tuple(_parse_affected(entry, source) for entry in entries),
        source=source,
    )


def _parse_affected(entry: Any, source: str) -> Affected:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("package"), Mapping):
        raise SnapshotError(f"{source}: an 'affected' entry has no 'package' mapping")
    package = entry["package"]
    versions = entry.get("versions") or []
    ranges = entry.get("ranges") or []
    if not isinstance(versions, list) or not isinstance(ranges, list):
        raise SnapshotError(f"{source}: 'versions' and 'ranges' must be lists")
    return Affected(
        package=canonicalize_name(_string(package.get("name"), source, "package.name")),
        ecosystem=_string(package.get("ecosystem"), source, "package.ecosystem"),
        versions=tuple(_string(v, source, "versions[]") for v in versions),
        ranges=tuple(_parse_range(r, source) for r in ranges),
    )


def _parse_range(entry: Any, source: str) -> Range:
    if not isinstance(entry, Mapping):
        raise SnapshotError(f"{source}: a range is not a mapping")
    kind = _string(entry.get("type"), source, "ranges[].type")
    if kind not in ("ECOSYSTEM", "GIT"):
        raise SnapshotError(f"{source}: range type {kind!r} is not supported")
    events = entry.get("events")
    if not isinstance(events, list) or not events:
        raise SnapshotError(f"{source}: a {kind} range has no 'events' list")
    parsed = []
    for event in events:
        if not isinstance(event, Mapping) or len(event) != 1:
            raise SnapshotError(f"{source}: each event must hold exactly one key, got {event!r}")
        ((name, value),) = event.items()
        if name not in EVENT_KINDS:
            raise SnapshotError(f"{source}: unknown event {name!r}")
        parsed.append(Event(name, _string(value, source, f"events[].{name}")))
    if kind == "ECOSYSTEM":
        for event in parsed:  # fail on load, not in the middle of a comparison
            _bound(event)
    return Range(kind, tuple(parsed))


def _string(value: Any, source: str, field: str) -> str:
    # A YAML scalar like 3.10 written without quotes would load as the float 3.1: refuse it.
    if not isinstance(value, str):
        raise SnapshotError(f"{source}: {field} must be a string, got {value!r}")
    return value


# --- the OSV evaluation ---------------------------------------------------------------------


def is_affected(advisory: Advisory, package: str, version: str | Version) -> bool:
    """OSV ``IsVulnerable``: does ``advisory`` apply to ``package`` at ``version``?"""
    return bool(_matching(advisory, package, version))


def _matching(advisory: Advisory, package: str, version: str | Version) -> list[Affected]:
    if advisory.withdrawn:
        return []
    name = canonicalize_name(package)
    current = version if isinstance(version, Version) else Version(version)
    return [
        affected
        for affected in advisory.affected
        if affected.ecosystem == ECOSYSTEM
        and affected.package == name
        and (_in_versions(current, affected.versions) or _in_ranges(current, affected.ranges))
    ]


def _in_versions(current: Version, versions: Iterable[str]) -> bool:
    for listed in versions:
        try:
            if Version(listed) == current:  # PEP 440 equality: "1.0" == "1.0.0"
                return True
        except InvalidVersion:
            if listed == str(current):
                return True
    return False


def _in_ranges(current: Version, ranges: Iterable[Range]) -> bool:
    for entry in ranges:
        if entry.type == "ECOSYSTEM" and _before_limits(current, entry) and _in_range(current, entry):
            return True
    return False


def _in_range(current: Version, entry: Range) -> bool:
    vulnerable = False
    for event in sorted((e for e in entry.events if e.kind != "limit"), key=_sort_key):
        bound = _bound(event)
        if event.kind == "introduced" and (bound is None or current >= bound):
            vulnerable = True
        elif _closes(event, bound, current):
            vulnerable = False
    return vulnerable


def _closes(event: Event, bound: Version | None, current: Version) -> bool:
    """``fixed``: the fix and what follows are unaffected; ``last_affected``: only what follows."""
    if bound is None:
        return False
    if event.kind == "fixed":
        return current >= bound
    if event.kind == "last_affected":
        return current > bound
    return False


def _before_limits(current: Version, entry: Range) -> bool:
    limits = [e for e in entry.events if e.kind == "limit"]
    if not limits:
        return True  # the implicit limit "*"
    for event in limits:
        bound = _bound(event)
        if bound is None or current < bound:
            return True
    return False


def _bound(event: Event) -> Version | None:
    """The event's version; None for ``introduced: "0"`` (before everything) and ``limit: "*"``."""
    if (event.kind == "introduced" and event.version == "0") or (
        event.kind == "limit" and "*" in event.version
    ):
        return None
    try:
        return Version(event.version)
    except InvalidVersion as error:
        raise SnapshotError(f"{event.kind} {event.version!r} is not a PEP 440 version") from error


def _sort_key(event: Event) -> tuple[int, Version]:
    bound = _bound(event)
    return (0, Version("0")) if bound is None else (1, bound)


def check(installed: Mapping[str, str], advisories: Iterable[Advisory]) -> list[Finding]:
    """Every (package, advisory) pair where the installed version is affected."""
    advisories = list(advisories)
    findings = []
    for package, version in sorted(installed.items()):
        for advisory in advisories:
            matched = _matching(advisory, package, version)
            if matched:
                findings.append(
                    Finding(
                        package=canonicalize_name(package),
                        installed=version,
                        advisory=advisory.id,
                        aliases=advisory.aliases,
                        fixed=_fixed_versions(matched),
                        source=advisory.source,
                    )
                )
    return findings


def _fixed_versions(matched: Iterable[Affected]) -> tuple[str, ...]:
    fixed = {
        event.version
        for affected in matched
        for entry in affected.ranges
        if entry.type == "ECOSYSTEM"
        for event in entry.events
        if event.kind == "fixed"
    }
    return tuple(sorted(fixed, key=Version))


# --- the runtime dependency set -------------------------------------------------------------


def runtime_requirements(root: Path = ROOT) -> list[Requirement]:
    """The layer's requirement files, the project's dependencies and the runtime-provided SDK."""
    lines: list[str] = []
    for name in REQUIREMENT_FILES:
        path = root / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                text = line.split("#", 1)[0].strip()
                if text and not text.startswith("-"):
                    lines.append(text)
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines.extend(project.get("dependencies", []))
    lines.extend(RUNTIME_PROVIDED)
    return [Requirement(line) for line in lines]


def installed_closure(requirements: Iterable[Requirement]) -> dict[str, str]:
    """Installed version of each requirement and of everything it requires, extras included.

    Raises LookupError naming every distribution that should be installed and is not.
    """
    extras_seen: dict[str, set[str]] = {}
    versions: dict[str, str] = {}
    missing: set[str] = set()
    pending = list(requirements)
    while pending:
        requirement = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in extras_seen and extras <= extras_seen[name]:
            continue
        extras_seen[name] = extras_seen.get(name, set()) | extras
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            missing.add(name)
            continue
        versions[name] = distribution.version
        for text in distribution.requires or []:
            child = Requirement(text)
            wanted = [{"extra": extra} for extra in sorted(extras)] or [{"extra": ""}]
            if child.marker is None or any(child.marker.evaluate(env) for env in wanted):
                child.marker = None  # evaluated here, with the parent's extras
                pending.append(child)
    if missing:
        raise LookupError(f"not installed: {', '.join(sorted(missing))}")
    return dict(sorted(versions.items()))


def runtime_distributions(root: Path = ROOT) -> dict[str, str]:
    return installed_closure(runtime_requirements(root))


# --- command line ---------------------------------------------------------------------------


def format_table(findings: Sequence[Finding]) -> str:
    header = ("package", "installed", "advisory", "aliases", "fixed in", "file")
    rows = [
        (f.package, f.installed, f.advisory, ", ".join(f.aliases), ", ".join(f.fixed) or "-", f.source)
        for f in findings
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    rule = "  ".join("-" * width for width in widths)
    head = "  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))
    return "\n".join(line.rstrip() for line in [head, rule, *lines])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.advisory_check",
        description="Check the runtime dependencies against the PyPA Advisory Database snapshot.",
    )
    parser.add_argument(
        "--check",
        action="append",
        metavar="NAME==VERSION",
        help="check these pins instead of the installed runtime set (repeatable)",
    )
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT, help="folder of OSV YAML files")
    args = parser.parse_args(argv)
    try:
        advisories = load_advisories(args.snapshot)
        installed = dict(_pin(text) for text in args.check) if args.check else runtime_distributions()
        findings = check(installed, advisories)
    except (LookupError, ValueError) as error:  # SnapshotError and InvalidVersion are ValueErrors
        print(f"advisory check could not run: {error}", file=sys.stderr)
        return 2
    what = "pinned" if args.check else "runtime"
    print(
        f"{len(installed)} {what} packages checked against {len(advisories)} advisories "
        f"(PyPA Advisory Database snapshot of {SNAPSHOT_DATE}, infra/advisories/SOURCE.md)."
    )
    if findings:
        print(f"{len(findings)} known vulnerabilities:\n{format_table(findings)}")
        return 1
    print("No known vulnerability in the snapshot. It ages: pip-audit with live data still applies.")
    return 0


def _pin(text: str) -> tuple[str, str]:
    name, separator, version = text.partition("==")
    if not separator or not name.strip() or not version.strip():
        raise ValueError(f"--check wants NAME==VERSION, got {text!r}")
    Version(version.strip())
    return canonicalize_name(name.strip()), version.strip()


if __name__ == "__main__":
    sys.exit(main())
