"""Builds ``outcomes/exchanges.csv``: customer exchanges of the bundled samples, one row per
post, for a person to label with ``outcomes/RUBRIC.md``.

Run from the repository root: ``python -m tests.labelled.extract_exchanges`` (``--all`` writes
every exchange found instead of the chosen ones). Deterministic: the same samples give the
same file. Reads the CSVs with the standard library only, so the source rows do not depend on
the code being measured; brands are split with the same ``part_of`` as ``extract_replies``.

An *opener* is a customer tweet (``inbound`` True) that does not reply to a brand tweet: it
replies to nothing, or to another customer's tweet. A customer's reply to their own tweet
continues that tweet's exchange and does not open a new one, and a tweet whose parent is not
in the samples is skipped (nothing says whether it answered a brand). The exchange is the
opener's reply tree walked through posts by that customer or by a brand (anyone else's post
ends that branch); it counts when a brand posted in it. ``part`` and ``brand`` come from the
brand that replied first.

The chosen set (see ``choose``): the exchanges where the customer posted after the brand's
first reply (all of them when there are at most ``FOLLOW_UP_ALL``, else a seeded sample of that
many, shared between brands in proportion, at least one each), then a seeded random sample of
the rest, with at least ``FLOOR`` exchanges for every brand that has them, no brand above
``CAP_SHARE`` of the set, ``TOTAL`` in all.
"""

from __future__ import annotations

import csv
import random
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

if __package__:
    from .extract_replies import part_of
else:  # run as a file: python tests/labelled/extract_exchanges.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from extract_replies import part_of  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[2]
SAMPLES = ("kaggle-sample.csv", "twcs-head-public.csv")  # twcs-random-5000 has almost no chains
OUT = Path(__file__).resolve().parent / "outcomes" / "exchanges.csv"
COLUMNS = (
    "opener_id",
    "part",
    "brand",
    "seq",
    "tweet_id",
    "role",
    "author",
    "created_at",
    "seconds_after_opener",
    "in_reply_to",
    "text",
)
SEED = 20261204
TOTAL = 360  # exchanges chosen in all
CAP_SHARE = 0.20  # no brand holds more than this share of the chosen set
FLOOR = 2  # every brand with exchanges gets at least this many (or all it has)
FOLLOW_UP_ALL = 250  # take every follow-up exchange when there are no more than this


def _id(raw: str) -> str:
    raw = raw.strip()
    return str(int(float(raw))) if raw else ""


def _when(raw: str) -> int:
    return int(datetime.strptime(raw.strip(), "%a %b %d %H:%M:%S %z %Y").timestamp())


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load() -> dict[str, dict[str, str]]:
    """Tweets by id, first file wins; rows without a usable id or time are dropped."""
    rows: dict[str, dict[str, str]] = {}
    for name in SAMPLES:
        with open(REPO / "infra" / "data" / "twcs" / name, encoding="utf-8-sig", newline="") as source:
            for row in csv.DictReader(source):
                try:
                    tweet_id = _id(row["tweet_id"])
                    created = _when(row["created_at"])
                    parent = _id(row["in_response_to_tweet_id"] or "")
                except (ValueError, KeyError):
                    continue
                if not tweet_id or tweet_id in rows:
                    continue
                rows[tweet_id] = {
                    "tweet_id": tweet_id,
                    "author": row["author_id"].strip(),
                    "customer": row["inbound"].strip().lower() == "true",
                    "created": created,
                    "parent": parent,
                    "text": row["text"],
                }
    return rows


def exchanges(rows: dict[str, dict[str, str]]) -> list[dict]:
    children: dict[str, list[str]] = defaultdict(list)
    for tweet_id, row in rows.items():
        if row["parent"]:
            children[row["parent"]].append(tweet_id)
    found = []
    for tweet_id, opener in rows.items():
        if not opener["customer"]:
            continue
        parent = opener["parent"]
        if parent:
            up = rows.get(parent)
            if up is None or not up["customer"] or up["author"] == opener["author"]:
                continue  # unknown parent, a reply to a brand, or a customer continuing
        posts, stack = [], [tweet_id]
        while stack:
            current = stack.pop()
            posts.append(rows[current])
            for child in children.get(current, ()):
                post = rows[child]
                if not post["customer"] or post["author"] == opener["author"]:
                    stack.append(child)
        posts.sort(key=lambda p: (p["created"], int(p["tweet_id"])))
        posts.remove(opener)
        posts.insert(0, opener)  # the opener is seq 0 even if a clock put a reply first
        brand_posts = [p for p in posts if not p["customer"]]
        if not brand_posts:
            continue
        first = brand_posts[0]
        found.append(
            {
                "opener_id": tweet_id,
                "brand": first["author"],
                "part": part_of(first["author"]),
                "opened": opener["created"],
                "posts": posts,
                "follow_up": any(p["customer"] for p in posts[posts.index(first) + 1 :]),
            }
        )
    found.sort(key=lambda e: (e["brand"].lower(), e["opened"], int(e["opener_id"])))
    return found


