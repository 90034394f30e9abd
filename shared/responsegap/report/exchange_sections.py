"""The weekly email's view of METRICS.md "Who answered, and how it ended": the team table,
one bar per outcome, redirects sent and received, and the "What to do" sentences they lead to.

Built from the figures only (``metrics.report`` rows of the brand and its profiles), so the
HTML, the plain text and the JSON attachment cannot disagree. Agent names and handles come
from posts (a sign-off, an author of record, a mentioned handle): every one goes through
``label`` here (one line, no control or invisible formatting characters, cut short) and the
HTML template autoescapes it. Nothing here says anything about an agent but their sign-off,
and a brand with ``agents: false`` has no ``agents`` in its figures, so no team table and no
sentence about agents can be made for it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from responsegap.domain.agents import UNSIGNED
from responsegap.domain.exchanges import OUTCOMES
from responsegap.report.format import duration, oneline, percent, platform_name, plural, ratio

OUTCOME_WORDS = {
    "moved_private": "Moved to a private channel (DM, email or phone), nothing more in public",
    "customer_positive": "Customer's last word was positive",
    "customer_negative": "Customer's last word was negative, no reply after it",
    "customer_waiting": "Customer posted again and is waiting for an answer",
    "no_reply": "Customer never posted again",
}
OUTCOME_SHORT = {
    "moved_private": "moved private",
    "customer_positive": "positive",
    "customer_negative": "negative",
    "customer_waiting": "waiting",
    "no_reply": "no reply",
}
# Longest plain-text bar: 100% of answered exchanges is 20 characters, as in "Last 8 weeks".
TEXT_BAR_WIDTH = 20
# A big team's table would push the rest of the email far down; the JSON has every agent.
TEAM_ROWS = 12
AGENT_LIMIT = 40
HANDLE_LIMIT = 60

# "What to do" thresholds (docs/report.md, "What to do"). Shares of a handful of exchanges
# are noise, so every rule also needs a minimum count before it speaks.
MIN_ENDINGS = 5  # answered openers with an outcome before any share of outcomes is read
# "Most exchanges moved to DM": more than half of the outcomes is what "most" means.
MOSTLY_PRIVATE_SHARE = 0.5
# One customer in five still unhappy after the brand's last word, and at least three of them.
NEGATIVE_SHARE = 0.2
MIN_NEGATIVE = 3
# Redirected customers the receiving profile never answered: two in a week is a pattern of
# customers sent to this account and dropped; one can be a customer who never wrote again.
MIN_REDIRECTS_UNANSWERED = 2
# Redirects sent: one answered customer in ten sent on to another account, and at least three.
REDIRECT_SENT_SHARE = 0.1
MIN_REDIRECTS_SENT = 3
# One sign-off giving most first human responses: cover depends on one person. Ten signed
# first responses before it is read, so a quiet week with one agent on shift does not fire.
ONE_AGENT_SHARE = 0.6
MIN_SIGNED_FIRST = 10
# Half the first human responses unsigned: the team table cannot say who answered.
UNSIGNED_SHARE = 0.5
MIN_FIRST_FOR_UNSIGNED = 10

_INVISIBLE = re.compile(r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0]")


def label(text: object, limit: int) -> str:
    """Text from a post shown as a name: one line, no control characters, no invisible
    formatting (bidirectional overrides and zero-width characters could make one name look
    like another or reorder the line around it), at most ``limit`` characters."""
    raw = "".join(c for c in str(text or "") if unicodedata.category(c) != "Cf")
    return oneline(_INVISIBLE.sub("", raw), limit)


def account_label(key: str) -> str:
    """``x#XboxSupport`` -> ``@XboxSupport on X`` (a profile key of the redirects figures)."""
    platform, _, handle = str(key).partition("#")
    if not handle:
        return f"@{label(platform, HANDLE_LIMIT)}"
    return f"@{label(handle, HANDLE_LIMIT)} on {label(platform_name(platform), 20)}"


def team_view(figures: Mapping[str, Any]) -> dict[str, Any] | None:
    """The team table: agents by first human responses, as the engine orders them; None when
    the brand's figures have no agents (``agents: false``) or no reply was counted."""
    agents = figures.get("agents")
    if not agents:
        return None
    shown = list(agents[:TEAM_ROWS])
    # "unsigned" stays visible however it ranks: it says how much the table cannot attribute.
    unsigned = next((row for row in agents[TEAM_ROWS:] if row.get("agent") == UNSIGNED), None)
    if unsigned is not None:
        shown.append(unsigned)
    rows = []
    for row in shown:
        first = int(row.get("first_human_responses") or 0)
        within = int(row.get("answered_within_sla") or 0)
        seconds = row.get("first_human_response_seconds") or {}
        rows.append(
            {
                "agent": label(row.get("agent"), AGENT_LIMIT) or UNSIGNED,
                "unsigned": row.get("agent") == UNSIGNED,
                "first": first,
                "replies": int(row.get("replies") or 0),
                "median": duration(seconds.get("median")),
                "within": f"{within} of {first} ({percent(ratio(within, first))})" if first else "none",
            }
        )
    return {"rows": rows, "more": len(agents) - len(shown)}


