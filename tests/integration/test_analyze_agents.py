"""Agents and outcomes of ``responsegap analyze`` on the bundled samples, against a plain
computation: for every brand tweet, the customer post it replies to, its sign-off and the
first answer of each opener, worked out the long way round with the csv module.

The sign-off rule itself is ``agent_of`` (tested rule by rule in tests/unit/domain); what is
checked here is who gets counted for what, per brand, through the reader, store and report.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from responsegap.cli import main
from responsegap.domain.agents import agent_of

DATA = Path(__file__).resolve().parents[2] / "infra" / "data" / "twcs"
# An X handle: letters, digits and "_", not preceded by one of those or by "@".
MENTION = re.compile(r"(?<![A-Za-z0-9_@])@([A-Za-z0-9_]+)")


def _tweets(path: Path) -> dict[str, dict[str, Any]]:
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
                "text": row["text"],
                "mentions": {m.lower() for m in MENTION.findall(row["text"])},
            }
    return tweets


def expected_agents(path: Path) -> dict[str, dict[str, Counter[str]]]:
    """Per brand: replies per agent (each brand reply to a customer post of that brand, on
    that post) and first responses per agent (the earliest brand reply in an opener's thread)."""
    tweets = _tweets(path)
    brand_of = {t["author"].lower(): t["author"] for t in tweets.values() if not t["inbound"]}
    as_of = max(t["created"] for t in tweets.values())

    def brand(tweet: dict[str, Any] | None) -> str | None:
        return None if tweet is None else brand_of.get(tweet["author"].lower())

    judged: set[tuple[str, str]] = set()  # (customer tweet id, brand)
    openers: list[tuple[dict[str, Any], str]] = []
    for tweet in tweets.values():
        if brand(tweet) is not None:
            continue
        parent = tweets.get(tweet["parent"]) if tweet["parent"] else None
        if parent is not None and brand(parent) is not None:
            judged.add((tweet["id"], brand(parent)))  # type: ignore[arg-type]
            continue
        for handle in tweet["mentions"]:
            if handle in brand_of and (tweet["id"], brand_of[handle]) not in judged:
                judged.add((tweet["id"], brand_of[handle]))
                openers.append((tweet, brand_of[handle]))

    figures: dict[str, dict[str, Counter[str]]] = {}
    for tweet in tweets.values():
        owner = brand(tweet)
        parent = tweets.get(tweet["parent"]) if tweet["parent"] else None
        if owner is None or parent is None or (parent["id"], owner) not in judged:
            continue
        if parent["created"] < tweet["created"] <= as_of:
            figures.setdefault(owner, {"replies": Counter(), "first": Counter()})["replies"][
                agent_of(tweet["text"])
            ] += 1

    def in_thread_of(reply: dict[str, Any], opener: dict[str, Any]) -> bool:
        node, seen = tweets.get(reply["parent"]), set()
        while node is not None and node["id"] not in seen:
            if node["id"] == opener["id"]:
                return True
            seen.add(node["id"])
            node = tweets.get(node["parent"]) if node["parent"] else None
        return False

    for opener, owner in openers:
        answers = [
            t
            for t in tweets.values()
            if brand(t) == owner
            and opener["created"] < t["created"] <= as_of
            and tweets.get(t["parent"] or "", {}).get("author") == opener["author"]
            and in_thread_of(t, opener)
        ]
        if answers:
            first = min(answers, key=lambda t: (t["created"], t["id"]))
            figures.setdefault(owner, {"replies": Counter(), "first": Counter()})["first"][
                agent_of(first["text"])
            ] += 1
    return figures


@pytest.mark.parametrize("sample", ["twcs-head-public.csv", "kaggle-sample.csv"])
def test_agent_counts_match_a_plain_computation(sample: str, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    assert main(["analyze", str(DATA / sample), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    expected = expected_agents(DATA / sample)
    checked_first = 0
    for row in report["brands"]:
        got_replies = {a["agent"]: a["replies"] for a in row["agents"] if a["replies"]}
        want = expected.get(row["brand"], {"replies": Counter(), "first": Counter()})
        assert got_replies == dict(want["replies"]), row["brand"]
        assert sum(a["first_human_responses"] for a in row["agents"]) == row["answered_by_human"]
        assert sum(a["answered_within_sla"] for a in row["agents"]) == row["answered_within_sla"]
        assert sum(row["outcomes"].values()) == row["answered"]
        if row["answered_by_human"] == row["answered"]:  # no first response was automated
            got_first = {
                a["agent"]: a["first_human_responses"] for a in row["agents"] if a["first_human_responses"]
            }
            assert got_first == dict(want["first"]), row["brand"]
            checked_first += 1
    assert checked_first > 0
    assert any(a["agent"] != "unsigned" for row in report["brands"] for a in row["agents"])
    profile_agents = {row["brand"]: row["agents"] for row in report["profiles"]}
    for row in report["brands"]:  # one profile per brand in the archive
        assert profile_agents[row["brand"]] == row["agents"]


def test_the_table_prints_outcomes_and_agents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    assert main(["analyze", str(DATA / "kaggle-sample.csv"), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert "How answered openers ended:" in printed
    tesco = next(row for row in report["brands"] if row["brand"] == "Tesco")
    lines = printed.splitlines()
    ended = lines[lines.index("How answered openers ended:") :]
    outcome_line = next(line for line in ended if line.split()[:1] == ["Tesco"])
    assert outcome_line.split()[1:] == [str(n) for n in tesco["outcomes"].values()]
    agent_line = next(line for line in lines if line.strip().startswith("Tesco:"))
    for agent in tesco["agents"]:
        if agent["first_human_responses"]:
            assert f"{agent['agent']} {agent['first_human_responses']} (" in agent_line
