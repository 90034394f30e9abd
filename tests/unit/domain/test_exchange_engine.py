"""The engine's agents and endings: what ``match`` puts on each outcome, in any post order."""

from __future__ import annotations

import random

from responsegap.domain.matching import match
from responsegap.domain.model import Brand, Post, Profile

BRAND = Brand("acme", "Acme", (Profile("acme", "x", "acmesupport", account_id="9"),))


def _post(post_id: str, author: str, at: int, text: str, parent: Post | None = None) -> Post:
    handle = "acmesupport" if author == "9" else f"user{author}"
    mentions = ("acmesupport",) if parent is None else ()
    return Post(
        "x",
        post_id,
        author,
        handle,
        at,
        text,
        parent.post_id if parent else None,
        parent.author_id if parent else None,
        mentions,
    )


def _threads() -> list[Post]:
    dm_opener = _post("1", "c1", 100, "@AcmeSupport my order is late")
    dm_reply = _post("2", "9", 400, "@userc1 Sorry! Please DM us your order number ^JK", dm_opener)
    thanks = _post("3", "c1", 500, "@AcmeSupport thank you so much, all sorted!", dm_reply)
    angry = _post("4", "c2", 100, "@AcmeSupport the app is broken")
    auto = _post("5", "9", 101, "@userc2 Thanks for contacting us! An agent will reply soon.", angry)
    human = _post("6", "9", 900, "@userc2 Have you tried a restart? -Becky", angry)
    useless = _post("7", "c2", 1000, "@AcmeSupport Useless. Still broken.", human)
    late = _post("8", "9", 20_000, "@userc2 So sorry, we'll fix it ^JK", useless)
    silent = _post("9", "c3", 100, "@AcmeSupport hello?")
    return [dm_opener, dm_reply, thanks, angry, auto, human, useless, late, silent]


def _by_post(posts: list[Post]) -> dict[str, tuple]:
    return {
        o.post.post_id: (o.kind, o.agent, o.ending, o.reply_agents)
        for o in match(posts, [BRAND], as_of=10_000)
    }


def test_agent_and_ending_of_each_opener() -> None:
    got = _by_post(_threads())
    # Moved to DM, then the customer thanks publicly: the public closure wins.
    assert got["1"] == ("opener", "jk", "customer_positive", ["jk"])
    # The automated reply is not the first human response; the reply after as_of is unseen.
    assert got["4"] == ("opener", "becky", "customer_negative", ["becky", "unsigned"])
    assert got["9"] == ("opener", None, None, None)
    # Follow-ups carry the agents of the replies to them, not an ending of their own.
    assert got["3"][2] is None and got["7"][3] is None


def test_a_brand_reply_after_the_negative_post_ends_it_without_a_reply() -> None:
    got = {o.post.post_id: o.ending for o in match(_threads(), [BRAND], as_of=30_000)}
    assert got["4"] == "no_reply"


def test_the_result_does_not_depend_on_order_or_duplicates() -> None:
    posts = _threads()
    expected = _by_post(posts)
    rng = random.Random(17)
    for _ in range(5):
        shuffled = posts + rng.sample(posts, 3)
        rng.shuffle(shuffled)
        got = _by_post(shuffled)
        assert {k: (v[0], v[1], v[2], sorted(v[3] or [])) for k, v in got.items()} == {
            k: (v[0], v[1], v[2], sorted(v[3] or [])) for k, v in expected.items()
        }