def outcome_view(figures: Mapping[str, Any]) -> dict[str, Any] | None:
    """One bar per outcome, as a share of the answered exchanges that have one; None when the
    figures carry no outcomes."""
    outcomes = figures.get("outcomes")
    if outcomes is None:
        return None
    total = sum(int(outcomes.get(name) or 0) for name in OUTCOMES)
    rows = []
    for name in OUTCOMES:
        count = int(outcomes.get(name) or 0)
        share = ratio(count, total)
        width = 0 if share is None else max(0, min(100, round(share * 100)))
        # A count that is not zero always shows, however thin its share.
        if count and width == 0:
            width = 1
        rows.append(
            {
                "name": name,
                "words": OUTCOME_WORDS[name],
                "short": OUTCOME_SHORT[name],
                "count": count,
                "share": percent(share),
                "bar": width,
                "text_bar": "#" * round(width * TEXT_BAR_WIDTH / 100) if count else "",
            }
        )
    return {"rows": rows, "total": total}


def redirect_view(figures: Mapping[str, Any], profiles: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Redirects sent, by target account, and received, per profile with how many were then
    answered; None when the figures carry no redirects."""
    redirects = figures.get("redirects")
    if redirects is None:
        return None
    sent_by_target = redirects.get("sent") or {}
    sent = [
        {"account": account_label(key), "count": int(count or 0)}
        for key, count in sorted(sent_by_target.items(), key=lambda kv: (-int(kv[1] or 0), kv[0]))
        if count
    ]
    received = []
    for row in profiles:
        part = row.get("redirects") or {}
        count = int(part.get("received") or 0)
        if count:
            answered = int(part.get("received_answered") or 0)
            received.append(
                {
                    "account": account_label(f"{row['platform']}#{row['profile']}"),
                    "received": count,
                    "answered": answered,
                    "unanswered": count - answered,
                    "rate": percent(ratio(answered, count)),
                }
            )
    total_received = int(redirects.get("received") or 0)
    total_answered = int(redirects.get("received_answered") or 0)
    return {
        "sent": sent,
        "sent_total": sum(r["count"] for r in sent),
        "received": received,
        "received_total": total_received,
        "received_answered": total_answered,
        "received_rate": percent(ratio(total_answered, total_received)),
    }


def redirect_actions(profiles: Sequence[Mapping[str, Any]]) -> list[str]:
    """Customers another account sent here that this profile then did not answer, per profile."""
    out = []
    for row in profiles:
        part = row.get("redirects") or {}
        received = int(part.get("received") or 0)
        answered = int(part.get("received_answered") or 0)
        if received - answered >= MIN_REDIRECTS_UNANSWERED:
            account = account_label(f"{row['platform']}#{row['profile']}")
            out.append(
                f"{plural(received - answered, 'customer')} sent to {account} by another account "
                f"got no answer from it ({answered} of {received} answered): they were told to come "
                "here, so answer them first."
            )
    return out


def exchange_actions(figures: Mapping[str, Any]) -> list[str]:
    """Sentences on how exchanges ended, redirects sent and the team, when the figures say so."""
    out: list[str] = []
    outcomes = figures.get("outcomes") or {}
    total = sum(int(outcomes.get(name) or 0) for name in OUTCOMES)
    if total >= MIN_ENDINGS:
        private = int(outcomes.get("moved_private") or 0)
        if private / total > MOSTLY_PRIVATE_SHARE:
            out.append(
                f"Most answered exchanges ({percent(private / total)}, {private} of {total}) moved to a "
                "private channel with nothing more in public: others reading the thread never see it "
                "resolved. Close solved cases with a short public reply."
            )
        negative = int(outcomes.get("customer_negative") or 0)
        if negative >= MIN_NEGATIVE and negative / total >= NEGATIVE_SHARE:
            out.append(
                f"{plural(negative, 'customer')} ({percent(negative / total)} of answered exchanges) "
                "ended unhappy after the brand's last reply and heard nothing more: look at them "
                "again (outcome customer_negative in the CSV)."
            )

    redirects = figures.get("redirects") or {}
    sent = {key: int(n or 0) for key, n in (redirects.get("sent") or {}).items()}
    sent_total = sum(sent.values())
    answered = int(figures.get("answered") or 0)
    if sent_total >= MIN_REDIRECTS_SENT and answered and sent_total / answered >= REDIRECT_SENT_SHARE:
        target, count = min(sent.items(), key=lambda kv: (-kv[1], kv[0]))
        out.append(
            f"{plural(sent_total, 'reply', 'replies')} sent customers on to another account, "
            f"{count} of them to {account_label(target)}: this report cannot see whether they got "
            "help there. Say in the profile which account handles what, or answer here."
        )

    agents = figures.get("agents") or []
    first_total = sum(int(row.get("first_human_responses") or 0) for row in agents)
    signed = [row for row in agents if row.get("agent") != UNSIGNED]
    signed_total = sum(int(row.get("first_human_responses") or 0) for row in signed)
    if signed and signed_total >= MIN_SIGNED_FIRST:
        top = max(signed, key=lambda row: int(row.get("first_human_responses") or 0))
        top_first = int(top.get("first_human_responses") or 0)
        if top_first / signed_total >= ONE_AGENT_SHARE:
            out.append(
                f"One person (signed {label(top.get('agent'), AGENT_LIMIT)}) gave "
                f"{percent(top_first / signed_total)} of the signed first replies "
                f"({top_first} of {signed_total}): the answers depend on them, so plan cover for "
                "their time off."
            )
    unsigned = sum(
        int(row.get("first_human_responses") or 0) for row in agents if row.get("agent") == UNSIGNED
    )
    if first_total >= MIN_FIRST_FOR_UNSIGNED and unsigned / first_total >= UNSIGNED_SHARE:
        out.append(
            f"{percent(unsigned / first_total)} of first replies from a person carry no sign-off "
            f"({unsigned} of {first_total}), so the team table cannot say who answered them."
        )
    return out
