"""Matching on hand-made conversations, one METRICS.md rule per test."""

from __future__ import annotations

from responsegap.domain.matching import FOLLOWUP, OPENER, match
from responsegap.domain.model import Brand, Post, Profile
from tests.unit.domain.conversations import acme, at, brand_reply, customer, globex


def by_post(outcomes, brand_id="acme"):
    return {o.post.post_id: o for o in outcomes if o.brand_id == brand_id}


def test_opener_answered_by_a_person_records_seconds_and_profile():
    posts = [customer("c1", "9", 0, "@AcmeHelp my order is late"), brand_reply("b1", 42, "c1")]
    [outcome] = match(posts, [acme()], as_of=at(1000))
    assert outcome.kind == OPENER
    assert outcome.profile_key == "x#acmehelp"
    assert outcome.first_response.post_id == "b1"
    assert outcome.first_response.seconds == 42 * 60
    assert outcome.first_human_response.seconds == 42 * 60


def test_customer_adding_to_own_thread_is_answered_by_reply_to_the_later_post():
    posts = [
        customer("c1", "9", 0, "@acmehelp my order is late"),
        customer("c2", "9", 5, "@acmehelp still nothing??", reply_to="c1"),
        brand_reply("b1", 30, "c2"),
    ]
    outcomes = by_post(match(posts, [acme()], as_of=at(1000)))
    assert outcomes["c1"].first_response.post_id == "b1"
    assert outcomes["c1"].first_response.seconds == 30 * 60
    assert outcomes["c2"].first_response.seconds == 25 * 60
    # c2 replies to the customer's own post, not to a brand post: it opens too.
    assert outcomes["c2"].kind == OPENER


def test_reply_to_another_customer_in_thread_does_not_answer_the_first_customer():
    posts = [
        customer("c1", "9", 0, "@acmehelp my order is late"),
        customer("o1", "8", 3, "@9 same here @acmehelp", reply_to="c1"),
        brand_reply("b1", 30, "o1"),
    ]
    outcomes = by_post(match(posts, [acme()], as_of=at(1000)))
    assert outcomes["c1"].first_response is None
    assert outcomes["o1"].first_response.post_id == "b1"


def test_human_answer_further_down_the_thread_is_the_first_human_response():
    # The bot answers first; the customer asks again under the bot's reply; a person answers.
    posts = [
        customer("c1", "9", 0, "@acmehelp refund please"),
        brand_reply("b1", 1, "c1", "Thanks for reaching out! We will get back to you.", application="IFTTT"),
        customer("c2", "9", 10, "@acmehelp a human please", reply_to="b1"),
        brand_reply("b2", 70, "c2", "Hi, this is Anna, refund sent ^AN"),
    ]
    outcomes = by_post(match(posts, [acme()], as_of=at(1000)))
    first = outcomes["c1"]
    assert first.first_response.post_id == "b1" and first.first_response.automated
    assert any("IFTTT" in r for r in first.first_response.reasons)
    assert first.first_human_response.post_id == "b2"
    assert first.first_human_response.seconds == 70 * 60
    assert outcomes["c2"].kind == FOLLOWUP
    assert outcomes["c2"].first_response.post_id == "b2"


def test_reply_arriving_before_its_post_gives_the_same_result():
    posts = [customer("c1", "9", 0, "@acmehelp hello"), brand_reply("b1", 15, "c1")]
    forward = match(posts, [acme()], as_of=at(100))
    backward = match(list(reversed(posts)), [acme()], as_of=at(100))
    assert forward == backward
    assert forward[0].first_response.seconds == 15 * 60


def test_duplicate_posts_are_counted_once():
    c1 = customer("c1", "9", 0, "@acmehelp hello")
    b1 = brand_reply("b1", 15, "c1")
    outcomes = match([c1, b1, c1, b1, c1], [acme()], as_of=at(100))
    assert len(outcomes) == 1


def test_brand_replying_to_a_follow_up_only():
    # An announcement by the brand; a customer replies to it (a follow-up); the brand answers that.
    posts = [
        Post("x", "a1", "100", "acmehelp", at(0), "New opening hours from Monday"),
        customer("c1", "9", 5, "@acmehelp does that include Sundays?", reply_to="a1"),
        brand_reply("b1", 20, "c1", "Yes it does -Anna"),
    ]
    [outcome] = match(posts, [acme()], as_of=at(100))
    assert outcome.kind == FOLLOWUP
    assert outcome.first_response.post_id == "b1"


def test_follow_up_belongs_to_the_profile_that_wrote_the_parent():
    posts = [
        Post("x", "a1", "101", "acme", at(0), "Big sale today"),
        customer("c1", "9", 5, "@acmehelp @acme is the sale online too?", reply_to="a1"),
    ]
    [outcome] = match(posts, [acme()], as_of=at(100))
    assert (outcome.kind, outcome.profile_key) == (FOLLOWUP, "x#acme")


def test_follow_up_is_recognised_from_parent_author_when_parent_not_seen():
    post = Post(
        "x", "c1", "9", "9", at(5), "thanks but no", in_reply_to_id="gone", in_reply_to_author_id="100"
    )
    [outcome] = match([post], [acme()], as_of=at(100))
    assert (outcome.kind, outcome.profile_key) == (FOLLOWUP, "x#acmehelp")


def test_reply_after_as_of_does_not_count():
    posts = [customer("c1", "9", 0, "@acmehelp hello"), brand_reply("b1", 120, "c1")]
    [outcome] = match(posts, [acme()], as_of=at(60))
    assert outcome.first_response is None


