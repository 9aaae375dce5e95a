"""Highlighting (web/highlight.py): text in plain segments, so every piece is escaped and matches are marked."""

from __future__ import annotations

from flask import Flask, render_template_string

from search.result import Concept
from web.highlight import Segment, highlight, highlight_concepts


def test_whole_words_in_any_case_are_marked() -> None:
    assert highlight("Groene waterstof uit Waterstofnet, waterstof!", ["waterstof"]) == [
        Segment("Groene ", False), Segment("waterstof", True), Segment(" uit Waterstofnet, ", False),
        Segment("waterstof", True), Segment("!", False)]


def test_longer_terms_win() -> None:
    assert [s for s in highlight("fotonische chips en chips", ["chips", "fotonische chips"]) if s.is_match] == [
        Segment("fotonische chips", True), Segment("chips", True)]


def test_no_terms_or_no_text() -> None:
    assert highlight("tekst", []) == [Segment("tekst", False)]
    assert highlight("", ["x"]) == []
    assert highlight("a+b (c)", ["a+b", " "]) == [Segment("a+b", True), Segment(" (c)", False)]


def test_concepts_give_their_matched_words() -> None:
    concepts = [Concept("https://x/a", "A", ("groene waterstof",)), Concept("https://x/b", "B", ("AI",))]
    marked = [s.text for s in highlight_concepts("Groene waterstof en AI.", concepts) if s.is_match]
    assert marked == ["Groene waterstof", "AI"]


def test_markup_in_a_segment_is_escaped_by_the_template(default_app: Flask) -> None:
    source = ("{% for s in highlight(text, concepts) %}"
              "{% if s.is_match %}<mark>{{ s.text }}</mark>{% else %}{{ s.text }}{% endif %}{% endfor %}")
    concepts = [Concept("https://x/a", "A", ("<b>x</b>",))]
    with default_app.test_request_context("/"):
        html = render_template_string(source, text="<script>alert(1)</script> <b>x</b>", concepts=concepts)
    assert html == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>&lt;b&gt;x&lt;/b&gt;</mark>"
