"""The automated-reply classifier and its reasons."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import example, given, settings
from hypothesis import strategies as st

from responsegap.domain.automation import (
    AutomationPolicy,
    body_fingerprint,
    classify,
    fastest_human_seconds,
    human_signature,
)
from responsegap.domain.matching import _without_leading_mentions, match
from tests.unit.domain.conversations import acme, at, brand_reply, customer

POLICY = AutomationPolicy()


def verdict(text="We are looking into it for you now.", app=None, bot=False, seconds=600, reused=0):
    return classify(
        text, app, is_bot_account=bot, seconds_after_parent=seconds, template_customers=reused, policy=POLICY
    )


def test_plain_reply_is_human():
    assert not verdict().automated


def test_known_app_and_bot_account_are_decisive_even_with_a_signature():
    assert verdict("Thanks! ^JK", app="Zapier").automated
    assert verdict("Thanks! -Anna", bot=True).automated


def test_too_fast_for_a_person_is_automated_unless_signed():
    fast = verdict("Thanks for contacting us, an agent will reply soon.", seconds=3)
    assert fast.automated and any("faster than a person" in r for r in fast.reasons)
    assert not verdict("Thanks for contacting us, an agent will reply soon ^JK", seconds=3).automated


def test_reused_text_and_speed_together_outweigh_a_signature():
    both = verdict("Thanks for contacting us, an agent will reply soon ^JK", seconds=3, reused=12)
    assert both.automated
    assert any("12 different customers" in r for r in both.reasons)
    assert any("signature" in r for r in both.reasons)


def test_fingerprint_ignores_mentions_numbers_and_signature_but_keeps_links():
    a = body_fingerprint("@123 Please DM us your order number 5551 ^JK")
    b = body_fingerprint("@987 please DM us your order number 42 ^MB")
    assert a == b == "please dm us your order number"
    # A help-form macro's link names the form for one kind of complaint: texts with
    # different links are different texts.
    assert body_fingerprint("Send us a note at https://t.co/x") != body_fingerprint(
        "Send us a note at https://t.co/y"
    )
    assert human_signature("We're on it ^JK") == "^JK"
    assert human_signature("Sorted for you -Anna") == "-Anna"
    assert human_signature("well-known issue") is None


def test_template_sent_to_many_customers_is_found_by_matching():
    template = "@{} Sorry to hear that. Please send us a DM with your account email."
    posts = []
    for n in range(6):
        posts.append(customer(f"c{n}", f"9{n}", n * 60, "@acmehelp my card was charged twice"))
        posts.append(brand_reply(f"b{n}", n * 60 + 20, f"c{n}", template.format(f"9{n}")))
    outcomes = match(posts, [acme()], as_of=at(10_000))
    # Reuse alone is a macro an agent picked (METRICS.md): human.
    assert not any(o.first_response.automated for o in outcomes)
    # With a second sign (here: too fast to type) reuse counts too.
    fast = [
        replace(p, created_at=at(int(p.post_id[1:]) * 60) + 3) if p.post_id.startswith("b") else p
        for p in posts
    ]
    judged = match(fast, [acme()], as_of=at(10_000))
    assert all(o.first_response.automated for o in judged)
    assert all(any("different customers" in r for r in o.first_response.reasons) for o in judged)


def test_acknowledgement_and_out_of_hours_notices_are_automated_even_when_signed():
    notice = verdict(
        "Good evening Ethan. One of the team will respond to you first thing in the morning - Regards Roger"
    )
    assert notice.automated and any("acknowledgement" in r for r in notice.reasons)
    assert verdict("We're awaiting for your response to resolve ur issue. Rgds, Idea Care").automated
    assert not verdict("Thanks Ethan, we have refunded the ticket. -Roger").automated


def test_campaign_lines_that_ignore_the_customer_are_automated_and_a_brand_hashtag_is_not():
    lines = ["Our heart is beating faster over here. #TrickorTweet", "This Coke looks so good. #TrickorTweet"]
    posts = []
    for n in range(6):
        posts.append(customer(f"c{n}", f"9{n}", n * 60, "@acmehelp Treat"))
        posts.append(brand_reply(f"b{n}", n * 60 + 15, f"c{n}", f"@9{n} " + lines[n % 2]))
    assert all(o.first_response.automated for o in match(posts, [acme()], as_of=at(10_000)))
    # Written replies that all carry the brand's hashtag are each new lines: human.
    written = [
        replace(
            p, text=f"@9{n // 2} Thanks for the kudos, crew number {'abcdef'[n // 2]}x forwarded! #AcmeTeam"
        )
        if p.post_id.startswith("b")
        else p
        for n, p in enumerate(posts)
    ]
    assert not any(o.first_response.automated for o in match(written, [acme()], as_of=at(10_000)))


def test_one_body_is_judged_on_the_speed_of_each_reply():
    # Matching works out a verdict once per body, but the speed is each reply's own.
    body = "Thanks for contacting us, an agent will reply soon."
    posts = []
    for n, seconds in enumerate((600, 2, 3)):
        opener = customer(f"c{n}", f"9{n}", n, "@acmehelp my card was charged twice")
        reply = brand_reply(f"b{n}", n, f"c{n}", f"@9{n} {body}")
        posts += [opener, replace(reply, created_at=opener.created_at + seconds)]
    slow, two, three = match(posts, [acme()], as_of=at(10_000))
    assert not slow.first_response.automated
    assert any("replied 2 s after" in r for r in two.first_response.reasons)
    assert any("replied 3 s after" in r for r in three.first_response.reasons)


# Pieces of the signature, noise and mention patterns, and letters whose lower case is longer
# or depends on their neighbours; a body may start with something that is almost a mention.
BODY_PIECES = ["@ab", "@", "^", "^JK", "-", "–", "—", "~", "Anna", "anna", "JK", "x", "12", "_", " ", "\t"]
BODY_PIECES += [".", "!", "'", "http://t.co/x", "İ", "Σ", "ß", "é"]
BODY_HEADS = ["", "", "@ab- ", "@ab. ", "@ ", "@é ", "@ab\t", "@AB", "-", "^", "~", " ", "@ab"]
bodies = st.tuples(st.sampled_from(BODY_HEADS), st.lists(st.sampled_from(BODY_PIECES), max_size=10))


@given(
    st.lists(
        st.tuples(st.from_regex(r"[A-Za-z0-9_]{1,6}", fullmatch=True), st.integers(min_value=1, max_value=3)),
        max_size=3,
    ),
    bodies.map(lambda body: body[0] + "".join(body[1])),
)
@example([("AB", 1)], "-Anna")
@example([("ab", 2)], "@ab- x")
@example([], "@ab. ^JK")
@settings(max_examples=500, deadline=None)
def test_leading_mentions_change_nothing_the_classifier_reads(mentions, body):
    # Matching classifies a reply once per body without its leading @mentions: sound only
    # while none of these looks at the mentions.
    text = "".join(f"@{handle}{' ' * spaces}" for handle, spaces in mentions) + body
    rest = _without_leading_mentions(text)
    assert body_fingerprint(text) == body_fingerprint(rest)
    assert human_signature(text) == human_signature(rest)
    assert fastest_human_seconds(text, POLICY) == fastest_human_seconds(rest, POLICY)