def test_reply_timestamped_before_the_post_does_not_answer_it():
    posts = [customer("c1", "9", 10, "@acmehelp hello"), brand_reply("b1", 5, "c1")]
    [outcome] = match(posts, [acme()], as_of=at(60))
    assert outcome.first_response is None


def test_post_mentioning_two_brands_is_judged_by_each_separately():
    posts = [customer("c1", "9", 0, "@GlobexCares @acmehelp who is to blame?"), brand_reply("b1", 10, "c1")]
    outcomes = match(posts, [acme(), globex()], as_of=at(100))
    judged = {o.brand_id: o for o in outcomes}
    assert judged["acme"].first_response is not None
    assert judged["globex"].first_response is None


def test_two_profiles_of_one_brand_count_once_for_the_first_mentioned():
    posts = [customer("c1", "9", 0, "@acme @acmehelp please help")]
    [outcome] = match(posts, [acme()], as_of=at(100))
    assert outcome.profile_key == "x#acme"


def test_mentions_are_case_insensitive_and_brand_posts_are_not_customer_posts():
    posts = [
        customer("c1", "9", 0, "@ACMEHELP hi"),
        Post("x", "b9", "100", "acmehelp", at(1), "@acme we are on it", mentions=("acme",)),
    ]
    outcomes = match(posts, [acme()], as_of=at(100))
    assert [o.post.post_id for o in outcomes] == ["c1"]


def test_another_brands_reply_never_answers():
    posts = [
        customer("c1", "9", 0, "@acmehelp hello"),
        brand_reply("g1", 5, "c1", "We can help instead!", account="globexcares", account_id="200"),
    ]
    outcomes = match(posts, [acme(), globex()], as_of=at(100))
    assert [o.first_response for o in outcomes if o.brand_id == "acme"] == [None]


def test_configured_bot_account_replies_are_automated():
    brand = Brand(
        "acme",
        "Acme",
        profiles=(Profile("acme", "x", "acmehelp", account_id="100"),),
        bot_accounts=("x:acmebot",),
    )
    posts = [
        customer("c1", "9", 0, "@acmehelp hello"),
        brand_reply(
            "b1", 30, "c1", "We have received your message -Anna", account="acmebot", account_id="300"
        ),
    ]
    [outcome] = match(posts, [brand], as_of=at(100))
    assert outcome.first_response.automated
    assert outcome.first_human_response is None


def test_thread_cycle_in_bad_data_terminates():
    posts = [
        customer("c1", "9", 0, "@acmehelp a", reply_to="c2"),
        customer("c2", "9", 1, "@acmehelp b", reply_to="c1"),
        brand_reply("b1", 5, "c2"),
    ]
    outcomes = by_post(match(posts, [acme()], as_of=at(100)))
    assert outcomes["c1"].first_response.post_id == "b1"


def test_x_handles_stop_at_a_dot_but_bluesky_handles_keep_it():
    from responsegap.domain.model import mentions_in

    assert mentions_in("@AmericanAir.thanks for nothing", "twcs") == ("americanair",)
    assert mentions_in("thanks @acme.bsky.social!", "bluesky") == ("acme.bsky.social",)
    assert mentions_in("mail me at bob@example.com @Acme", "x") == ("acme",)


def test_outcomes_come_sorted_whether_the_posts_arrive_in_order_or_not():
    # Posts in store order skip the sort keys; any other order sorts. Both must give one order:
    # (created_at, post_id, brand_id), with a post mentioning globex before acme, ties on the
    # second, and a second platform (its own scan) interleaved in time.
    posts = [
        customer("c1", "9", 0, "@GlobexCares @acmehelp who is to blame?"),
        customer("c3", "8", 1, "@acmehelp one"),
        customer("c2", "7", 1, "@acmehelp two"),
        brand_reply("b1", 2, "c1"),
        customer("c4", "6", 3, "@acmehelp @GlobexCares three"),
        Post(
            "bluesky",
            "m1",
            "5",
            "five.bsky.social",
            at(0.5),
            "@acmehelp.bsky.social hi",
            mentions=("acmehelp.bsky.social",),
        ),
        Post(
            "bluesky",
            "m2",
            "5",
            "five.bsky.social",
            at(2.5),
            "@acmehelp.bsky.social hi",
            mentions=("acmehelp.bsky.social",),
        ),
    ]
    brand = acme()
    brand = Brand(
        "acme", "Acme", profiles=(*brand.profiles, Profile("acme", "bluesky", "acmehelp.bsky.social"))
    )
    expected = [
        ("c1", "acme"),
        ("c1", "globex"),
        ("m1", "acme"),
        ("c2", "acme"),
        ("c3", "acme"),
        ("m2", "acme"),
        ("c4", "acme"),
        ("c4", "globex"),
    ]
    in_store_order = sorted(posts, key=lambda p: (p.platform, p.created_at, p.post_id))
    for arrival in (
        posts,
        in_store_order,
        in_store_order[::-1],
        [p for p in in_store_order if p.platform == "x"],
    ):
        outcomes = match(arrival, [brand, globex()], as_of=at(100))
        wanted = [pair for pair in expected if any(p.post_id == pair[0] for p in arrival)]
        assert [(o.post.post_id, o.brand_id) for o in outcomes] == wanted
    # One platform in order (no keys at all) and out of order agree on every outcome.
    x_posts = [p for p in in_store_order if p.platform == "x"]
    assert match(x_posts, [brand, globex()], at(100)) == match(x_posts[::-1], [brand, globex()], at(100))
