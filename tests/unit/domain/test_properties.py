"""Order and duplication never change the figures (posts arrive over many polls, in any order)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from responsegap.domain.matching import match
from responsegap.domain.metrics import report
from responsegap.domain.model import Post
from responsegap.domain.periods import Period
from tests.unit.domain.conversations import acme, at, globex

AUTHORS = [("1", "1"), ("2", "2"), ("3", "3"), ("100", "acmehelp"), ("101", "acme"), ("200", "globexcares")]
HANDLES = ["acmehelp", "acme", "globexcares", "someoneelse"]
TEXTS = [
    "where is my order",
    "Sorry, DM us ^JK",
    "Please send us a DM with your account email",
    "thanks -Anna",
]


@st.composite
def conversations(draw):
    size = draw(st.integers(min_value=1, max_value=30))
    posts = []
    for index in range(size):
        author_id, handle = draw(st.sampled_from(AUTHORS))
        parent = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=max(index - 1, 0))))
        posts.append(
            Post(
                "x",
                f"p{index}",
                author_id,
                handle,
                at(draw(st.integers(min_value=0, max_value=600))),
                draw(st.sampled_from(TEXTS)),
                in_reply_to_id=f"p{parent}" if parent is not None and index > 0 else None,
                mentions=tuple(draw(st.lists(st.sampled_from(HANDLES), max_size=3, unique=True))),
                application=draw(st.sampled_from([None, None, "IFTTT"])),
            )
        )
    return posts


def figures(posts):
    brands = [acme(), globex()]
    return report(match(posts, brands, at(550)), brands, Period(at(0), at(500)), at(550))


@given(conversations(), st.randoms(use_true_random=False), st.lists(st.integers(min_value=0, max_value=29)))
@settings(max_examples=300, deadline=None)
def test_any_arrival_order_and_any_duplication_gives_identical_figures(posts, rng, repeats):
    baseline = figures(posts)
    arrived = posts + [posts[i % len(posts)] for i in repeats]
    rng.shuffle(arrived)
    assert figures(arrived) == baseline
    assert match(arrived, [acme(), globex()], at(550)) == match(posts, [acme(), globex()], at(550))


@given(conversations())
@settings(max_examples=200, deadline=None)
def test_counts_are_consistent(posts):
    for row in figures(posts)["profiles"]:
        assert row["answered"] + row["unanswered"] == row["openers"]
        assert row["answered_by_human"] <= row["answered"]
        assert row["answered_within_sla"] <= row["answered_by_human"]
        assert row["followups_answered"] <= row["followups"]
        median = row["first_response_seconds"]["median"]
        assert median is None or median > 0
