"""A brand's own verdicts on its replies: "this text is sent by a person", "this post was
automated". A correction wins over any evidence the classifier weighs (METRICS.md,
"Automated replies": the brand knows who sent what), and holds only for the brand that made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from responsegap.domain.automation import Verdict, body_fingerprint

CORRECTED = "corrected by the brand"
CORRECTED_AUTOMATED = Verdict(True, (CORRECTED,))
# A human verdict keeps its reason too, so a listing can say why the evidence was overruled;
# the figures count reasons of automated replies only.
CORRECTED_HUMAN = Verdict(False, (CORRECTED,))


@dataclass(frozen=True, slots=True)
class Corrections:
    """One brand's corrections. ``texts``: body fingerprint -> automated; ``posts``:
    (platform, post_id) -> automated. A post's own correction wins over its text's."""

    texts: Mapping[str, bool] = field(default_factory=dict)
    posts: Mapping[tuple[str, str], bool] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.texts) or bool(self.posts)

    def for_post(self, platform: str, post_id: str, fingerprint: str) -> Verdict | None:
        automated = self.posts.get((platform, post_id)) if self.posts else None
        if automated is None and self.texts:
            automated = self.texts.get(fingerprint)
        if automated is None:
            return None
        return CORRECTED_AUTOMATED if automated else CORRECTED_HUMAN


def text_key(text: str) -> str:
    """The key a text correction is stored and looked up under: its body fingerprint, so the
    same wording to other customers (other mentions, numbers, signature) is covered too."""
    return body_fingerprint(text)