def choose(found: list[dict]) -> list[dict]:
    """Follow-ups first (all, or a proportional share per brand when too many), a floor for
    every brand, then seeded random picks of the rest, never past a brand's cap."""
    rng = random.Random(SEED)
    cap = int(TOTAL * CAP_SHARE)
    by_brand: dict[str, list[dict]] = defaultdict(list)
    for exchange in found:
        by_brand[exchange["brand"]].append(exchange)
    chosen: dict[str, dict] = {}
    count: Counter[str] = Counter()

    def take(exchange: dict) -> bool:
        if exchange["opener_id"] in chosen or count[exchange["brand"]] >= cap:
            return False
        chosen[exchange["opener_id"]] = exchange
        count[exchange["brand"]] += 1
        return True

    follow = [e for e in found if e["follow_up"]]
    if len(follow) > FOLLOW_UP_ALL:  # proportional share per brand, largest remainder, one each
        per: dict[str, list[dict]] = defaultdict(list)
        for exchange in follow:
            per[exchange["brand"]].append(exchange)
        brands = sorted(per, key=str.lower)
        exact = {b: FOLLOW_UP_ALL * len(per[b]) / len(follow) for b in brands}
        quota = {b: max(1, int(exact[b])) for b in brands}
        for b in sorted(brands, key=lambda b: (-(exact[b] - int(exact[b])), b.lower())):
            if sum(quota.values()) >= FOLLOW_UP_ALL:
                break
            if quota[b] < len(per[b]):
                quota[b] += 1
        follow = []
        for b in brands:
            rng.shuffle(per[b])
            follow.extend(per[b][: quota[b]])
    for exchange in follow:
        take(exchange)
    for brand in sorted(by_brand, key=str.lower):
        rest = [e for e in by_brand[brand] if e["opener_id"] not in chosen]
        rng.shuffle(rest)
        for exchange in rest[: max(0, FLOOR - count[brand])]:
            take(exchange)
    rest = [e for e in found if e["opener_id"] not in chosen]
    rng.shuffle(rest)
    for exchange in rest:
        if len(chosen) >= TOTAL:
            break
        take(exchange)
    return [e for e in found if e["opener_id"] in chosen]


def write(chosen: list[dict]) -> None:
    with open(OUT, "w", encoding="utf-8", newline="") as target:
        writer = csv.DictWriter(target, COLUMNS, lineterminator="\n")
        writer.writeheader()
        for exchange in chosen:
            opened = exchange["opened"]
            for seq, post in enumerate(exchange["posts"]):
                writer.writerow(
                    {
                        "opener_id": exchange["opener_id"],
                        "part": exchange["part"],
                        "brand": exchange["brand"],
                        "seq": seq,
                        "tweet_id": post["tweet_id"],
                        "role": "customer" if post["customer"] else "brand",
                        "author": post["author"],
                        "created_at": _iso(post["created"]),
                        "seconds_after_opener": post["created"] - opened,
                        "in_reply_to": post["parent"],
                        "text": post["text"],
                    }
                )


def main(argv: list[str]) -> None:
    found = exchanges(load())
    chosen = found if "--all" in argv else choose(found)
    write(chosen)
    per_found = Counter(e["brand"] for e in found)
    per_follow = Counter(e["brand"] for e in found if e["follow_up"])
    per_chosen = Counter(e["brand"] for e in chosen)
    print(f"{'brand':<18} {'part':<8} {'found':>5} {'follow':>6} {'chosen':>6}")
    for brand in sorted(per_found, key=str.lower):
        print(
            f"{brand:<18} {part_of(brand):<8} {per_found[brand]:>5} {per_follow[brand]:>6} "
            f"{per_chosen[brand]:>6}"
        )
    print(
        f"{len(found)} exchanges found ({sum(per_follow.values())} with a customer follow-up), "
        f"{len(chosen)} written -> {OUT.relative_to(REPO)}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
