"""The engine against an independent DuckDB SQL implementation of METRICS.md, on the same data.

Compares, per profile and per brand: openers, answered, unanswered, response_rate,
first_response_seconds median & p90, answered_by_human, first_human_response_seconds
median & p90, answered_within_sla, answered_automated, followups, followups_answered.
Integers must be equal; floats equal as Python floats (to the last digit).

Automation input: the SQL does not re-implement the classifier. It takes the generator's
ground-truth ``automated`` label of each brand reply as an input column; the data is built so
that the classification is unambiguous, and this script also checks that every first response
and first human response the engine chose carries an engine verdict equal to that label.

The SQL follows METRICS.md literally: a brand post ``b`` answers customer post ``c`` when it is
later and replies to ``c`` or to a post by ``c``'s author that descends from ``c`` (a recursive
CTE walks each customer post's reply subtree). ``median`` and ``p90`` are computed with the
exact formulas of ``statistics.median`` and ``statistics.quantiles(n=10, method="inclusive")[8]``
(integer arithmetic, one final division); the script also reports whether DuckDB's own
``median()`` / ``quantile_cont(0.9)`` give the same floats.

    .venv/bin/python -m tests.bench.engine_vs_duckdb [--posts 1000000]
"""

from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from responsegap.domain import metrics
from responsegap.domain.matching import match
from responsegap.domain.model import Post
from tests.bench.synthetic import READ_CSV_SQL, Scenario, _sql_str, write_csv

FIGURES = (
    "openers",
    "answered",
    "unanswered",
    "response_rate",
    "first_response_median",
    "first_response_p90",
    "answered_by_human",
    "first_human_median",
    "first_human_p90",
    "answered_within_sla",
    "answered_automated",
    "followups",
    "followups_answered",
)

