"""``agents: false`` in the brands file: no agent in that brand's JSON or CSV, others keep theirs."""

from __future__ import annotations

import csv
import io

import pytest

from responsegap.brands_file import parse_brands
from responsegap.domain.matching import match
from responsegap.domain.metrics import report
from responsegap.domain.model import Brand, ConfigError, Post, Profile
from responsegap.domain.periods import Period
from responsegap.report.csv_export import COLUMNS, stream_csv
from responsegap.store.dynamo import _brand_from_json, _brand_json


def _file(**brand: object) -> dict:
    return {
        "brands": [
            {"id": "acme", "timezone": "UTC"}
            | brand
            | {
                "profiles": [
                    {"platform": "mastodon", "handle": "acme", "base_url": "https://mastodon.social"}
                ]
            }
        ]
    }


def test_the_brands_file_reads_the_setting() -> None:
    assert parse_brands(_file()).brands[0].agents is True
    assert parse_brands(_file(agents=False)).brands[0].agents is False
    with pytest.raises(ConfigError, match="agents must be true or false"):
        parse_brands(_file(agents="no"))


def test_the_store_keeps_the_setting() -> None:
    brand = parse_brands(_file(agents=False)).brands[0]
    stored = _brand_json(brand)
    assert _brand_from_json(stored, brand.profiles).agents is False
    del stored["agents"]  # a brand stored before the setting existed
    assert _brand_from_json(stored, brand.profiles).agents is True


def _brands(acme_agents: bool) -> list[Brand]:
    return [
        Brand("acme", "Acme", (Profile("acme", "x", "acme", account_id="9"),), agents=acme_agents),
        Brand("globex", "Globex", (Profile("globex", "x", "globex", account_id="8"),)),
    ]


def _posts() -> list[Post]:
    out = []
    for n, (brand, account) in enumerate((("acme", "9"), ("globex", "8"))):
        opener = Post("x", f"o{n}", f"c{n}", f"cust{n}", 100, f"@{brand} help", mentions=(brand,))
        reply = Post("x", f"r{n}", account, brand, 700, f"@cust{n} Please DM us ^JK", f"o{n}", f"c{n}")
        out += [opener, reply]
    return out


@pytest.mark.parametrize("acme_agents", [True, False])
def test_no_agent_anywhere_for_a_brand_that_turned_them_off(acme_agents: bool) -> None:
    brands = _brands(acme_agents)
    outcomes = match(_posts(), brands, 10_000)
    figures = report(outcomes, brands, Period(0, 10_000), 10_000)
    by_brand = {row["brand"]: row for row in figures["brands"]}
    by_profile = {row["brand"]: row for row in figures["profiles"]}
    assert ("agents" in by_brand["acme"]) is acme_agents
    assert ("agents" in by_profile["acme"]) is acme_agents
    assert by_brand["globex"]["agents"][0]["agent"] == "jk"
    assert "agents" not in figures["overall"]
    assert by_brand["acme"]["outcomes"]["moved_private"] == 1  # outcomes stay

    out = io.BytesIO()
    stream_csv(out, brands, outcomes)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert "agent" in COLUMNS and "outcome" in COLUMNS
    agents = {row["brand"]: row["agent"] for row in rows}
    assert agents == {"acme": "jk" if acme_agents else "", "globex": "jk"}
    assert {row["outcome"] for row in rows} == {"moved_private"}
    if not acme_agents:
        assert all("jk" not in row.values() for row in rows if row["brand"] == "acme")
