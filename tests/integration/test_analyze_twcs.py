"""``responsegap analyze`` on the bundled samples, checked against an independent computation.

``expected_figures`` below is written from METRICS.md alone, with the csv module: it imports
neither the engine nor the reader, and follows the definitions the long way round (for each
customer post, look through the brand's posts for one that answers it).

``whole_file_report`` is the other reference: the engine over every post of the file at once,
as ``--store memory`` worked before it judged one brand partition at a time.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from responsegap.archive.twcs import load_twcs
from responsegap.cli import main
from responsegap.domain.matching import match
from responsegap.domain.metrics import report
from responsegap.domain.periods import Period, parse_instant

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


def expected_figures(
    path: Path, as_of: int | None = None, period: tuple[int, int] | None = None
) -> dict[str, dict[str, Any]]:
    """Per brand, over customer posts created in ``period`` (default: all), answers up to ``as_of``.

    Every tweet of the file is looked at whatever the period: who wrote a reply's parent, and
    the brand's answers, come from the whole file.
    """
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
        if brand(tweet) is not None:
            continue  # a post by any brand is never a customer post
        if period is not None and not period[0] <= tweet["created"] < period[1]:
            continue
        parent = tweets.get(tweet["parent"]) if tweet["parent"] else None
        if parent is not None and brand(parent) is not None:
            judged.append((tweet, brand(parent), "followup"))
            continue
        named = []
        for handle in tweet["mentions"]:
            target = brand_of_author.get(handle)
            if target is not None and target not in named:
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


@pytest.mark.parametrize("store", ["dynamodb", "memory"])
@pytest.mark.parametrize("sample", SAMPLES[1:])
def test_figures_of_a_period_match_an_independent_computation(
    sample: str, store: str, tmp_path: Path
) -> None:
    # A week whose follow-ups reply to brand tweets from before it: the file's parents decide
    # them, never how far back analyze happened to read.
    start, end = "2017-10-31T00:00:00Z", "2017-11-07T00:00:00Z"
    report = analyze(tmp_path, "--store", store, str(DATA / sample), "--from", start, "--to", end)
    as_of = parse_instant(report["as_of"])
    expected = expected_figures(DATA / sample, as_of, (parse_instant(start), parse_instant(end)))
    got = engine_figures(report)
    differences = {b: (got[b], expected[b]) for b in expected if got[b] != expected[b]}
    assert differences == {}
    assert sum(r["followups"] for r in expected.values()) > 0


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
    assert [line.split()[0] for line in table[3 : table.index("", 3)]] == ["AppleSupport", "O2"]


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


# --------------------------------------------------------------------------- partitioned = whole file


def whole_file_report(
    path: Path, start: str | None = None, end: str | None = None, as_of: str | None = None
) -> dict[str, Any]:
    """The previous ``--store memory`` path: every post in memory, one ``match`` over all."""
    posts, brands = load_twcs(path)
    cutoff = parse_instant(as_of) if as_of else max(p.created_at for p in posts)
    first = parse_instant(start) if start else min(p.created_at for p in posts)
    last = parse_instant(end) if end else max(cutoff + 1, first + 1)
    window = (first, max(last, cutoff + 1))
    working = [p for p in posts if window[0] <= p.created_at < window[1]]
    figures = report(match(working, brands, cutoff), brands, Period(first, last), cutoff)
    return json.loads(json.dumps(figures))


def partitioned_report(tmp_path: Path, path: Path, *args: str) -> dict[str, Any]:
    return analyze(tmp_path, "--store", "memory", str(path), *args)


@pytest.mark.parametrize("sample", SAMPLES)
def test_partitioned_figures_equal_the_whole_file_figures(sample: str, tmp_path: Path) -> None:
    assert partitioned_report(tmp_path, DATA / sample) == whole_file_report(DATA / sample)


def test_partitioned_figures_equal_the_whole_file_figures_for_a_period(tmp_path: Path) -> None:
    sample = DATA / "twcs-head-public.csv"
    period = ("2017-10-31", "2017-11-01", "2017-11-01T00:00:00Z")
    got = partitioned_report(tmp_path, sample, "--from", period[0], "--to", period[1], "--as-of", period[2])
    assert got == whole_file_report(sample, *period)


TWO_BRANDS = """\
tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id
1,500,True,Tue Oct 31 10:00:00 +0000 2017,@AcmeHelp @OtherCo my parcel is lost,"2,3",
2,AcmeHelp,False,Tue Oct 31 10:05:00 +0000 2017,@500 Sorry to hear that! Which order? ^JK,4,1
3,OtherCo,False,Tue Oct 31 10:20:00 +0000 2017,@500 We are on it -Anna,,1.0
4,500,True,Tue Oct 31 10:30:00 +0000 2017,found the number: 12345,5,2
5,AcmeHelp,False,Tue Oct 31 10:40:00 +0000 2017,"@500 Thanks, it is on its way ^JK",,4
6,600,True,Tue Oct 31 11:00:00 +0000 2017,@OtherCo anyone there?,,
7,700,True,Tue Oct 31 12:00:00 +0000 2017,@AcmeHelp hello,,
"""


def test_a_post_naming_two_brands_and_a_reply_that_names_none(tmp_path: Path) -> None:
    # 1 names both brands: each judges it in its own partition (Acme after 5 min, OtherCo
    # after 20). 4 replies to Acme's 2 without naming it: a follow-up of Acme's, answered by 5.
    path = tmp_path / "two-brands.csv"
    path.write_text(TWO_BRANDS, encoding="utf-8")
    got = partitioned_report(tmp_path, path)
    assert got == whole_file_report(path)
    acme, other = got["profiles"]
    assert (acme["brand"], acme["openers"], acme["answered"]) == ("AcmeHelp", 2, 1)
    assert acme["first_response_seconds"]["median"] == 300
    assert (acme["followups"], acme["followups_answered"]) == (1, 1)
    assert (other["brand"], other["openers"], other["answered"]) == ("OtherCo", 2, 1)
    assert other["first_response_seconds"]["median"] == 1200
    assert other["followups"] == 0


def test_threads_crossing_brands_duplicates_and_an_inbound_brand_row(tmp_path: Path) -> None:
    # What a partition must hold that no single post names: a customer's answer from OtherCo
    # found through AcmeHelp's tweet in the middle of the thread (10-15); OtherCo answering
    # AcmeHelp's tweet (20-21); a brand row marked inbound before the brand's first outbound
    # row, and replies to it (30-32); an id twice with different texts (40); and one template
    # body sent to six customers (50-61), which makes those replies automated.
    rows = [
        "10,800,True,Tue Oct 31 10:00:00 +0000 2017,@OtherCo @AcmeHelp help,,",
        "11,AcmeHelp,False,Tue Oct 31 10:01:00 +0000 2017,@800 ask OtherCo ^JK,,10",
        "12,800,True,Tue Oct 31 10:02:00 +0000 2017,ok,,11",
        "13,AcmeHelp,False,Tue Oct 31 10:03:00 +0000 2017,@800 good ^JK,,12",
        "14,800,True,Tue Oct 31 10:04:00 +0000 2017,thanks,,13",
        "15,OtherCo,False,Tue Oct 31 10:09:00 +0000 2017,@800 here now -Anna,,14",
        "20,AcmeHelp,False,Tue Oct 31 11:00:00 +0000 2017,@OtherCo shall we talk? ^JK,,",
        "21,OtherCo,False,Tue Oct 31 11:30:00 +0000 2017,@AcmeHelp sure -Anna,,20",
        "30,ThirdCo,True,Tue Oct 31 09:00:00 +0000 2017,new opening hours,,",
        "31,900,True,Tue Oct 31 09:10:00 +0000 2017,and on sundays?,,30",
        "32,ThirdCo,False,Tue Oct 31 09:20:00 +0000 2017,@900 closed -Bo,,31",
        "40,901,True,Tue Oct 31 13:00:00 +0000 2017,@AcmeHelp first version,,",
        "40,901,True,Tue Oct 31 13:00:00 +0000 2017,@AcmeHelp @OtherCo second version,,",
        "41,OtherCo,False,Tue Oct 31 13:02:00 +0000 2017,@901 hello -Anna,,40",
    ]
    for i in range(6):
        customer = 950 + i
        rows.append(f"{50 + i},{customer},True,Tue Oct 31 14:0{i}:00 +0000 2017,@AcmeHelp where is it,,")
        rows.append(
            f"{60 + i},AcmeHelp,False,Tue Oct 31 14:0{i}:30 +0000 2017,"
            f"@{customer} Please send us a direct message with your order number,,{50 + i}"
        )
    path = tmp_path / "crossing.csv"
    path.write_text(TWO_BRANDS.splitlines()[0] + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    got = partitioned_report(tmp_path, path)
    assert got == whole_file_report(path)
    by_brand = {row["brand"]: row for row in got["profiles"]}
    # One macro for six customers, 30 s after each: reuse alone is not evidence (METRICS.md
    # "Automated replies"), so an agent picking a stock text is a human answer.
    assert by_brand["AcmeHelp"]["answered_automated"] == 0
    assert by_brand["AcmeHelp"]["answered_by_human"] == by_brand["AcmeHelp"]["answered"]
    assert by_brand["ThirdCo"]["followups_answered"] == 1


@pytest.mark.parametrize("seed", range(12))
def test_partitioned_figures_equal_whole_file_figures_on_random_threads(seed: int, tmp_path: Path) -> None:
    path = tmp_path / f"random-{seed}.csv"
    path.write_text(random_twcs(seed), encoding="utf-8")
    assert partitioned_report(tmp_path, path) == whole_file_report(path)
    period = ("2017-10-31T06:00:00Z", "2017-10-31T18:00:00Z", "2017-10-31T20:00:00Z")
    got = partitioned_report(tmp_path, path, "--from", period[0], "--to", period[1], "--as-of", period[2])
    assert got == whole_file_report(path, *period)


def random_twcs(seed: int, rows: int = 400) -> str:
    """Tangled threads: replies to anyone (also to missing or later ids), several brands
    named at once, brands answering brands, repeated ids, brand rows marked inbound."""
    rng = random.Random(seed)
    brands = ["AcmeHelp", "OtherCo", "ThirdCo", "Quiet_One"]
    customers = [str(1000 + i) for i in range(40)]
    bodies = ["Please send us a direct message with your order number", "on it", "thanks!", ""]
    lines = [TWO_BRANDS.splitlines()[0]]
    for n in range(rows):
        tweet_id = n + 1 if rng.random() > 0.03 else rng.randint(1, n + 1)
        brand = rng.random() < 0.45
        author = rng.choice(brands) if brand else rng.choice(customers)
        inbound = not brand if rng.random() > 0.02 else brand
        when = 1509408000 + rng.randint(0, 86400)  # Tue Oct 31 2017, any time
        parent = "" if rng.random() < 0.3 else f"{rng.randint(1, rows + 20)}.0"
        named = rng.sample(brands + customers[:5], rng.choice((0, 0, 1, 1, 2)))
        text = " ".join([*(f"@{h}" for h in named), rng.choice(bodies), rng.choice(("", " ^JK", " -Anna"))])
        stamp = time.strftime("%a %b %d %H:%M:%S +0000 %Y", time.gmtime(when))
        lines.append(f'{tweet_id},{author},{inbound},{stamp},"{text}",,{parent}')
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- real-data rules (#12)

OLD_PARENTS = """\
tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id
1,AcmeHelp,False,Sat Oct 31 09:00:00 +0000 2015,@700 glad we could help ^JK,3,
2,AcmeHelp,False,Sun Oct 01 09:00:00 +0000 2017,@701 all sorted now ^JK,4,
3,700,True,Tue Oct 31 10:00:00 +0000 2017,@AcmeHelp it broke again &amp; I am &gt;:(,5,1
4,701,True,Tue Oct 31 11:00:00 +0000 2017,same problem as before,,2
5,AcmeHelp,False,Tue Oct 31 10:30:00 +0000 2017,@700 sorry! DM us ^JK,,3
6,702,True,Tue Oct 31 12:00:00 +0000 2017,"=HYPERLINK(""http://evil"") @AcmeHelp @OtherCo help",,
7,OtherCo,False,Tue Oct 31 12:05:00 +0000 2017,@AcmeHelp @ThirdCo who makes the best coffee?,8,
8,AcmeHelp,False,Tue Oct 31 12:06:00 +0000 2017,@OtherCo @ThirdCo we do &amp; always will,9,7
9,ThirdCo,False,Tue Oct 31 12:07:00 +0000 2017,@AcmeHelp @OtherCo bold claim,10,8
10,703,True,Tue Oct 31 12:09:00 +0000 2017,@AcmeHelp @OtherCo @ThirdCo lol my order is late though,11,9
11,AcmeHelp,False,Tue Oct 31 12:15:00 +0000 2017,@703 sorry! DM our friends @OtherCo for that one ^JK,,10
"""


@pytest.mark.parametrize("store", ["dynamodb", "memory"])
def test_follow_ups_to_brand_posts_30_days_and_2_years_before_the_period(store: str, tmp_path: Path) -> None:
    path = tmp_path / "old-parents.csv"
    path.write_text(OLD_PARENTS, encoding="utf-8")
    report = analyze(
        tmp_path,
        "--store",
        store,
        str(path),
        "--from",
        "2017-10-31",
        "--to",
        "2017-11-07",
        "--csv",
        str(tmp_path / "x.csv"),
    )
    by_brand = {row["brand"]: row for row in report["profiles"]}
    acme, other, third = by_brand["AcmeHelp"], by_brand["OtherCo"], by_brand["ThirdCo"]
    # 3 and 4 reply to Acme tweets of 2015 and of a month before: follow-ups, not openers.
    # 6 is Acme's and OtherCo's opener; the banter (7-9) and the redirect (11) are nobody's.
    # 10 replies to ThirdCo's tweet: ThirdCo's follow-up, although Acme answered it.
    assert (acme["openers"], acme["followups"], acme["followups_answered"]) == (1, 2, 1)
    assert (other["openers"], other["followups"]) == (1, 0)
    assert (third["openers"], third["followups"], third["followups_answered"]) == (0, 1, 0)
    assert engine_figures(report) == {
        b: figures
        for b, figures in expected_figures(
            path, parse_instant(report["as_of"]), (parse_instant("2017-10-31"), parse_instant("2017-11-07"))
        ).items()
    }


def test_analyze_csv_has_the_weekly_columns_one_row_per_customer_post_and_brand(tmp_path: Path) -> None:
    from responsegap.report.csv_export import COLUMNS

    path = tmp_path / "old-parents.csv"
    path.write_text(OLD_PARENTS, encoding="utf-8")
    out = {}
    for store in ("dynamodb", "memory"):
        target = tmp_path / f"{store}.csv"
        analyze(tmp_path, "--store", store, str(path), "--from", "2017-10-31", "--csv", str(target))
        data = target.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        assert tuple(rows[0]) == COLUMNS
        out[store] = sorted(tuple(r.values()) for r in rows)
        by_key = {(r["brand"], r["post_id"]): r for r in rows}
        assert set(by_key) == {
            ("AcmeHelp", "3"),
            ("AcmeHelp", "4"),
            ("AcmeHelp", "6"),
            ("OtherCo", "6"),
            ("ThirdCo", "10"),
        }
        first = by_key[("AcmeHelp", "3")]
        assert (first["kind"], first["status"], first["first_response_id"]) == ("followup", "answered", "5")
        assert (first["first_human_response_id"], first["first_human_response_seconds"]) == ("5", "1800")
        assert first["automated"] == "no"
        assert first["text"] == "'@AcmeHelp it broke again & I am >:("  # unescaped once; '@' defused
        assert by_key[("AcmeHelp", "6")]["text"].startswith("'=HYPERLINK")  # formula defused
        assert by_key[("ThirdCo", "10")]["status"] == "unanswered"
    assert out["dynamodb"] == out["memory"]
