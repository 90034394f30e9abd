"""Builds ``automation/replies.csv``: every brand tweet of the bundled samples, with the
customer post it answers, for a person to label with ``automation/RUBRIC.md``.

Run from the repository root: ``python -m tests.labelled.extract_replies``. Deterministic:
the same samples give the same file. Reads the CSVs with the standard library only, so the
source rows do not depend on the code being measured.
"""

from __future__ import annotations

import csv
import hashlib
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = ("kaggle-sample.csv", "twcs-head-public.csv", "twcs-random-5000.csv")
OUT = Path(__file__).resolve().parent / "automation" / "replies.csv"
COLUMNS = (
    "tweet_id",
    "part",
    "file",
    "brand",
    "created_at",
    "text",
    "parent_id",
    "parent_author",
    "parent_inbound",
    "parent_text",
    "delay_seconds",
)
HOLDOUT_SHARE = 3  # brands whose hash falls in 3 of 10 buckets are kept apart


def part_of(brand: str) -> str:
    """Whole brands are kept apart, so rules are judged on brands their designer never read."""
    bucket = int(hashlib.sha256(brand.lower().encode()).hexdigest(), 16) % 10
    return "holdout" if bucket < HOLDOUT_SHARE else "design"


def _id(raw: str) -> str:
    raw = raw.strip()
    return str(int(float(raw))) if raw else ""


def _when(raw: str) -> int:
    return int(datetime.strptime(raw.strip(), "%a %b %d %H:%M:%S %z %Y").timestamp())


def main() -> None:
    rows: dict[str, tuple[str, dict[str, str]]] = {}
    for name in SAMPLES:
        with open(REPO / "infra" / "data" / "twcs" / name, encoding="utf-8-sig", newline="") as source:
            for row in csv.DictReader(source):
                try:
                    tweet_id = _id(row["tweet_id"])
                    _when(row["created_at"])
                except (ValueError, KeyError):
                    continue
                rows.setdefault(tweet_id, (name, row))
    out = []
    for tweet_id, (name, row) in rows.items():
        if row["inbound"].strip().lower() != "false":
            continue
        parent_id = _id(row["in_response_to_tweet_id"] or "")
        parent = rows.get(parent_id, (None, None))[1] if parent_id else None
        created = _when(row["created_at"])
        out.append(
            {
                "tweet_id": tweet_id,
                "part": part_of(row["author_id"]),
                "file": name,
                "brand": row["author_id"],
                "created_at": datetime.utcfromtimestamp(created).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "text": row["text"],
                "parent_id": parent_id,
                "parent_author": parent["author_id"] if parent else "",
                "parent_inbound": parent["inbound"].strip() if parent else "",
                "parent_text": parent["text"] if parent else "",
                "delay_seconds": created - _when(parent["created_at"]) if parent else "",
            }
        )
    out.sort(key=lambda r: (r["brand"].lower(), r["created_at"], int(r["tweet_id"])))
    with open(OUT, "w", encoding="utf-8", newline="") as target:
        writer = csv.DictWriter(target, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(out)
    print(f"{len(out)} brand tweets -> {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
