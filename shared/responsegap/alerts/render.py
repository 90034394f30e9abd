"""A digest in each target's format: SNS (email and SMS), Slack Block Kit, a Teams Adaptive
Card for a Workflows webhook, and a generic JSON document.

Customer text is only ever the digest's excerpts (see ``alerts.digest``), and only in a
message body: subjects, headers, SMS texts, Slack's notification text and Teams headings
are built from counts, platform names, handles and the brand's configured name. Per format:

- Slack: mrkdwn with ``verbatim`` (no automatic linking or mention parsing) and ``&<>``
  escaped as Slack documents, so ``<!channel>`` or ``<@U123>`` is shown, never acted on;
  links unfurl nowhere.
- Teams: excerpts are ``TextRun`` elements, which Adaptive Cards render without markdown,
  and no card carries ``msteams.entities``, so an ``<at>`` tag cannot mention anyone.
- JSON and SNS: plain strings (JSON-escaped by the encoder).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from responsegap.alerts.digest import Digest, DigestPost
from responsegap.report.format import duration, oneline, platform_name, plural

SNS_SUBJECT_LIMIT = 99  # SNS: ASCII, no line breaks, under 100 characters
SMS_LIMIT = 140


def _when(moment: int, timezone: str) -> str:
    return datetime.fromtimestamp(moment, ZoneInfo(timezone)).strftime("%a %d %b %H:%M %Z")


def _brand_name(digest: Digest) -> str:
    return oneline(digest.brand_name, 80) or digest.brand_id


def _profile(post: Any) -> str:
    return f"{platform_name(post.platform)} @{post.handle}"


def headline(digest: Digest) -> str:
    """``3 overdue posts, 1 answered after the alert``: counts only."""
    parts = []
    if digest.posts:
        parts.append(plural(len(digest.posts), "overdue post"))
    if digest.urgent:
        parts.append(f"{digest.urgent} urgent")
    if digest.answered:
        parts.append(f"{len(digest.answered)} answered after the alert")
    text = ", ".join(parts) or "nothing overdue"
    return ("TEST: " if digest.sample else "") + text


def post_facts(post: DigestPost) -> str:
    hours = "arrived out of hours" if post.out_of_hours else "arrived in business hours"
    facts = f"waited {duration(post.waited_seconds)}, {hours}"
    if post.held:
        facts += ", held by a quiet period"
    return facts


# ------------------------------------------------------------------------------ SNS


def sns_subject(digest: Digest) -> str:
    subject = f"responsegap {digest.brand_id}: {headline(digest)}"
    ascii_only = subject.encode("ascii", "replace").decode("ascii")
    return ascii_only[:SNS_SUBJECT_LIMIT]


def sms_text(digest: Digest) -> str:
    oldest = max((p.waited_seconds for p in digest.posts), default=0)
    text = f"responsegap {digest.brand_id}: {headline(digest)}"
    if digest.posts:
        text += f"; longest wait {duration(oldest)}"
    return (text + ". Details by email and chat.")[:SMS_LIMIT]


def email_text(digest: Digest) -> str:
    lines = [
        f"{_brand_name(digest)}: {headline(digest)}",
        f"as of {_when(digest.generated_at, digest.timezone)}",
        "",
    ]
    if digest.sample:
        lines += ["This is a sample digest sent by `responsegap alerts test`; nothing here is real.", ""]
    if digest.posts:
        lines.append("Waiting past the alert threshold without a human answer:")
        for number, post in enumerate(digest.detailed, start=1):
            lines.append(f"{number}. {_profile(post)}: {post_facts(post)}")
            if post.urgent_term:
                lines.append(f'   URGENT: contains "{post.urgent_term}"')
            if post.url:
                lines.append(f"   {post.url}")
            if post.excerpt:
                lines.append(f'   "{post.excerpt}"')
        for profile, count in digest.rest_by_profile.items():
            lines.append(f"   ... and {plural(count, 'more overdue post')} on {profile}")
        lines.append("")
    if digest.answered:
        lines.append("Answered after the alert:")
        for note in digest.answered:
            alerted = _when(note.alerted_at, digest.timezone)
            lines.append(f"- {_profile(note)}, alerted {alerted}: {note.url or note.post_id}")
        lines.append("")
    lines.append("-- responsegap (overdue-post alerts; docs/alerts.md)")
    return "\n".join(lines)


def sns_message(digest: Digest) -> str:
    """The ``MessageStructure=json`` body: email gets the digest, SMS a count without customer text."""
    body = email_text(digest)
    return json.dumps({"default": body, "email": body, "sms": sms_text(digest)}, ensure_ascii=False)


# ------------------------------------------------------------------------------ Slack


def slack_escape(text: str) -> str:
    """Slack's three control characters as entities (its documented escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(digest: Digest) -> tuple[str, list[Any]]:
    """(notification text, blocks). The notification text is counts and the brand id only."""
    from slack_sdk.models.blocks import (
        ContextBlock,
        DividerBlock,
        HeaderBlock,
        MarkdownTextObject,
        PlainTextObject,
        SectionBlock,
    )

    def mrkdwn(text: str) -> MarkdownTextObject:
        return MarkdownTextObject(text=text, verbatim=True)

    title = f"{_brand_name(digest)}: {headline(digest)}"[:150]
    blocks: list[Any] = [HeaderBlock(text=PlainTextObject(text=title, emoji=False))]
    note = f"as of {_when(digest.generated_at, digest.timezone)}"
    if digest.sample:
        note += " · sample digest from `responsegap alerts test`"
    blocks.append(ContextBlock(elements=[mrkdwn(slack_escape(note))]))
    for post in digest.detailed:
        link = f" · <{post.url}|open post>" if post.url else ""
        lines = [f"*{slack_escape(_profile(post))}* · {slack_escape(post_facts(post))}{link}"]
        if post.urgent_term:
            lines.append(f":rotating_light: urgent: contains “{slack_escape(post.urgent_term)}”")
        if post.excerpt:
            lines.append(f"> {slack_escape(post.excerpt)}")
        blocks.append(SectionBlock(text=mrkdwn("\n".join(lines))))
    rest = digest.rest_by_profile
    if rest:
        more = ", ".join(f"{count} on {slack_escape(key)}" for key, count in rest.items())
        blocks.append(ContextBlock(elements=[mrkdwn(f"… and more overdue posts: {more}")]))
    if digest.answered:
        blocks.append(DividerBlock())
        lines = ["*Answered after the alert*"]
        for note_ in digest.answered:
            link = f"<{note_.url}|post>" if note_.url else slack_escape(note_.post_id)
            alerted = slack_escape(_when(note_.alerted_at, digest.timezone))
            lines.append(f"• {slack_escape(_profile(note_))}: {link} (alerted {alerted})")
        blocks.append(SectionBlock(text=mrkdwn("\n".join(lines)[:3000])))
    text = f"responsegap {digest.brand_id}: {headline(digest)}"
    return text, blocks


