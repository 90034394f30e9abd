"""The weekly email's list of texts judged automated: each distinct text once (grouped by its
fingerprint, as corrections are), with how many first replies it was, why, and the command
that tells the report it was a person, so a reader can spot a wrong verdict and fix it."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from responsegap.domain.automation import body_fingerprint, reason_category
from responsegap.domain.matching import Outcome

MAX_TEXTS = 20
_LEADING_MENTIONS = re.compile(r"^(?:@\w+\s+)*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(slots=True)
class _Group:
    text: str
    platform: str
    post_id: str
    count: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def automated_texts(
    outcomes: Iterable[Outcome], brand_id: str, words: Mapping[str, str], limit: int = MAX_TEXTS
) -> list[dict[str, Any]]:
    """Rows (most frequent first) for the texts of first replies judged automated."""
    groups: dict[str, _Group] = {}
    for outcome in outcomes:
        first = outcome.first_response
        if first is None or not first.automated:
            continue
        body = _CONTROL.sub(" ", _LEADING_MENTIONS.sub("", first.text)).strip()
        fingerprint = body_fingerprint(body)
        group = groups.get(fingerprint)
        if group is None:
            group = groups[fingerprint] = _Group(body, outcome.post.platform, first.post_id)
        group.count += 1
        for reason in first.reasons:
            category = reason_category(reason)
            if category:
                group.reasons[category] = group.reasons.get(category, 0) + 1
    rows = []
    for fingerprint, group in sorted(groups.items(), key=lambda kv: (-kv[1].count, kv[0]))[:limit]:
        base = f"responsegap automation mark --brand {shlex.quote(brand_id)} --human"
        # By text when the text as shown fingerprints the same (it then covers every reply
        # with it); a text with nothing left to fingerprint can only be corrected post by post.
        if fingerprint and body_fingerprint(group.text) == fingerprint:
            command = f"{base} --text {shlex.quote(group.text)}"
        else:
            command = f"{base} --post {shlex.quote(group.post_id)} --platform {shlex.quote(group.platform)}"
        rows.append(
            {
                "text": group.text or "(no text)",
                "count": group.count,
                "reasons": "; ".join(words.get(name, name) for name in sorted(group.reasons)),
                "command": command,
            }
        )
    return rows
