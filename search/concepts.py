"""Finding the graph's concepts in a text by their labels: a concept fingerprint with counts and character offsets.

Labels are the concepts' skos:prefLabel and skos:altLabel in Dutch and English. Each language has its own
spaCy PhraseMatcher pair: one on lowercase forms (attr="LOWER") and one on lookup lemmas (attr="LEMMA"), so that
"clusters" finds the label "cluster" where the lemma table knows the plural. Overlapping matches are resolved to the
longest, with the rule of spacy.util.filter_spans applied to character ranges (matches of the two languages come
from two tokenisations of the same text).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from search import text as textmod

if TYPE_CHECKING:
    from spacy.matcher import PhraseMatcher
    from spacy.tokens import Doc

MIN_LABEL_CHARS = 3
_ATTRS = ("LOWER", "LEMMA")


@dataclass(frozen=True)
class ConceptHit:
    """One concept found in a text: its first occurrence, and how often it occurs."""

    iri: str
    label: str
    matched_text: str
    start_char: int
    end_char: int
    count: int


@dataclass(frozen=True)
class _Label:
    iri: str
    text: str
    lang: str


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    label: int


def _label_languages(lang: str) -> tuple[str, ...]:
    """The matcher languages a label tagged `lang` goes into: "nl-NL" -> nl; untagged -> both; others -> none."""
    primary = lang.split("-", 1)[0].strip().lower()
    if not primary:
        return textmod.LANGUAGES
    return (primary,) if primary in textmod.LANGUAGES else ()


def _usable(doc: Doc, label: str, lang: str) -> bool:
    """Long enough, and not made of stop words, punctuation and numbers only."""
    stops = textmod.stop_words(lang)
    meaningful = [t for t in doc if not (t.is_punct or t.is_space or t.lower_ in stops) and any(c.isalpha() for c in t.text)]
    return len(label) >= MIN_LABEL_CHARS and bool(meaningful)


def _pattern_doc(label: str, lang: str) -> Doc:
    docs = list(textmod.parse(label, lang))
    return docs[0][1]


class ConceptMatcher:
    """Finds concept labels in Dutch and English texts."""

    def __init__(self, entries: Iterable[tuple[str, Sequence[tuple[str, str]]]]) -> None:
        """`entries`: (concept IRI, [(label text, language tag), ...]); short or stop-word-only labels are skipped."""
        from spacy.matcher import PhraseMatcher

        self._labels: list[_Label] = []
        self.skipped_labels: list[tuple[str, str, str]] = []
        self._matchers: dict[str, dict[str, PhraseMatcher]] = {
            lang: {attr: PhraseMatcher(textmod.pipeline(lang).vocab, attr=attr) for attr in _ATTRS}
            for lang in textmod.LANGUAGES
        }
        for iri, labels in entries:
            for label, lang in labels:
                self._add(iri, " ".join(label.split()), lang)

    def _add(self, iri: str, label: str, tag: str) -> None:
        languages = _label_languages(tag)
        if not languages:
            self.skipped_labels.append((iri, label, tag))
        for lang in languages:
            doc = _pattern_doc(label, lang)
            if not _usable(doc, label, lang):
                self.skipped_labels.append((iri, label, lang))
                continue
            key = str(len(self._labels))
            self._labels.append(_Label(iri, label, lang))
            for matcher in self._matchers[lang].values():
                matcher.add(key, [doc])

    def __len__(self) -> int:
        """How many (label, language) patterns are in use."""
        return len(self._labels)

    def _matches(self, text: str, lang: str) -> list[_Match]:
        strings = textmod.pipeline(lang).vocab.strings
        found: set[_Match] = set()
        for offset, doc in textmod.parse(text, lang):
            for matcher in self._matchers[lang].values():
                for match_id, start, end in matcher(doc):
                    span = doc[start:end]
                    found.add(_Match(offset + span.start_char, offset + span.end_char, int(strings[match_id])))
        return list(found)

    def fingerprint(self, text: str, lang: str | None = None) -> list[ConceptHit]:
        """The concepts whose labels occur in `text`, most frequent first (then by first position).

        `lang` None matches the labels of both languages (Dutch texts often use English terms); "nl" or "en"
        only that language's labels. Offsets index into `text`; overlapping matches keep the longest.
        """
        languages = textmod.LANGUAGES if lang is None else (textmod.check_language(lang),)
        matches = [m for language in languages for m in self._matches(text, language)]
        return self._hits(text, _longest_first(matches, len(text)))

    def _hits(self, text: str, matches: list[_Match]) -> list[ConceptHit]:
        first: dict[str, _Match] = {}
        counts: dict[str, int] = {}
        seen: set[tuple[int, int, str]] = set()
        for match in sorted(matches, key=_position):
            iri = self._labels[match.label].iri
            if (match.start, match.end, iri) not in seen:  # one occurrence, however many labels or passes found it
                seen.add((match.start, match.end, iri))
                first.setdefault(iri, match)
                counts[iri] = counts.get(iri, 0) + 1
        hits = [
            ConceptHit(iri, self._labels[m.label].text, text[m.start : m.end], m.start, m.end, counts[iri])
            for iri, m in first.items()
        ]
        return sorted(hits, key=lambda h: (-h.count, h.start_char, h.iri))


def _position(match: _Match) -> tuple[int, int, int]:
    return match.start, match.end, match.label


def _longest_first(matches: list[_Match], length: int) -> list[_Match]:
    """spacy.util.filter_spans on character ranges: longest first, then earliest; overlapping ones are dropped.

    Matches with exactly the same range all stay (a label shared by two concepts, or found by both passes).
    """
    taken = bytearray(length)
    kept: list[_Match] = []
    kept_ranges: set[tuple[int, int]] = set()
    for match in sorted(matches, key=lambda m: (-(m.end - m.start), m.start, m.label)):
        if (match.start, match.end) in kept_ranges:
            kept.append(match)
        elif not any(taken[match.start : match.end]):
            taken[match.start : match.end] = b"\x01" * (match.end - match.start)
            kept_ranges.add((match.start, match.end))
            kept.append(match)
    return kept

