"""Finding the graph's concepts in a text by their labels: a concept fingerprint with counts and character offsets.

Labels are the concepts' skos:prefLabel and skos:altLabel in Dutch and English; each language has its own
patterns, over spaCy's tokens of that language (search.text). A label is found where every one of its words
shares a form with the word of the text at that place (search.wordforms): the lowercase word, its lookup
lemma, for an unknown word its noun or adjective rule lemma, or the field an adjective derives from. So
"clusters" finds "cluster", "fotonische" finds "fotonica" and "photonic" finds "photonics", while the verb form
"transported" does not find "transport". In a Dutch text a one-word label of at least wordforms.MIN_PART letters
is also found inside a compound: "waterstofproductie" finds "waterstof".

Some label words must be written as in the label: an acronym in capitals (the programme ROBUST is found in
"ROBUST", not in "robust" or "Robust"), and every capitalised word of a name, i.e. a label of a concept in
`names` (programmes and projects: "Exceed" is not "exceed", "Smart Industry" is not "smart industry").

Overlapping matches are resolved to the longest, with the rule of spacy.util.filter_spans applied to
character ranges (matches of the two languages come from two tokenisations of the same text).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from search import text as textmod
from search.wordforms import MIN_PART, MIN_REST, Compounds, forms

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

MIN_LABEL_CHARS = 3


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
class _Word:
    """One word of a label: the forms it stands for, or the spelling a text must have (`exact`)."""

    forms: frozenset[str]
    exact: str | None


@dataclass(frozen=True)
class _Pattern:
    label: int
    words: tuple[_Word, ...]


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


def _exact(word: str, name: bool) -> str | None:
    """`word` itself where a text must spell it so: an acronym (two or more letters, all capitals), or a
    capitalised word of a name; None where any spelling of its forms will do."""
    letters = [c for c in word if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return word
    return word if name and any(c.isupper() for c in letters) else None


def _original(token: Token, text: str, offset: int) -> str:
    """The token as `text` writes it (spaCy saw it lowercased)."""
    start = offset + token.idx
    return text[start : start + len(token.text)]


class ConceptMatcher:
    """Finds concept labels in Dutch and English texts."""

    def __init__(self, entries: Iterable[tuple[str, Sequence[tuple[str, str]]]], names: Iterable[str] = ()) -> None:
        """`entries`: (concept IRI, [(label text, language tag), ...]); short or stop-word-only labels are skipped.
        `names`: the IRIs whose labels are names (programmes, projects): their capitalised words match only as written."""
        named = frozenset(names)
        self._labels: list[_Label] = []
        self.skipped_labels: list[tuple[str, str, str]] = []
        self._patterns: list[_Pattern] = []
        self._first: dict[str, dict[str, list[int]]] = {lang: defaultdict(list) for lang in textmod.LANGUAGES}
        self._one_word: dict[str, list[int]] = defaultdict(list)  # Dutch one-word labels by form, for compounds
        for iri, labels in entries:
            for label, lang in labels:
                self._add(iri, " ".join(label.split()), lang, iri in named)
        self._compounds = Compounds(self._one_word, "nl")

    def _add(self, iri: str, label: str, tag: str, name: bool) -> None:
        languages = _label_languages(tag)
        if not languages:
            self.skipped_labels.append((iri, label, tag))
        for lang in languages:
            doc = _pattern_doc(label, lang)
            if not _usable(doc, label, lang):
                self.skipped_labels.append((iri, label, lang))
                continue
            self._labels.append(_Label(iri, label, lang))
            words = tuple(_Word(forms(t.lower_, t.lemma_, lang), _exact(_original(t, label, 0), name)) for t in doc)
            pattern = len(self._patterns)
            self._patterns.append(_Pattern(len(self._labels) - 1, words))
            first = words[0]
            for form in {first.exact.lower()} if first.exact else first.forms:
                self._first[lang][form].append(pattern)
            if lang == "nl" and len(words) == 1 and not first.exact:
                for form in first.forms:
                    self._one_word[form].append(pattern)

    def __len__(self) -> int:
        """How many (label, language) patterns are in use."""
        return len(self._labels)

    def _matches(self, text: str, lang: str) -> list[_Match]:
        found: set[_Match] = set()
        first = self._first[lang]
        for offset, doc in textmod.parse(text, lang):
            words = [forms(t.lower_, t.lemma_, lang) for t in doc]
            for i, token in enumerate(doc):
                candidates = {p for form in words[i] for p in first.get(form, ())}
                for pattern in (self._patterns[p] for p in sorted(candidates)):
                    end = i + len(pattern.words)
                    if end <= len(doc) and all(self._fits(word, words[i + j], doc[i + j], text, offset)
                                               for j, word in enumerate(pattern.words)):
                        last = doc[end - 1]
                        found.add(_Match(offset + token.idx, offset + last.idx + len(last.text), pattern.label))
                if lang == "nl" and len(token.text) >= MIN_PART + MIN_REST:
                    for form in self._compounds.parts(token.lower_):
                        for p in self._one_word[form]:
                            found.add(_Match(offset + token.idx, offset + token.idx + len(token.text),
                                             self._patterns[p].label))
        return list(found)

    @staticmethod
    def _fits(word: _Word, forms_here: frozenset[str], token: Token, text: str, offset: int) -> bool:
        if word.exact is not None:
            return _original(token, text, offset) == word.exact
        return not word.forms.isdisjoint(forms_here)

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

