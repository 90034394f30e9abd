"""The engine and an independent DuckDB implementation of METRICS.md agree on generated data.

~5,000 posts from tests/bench/synthetic.py (multi-brand openers, customers adding to their own
thread, human/automated/template replies, follow-ups, replies after the period end and after
as_of, duplicates, a DST change). Every compared figure must be equal: integers exactly,
floats as Python floats. See tests/bench/engine_vs_duckdb.py for the SQL.
"""

from __future__ import annotations

import copy
import hashlib
import itertools

import pytest

duckdb = pytest.importorskip("duckdb")

from responsegap.domain.model import mentions_in  # noqa: E402
from tests.bench.engine_vs_duckdb import FIGURES, compare, differences  # noqa: E402
from tests.bench.synthetic import Scenario, labelled  # noqa: E402

SCENARIO = Scenario(n_posts=5_000, brands=5, seed=4242)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return compare(SCENARIO, tmp_path_factory.mktemp("synthetic"), verbose=False)


def test_engine_and_duckdb_give_equal_figures(result):
    assert result["differences"] == []
    profiles, brands = result["groups"]
    assert profiles >= 5 and brands == 5
    assert sum(f["openers"] for f in result["engine"]["brand"].values()) > 1000


def test_engine_verdicts_match_the_generator_labels(result):
    assert result["verdict_mismatches"] == []


def test_the_comparison_can_fail(result):
    engine = copy.deepcopy(result["engine"])
    brand = next(iter(engine["brand"]))
    figures = engine["brand"][brand]
    figures["answered"] += 1
    figures["first_response_p90"] = float(figures["first_response_p90"]) + 1e-9
    found = differences(engine, result["reference"])
    assert any("answered:" in line for line in found)
    assert any("first_response_p90" in line for line in found)


def test_generated_data_has_the_hard_cases():
    posts = list(labelled(SCENARIO))
    by_key = {p.key: p for p, _ in posts}
    handles = {p.handle for b in SCENARIO.brand_config for p in b.profiles}
    assert len(posts) == SCENARIO.n_posts
    assert len(by_key) < len(posts)  # duplicates
    assert any(len([m for m in p.mentions if m in handles]) >= 2 for p, _ in posts)  # two brands
    assert any(
        label is None and p.in_reply_to_id and by_key[(p.platform, p.in_reply_to_id)].author_id == p.author_id
        for p, label in posts
    )  # customers adding to their own thread
    assert any(label is not None and p.created_at > SCENARIO.as_of for p, label in posts)  # after as_of
    assert {True, False} <= {label for _, label in posts}
    assert any(p.application == "Zapier" for p, _ in posts)
    assert "Europe/London" in {p.timezone for b in SCENARIO.brand_config for p in b.profiles}
    for p, _ in itertools.islice(posts, 2000):
        assert p.mentions == mentions_in(p.text)


def test_generator_is_deterministic():
    def digest():
        h = hashlib.sha256()
        for post, label in labelled(Scenario(n_posts=2_000, brands=3, seed=7)):
            h.update(repr((post, label)).encode())
        return h.hexdigest()

    assert digest() == digest()


def test_figures_cover_every_name(result):
    for figures in result["engine"]["profile"].values():
        assert set(figures) == set(FIGURES)
