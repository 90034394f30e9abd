"""Shared pieces of the connector contract tests: recorded payloads, a fast PlatformHttp,
and ``responses`` matchers that tell the first page of a list from the next ones."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from responsegap.connectors.http import PlatformHttp
from responsegap.domain.model import Profile
from responsegap.domain.periods import parse_instant

FIXTURES = Path(__file__).parents[2] / "fixtures"
# The clock of every test: the recorded conversations happen on Monday 2026-11-23 10:00-11:00 UTC.
NOW = parse_instant("2026-11-23T12:00:00Z")


@pytest.fixture
def load() -> Callable[[str, str], Any]:
    """``load("x", "users_id_mentions.page1.json")``: a recorded payload, freshly parsed."""

    def read(platform: str, name: str) -> Any:
        return json.loads((FIXTURES / platform / name).read_text(encoding="utf-8"))

    return read


@pytest.fixture
def make_http() -> Callable[[Profile], PlatformHttp]:
    """A PlatformHttp that never sleeps and reads the fixed clock, so retries cost nothing."""

    def build(profile: Profile) -> PlatformHttp:
        return PlatformHttp(profile.key, sleep=lambda s: None, clock=lambda: NOW, rng=random.Random(7))

    return build


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """Every registered response must be used: a test also proves no request was skipped."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def without(param: str) -> Callable[[Any], tuple[bool, str]]:
    """A ``responses`` matcher: the request does not carry ``param`` (the first page)."""

    def matcher(request: Any) -> tuple[bool, str]:
        return (param not in (request.params or {}), f"{param} present")

    return matcher


def having(**expected: str) -> Callable[[Any], tuple[bool, str]]:
    """A ``responses`` matcher: the request carries these query values (others may be there too)."""

    def matcher(request: Any) -> tuple[bool, str]:
        params = request.params or {}
        wrong = {k: params.get(k) for k, v in expected.items() if params.get(k) != v}
        return (not wrong, f"query differs: {wrong}")

    return matcher


@pytest.fixture
def matchers() -> Any:
    """``matchers.without("pagination_token")``, ``matchers.having(since_id="1")``."""

    class _Matchers:
        pass

    found = _Matchers()
    found.without = without  # type: ignore[attr-defined]
    found.having = having  # type: ignore[attr-defined]
    return found
