"""Who sent a brand reply, as far as the evidence shows (METRICS.md, "Agent").

The platform's author of record where it names a person rather than the page, else a
sign-off at the very end of the text: ``^JK``, ``^HSB``, ``-Becky``, ``– Anna``, ``*TS``.
Agents compare without letter case. A token that looks like a sign-off but is followed by
more words ("the ^ key", "A -B test") is not one: only the end of the text counts, after
trailing links, which X appends to a reply (DM cards, attachments).
"""

from __future__ import annotations

import re

UNSIGNED = "unsigned"

# The sign-off marker, then one name of letters (a first name or initials, optionally two
# words such as "– Anna M"), at the end of the text. '-' and the dashes need a space or the
# start of a line before them, so "re-Becky" or "e-mail" never sign.
_SIGN_OFF = re.compile(
    r"(?:\^\s?|\*\s?|(?:(?<=\s)|^)[-–—~]\s?)"
    r"(?P<name>[A-Za-z][A-Za-z.'’]{0,19}(?: [A-Za-z]{1,2}\.?)?)"
    r"\s*$"
)
_TRAILING_LINKS = re.compile(r"(?:\s*https?://\S+)+\s*$")


def sign_off(text: str) -> str | None:
    """The case-folded sign-off ending ``text``, or None when it has none."""
    body = _TRAILING_LINKS.sub("", text).rstrip()
    match = _SIGN_OFF.search(body)
    if match is None:
        return None
    return match.group("name").rstrip(".").casefold()


def agent_of(text: str, author_of_record: str | None = None) -> str:
    """The agent of one brand reply: the named author, else the sign-off, else "unsigned"."""
    if author_of_record:
        return author_of_record.strip().casefold()
    return sign_off(text) or UNSIGNED
