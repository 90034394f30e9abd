"""A brand's corrections overrule the evidence, on that brand's replies only."""

from __future__ import annotations

from responsegap.domain.automation import reason_category
from responsegap.domain.corrections import CORRECTED, Corrections, text_key
from responsegap.domain.matching import match
from tests.unit.domain.conversations import acme, at, brand_reply, customer, globex

MACRO = "Sorry to hear that. Please send us a DM with your account email."
CAMPAIGN = ["Our heart is beating faster over here. #TrickorTweet", "This Coke looks so good. #TrickorTweet"]


def _conversations(lines: list[str], seconds: int = 900) -> list:
    posts = []
    for n in range(6):
        posts.append(customer(f"c{n}", f"9{n}", n * 60, "@acmehelp Treat"))
        posts.append(brand_reply(f"b{n}", n * 60 + seconds / 60, f"c{n}", f"@9{n} " + lines[n % len(lines)]))
    return posts


def _by_reply(outcomes) -> dict[str, tuple[bool, tuple[str, ...]]]:
    return {
        o.first_response.post_id: (o.first_response.automated, o.first_response.reasons) for o in outcomes
    }


def test_a_text_marked_human_is_human_and_says_why_and_other_texts_keep_their_verdict():
    posts = _conversations(CAMPAIGN)
    assert all(automated for automated, _ in _by_reply(match(posts, [acme()], at(10_000))).values())
    # Marked with other mentions and a signature: the fingerprint is the same.
    corrections = {"acme": Corrections(texts={text_key("@someone " + CAMPAIGN[0] + " ^JK"): False})}
    outcomes = match(posts, [acme()], at(10_000), corrections=corrections)
    judged = _by_reply(outcomes)
    for n in range(6):
        automated, reasons = judged[f"b{n}"]
        if n % 2 == 0:
            assert not automated and reasons == (CORRECTED,)
        else:
            assert automated and CORRECTED not in reasons
    assert all(
        o.first_human_response is not None for o in outcomes if o.first_response.post_id in {"b0", "b2"}
    )


def test_a_macro_marked_automated_is_automated_with_only_that_reason():
    posts = _conversations([MACRO])
    assert not any(automated for automated, _ in _by_reply(match(posts, [acme()], at(10_000))).values())
    outcomes = match(
        posts, [acme()], at(10_000), corrections={"acme": Corrections(texts={text_key(MACRO): True})}
    )
    assert all(o.first_response.automated and o.first_response.reasons == (CORRECTED,) for o in outcomes)
    assert all(o.first_human_response is None for o in outcomes)
    assert reason_category(CORRECTED) == "corrected by the brand"


def test_a_post_correction_holds_for_that_post_only_and_wins_over_its_text():
    posts = _conversations([MACRO])
    corrections = {
        "acme": Corrections(texts={text_key(MACRO): True}, posts={("x", "b3"): False, ("x", "b4"): True})
    }
    judged = _by_reply(match(posts, [acme()], at(10_000), corrections=corrections))
    assert judged["b3"] == (False, (CORRECTED,))
    assert all(judged[f"b{n}"] == (True, (CORRECTED,)) for n in (0, 1, 2, 4, 5))
    # Only a post correction: the replies with the same body keep the evidence verdict (the
    # verdict cache must not carry the correction over, in either order).
    for post_id in ("b0", "b5"):
        only = _by_reply(
            match(
                posts, [acme()], at(10_000), corrections={"acme": Corrections(posts={("x", post_id): True})}
            )
        )
        assert only[post_id] == (True, (CORRECTED,))
        assert all(not automated for reply, (automated, _) in only.items() if reply != post_id)
    # Same post id on another platform: not this post.
    other = _by_reply(
        match(posts, [acme()], at(10_000), corrections={"acme": Corrections(posts={("bluesky", "b3"): True})})
    )
    assert not other["b3"][0]


def test_a_correction_for_one_brand_never_changes_another_brand_with_the_same_text():
    posts = _conversations(CAMPAIGN)
    for n in range(6):
        posts.append(customer(f"g{n}", f"8{n}", n * 60, "@globexcares Treat"))
        text = f"@8{n} " + CAMPAIGN[n % 2]
        posts.append(
            brand_reply(f"r{n}", n * 60 + 15, f"g{n}", text, account="globexcares", account_id="200")
        )
    brands = [acme(), globex()]
    before = _by_reply(match(posts, brands, at(10_000)))
    corrections = {"acme": Corrections(texts={text_key(line): False for line in CAMPAIGN})}
    after = _by_reply(match(posts, brands, at(10_000), corrections=corrections))
    assert all(after[f"b{n}"] == (False, (CORRECTED,)) for n in range(6))
    assert all(after[f"r{n}"] == before[f"r{n}"] for n in range(6))
    assert all(before[f"r{n}"][0] for n in range(6))


def test_empty_corrections_change_nothing():
    posts = _conversations([*CAMPAIGN, MACRO])
    assert _by_reply(match(posts, [acme()], at(10_000), corrections={"acme": Corrections()})) == _by_reply(
        match(posts, [acme()], at(10_000))
    )
