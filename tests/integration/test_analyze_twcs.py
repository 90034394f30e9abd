"""``responsegap analyze`` on the bundled samples, checked against an independent computation.

``expected_figures`` below is written from METRICS.md alone, with the csv module: it imports
neither the engine nor the reader, and follows the definitions the long way round (for each
customer post, look through the brand's posts for one that answers it).
"""

from __future__ import annotations

import csv
import json
import re
import statistics
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from responsegap.cli import main

DATA = Path(__file__).resolve().parents[2] / "infra" / "data" / "twcs"
SAMPLES = ["kaggle-sample.csv", "twcs-head-public.csv", "twcs-random-5000.csv"]
MENTION = re.compile(r"(?<![A-Za-z0-9_@])@([A-Za-z0-9_]+)")


# --------------------------------------------------------------------------- independent


def load_tweets(path: Path) -> dict[str, dict[str, Any]]:
    tweets = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            parent = row["in_response_to_tweet_id"].strip()
            tweet_id = str(int(float(row["tweet_id"])))
            tweets[tweet_id] = {
                "id": tweet_id,
                "author": row["author_id"],
                "inbound": row["inbound"].strip().lower() == "true",
                "created": int(datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y").timestamp()),
                "parent": str(int(float(parent))) if parent else None,
                "mentions": [m.lower() for m in MENTION.findall(row["text"])],
            }
    return tweets


def percentiles(values: list[int]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=10, method="inclusive")[8]


def expected_figures(path: Path, as_of: int | None = None) -> dict[str, dict[str, Any]]:
    tweets = load_tweets(path)
    brand_of_author = {t["author"].lower(): t["author"] for t in tweets.values() if not t["inbound"]}

    def brand(tweet: dict[str, Any]) -> str | None:
        return brand_of_author.get(tweet["author"].lower())

    as_of = max(t["created"] for t in tweets.values()) if as_of is None else as_of

    def ancestors(tweet: dict[str, Any]) -> list[str]:
        out, seen, node = [], set(), tweet
        while node["parent"] in tweets and node["parent"] not in seen:
            seen.add(node["parent"])
            out.append(node["parent"])
            node = tweets[node["parent"]]
        return out

    # which (customer post, brand, kind): METRICS "Things"
    judged: list[tuple[dict[str, Any], str, str]] = []
    for tweet in tweets.values():
        own = brand(tweet)
        parent = tweets.get(tweet["parent"]) if tweet["parent"] else None
        if parent is not None and brand(parent) is not None and brand(parent) != own:
            judged.append((tweet, brand(parent), "followup"))
            continue
        if parent is not None and brand(parent) is not None:
            continue  # a brand replying to its own post is nobody's customer
        named = []
        for handle in tweet["mentions"]:
            target = brand_of_author.get(handle)
            if target is not None and target != own and target not in named:
                named.append(target)
        judged.extend((tweet, target, "opener") for target in named)

    posts_by_brand: dict[str, list[dict[str, Any]]] = {}
    for tweet in tweets.values():
        if brand(tweet) is not None:
            posts_by_brand.setdefault(brand(tweet), []).append(tweet)

    def first_answer(customer: dict[str, Any], target: str) -> dict[str, Any] | None:
        answers = []
        for b in posts_by_brand[target]:
            replied = tweets.get(b["parent"]) if b["parent"] else None
            if replied is None or not (customer["created"] < b["created"] <= as_of):
                continue
            if replied is customer or (
                replied["author"] == customer["author"] and customer["id"] in ancestors(replied)
            ):
                answers.append(b)
        return min(answers, key=lambda b: (b["created"], b["id"])) if answers else None

    figures: dict[str, dict[str, Any]] = {
        b: {"openers": 0, "answered": 0, "followups": 0, "followups_answered": 0, "times": []}
        for b in brand_of_author.values()
    }
    for customer, target, kind in judged:
        answer = first_answer(customer, target)
        row = figures[target]
        if kind == "followup":
            row["followups"] += 1
            row["followups_answered"] += answer is not None
            continue
        row["openers"] += 1
        if answer is not None:
            row["answered"] += 1
            row["times"].append(answer["created"] - customer["created"])
    for row in figures.values():
        row["median"], row["p90"] = percentiles(sorted(row.pop("times")))
    return figures


# --------------------------------------------------------------------------- helpers


def analyze(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "report.json"
    assert main(["analyze", *args, "--json", str(out)]) == 0
    return json.loads(out.read_text())


def engine_figures(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        row["brand"]: {
            "openers": row["openers"],
            "answered": row["answered"],
            "followups": row["followups"],
            "followups_answered": row["followups_answered"],
            "median": row["first_response_seconds"]["median"],
            "p90": row["first_response_seconds"]["p90"],
        }
        for row in report["profiles"]
    }


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("sample", SAMPLES)
def test_figures_match_an_independent_computation(sample: str, tmp_path: Path) -> None:
    report = analyze(tmp_path, "--format", "twcs", str(DATA / sample))
    expected = expected_figures(DATA / sample)
    got = engine_figures(report)
    assert got.keys() == expected.keys()
    differences = {b: (got[b], expected[b]) for b in expected if got[b] != expected[b]}
    assert differences == {}
    assert sum(r["openers"] for r in expected.values()) > 0


@pytest.mark.parametrize("sample", SAMPLES)
def test_human_figures_agree_where_no_reply_was_judged_automated(sample: str, tmp_path: Path) -> None:
    # Which replies are automated is the classifier's call (its own tests); what can be
    # checked here is that where it judged none automated, human figures are the first ones.
    report = analyze(tmp_path, "--store", "memory", str(DATA / sample))
    checked = 0
    for row in report["profiles"]:
        assert row["answered_by_human"] <= row["answered"]
        assert row["answered_within_sla"] <= row["answered_by_human"]
        if row["answered_automated"] == 0 and row["answered"]:
            assert row["answered_by_human"] == row["answered"]
            assert row["first_human_response_seconds"] == row["first_response_seconds"]
            checked += 1
    assert checked > 0


def test_the_store_round_trip_changes_nothing(tmp_path: Path) -> None:
    sample = str(DATA / "kaggle-sample.csv")
    assert analyze(tmp_path, sample) == analyze(tmp_path, "--store", "memory", sample)


def test_a_period_and_an_as_of_time(tmp_path: Path) -> None:
    sample = DATA / "twcs-head-public.csv"
    as_of = "2017-11-01T00:00:00Z"
    report = analyze(
        tmp_path,
        "--store",
        "memory",
        str(sample),
        "--from",
        "2017-10-31",
        "--to",
        "2017-11-01",
        "--as-of",
        as_of,
    )
    assert report["period"] == {"start": "2017-10-31T00:00:00Z", "end": "2017-11-01T00:00:00Z"}
    assert report["as_of"] == as_of
    cutoff = int(datetime.fromisoformat(as_of.replace("Z", "+00:00")).timestamp())
    whole = expected_figures(sample, as_of=cutoff)
    # Openers of the day only: fewer than the whole file, answered only by replies before as-of.
    assert 0 < report["overall"]["openers"] < sum(r["openers"] for r in whole.values())
    assert report["overall"]["answered"] <= report["overall"]["openers"]


def test_profiles_filter_any_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = analyze(
        tmp_path, "--store", "memory", str(DATA / "kaggle-sample.csv"), "--profiles", "applesupport, O2"
    )
    assert [r["brand"] for r in report["profiles"]] == ["AppleSupport", "O2"]
    assert [r["brand"] for r in report["brands"]] == ["AppleSupport", "O2"]
    table = capsys.readouterr().out.splitlines()
    assert table[2].split()[:3] == ["brand", "openers", "answered"]
    assert [line.split()[0] for line in table[3:]] == ["AppleSupport", "O2"]


def test_the_table_shows_human_durations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    analyze(tmp_path, "--store", "memory", str(DATA / "twcs-head-public.csv"), "--profiles", "AlaskaAir")
    line = capsys.readouterr().out.splitlines()[3]
    assert re.fullmatch(r"AlaskaAir +12 +12 +100\.0% +1m 48s +6m 25s +1m 48s +6m 25s +12 +5/6", line)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "/nonexistent.csv"], "no such file: /nonexistent.csv"),
        (["analyze", "--format", "csv", str(DATA / "kaggle-sample.csv")], "unknown --format 'csv'"),
        (["analyze", str(DATA / "kaggle-sample.csv"), "--from", "yesterday"], "--from: 'yesterday' is not"),
        (["analyze", str(DATA / "kaggle-sample.csv"), "--as-of", "2017-13-01"], "--as-of:"),
        (
            ["analyze", str(DATA / "kaggle-sample.csv"), "--from", "2017-11-02", "--to", "2017-11-01"],
            "--from 2017-11-02 is not before --to 2017-11-01",
        ),
        (["analyze", str(DATA / "kaggle-sample.csv"), "--profiles", "nobody"], "no brand with handle nobody"),
        (["analyze", str(DATA / "kaggle-sample.csv"), "--store", "s3"], "unknown --store 's3'"),
    ],
)
def test_clear_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_a_hand_made_thread(tmp_path: Path) -> None:
    # 1 opens to AcmeHelp, 2 answers after 10 min; 3 and 4 follow up on 2 (4 also names
    # OtherCo, but a reply to an AcmeHelp post is AcmeHelp's); OtherCo's reply to 4 answers
    # nothing of AcmeHelp's.
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "twcs" / "basic.csv"
    report = analyze(tmp_path, str(fixture))
    acme, other = report["profiles"]
    assert (acme["profile"], acme["openers"], acme["answered"]) == ("acmehelp", 1, 1)
    assert acme["first_response_seconds"] == {"median": 600, "p90": 600}
    assert (acme["followups"], acme["followups_answered"]) == (2, 0)
    assert (other["profile"], other["openers"], other["followups"]) == ("otherco", 0, 0)
    assert engine_figures(report) == expected_figures(fixture)
