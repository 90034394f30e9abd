"""What the person wrote, from what a platform sends: METRICS.md "Things", *Text*.

X and the Customer Support on Twitter archive escape exactly three characters in a post's
text: ``&`` as ``&amp;``, ``<`` as ``&lt;`` and ``>`` as ``&gt;``. Nothing else is an entity
there: a person who types ``&copy;`` is sent as ``&amp;copy;``. So the escaping is undone in
one left-to-right pass over those three, once, when a post is read: ``&amp;amp;`` (a person
typing ``&amp;``) comes out as ``&amp;``, never as ``&``. ``html.unescape`` would also turn
``&copy;`` or ``&amp`` without its semicolon into characters nobody typed.
"""

from __future__ import annotations

import re

_ENTITY = re.compile(r"&(amp|lt|gt);")
_CHARACTER = {"amp": "&", "lt": "<", "gt": ">"}


def unescape_entities(text: str) -> str:
    """``text`` with X's ``&amp;``, ``&lt;`` and ``&gt;`` turned back into ``&``, ``<``, ``>``, once."""
    if "&" not in text:
        return text
    return _ENTITY.sub(lambda match: _CHARACTER[match.group(1)], text)
