"""How one answered exchange ended (METRICS.md, "Outcome"). No I/O.

Input: the posts of the opener's thread from the first human response on, by the customer
and the brand only, in time order. Exactly one outcome, decided in this order (the first
that holds wins; docs/metrics.md):

1. The customer posted after the brand's last reply: their last post reads positive ->
   ``customer_positive``; reads negative -> ``customer_negative``; else (neutral) a brand
   reply asked to continue privately -> ``moved_private``, else ``customer_waiting``.
2. The brand had the last word: a brand reply asked to continue privately ->
   ``moved_private``, else ``no_reply``.

So a thread that moves to DM and then the customer thanks publicly is ``customer_positive``:
the public closure is the better evidence of how it ended. Tone is judged on one post per
exchange (the customer's last), which keeps the analyser off the engine's hot path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from responsegap.domain.tone import tone_of

OUTCOMES: tuple[str, ...] = (
    "moved_private",
    "customer_positive",
    "customer_negative",
    "customer_waiting",
    "no_reply",
)

# A brand reply that asks to continue by direct or private message, email, phone or a
# private contact form. Written from the design part of tests/labelled/outcomes.
PRIVATE_CHANNEL = re.compile(
    r"\b(?:dm|dms|dm'?d|direct messages?|direct message|private messages?|pm|inbox"
    r"|e-?mail(?: us)?|email address|give us a (?:call|ring)|call us|phone us|ring us"
    r"|reach (?:out to )?us (?:at|on)|contact us (?:at|on|via)|send us a note"
    r"|follow (?:and dm|us so we can dm)|via (?:dm|direct message|private message)"
    r"|call \+?\d|click here to send|contact us here|connect with us (?:through|via|here)"
    r"|send (?:me|us) (?:a file|the|your)|chat securely|continue (?:our|the|this) conversation"
    r"|(?:be|get) in (?:touch|contact) with you|log (?:full )?details here)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ExchangePost:
    """One post of the thread: by the brand (True) or the customer (False), and its text."""

    by_brand: bool
    text: str


@lru_cache(maxsize=65536)
def asks_private(text: str) -> bool:
    """Whether a brand reply asks the customer to continue in a private channel (cached by
    text: the engine passes reply bodies, mostly a few templates)."""
    return PRIVATE_CHANNEL.search(text) is not None


def ending(posts: Sequence[ExchangePost], tone: Callable[[str], str] = tone_of) -> str:
    """The outcome of one exchange; ``posts`` start at the first human response."""
    last_brand = -1
    private = False
    for index, post in enumerate(posts):
        if post.by_brand:
            last_brand = index
            if not private and asks_private(post.text):
                private = True
    last_customer = next((i for i in range(len(posts) - 1, last_brand, -1) if not posts[i].by_brand), None)
    if last_customer is None:
        return "moved_private" if private else "no_reply"
    judged = tone(posts[last_customer].text)
    if judged == "positive":
        return "customer_positive"
    if judged == "negative":
        return "customer_negative"
    return "moved_private" if private else "customer_waiting"
