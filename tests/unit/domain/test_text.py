"""METRICS.md "Text": X's and the archive's escaping undone once, when a post is read."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st

from responsegap.domain.text import unescape_entities


def test_each_entity():
    assert unescape_entities("queer &amp; trans") == "queer & trans"
    assert unescape_entities("&gt;:( why") == ">:( why"
    assert unescape_entities("a &lt;3 b") == "a <3 b"


def test_a_double_escaped_entity_comes_out_escaped_once():
    # A person typed "&amp;" literally; X sent "&amp;amp;".
    assert unescape_entities("&amp;amp;") == "&amp;"
    assert unescape_entities("&amp;lt;tag&amp;gt;") == "&lt;tag&gt;"


def test_entities_inside_a_mention_or_a_link():
    assert unescape_entities("@AT&amp;T help") == "@AT&T help"
    assert unescape_entities("see https://t.co/x?a=1&amp;b=2 now") == "see https://t.co/x?a=1&b=2 now"


def test_nothing_else_is_an_entity_on_x():
    for text in ("&copy; 2017", "&amp no semicolon", "&#39;", "&quot;hi&quot;", "R&D", "&"):
        assert unescape_entities(text) == text


@given(st.text())
def test_undoes_exactly_what_x_does(text: str):
    assert unescape_entities(html.escape(text, quote=False)) == text
