"""Deciding whether a brand reply was written by a person, and keeping the reasons why.

Evidence for automation: a posting app known to post by itself, a configured bot account
(both decisive), a body reused nearly verbatim for many different customers, a reply faster
than a person could read and type (both circumstantial). An agent signature such as ``^JK``
or ``-Anna`` is evidence of a person and outweighs one circumstantial sign, not two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Posting clients whose posts are produced by rules, not typed by someone at the time.
KNOWN_AUTOMATION_APPS = frozenset(
    {
        "ifttt",
        "zapier",
        "dlvr.it",
        "botize",
        "make",
        "integromat",
        "microsoft power automate",
        "power automate",
        "socialoomph",
        "manychat",
        "chatfuel",
        "twittbot.net",
        "autoreply",
        "auto-reply",
        "feedly bot",
        "mastodon-bot",
        "botsin.space",
    }
)

_SIGNATURE = re.compile(r"(?:\^\s?[A-Z]{1,4}\b|(?:^|\s)[-–—~]\s?[A-Z][a-z]{1,20}(?:\s[A-Z]\.?)?\s*$)")
# Applied to lower-cased text. Mentions, links and signatures are tried before the catch-all
# runs of punctuation, which must not swallow the '@', '^' or '-' that starts them.
_NOISE = re.compile(r"@\w+|\^\s?[a-z]{1,4}\b|[-–—~]\s?[a-z]{1,20}\s*$|[^\w@^\-–—~]+|[\d_]+|[@^\-–—~]")


# Texts that acknowledge or defer without a person having read the post: auto-acknowledgements,
# out-of-hours notices and "awaiting your response" reminders (read from the twcs samples:
# GWRHelp's overnight notice, idea_cares' 24-hour reminder). Matched on the lower-cased text.
ACKNOWLEDGEMENT_PHRASES = (
    "we have received your message",
    "we've received your message",
    "outside our opening hours",
    "outside of our opening hours",
    "our team is offline",
    "our team is away",
    "one of the team will respond to you first thing",
    "will respond to you first thing in the morning",
    "we're awaiting for your response",
    "we are awaiting your response",
    "this is an automated",
    "auto-reply",
)
_HASHTAG = re.compile(r"#(\w+)")
_WORD = re.compile(r"[a-z]{4,}")


def acknowledgement_phrase(text: str) -> str | None:
    lowered = text.lower().replace("’", "'")
    for phrase in ACKNOWLEDGEMENT_PHRASES:
        if phrase in lowered:
            return phrase
    return None


def hashtags(text: str) -> frozenset[str]:
    return frozenset(tag.lower() for tag in _HASHTAG.findall(text))


def ignores_customer(reply_text: str, parent_text: str) -> bool:
    """True when the reply shares no word of four letters or more with the customer's post."""
    reply_words = set(_WORD.findall(_HASHTAG.sub(" ", re.sub(r"@\w+|https?://\S+", " ", reply_text.lower()))))
    parent_words = set(_WORD.findall(re.sub(r"@\w+|https?://\S+", " ", parent_text.lower())))
    return not (reply_words & parent_words)


@dataclass(frozen=True, slots=True)
class AutomationPolicy:
    template_min_customers: int = 5
    template_min_length: int = 24
    read_seconds: float = 5.0
    typing_chars_per_second: float = 6.0
    extra_apps: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Verdict:
    automated: bool
    reasons: tuple[str, ...] = ()


HUMAN = Verdict(False)


def body_fingerprint(text: str) -> str:
    """The body with mentions, numbers, signatures and punctuation taken out.

    Links stay in: a help-form macro carries the form for one kind of complaint, and a
    shortened link is new for every post, so only texts sent verbatim by rule share one.
    """
    return " ".join(_NOISE.sub(" ", text.lower()).split())


def human_signature(text: str) -> str | None:
    # Both signature forms need a '^' somewhere or a dash near the end: checking that first
    # spares the regex for most replies.
    tail = text[-32:]
    if "^" not in text and "-" not in tail and "–" not in tail and "—" not in tail and "~" not in tail:
        return None
    match = _SIGNATURE.search(text)
    return match.group(0).strip() if match else None


def fastest_human_seconds(text: str, policy: AutomationPolicy) -> float:
    """The quickest a person could plausibly read a post and type this reply."""
    typed = len(_NOISE.sub(" ", text.lower()).strip()) if text else 0
    return policy.read_seconds + typed / policy.typing_chars_per_second


def classify(
    text: str,
    application: str | None,
    *,
    is_bot_account: bool,
    seconds_after_parent: int | None,
    template_customers: int,
    policy: AutomationPolicy,
    campaign_tag: str | None = None,
) -> Verdict:
    reasons: list[str] = []
    decisive = False
    app = (application or "").strip().lower()
    if app and (app in KNOWN_AUTOMATION_APPS or app in policy.extra_apps):
        reasons.append(f"posted with {application}, an automation app")
        decisive = True
    if is_bot_account:
        reasons.append("posted by a configured bot account")
        decisive = True
    phrase = acknowledgement_phrase(text)
    if phrase:
        reasons.append(f"an acknowledgement or out-of-hours notice ({phrase!r})")
        decisive = True
    if campaign_tag:
        reasons.append(f"campaign reply #{campaign_tag} that ignores what the customer wrote")
        decisive = True
    circumstantial = 0
    reused = template_customers >= policy.template_min_customers
    if (
        seconds_after_parent is not None
        # Cleaning never lengthens the text, so a reply slower than this upper bound cannot
        # be "too fast" and the regex is skipped: most replies come minutes later.
        and seconds_after_parent < policy.read_seconds + len(text) / policy.typing_chars_per_second
        and seconds_after_parent < fastest_human_seconds(text, policy)
    ):
        reasons.append(
            f"replied {seconds_after_parent} s after the post, faster than a person can read and type"
        )
        circumstantial += 1
    # Reuse alone is a macro an agent may have picked (METRICS.md): it counts only with a
    # second sign.
    if reused and (circumstantial or decisive):
        reasons.append(f"same text sent to {template_customers} different customers")
        circumstantial += 1
    if not reasons:
        return HUMAN
    signature = human_signature(text)
    if signature:
        reasons.append(f"agent signature {signature!r} (a sign of a person)")
    automated = decisive or circumstantial - (1 if signature else 0) >= 1
    if not automated:
        return HUMAN
    return Verdict(True, tuple(reasons))


def reason_category(reason: str) -> str | None:
    """A short, countable name for a reason (the reasons themselves carry numbers)."""
    if "acknowledgement" in reason:
        return "acknowledgement or out-of-hours notice"
    if "campaign reply" in reason:
        return "campaign reply"
    if "corrected by the brand" in reason:
        return "corrected by the brand"
    if "automation app" in reason:
        return "automation app"
    if "bot account" in reason:
        return "bot account"
    if "different customers" in reason:
        return "same text for many customers"
    if "faster than a person" in reason:
        return "too fast for a person"
    return None
