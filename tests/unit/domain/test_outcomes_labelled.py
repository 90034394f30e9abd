"""The outcome rule against 360 real exchanges read by a person (tests/labelled/outcomes).

The rule was designed on the ``design`` part; both parts are reported. Fails below 85%
agreement overall. Run with ``-s`` to see the agreement per outcome and the confusion table.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

from responsegap.domain.exchanges import OUTCOMES, ExchangePost, ending

HERE = Path(__file__).resolve().parents[2] / "labelled" / "outcomes"


def _exchanges() -> dict[str, tuple[str, list[ExchangePost]]]:
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with (HERE / "exchanges.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["opener_id"]].append(row)
    exchanges = {}
    for opener, thread in rows.items():
        thread.sort(key=lambda row: int(row["seq"]))
        first_brand = next(i for i, row in enumerate(thread) if row["role"] == "brand")
        posts = [ExchangePost(row["role"] == "brand", row["text"]) for row in thread[first_brand:]]
        exchanges[opener] = (thread[0]["part"], posts)
    return exchanges


def _labels() -> dict[str, str]:
    with (HERE / "labels.csv").open(newline="", encoding="utf-8") as handle:
        return {row["opener_id"]: row["outcome"] for row in csv.DictReader(handle)}


def test_outcome_rule_agrees_with_readers() -> None:
    exchanges, labels = _exchanges(), _labels()
    assert len(labels) >= 300 and set(labels) == set(exchanges)
    confusion: dict[str, Counter[tuple[str, str]]] = {"design": Counter(), "holdout": Counter()}
    for opener, (part, posts) in exchanges.items():
        confusion[part][(labels[opener], ending(posts))] += 1
    overall = confusion["design"] + confusion["holdout"]
    for name, table in (*confusion.items(), ("all", overall)):
        total = sum(table.values())
        agreed = sum(n for (label, got), n in table.items() if label == got)
        print(f"\n{name}: {agreed}/{total} = {agreed / total:.1%}")
        for label in OUTCOMES:
            row_total = sum(n for (lab, _), n in table.items() if lab == label)
            cells = " ".join(f"{table[(label, got)]:4d}" for got in OUTCOMES)
            share = table[(label, label)] / row_total if row_total else 0.0
            print(f"  {label:18s} {cells}   agree {table[(label, label)]}/{row_total} {share:.0%}")
    agreed = sum(n for (label, got), n in overall.items() if label == got)
    assert agreed / sum(overall.values()) >= 0.85
