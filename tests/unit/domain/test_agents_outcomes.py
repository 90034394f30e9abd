"""One test per rule: sign-offs, the tone thresholds, and each outcome of an exchange."""

from __future__ import annotations

import pytest

from responsegap.domain.agents import UNSIGNED, agent_of, sign_off
from responsegap.domain.exchanges import ExchangePost, asks_private, ending
from responsegap.domain.tone import tone_of


@pytest.mark.parametrize(
    ("text", "agent"),
    [
        ("Sorry about that, we'll look into it ^JK", "jk"),
        ("Please DM us your booking reference ^HSB https://t.co/iuwZCjz4Or", "hsb"),
        ("Thanks for waiting -Becky", "becky"),
        ("We're on it – Anna", "anna"),
        ("Glad to help *TS", "ts"),
    ],
)
def test_each_sign_off_form(text: str, agent: str) -> None:
    assert sign_off(text) == agent


def test_sign_offs_compare_without_letter_case() -> None:
    assert agent_of("hi ^jk") == agent_of("hello ^JK") == "jk"


def test_a_sign_off_like_token_inside_the_text_is_not_one() -> None:
    assert sign_off("Press the ^JK key and then restart the app") is None
    assert agent_of("Send us an e-mail and we'll sort it") == UNSIGNED


def test_the_author_of_record_wins_over_the_text() -> None:
    assert agent_of("Thanks ^JK", author_of_record="Maria Lopez") == "maria lopez"


def test_tone_thresholds_and_questions() -> None:
    assert tone_of("Thank you so much, all sorted now!") == "positive"
    assert tone_of("This is awful, still broken and nobody helps") == "negative"
    assert tone_of("Great, can you help me?") == "neutral"


def _thread(*posts: tuple[str, str]) -> list[ExchangePost]:
    return [ExchangePost(role == "brand", text) for role, text in posts]


def test_moved_private() -> None:
    assert asks_private("Please DM us your order number")
    assert ending(_thread(("brand", "Please DM us your order number"))) == "moved_private"


def test_moved_to_dm_then_the_customer_thanks_publicly_is_positive() -> None:
    thread = _thread(("brand", "Please DM us the details"), ("customer", "Thanks, all sorted now!"))
    assert ending(thread) == "customer_positive"


def test_customer_negative() -> None:
    thread = _thread(("brand", "Have you tried a restart?"), ("customer", "Useless. Still broken."))
    assert ending(thread) == "customer_negative"


def test_negative_followed_by_a_brand_reply_is_not_negative() -> None:
    thread = _thread(
        ("brand", "Have you tried a restart?"),
        ("customer", "Useless. Still broken."),
        ("brand", "Sorry, we'll look into it"),
    )
    assert ending(thread) == "no_reply"


def test_customer_waiting() -> None:
    thread = _thread(("brand", "Which app version?"), ("customer", "Version 4.2, when will it be fixed?"))
    assert ending(thread) == "customer_waiting"


def test_no_reply() -> None:
    assert ending(_thread(("brand", "Try clearing the cache"))) == "no_reply"
