"""The automated-reply classifier and its reasons."""

from __future__ import annotations

from responsegap.domain.automation import AutomationPolicy, body_fingerprint, classify, human_signature
from responsegap.domain.matching import match
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


def test_fingerprint_ignores_mentions_links_numbers_and_signature():
    a = body_fingerprint("@123 Please DM us your order number 5551 https://t.co/x ^JK")
    b = body_fingerprint("@987 please DM us your order number 42 https://t.co/y ^MB")
    assert a == b == "please dm us your order number"
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
    assert all(o.first_response.automated for o in outcomes)
    assert all(o.first_human_response is None for o in outcomes)
    # Below the threshold (5 customers) the same text is not evidence.
    few = match(posts[:8], [acme()], as_of=at(10_000))
    assert not any(o.first_response.automated for o in few)
