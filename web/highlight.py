"""Marking words in a text as plain segments, so templates escape every piece and wrap the matches in <mark>."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from search.result import Concept


@dataclass(frozen=True)
class Segment:
    text: str
    is_match: bool


def highlight(text: str, terms: Iterable[str]) -> list[Segment]:
    """`text` cut into segments; those that are one of `terms` (whole words, any case) are matches.
    Longer terms win over shorter ones they contain."""
    words = sorted({term.strip() for term in terms if term and term.strip()}, key=len, reverse=True)
    if not words:
        return [Segment(text, False)] if text else []
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)
    segments: list[Segment] = []
    end = 0
    for found in pattern.finditer(text):
        if found.start() > end:
            segments.append(Segment(text[end:found.start()], False))
        segments.append(Segment(found.group(0), True))
        end = found.end()
    if end < len(text):
        segments.append(Segment(text[end:], False))
    return segments


def highlight_concepts(text: str, concepts: Iterable[Concept]) -> list[Segment]:
    """`text` with the words by which any of `concepts` was found in it marked."""
    return highlight(text, (word for concept in concepts for word in concept.matched))
