"""METRICS.md "Things": a post by any brand profile is never a customer post, and whether a
customer post is a follow-up never depends on how far back the posts were read."""

from __future__ import annotations

from responsegap.domain.matching import FOLLOWUP, OPENER, attribute, match
from responsegap.domain.metrics import report
from responsegap.domain.model import Brand, BrandAccount, Post, Profile, mentions_in
from responsegap.domain.periods import Period
from tests.unit.domain.conversations import acme, at, brand_reply, customer, globex


def by_post(outcomes, brand_id="acme"):
    return {o.post.post_id: o for o in outcomes if o.brand_id == brand_id}


def initech() -> Brand:
    return Brand("initech", "Initech", profiles=(Profile("initech", "x", "initechhelp", account_id="300"),))


def brand_post(post_id: str, account: str, account_id: str, minute: float, text: str, reply_to=None) -> Post:
    return Post(
        "x", post_id, account_id, account, at(minute), text, reply_to, mentions=mentions_in(text, "x")
    )


def banter_thread() -> list[Post]:
    """Three brands trading jokes in one thread, every tweet naming the others, with two
    customers joining in."""
    return [
        brand_post("g1", "globexcares", "200", 0, "@acmehelp @initechhelp who makes the best coffee?"),
        brand_post("a1", "acmehelp", "100", 2, "@globexcares @initechhelp we do, obviously", "g1"),
        brand_post("i1", "initechhelp", "300", 3, "@acmehelp @globexcares bold claim", "a1"),
        customer("c1", "9", 5, "@acmehelp @globexcares @initechhelp my order never came", reply_to="i1"),
        brand_post("a2", "acmehelp", "100", 9, "@9 so sorry, DM us your order number ^JK", "c1"),
        brand_post("g2", "globexcares", "200", 12, "@acmehelp @initechhelp ours is better and faster", "a1"),
        customer("c2", "8", 14, "@globexcares @acmehelp lol this thread", reply_to="g2"),
    ]


def test_brand_banter_is_never_judged_and_customers_in_it_are():
    outcomes = match(banter_thread(), [acme(), globex(), initech()], as_of=at(100))
    judged = sorted((o.post.post_id, o.brand_id, o.kind) for o in outcomes)
    # c1 replies to Initech's tweet: Initech's follow-up (a reply to a brand post belongs to
    # that post's profile), answered by nobody of Initech's. c2 replies to Globex's tweet.
    assert judged == [("c1", "initech", FOLLOWUP), ("c2", "globex", FOLLOWUP)]
    assert all(o.first_response is None for o in outcomes)


def test_banter_without_customers_gives_no_figures():
    brands = [acme(), globex(), initech()]
    posts = [p for p in banter_thread() if not p.post_id.startswith("c")]
    figures = report(match(posts, brands, at(100)), brands, Period(at(0), at(60)), at(100))
    assert [(b["brand"], b["openers"], b["followups"]) for b in figures["brands"]] == [
        ("acme", 0, 0),
        ("globex", 0, 0),
        ("initech", 0, 0),
    ]


def test_a_redirect_to_another_brand_is_not_a_customer_post_of_that_brand():
    posts = [
        customer("c1", "9", 0, "@acmehelp my console will not start"),
        brand_reply("b1", 4, "c1", "@9 DM our friends @globexcares, they can help with that ^JK"),
        brand_reply(
            "g1", 20, "b1", "@9 happy to help, send us a DM -Anna", account="globexcares", account_id="200"
        ),
    ]
    outcomes = by_post(match(posts, [acme(), globex()], as_of=at(100)))
    assert set(outcomes) == {"c1"}
    assert outcomes["c1"].brand_id == "acme"
    assert outcomes["c1"].first_response.post_id == "b1"  # answered for the brand that redirected


def test_other_brands_accounts_are_brands_even_when_not_judged():
    # A weekly report judges one brand; the others are known only as accounts.
    posts = [
        brand_post("g1", "globexcares", "200", 0, "@acmehelp congrats on the launch!"),
        Post("x", "g2", "200", "renamedglobex", at(1), "@acmehelp see you at the fair"),  # known by id only
        customer("c1", "9", 2, "@acmehelp hello"),
    ]
    others = [BrandAccount("globex", "x", "globexcares", "200")]
    outcomes = match(posts, [acme()], as_of=at(100), others=others)
    assert [o.post.post_id for o in outcomes] == ["c1"]
    assert [p.post_id for p, *_ in attribute(posts, [acme()], others)] == ["c1"]
    # Without the accounts, the other brand's posts are indistinguishable from a customer's.
    assert [o.post.post_id for o in match(posts, [acme()], as_of=at(100))] == ["g1", "c1"]


def test_a_follow_up_to_a_brand_post_older_than_anything_read():
    posts = [
        # Replies to brand tweets that were not read; the platform (or the archive's index)
        # names the parent's author.
        customer("c1", "9", 0, "@acmehelp still broken", reply_to="old-30d", in_reply_to_author_id="100"),
        customer("c2", "8", 1, "@acmehelp and again", reply_to="old-2y", in_reply_to_author_id="100"),
        customer("c3", "7", 2, "@acmehelp hello", reply_to="someone", in_reply_to_author_id="555"),
        brand_reply("b1", 6, "c1"),
    ]
    outcomes = by_post(match(posts, [acme()], as_of=at(100)))
    assert {k: (o.kind, o.profile_key) for k, o in outcomes.items()} == {
        "c1": (FOLLOWUP, "x#acmehelp"),
        "c2": (FOLLOWUP, "x#acmehelp"),
        "c3": (OPENER, "x#acmehelp"),  # replies to a customer: an opener naming the brand
    }
    assert outcomes["c1"].first_response.post_id == "b1"


def test_the_parent_decides_whatever_is_read_with_it():
    parent = brand_post("p1", "acmehelp", "100", -60 * 24 * 30, "@9 glad to help ^JK")
    follow = customer("c1", "9", 0, "@acmehelp it broke again", reply_to="p1", in_reply_to_author_id="100")
    with_parent = by_post(match([parent, follow], [acme()], as_of=at(100)))
    without = by_post(match([follow], [acme()], as_of=at(100)))
    assert with_parent["c1"].kind == without["c1"].kind == FOLLOWUP
