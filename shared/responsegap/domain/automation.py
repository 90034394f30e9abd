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
_NOISE = re.compile(
    r"@\w+|https?://\S+|\^\s?[a-z]{1,4}\b|[-–—~]\s?[a-z]{1,20}\s*$|[^\w@^\-–—~]+|[\d_]+|[@^\-–—~]"
)


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
    """The body with mentions, links, numbers, signatures and punctuation taken out."""
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
    circumstantial = 0
    if template_customers >= policy.template_min_customers:
        reasons.append(f"same text sent to {template_customers} different customers")
        circumstantial += 1
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
    if "automation app" in reason:
        return "automation app"
    if "bot account" in reason:
        return "bot account"
    if "different customers" in reason:
        return "same text for many customers"
    if "faster than a person" in reason:
        return "too fast for a person"
    return None
