from __future__ import annotations

from decimal import Decimal

import pytest

from responsegap.report.format import duration, duration_change, oneline, percent, rate_change


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "n/a"),
        (0, "0s"),
        (45, "45s"),
        (59.6, "1m"),
        (90, "2m"),
        (3600, "1h"),
        (7800, "2h 10m"),
        (4800.0, "1h 20m"),
        (86400 * 3 + 3600 * 4, "3d 4h"),
        (Decimal("7800"), "2h 10m"),
    ],
)
def test_durations_read_like_people_write_them(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize(
    ("rate", "text"),
    [(None, "n/a"), (0, "0%"), (0.625, "63%"), (0.61, "61%"), (1, "100%"), (0.999, "99%"), (0.001, "1%")],
)
def test_percentages_round_half_up_and_never_claim_all_or_nothing_falsely(rate, text):
    assert percent(rate) == text


def test_rate_change_has_an_arrow_words_and_a_tone():
    up = rate_change(0.625, 0.5)
    assert (up.arrow, up.words, up.tone) == ("▲", "up 13 pts from 50%", "better")
    down = rate_change(0.25, 0.3)
    assert down.text == "▼ down 5 pts from 30%" and down.tone == "worse"
    assert rate_change(0.5, 0.5).tone == "same"
    assert rate_change(0.5, None).tone == "none"


def test_shorter_waits_are_better():
    assert duration_change(3600, 4800).tone == "better"
    assert duration_change(4800, 3600).text == "▲ slower by 20m (was 1h)"
    assert duration_change(35520, 36000).tone == "same"
    assert duration_change(None, 3600).tone == "none"


def test_oneline_strips_control_characters_and_truncates():
    assert oneline("a\r\nb\tc\x00d\u2028e") == "a b c d e"
    assert oneline("x" * 20, 10) == "x" * 9 + "…"
