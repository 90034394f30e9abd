"""Corrections stored with ``responsegap automation mark`` change the next weekly report of
that brand, and of no other brand (real PostStore on moto)."""

from __future__ import annotations

import shlex

from responsegap.cli import build_parser
from responsegap.domain.model import Brand, Post, Profile, mentions_in
from responsegap.report import compose_weekly_report
from responsegap.report.render import render_html, render_text
from tests.unit.report import report_sample as s

CAMPAIGN = [
    "Our heart is beating faster over here. #TrickorTweet",
    "This Coke looks <b>so</b> good & sweet. #TrickorTweet",
]
MACRO = "Sorry to hear that. Please send us a DM with your account email so we can look."


def _brand(brand_id: str, handle: str, account: str) -> Brand:
    return Brand(brand_id, brand_id.title(), profiles=(Profile(brand_id, "x", handle, account_id=account),))


def _week(handle: str, account: str, prefix: str) -> list[Post]:
    posts = []
    for n in range(12):
        when = s.at(2, 10, n)
        who = f"{prefix}cust{n}"
        asked = f"@{handle} Treat" if n < 6 else f"@{handle} my bill is wrong again"
        posts.append(Post("x", f"{prefix}c{n}", who, who, when, asked, mentions=mentions_in(asked)))
        line = CAMPAIGN[n % 2] if n < 6 else MACRO
        text = f"@{who} {line}"
        posts.append(
            Post(
                "x",
                f"{prefix}r{n}",
                account,
                handle,
                when + 900,
                text,
                in_reply_to_id=f"{prefix}c{n}",
                in_reply_to_author_id=who,
                mentions=mentions_in(text),
            )
        )
    return posts


def _mark(store, *argv: str) -> None:
    args = build_parser().parse_args(["automation", *argv])
    assert args.run(args, store=store, clock=lambda: s.AS_OF) == 0


def _automated(store, brand_id: str) -> tuple[int, dict[str, int], int]:
    figures = compose_weekly_report(store, store.get_brand(brand_id), s.WEEK, s.AS_OF).figures
    return figures["answered_automated"], figures["automated_reasons"], figures["answered_by_human"]


def test_marked_texts_change_the_next_report_of_that_brand_only(store) -> None:
    store.clock = lambda: s.AS_OF
    for brand_id, handle, account in (("acme", "acmehelp", "100"), ("globex", "globexcares", "200")):
        store.put_brand(_brand(brand_id, handle, account))
        store.save_posts(f"x#{handle}", _week(handle, account, brand_id[0]))
    before = {b: _automated(store, b) for b in ("acme", "globex")}
    assert before["acme"] == before["globex"] == (6, {"campaign reply": 6}, 6)

    _mark(store, "mark", "--brand", "acme", "--human", "--text", CAMPAIGN[0])
    _mark(store, "mark", "--brand", "acme", "--automated", "--text", "@someone " + MACRO)
    automated, reasons, by_human = _automated(store, "acme")
    # 3 campaign replies now human, 6 macro replies now automated by the brand's word.
    assert (automated, by_human) == (9, 3)
    assert reasons == {"campaign reply": 3, "corrected by the brand": 6}
    assert _automated(store, "globex") == before["globex"]

    _mark(store, "unmark", "--brand", "acme", "--text", MACRO)
    _mark(store, "mark", "--brand", "acme", "--automated", "--post", "ar7")
    assert _automated(store, "acme") == (4, {"campaign reply": 3, "corrected by the brand": 1}, 8)
    assert _automated(store, "globex") == before["globex"]


def test_the_email_lists_each_automated_text_once_with_the_command_that_corrects_it(store) -> None:
    store.clock = lambda: s.AS_OF
    store.put_brand(_brand("acme", "acmehelp", "100"))
    store.save_posts("x#acmehelp", _week("acmehelp", "100", "a"))
    report = compose_weekly_report(store, store.get_brand("acme"), s.WEEK, s.AS_OF)
    text = render_text(report)
    commands = [
        line.strip() for line in text.splitlines() if line.strip().startswith("responsegap automation")
    ]
    assert len(commands) == 2  # two campaign lines, each once; the macro is human
    assert text.count("- 3x ") == 2
    html = render_html(report)
    assert "looks &lt;b&gt;so&lt;/b&gt; good &amp; sweet" in html and "<b>so</b>" not in html
    # Running a command as printed makes that text human in the next report.
    argv = shlex.split(commands[0])
    assert argv[:2] == ["responsegap", "automation"]
    _mark(store, *argv[2:])
    assert _automated(store, "acme") == (3, {"campaign reply": 3}, 9)
    again = render_text(compose_weekly_report(store, store.get_brand("acme"), s.WEEK, s.AS_OF))
    assert [
        line.strip() for line in again.splitlines() if line.strip().startswith("responsegap automation")
    ] == commands[1:]