# ------------------------------------------------------------------------------ Teams


def _run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": text, **style}


def teams_payload(digest: Digest) -> dict[str, Any]:
    """A Workflows ("When a Teams webhook request is received") message with one Adaptive Card."""
    body: list[dict[str, Any]] = [
        {
            "type": "RichTextBlock",
            "inlines": [_run(f"{_brand_name(digest)}: {headline(digest)}", size="Large", weight="Bolder")],
        },
        {
            "type": "RichTextBlock",
            "inlines": [_run(f"as of {_when(digest.generated_at, digest.timezone)}", isSubtle=True)],
        },
    ]
    if digest.sample:
        body.append(
            {"type": "RichTextBlock", "inlines": [_run("Sample digest from `responsegap alerts test`.")]}
        )
    for post in digest.detailed:
        inlines = [_run(_profile(post), weight="Bolder"), _run(f" · {post_facts(post)}")]
        if post.urgent_term:
            inlines.append(
                _run(f" · URGENT: contains “{post.urgent_term}”", color="Attention", weight="Bolder")
            )
        body.append({"type": "RichTextBlock", "inlines": inlines, "separator": True})
        if post.excerpt:
            body.append({"type": "RichTextBlock", "inlines": [_run(f"“{post.excerpt}”", italic=True)]})
        if post.url:
            body.append(
                {
                    "type": "ActionSet",
                    "actions": [{"type": "Action.OpenUrl", "title": "Open post", "url": post.url}],
                }
            )
    for key, count in digest.rest_by_profile.items():
        body.append(
            {
                "type": "RichTextBlock",
                "inlines": [_run(f"… and {plural(count, 'more overdue post')} on {key}")],
            }
        )
    if digest.answered:
        body.append(
            {
                "type": "RichTextBlock",
                "inlines": [_run("Answered after the alert", weight="Bolder")],
                "separator": True,
            }
        )
        for note in digest.answered:
            alerted = _when(note.alerted_at, digest.timezone)
            inlines = [_run(f"{_profile(note)} (alerted {alerted}) ")]
            if note.url:
                inlines.append(_run("open post", selectAction={"type": "Action.OpenUrl", "url": note.url}))
            body.append({"type": "RichTextBlock", "inlines": inlines})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "msteams": {"width": "Full"},
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


# ------------------------------------------------------------------------------ JSON


def webhook_payload(digest: Digest) -> dict[str, Any]:
    """The generic webhook's document (schema in docs/alerts.md)."""
    return {
        "type": "responsegap.alert_digest",
        "version": 1,
        "digest_id": digest.digest_id,
        "sample": digest.sample,
        "brand": {"id": digest.brand_id, "name": _brand_name(digest)},
        "generated_at": digest.generated_at,
        "summary": headline(digest),
        "overdue": [
            {
                "profile": post.profile_key,
                "platform": post.platform,
                "post_id": post.post_id,
                "url": post.url,
                "created_at": post.created_at,
                "waited_seconds": post.waited_seconds,
                "out_of_hours": post.out_of_hours,
                "urgent_term": post.urgent_term,
                "held_by_quiet_period": post.held,
                "excerpt": post.excerpt,
            }
            for post in digest.posts
        ],
        "answered_after_alert": [
            {
                "profile": note.profile_key,
                "platform": note.platform,
                "post_id": note.post_id,
                "url": note.url,
                "alerted_at": note.alerted_at,
                "answered_found_at": note.answered_found_at,
            }
            for note in digest.answered
        ],
    }
