"""The twcs CSV reader on hand-made files (one per quirk) and on the three bundled samples."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from responsegap.archive.twcs import (
    ReadStats,
    brands_from_twcs,
    index_twcs,
    load_twcs,
    parse_created_at,
    parse_id,
    read_twcs,
)
from responsegap.domain.model import ConfigError, Post, Profile

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "twcs"
DATA = Path(__file__).resolve().parents[2] / "infra" / "data" / "twcs"
HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
OCT31_221047 = 1509487847  # Tue Oct 31 22:10:47 +0000 2017


def read(name: str) -> tuple[list[Post], ReadStats]:
    stats = ReadStats()
    return list(read_twcs(FIXTURES / name, stats)), stats


def test_a_row_becomes_a_post() -> None:
    posts, stats = read("basic.csv")
    assert posts[0] == Post(
        platform="twcs",
        post_id="1",
        author_id="115712",
        author_handle="115712",
        created_at=OCT31_221047,
        text="@AcmeHelp my order is late",
        in_reply_to_id=None,
        mentions=("acmehelp",),
        url=None,
    )
    assert posts[1].author_handle == "acmehelp" and posts[1].in_reply_to_id == "1"
    assert (stats.rows, stats.posts, stats.skipped_total) == (6, 6, 0)


def test_quoted_multiline_text_escaped_quotes_unicode_and_empty_text() -> None:
    posts, _ = read("basic.csv")
    by_id = {p.post_id: p for p in posts}
    assert by_id["2"].text == "@115712 Sorry! Which order?\nDM us ^JK"
    assert by_id["3"].text == '@AcmeHelp "12345", thanks'
    assert by_id["4"].mentions == ("acmehelp", "otherco") and "🎉" in by_id["4"].text
    assert by_id["6"].text == "" and by_id["6"].mentions == ()


def test_inbound_in_any_letter_case_and_offsets_other_than_utc() -> None:
    _, stats = read("basic.csv")
    assert stats.skipped_total == 0  # True, TRUE, true, False, FALSE, false all read
    posts, _ = read("basic.csv")
    assert posts[-1].created_at == 1509532200  # Wed Nov 01 09:00:00 -0130 2017 = 10:30 UTC


def test_leading_index_column_and_float_ids() -> None:
    posts, stats = read("indexed.csv")
    assert [(p.post_id, p.in_reply_to_id) for p in posts] == [("848", None), ("849", "848"), ("850", "849")]
    assert stats.skipped_total == 0


def test_crlf_and_bom() -> None:
    posts, stats = read("crlf_bom.csv")
    assert [p.post_id for p in posts] == ["10", "11"]
    assert posts[0].text == "@AcmeHelp two\r\nlines"  # inside quotes: kept as written
    assert stats.skipped_total == 0


def test_a_bare_carriage_return_outside_quotes_breaks_only_its_record() -> None:
    posts, stats = read("bare_cr.csv")
    assert [p.post_id for p in posts] == ["21", "22"]
    assert posts[0].text == "@AcmeHelp quoted\rcarriage return is fine"
    # the csv module ends the record at the \r: both halves have the wrong width
    assert stats.skipped == {"broken_record": 2}


def test_garbage_fields_are_skipped_and_counted_by_reason() -> None:
    posts, stats = read("garbage.csv")
    assert [p.post_id for p in posts] == ["37"]
    assert stats.skipped == {
        "bad_tweet_id": 1,
        "bad_author_id": 1,
        "bad_inbound": 1,
        "bad_created_at": 1,
        "bad_in_response_to_tweet_id": 1,
        "broken_record": 2,
    }
    assert stats.rows == 8 and stats.posts == 1


def test_an_oversized_field_is_skipped_and_reading_goes_on() -> None:
    text = HEADER + f'1,9,True,Tue Oct 31 22:10:47 +0000 2017,"{"x" * (2 << 20)}",,\n'
    text += "2,AcmeHelp,False,Tue Oct 31 22:12:47 +0000 2017,ok,,\n"
    stats = ReadStats()
    assert [p.post_id for p in read_twcs(io.StringIO(text), stats)] == ["2"]
    assert stats.skipped == {"csv_error": 1}


def test_a_binary_stream_and_invalid_utf8_are_read() -> None:
    data = (HEADER + "1,9,True,Tue Oct 31 22:10:47 +0000 2017,caf\xe9,,\n").encode("latin-1")
    (post,) = read_twcs(io.BytesIO(data))
    assert post.text == "caf\ufffd"


def test_not_a_twcs_file_and_a_missing_file() -> None:
    with pytest.raises(ConfigError, match="not a twcs file"):
        list(read_twcs(io.StringIO("a,b,c\n1,2,3\n")))
    with pytest.raises(ConfigError, match="no such file"):
        list(read_twcs(FIXTURES / "absent.csv"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("848", "848"),
        ("848.0", "848"),
        (" 3.0 ", "3"),
        ("8.48e2", "848"),
        ("8.5", None),
        ("-1", None),
        ("x", None),
        ("", None),
    ],
)
def test_parse_id(raw: str, expected: str | None) -> None:
    assert parse_id(raw) == expected


def test_parse_created_at_rejects_garbage() -> None:
    assert parse_created_at("Tue Oct 31 22:10:47 +0000 2017") == OCT31_221047
    for bad in (
        "Tue Oct 31 22:10:47 2017",
        "Tue Foo 31 22:10:47 +0000 2017",
        "Tue Oct 31 25:10:47 +0000 2017",
        "x",
    ):
        assert parse_created_at(bad) is None


def test_reading_streams_in_constant_memory() -> None:
    def rows(n: int) -> Iterator[str]:
        yield HEADER
        for i in range(n):
            text = f"@AcmeHelp message number {i} {'x' * 100}"
            yield f"{i},{100000 + i % 500},True,Tue Oct 31 22:10:47 +0000 2017,{text},,\n"

    class Lines(io.TextIOBase):
        def __init__(self, n: int) -> None:
            self._it = rows(n)

        def __iter__(self) -> Iterator[str]:
            return self._it

        def __next__(self) -> str:
            return next(self._it)

        def readable(self) -> bool:
            return True

    def peak(n: int) -> int:
        tracemalloc.start()
        count = sum(1 for _ in read_twcs(Lines(n)))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count == n
        return top

    # 10x the rows (~1.5 MB -> ~15 MB of CSV) must not need noticeably more memory
    small, large = peak(2_000), peak(20_000)
    assert large < small + 256 * 1024


def test_brands_are_the_authors_of_non_inbound_rows() -> None:
    brands = brands_from_twcs(FIXTURES / "basic.csv")
    assert [b.brand_id for b in brands] == ["AcmeHelp", "OtherCo"]
    assert brands[0].profiles == (Profile("AcmeHelp", "twcs", "acmehelp", account_id="AcmeHelp"),)


def test_routing_puts_each_post_where_the_engine_needs_it() -> None:
    # Routing is by thread: 1-5 are one thread naming and written by both brands, so every
    # post of it is in both partitions (3 names AcmeHelp only, but a partition judging
    # OtherCo's answer to 4 needs the whole chain above it); 6 is a thread of its own.
    index = index_twcs(FIXTURES / "basic.csv")
    posts = {p.post_id: p for p in read_twcs(FIXTURES / "basic.csv")}
    assert index.brands == {"acmehelp": "AcmeHelp", "otherco": "OtherCo"}
    for post_id in "12345":
        assert index.routes(posts[post_id]) == {"acmehelp", "otherco"}
    assert index.thread("3") == index.thread("5") != index.thread("6")
    assert index.routes(posts["6"]) == {"acmehelp"}
    assert (index.first_created, index.last_created) == (OCT31_221047, 1509532200)


def test_a_thread_without_a_brand_goes_nowhere_and_a_missing_parent_still_joins(tmp_path: Path) -> None:
    text = HEADER + (
        "1,7,True,Tue Oct 31 22:10:47 +0000 2017,just chatting,,\n"
        "2,8,True,Tue Oct 31 22:11:47 +0000 2017,@9 me too,,1\n"
        "3,9,True,Tue Oct 31 22:12:47 +0000 2017,@AcmeHelp hi,,99\n"
        "4,AcmeHelp,False,Tue Oct 31 22:13:47 +0000 2017,@8 hello,,99\n"
    )
    path = tmp_path / "threads.csv"
    path.write_text(text, encoding="utf-8")
    index = index_twcs(path)
    assert index.routes_of("1") == index.routes_of("2") == frozenset()
    assert index.routes_of("3") == index.routes_of("4") == {"acmehelp"}  # both reply to 99


def test_repeated_strings_are_shared() -> None:
    text = HEADER + "".join(
        f"{i},{'AcmeHelp' if i % 2 else 'acme_two'},False,Tue Oct 31 22:10:47 +0000 2017,@Cust9 hi,,\n"
        for i in range(1, 7)
    )
    posts = list(read_twcs(io.StringIO(text)))
    assert len({id(p.author_id) for p in posts}) == 2
    lower = [p for p in posts if p.author_id == "acme_two"]
    assert all(p.author_handle is p.author_id for p in lower)  # equal: the same object
    assert len({id(p.mentions) for p in posts}) == 1 and posts[0].mentions == ("cust9",)
    loaded, _ = load_twcs(io.StringIO(text))  # type: ignore[arg-type]
    assert len({id(p.mentions) for p in loaded}) == 1


def test_load_gives_the_same_posts_and_brands_in_one_pass() -> None:
    stats = ReadStats()
    posts, brands = load_twcs(FIXTURES / "garbage.csv", stats)
    assert posts == list(read_twcs(FIXTURES / "garbage.csv"))
    assert brands == brands_from_twcs(FIXTURES / "garbage.csv")
    assert stats.skipped_total == 7


# (file, rows, posts, skipped, brands) as read today; a change here is a change of the reader.
BUNDLED = [
    ("kaggle-sample.csv", 93, 93, 0, 13),
    ("twcs-head-public.csv", 2901, 2901, 0, 63),
    ("twcs-random-5000.csv", 5000, 5000, 0, 100),
]


@pytest.mark.parametrize(("name", "rows", "posts", "skipped", "brands"), BUNDLED)
def test_bundled_samples(name: str, rows: int, posts: int, skipped: int, brands: int) -> None:
    stats = ReadStats()
    read = list(read_twcs(DATA / name, stats))
    assert (stats.rows, stats.posts, stats.skipped_total) == (rows, posts, skipped)
    assert len(read) == posts == len({p.post_id for p in read})
    assert len(brands_from_twcs(DATA / name)) == brands
    assert all(p.created_at > 1_000_000_000 for p in read)


ESCAPED = HEADER + (
    "1,115712,True,Tue Oct 31 22:10:47 +0000 2017,"
    '"@AT&amp;T_Help queer &amp; trans &gt;:( &lt;3 &amp;amp; https://t.co/a?b=1&amp;c=2",2,\n'
    "2,ATTHelp,False,Tue Oct 31 22:11:47 +0000 2017,@115712 R&amp;D says hi,,1\n"
)


def test_text_is_unescaped_once_when_read() -> None:
    # The archive escapes as X does; every bundled sample carries entities (100 rows of the
    # public head). A literal "&amp;" typed by a person arrives as "&amp;amp;".
    first, _second = read_twcs(io.StringIO(ESCAPED))
    assert first.text == "@AT&T_Help queer & trans >:( <3 &amp; https://t.co/a?b=1&c=2"
    posts, _ = load_twcs(io.StringIO(ESCAPED))  # type: ignore[arg-type]
    assert posts[0].text == first.text


def test_no_entity_is_left_in_the_bundled_samples() -> None:
    escaped = 0
    for name in ("kaggle-sample.csv", "twcs-head-public.csv", "twcs-random-5000.csv"):
        raw = (DATA / name).read_text(encoding="utf-8-sig")
        escaped += raw.count("&amp;") + raw.count("&gt;") + raw.count("&lt;")
        for post in read_twcs(DATA / name):
            assert "&gt;" not in post.text and "&lt;" not in post.text
    assert escaped > 300


def test_the_index_names_the_brand_of_every_brand_tweet(tmp_path: Path) -> None:
    # A brand is an author of any outbound tweet; its inbound-marked tweets are its too.
    path = tmp_path / "brands.csv"
    path.write_text(
        HEADER
        + "5,AcmeHelp,True,Tue Oct 31 09:00:00 +0000 2017,new opening hours,,\n"
        + "3,700,True,Tue Oct 31 10:00:00 +0000 2017,@AcmeHelp hi,4,1\n"
        + "1,AcmeHelp,False,Sat Oct 31 09:00:00 +0000 2015,@700 done ^JK,3,\n"
        + "99999999999999999999999,AcmeHelp,False,Sat Oct 31 09:00:00 +0000 2015,@700 huge id,,\n",
        encoding="utf-8",
    )
    index = index_twcs(path)
    assert [index.brand_author(i) for i in ("1", "5", "3", "99999999999999999999999", "7", None)] == [
        "AcmeHelp",
        "AcmeHelp",
        None,
        "AcmeHelp",
        None,
        None,
    ]
    posts = {p.post_id: p for p in read_twcs(path, index=index)}
    assert posts["3"].in_reply_to_author_id == "AcmeHelp"
    assert posts["1"].in_reply_to_author_id is None