_SQL = """
CREATE OR REPLACE TABLE posts AS SELECT DISTINCT * FROM {source};

-- METRICS.md "Brand post": authored by a profile of the brand (by handle, else by account id).
CREATE OR REPLACE TABLE owned AS
SELECT p.platform, p.post_id,
       coalesce(h.brand_id, i.brand_id) AS brand_id, coalesce(h.profile_key, i.profile_key) AS profile_key
FROM posts p
LEFT JOIN profiles h ON h.platform = p.platform AND h.handle = p.author_handle
LEFT JOIN profiles i ON i.platform = p.platform AND i.account_id = p.author_id AND p.author_id <> ''
WHERE coalesce(h.brand_id, i.brand_id) IS NOT NULL;

-- METRICS.md "Customer post", "Opener", "Follow-up".
CREATE OR REPLACE TABLE attributed AS
WITH base AS (
    SELECT p.platform, p.post_id, p.author_id, p.created_at, p.mentions, o.brand_id AS own_brand,
           CASE WHEN par.post_id IS NOT NULL THEN po.brand_id
                ELSE coalesce(ai.brand_id, ah.brand_id) END AS parent_brand,
           CASE WHEN par.post_id IS NOT NULL THEN po.profile_key
                ELSE coalesce(ai.profile_key, ah.profile_key) END AS parent_profile
    FROM posts p
    LEFT JOIN owned o ON o.platform = p.platform AND o.post_id = p.post_id
    LEFT JOIN posts par ON par.platform = p.platform AND par.post_id = p.in_reply_to_id
    LEFT JOIN owned po ON po.platform = par.platform AND po.post_id = par.post_id
    LEFT JOIN profiles ai ON ai.platform = p.platform AND ai.account_id = p.in_reply_to_author_id
    LEFT JOIN profiles ah ON ah.platform = p.platform AND ah.handle = lower(p.in_reply_to_author_id)
),
followups AS (
    SELECT platform, post_id, parent_brand AS brand_id, parent_profile AS profile_key, 'followup' AS kind
    FROM base WHERE parent_brand IS NOT NULL AND parent_brand IS DISTINCT FROM own_brand
),
mentioned AS (
    SELECT platform, post_id, own_brand, unnest(handles) AS handle, unnest(range(len(handles))) AS pos
    FROM (SELECT *, string_split(mentions, ' ') AS handles FROM base
          WHERE mentions IS NOT NULL
            AND NOT (parent_brand IS NOT NULL AND parent_brand IS DISTINCT FROM own_brand))
),
openers AS (
    SELECT m.platform, m.post_id, pr.brand_id, arg_min(pr.profile_key, m.pos) AS profile_key, 'opener' AS kind
    FROM mentioned m JOIN profiles pr ON pr.platform = m.platform AND pr.handle = m.handle
    WHERE pr.brand_id IS DISTINCT FROM m.own_brand
    GROUP BY m.platform, m.post_id, pr.brand_id
)
SELECT a.*, p.author_id, p.created_at FROM (SELECT * FROM followups UNION ALL SELECT * FROM openers) a
JOIN posts p USING (platform, post_id);

-- METRICS.md "When a post counts as answered": every post that descends from c ...
CREATE OR REPLACE TABLE descendants AS
WITH RECURSIVE d(platform, c_id, d_id, depth) AS (
    SELECT DISTINCT platform, post_id, post_id, 0 FROM attributed
    UNION ALL
    SELECT d.platform, d.c_id, ch.post_id, d.depth + 1
    FROM d JOIN posts ch ON ch.platform = d.platform AND ch.in_reply_to_id = d.d_id
    WHERE d.depth < 10000
)
SELECT * FROM d;

-- ... and a brand post b answers c when b is later than c, seen by as_of, and replies to c or
-- to a post by the same author as c that descends from c.
CREATE OR REPLACE TABLE answers AS
SELECT a.platform, a.post_id AS c_id, a.brand_id, b.post_id AS b_id, b.created_at AS b_at,
       b.created_at - a.created_at AS seconds, b.automated
FROM attributed a
JOIN descendants d ON d.platform = a.platform AND d.c_id = a.post_id
JOIN posts dp ON dp.platform = d.platform AND dp.post_id = d.d_id
JOIN posts b ON b.platform = d.platform AND b.in_reply_to_id = d.d_id
JOIN owned bo ON bo.platform = b.platform AND bo.post_id = b.post_id AND bo.brand_id = a.brand_id
WHERE (d.d_id = a.post_id OR dp.author_id = a.author_id)
  AND b.created_at > a.created_at AND b.created_at <= {as_of};

CREATE OR REPLACE TABLE outcomes AS
SELECT a.platform, a.post_id, a.brand_id, a.profile_key, a.kind, a.created_at,
       f.seconds AS first_seconds, f.automated AS first_automated, h.seconds AS human_seconds
FROM attributed a
LEFT JOIN (SELECT platform, c_id, brand_id,
                  arg_min(seconds, (b_at, b_id)) AS seconds, arg_min(automated, (b_at, b_id)) AS automated
           FROM answers GROUP BY ALL) f
       ON f.platform = a.platform AND f.c_id = a.post_id AND f.brand_id = a.brand_id
LEFT JOIN (SELECT platform, c_id, brand_id, arg_min(seconds, (b_at, b_id)) AS seconds
           FROM answers WHERE automated = 0 GROUP BY ALL) h
       ON h.platform = a.platform AND h.c_id = a.post_id AND h.brand_id = a.brand_id;
"""

