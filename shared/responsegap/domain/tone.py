"""The tone of a customer's post: positive, negative or neutral (METRICS.md, outcomes).

Judged by VADER (Hutto and Gilbert, 2014, vaderSentiment 3.3.2), a published lexicon- and
rule-based analyser made for social-media text. Its lexicon ships inside the package, so
nothing is downloaded at run time. Thresholds are in docs/metrics.md: a compound score of at
least 0.25 is positive, at most -0.05 negative, and a question is never positive (a polite
"can you help?" scores positive in VADER but leaves the customer waiting).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

Tone = Literal["positive", "negative", "neutral"]

POSITIVE_AT_LEAST = 0.25
NEGATIVE_AT_MOST = -0.05

_analyser = None


def _polarity(text: str) -> float:
    # Built once per process and only when a tone is first asked for: loading the lexicon
    # takes tens of milliseconds that a run without answered exchanges should not pay.
    global _analyser
    if _analyser is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _analyser = SentimentIntensityAnalyzer()
    return float(_analyser.polarity_scores(text)["compound"])


@lru_cache(maxsize=65536)
def tone_of(text: str) -> Tone:
    """The tone of one post's text (cached by text: replies like "thanks!" repeat a lot)."""
    compound = _polarity(text)
    if compound <= NEGATIVE_AT_MOST:
        return "negative"
    if compound >= POSITIVE_AT_LEAST and "?" not in text:
        return "positive"
    return "neutral"