# Figures of one group. l = sorted list; median and p90 with the statistics module's formulas.
_FIGURES_SQL = """
WITH x AS (
    SELECT {group_cols},
        count(*) FILTER (WHERE kind = 'opener') AS openers,
        count(first_seconds) FILTER (WHERE kind = 'opener') AS answered,
        count(human_seconds) FILTER (WHERE kind = 'opener') AS answered_by_human,
        count(*) FILTER (WHERE kind = 'opener' AND human_seconds <= pr.sla_seconds) AS answered_within_sla,
        count(*) FILTER (WHERE kind = 'opener' AND first_automated = 1) AS answered_automated,
        count(*) FILTER (WHERE kind = 'followup') AS followups,
        count(first_seconds) FILTER (WHERE kind = 'followup') AS followups_answered,
        list(first_seconds ORDER BY first_seconds)
            FILTER (WHERE kind = 'opener' AND first_seconds IS NOT NULL) AS f,
        list(human_seconds ORDER BY human_seconds)
            FILTER (WHERE kind = 'opener' AND human_seconds IS NOT NULL) AS h,
        median(first_seconds) FILTER (WHERE kind = 'opener') AS f_median_native,
        quantile_cont(first_seconds, 0.9) FILTER (WHERE kind = 'opener') AS f_p90_native,
        median(human_seconds) FILTER (WHERE kind = 'opener') AS h_median_native,
        quantile_cont(human_seconds, 0.9) FILTER (WHERE kind = 'opener') AS h_p90_native
    FROM outcomes o JOIN profiles pr ON pr.profile_key = o.profile_key
    WHERE o.created_at >= pr.period_start AND o.created_at < pr.period_end
    GROUP BY {group_cols}
)
SELECT *, openers - answered AS unanswered,
    CASE WHEN openers > 0 THEN answered / openers END AS response_rate,
    {median_f} AS first_response_median, {p90_f} AS first_response_p90,
    {median_h} AS first_human_median, {p90_h} AS first_human_p90
FROM x
"""


def _median(col: str) -> str:
    n = f"len({col})"
    return (
        f"CASE WHEN {n} = 0 OR {col} IS NULL THEN NULL WHEN {n} % 2 = 1 THEN {col}[{n} // 2 + 1]::DOUBLE "
        f"ELSE ({col}[{n} // 2] + {col}[{n} // 2 + 1]) / 2 END"
    )


def _p90(col: str) -> str:
    n = f"len({col})"
    j = f"((9 * ({n} - 1)) // 10)"
    delta = f"(9 * ({n} - 1) - 10 * {j})"
    return (
        f"CASE WHEN {n} = 0 OR {col} IS NULL THEN NULL WHEN {n} = 1 THEN {col}[1]::DOUBLE "
        f"ELSE ({col}[{j} + 1] * (10 - {delta}) + {col}[{j} + 2] * {delta}) / 10 END"
    )


def _profiles_rows(scenario: Scenario) -> list[tuple]:
    rows = []
    for brand in scenario.brand_config:
        for profile in brand.profiles:
            period = scenario.periods[profile.key]
            rows.append(
                (
                    brand.brand_id,
                    profile.platform,
                    profile.handle,
                    profile.account_id,
                    profile.key,
                    profile.sla_seconds,
                    period.start,
                    period.end,
                )
            )
    return rows


def reference(con: duckdb.DuckDBPyConnection, source_sql: str, scenario: Scenario) -> dict[str, Any]:
    """Figures per profile key and per brand id (plus a check of DuckDB's native percentiles)."""
    con.execute(
        "CREATE OR REPLACE TABLE profiles (brand_id VARCHAR, platform VARCHAR, handle VARCHAR,"
        " account_id VARCHAR,"
        " profile_key VARCHAR, sla_seconds BIGINT, period_start BIGINT, period_end BIGINT)"
    )
    con.executemany("INSERT INTO profiles VALUES (?, ?, ?, ?, ?, ?, ?, ?)", _profiles_rows(scenario))
    dupes = con.execute(
        "SELECT count(*) FROM (SELECT platform, handle FROM profiles GROUP BY ALL HAVING count(*) > 1)"
    )
    assert dupes.fetchone()[0] == 0, "two profiles share a handle: the SQL assumes they do not"
    for statement in _SQL.format(source=source_sql, as_of=int(scenario.as_of)).split(";\n"):
        if statement.strip():
            con.execute(statement)
    clash = con.execute("SELECT count(*) - count(DISTINCT (platform, post_id)) FROM posts").fetchone()[0]
    assert clash == 0, "differing copies of one post: the SQL only collapses identical duplicates"
    out: dict[str, Any] = {"profile": {}, "brand": {}, "native_mismatches": []}
    for level, group_cols in (("profile", "o.profile_key"), ("brand", "o.brand_id")):
        sql = _FIGURES_SQL.format(
            group_cols=group_cols,
            median_f=_median("f"),
            p90_f=_p90("f"),
            median_h=_median("h"),
            p90_h=_p90("h"),
        )
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        for row in cursor.fetchall():
            record = dict(zip(names, row, strict=True))
            key = record.get("profile_key") or record.get("brand_id")
            out[level][key] = {name: record[name] for name in FIGURES}
            for exact, native in (
                ("first_response_median", "f_median_native"),
                ("first_response_p90", "f_p90_native"),
                ("first_human_median", "h_median_native"),
                ("first_human_p90", "h_p90_native"),
            ):
                if _as_float(record[exact]) != _as_float(record[native]):
                    out["native_mismatches"].append(
                        f"{level} {key} {exact}: {record[exact]!r} vs {record[native]!r}"
                    )
    return out


def engine_figures(report: dict[str, Any]) -> dict[str, Any]:
    def pick(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "openers": row["openers"],
            "answered": row["answered"],
            "unanswered": row["unanswered"],
            "response_rate": row["response_rate"],
            "first_response_median": row["first_response_seconds"]["median"],
            "first_response_p90": row["first_response_seconds"]["p90"],
            "answered_by_human": row["answered_by_human"],
            "first_human_median": row["first_human_response_seconds"]["median"],
            "first_human_p90": row["first_human_response_seconds"]["p90"],
            "answered_within_sla": row["answered_within_sla"],
            "answered_automated": row["answered_automated"],
            "followups": row["followups"],
            "followups_answered": row["followups_answered"],
        }

    return {
        "profile": {f"{r['platform']}#{r['profile']}": pick(r) for r in report["profiles"]},
        "brand": {r["brand"]: pick(r) for r in report["brands"]},
    }


def _as_float(value: Any) -> float | None:
    return None if value is None else float(value)


def differences(engine: dict[str, Any], ref: dict[str, Any]) -> list[str]:
    """Every figure that differs; groups with no outcomes at all are all-zero in the engine."""
    out = []
    for level in ("profile", "brand"):
        for key, figures in engine[level].items():
            other = ref[level].get(key)
            for name in FIGURES:
                mine = figures[name]
                theirs = None if other is None else other[name]
                if (
                    other is None
                    and name not in ("response_rate",)
                    and "median" not in name
                    and "p90" not in name
                ):
                    theirs = 0
                if isinstance(mine, int) and not isinstance(mine, bool) and isinstance(theirs, int):
                    same = mine == theirs
                else:
                    same = _as_float(mine) == _as_float(theirs)
                if not same:
                    out.append(f"{level} {key} {name}: engine {mine!r} != duckdb {theirs!r}")
        for key in ref[level]:
            if key not in engine[level]:
                out.append(f"{level} {key}: only in duckdb")
    return out


def verdict_mismatches(outcomes, labels: dict[tuple[str, str], bool]) -> list[str]:
    """First (human) responses whose engine verdict disagrees with the generator's label."""
    out = []
    for outcome in outcomes:
        for response in (outcome.first_response, outcome.first_human_response):
            if response is None:
                continue
            label = labels[(outcome.post.platform, response.post_id)]
            if response.automated != label:
                out.append(f"reply {response.post_id}: engine automated={response.automated}, label={label}")
    return out


def read_posts_csv(path: Path) -> tuple[list[Post], dict[tuple[str, str], bool]]:
    """The generated CSV back into Posts (what a reader of the same file would do)."""
    posts, labels = [], {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            post = Post(
                platform=row[0],
                post_id=row[1],
                author_id=row[2],
                author_handle=row[3],
                created_at=int(row[4]),
                text=row[5],
                in_reply_to_id=row[6] or None,
                in_reply_to_author_id=row[7] or None,
                mentions=tuple(row[8].split()),
                application=row[9] or None,
            )
            posts.append(post)
            if row[10]:
                labels[post.key] = row[10] == "1"
    return posts, labels


def compare(scenario: Scenario, workdir: Path, verbose: bool = True) -> dict[str, Any]:
    """Run both sides on ``scenario``; return the timings, the differences and the check results."""
    csv_path = workdir / "posts.csv"
    write_csv(scenario, csv_path)

    t0 = time.perf_counter()
    posts, labels = read_posts_csv(csv_path)
    t1 = time.perf_counter()
    c1 = time.process_time()
    outcomes = match(posts, scenario.brand_config, scenario.as_of)
    report = metrics.report(outcomes, scenario.brand_config, scenario.period_of, scenario.as_of)
    t2 = time.perf_counter()
    engine_cpu = time.process_time() - c1
    engine = engine_figures(report)
    mismatched_verdicts = verdict_mismatches(outcomes, labels)
    engine_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del posts, outcomes

    con = duckdb.connect()
    con_threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    t3 = time.perf_counter()
    con.execute(f"CREATE TABLE raw AS SELECT * FROM {READ_CSV_SQL.format(path=_sql_str(csv_path))}")
    t4 = time.perf_counter()
    c4 = time.process_time()
    ref = reference(con, "raw", scenario)
    t5 = time.perf_counter()
    duckdb_cpu = time.process_time() - c4
    con.close()

    result = {
        "posts": scenario.n_posts,
        "engine_read_s": t1 - t0,
        "engine_s": t2 - t1,
        "duckdb_load_s": t4 - t3,
        "duckdb_s": t5 - t4,
        "engine_cpu_s": engine_cpu,
        "duckdb_cpu_s": duckdb_cpu,
        "duckdb_threads": con_threads,
        "differences": differences(engine, ref),
        "verdict_mismatches": mismatched_verdicts,
        "native_mismatches": ref["native_mismatches"],
        "groups": (len(engine["profile"]), len(engine["brand"])),
        "engine_rss_mb": engine_rss,
        "engine": engine,
        "reference": {"profile": ref["profile"], "brand": ref["brand"]},
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--brands", type=int, default=12)
    args = parser.parse_args(argv)
    scenario = Scenario(n_posts=args.posts, brands=args.brands)
    with tempfile.TemporaryDirectory() as tmp:
        r = compare(scenario, Path(tmp))
    print(f"engine_vs_duckdb: {r['posts']:,} posts, {r['groups'][0]} profiles, {r['groups'][1]} brands")
    print(
        f"  engine: match + report {r['engine_s']:.2f} s "
        f"(reading the CSV into Posts: {r['engine_read_s']:.2f} s)"
    )
    print(f"  duckdb: SQL {r['duckdb_s']:.2f} s (loading the CSV: {r['duckdb_load_s']:.2f} s)")
    print(
        f"  CPU seconds: engine {r['engine_cpu_s']:.2f}, duckdb {r['duckdb_cpu_s']:.2f} "
        f"({r['duckdb_threads']} threads); CPU ratio {r['engine_cpu_s'] / r['duckdb_cpu_s']:.2f}x"
    )
    print(
        f"  ratio engine/duckdb: {r['engine_s'] / r['duckdb_s']:.2f}x on the computation, "
        f"{(r['engine_s'] + r['engine_read_s']) / (r['duckdb_s'] + r['duckdb_load_s']):.2f}x "
        "including reading"
    )
    n_figures = (r["groups"][0] + r["groups"][1]) * len(FIGURES)
    if r["differences"]:
        print(f"  FIGURES DIFFER: {len(r['differences'])} of {n_figures}")
        for line in r["differences"][:30]:
            print("    " + line)
    else:
        print(f"  all {n_figures} figures equal (integers exactly, floats as Python floats)")
    print(f"  engine verdicts vs generator labels: {len(r['verdict_mismatches'])} mismatches")
    for line in r["verdict_mismatches"][:10]:
        print("    " + line)
    native = r["native_mismatches"]
    print(
        f"  DuckDB's own median()/quantile_cont(0.9) vs the statistics formulas: {len(native)} of "
        f"{4 * n_figures // len(FIGURES)} percentiles differ"
    )
    for line in native[:6]:
        print("    " + line)
    return 1 if r["differences"] or r["verdict_mismatches"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
