"""What a word may stand for when concept labels are looked up in a text (search.concepts): its inflections,
a few derivations and, in Dutch, the words of a compound. Built on the data of spacy-lookups-data, loaded
once per process and language.

- Inflection. spaCy's lookup lemma (search.text). A word the lookup table does not know (a compound, a
  technical term) gets the suffix rules of spaCy's rule lemmatizer for nouns and adjectives instead:
  "quantumcomputers" -> "quantumcomputer", "fotonische" -> "fotonisch", "electrolysers" -> "electrolyser".
- Derivation. An adjective also stands for the field it is derived from: Dutch -isch -> -ica, -ie, -iek
  ("fotonisch" -> "fotonica", "chemisch" -> "chemie") and -ieel/-iële -> -ie ("industriële" -> "industrie");
  English -ic -> -ics ("photonic" -> "photonics"), -ical -> -ics, -y ("optical" -> "optics",
  "technological" -> "technology").
- Verb forms are not concepts: an English -ed or -ing form does not stand for its lemma ("transported" is
  not the concept "transport"), and the verb rules of the rule lemmatizer are not used.
- Dutch compounds (`Compounds`): a concept word of at least MIN_PART letters at the start or the end of
  a longer word, whose other part is a known word of at least MIN_REST letters, optionally joined by the
  linking "s" or a hyphen: "waterstofproductie" -> "waterstof", "gezondheidsdata" -> "gezondheid",
  "quantumcomputers" -> "quantum"; not "energieke" (the rest "ke" is no word). Known words are the keys of
  the lemma lookup table and the lemmas of the rule lemmatizer's index (about 200,000 Dutch words).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable

import numpy as np

from search import text as textmod

MIN_PART = 5  # letters of a concept word found inside a Dutch compound
MIN_REST = 3  # letters of the other part of the compound, a known word
_RULE_POS = ("noun", "adj")
_DERIVATIONS = {  # adjective ending -> the endings of the nouns it derives from
    "nl": (("isch", ("ica", "ie", "iek")), ("ieel", ("ie",))),
    "en": (("ical", ("ics", "y")), ("ic", ("ics",))),
}
_INFLECTED = {"nl": (("ische", "isch"), ("iële", "ieel")), "en": ()}  # adjective endings the rules miss
_VERB_FORMS = {"nl": (), "en": ("ed", "ing")}


class _Language:
    """One language's lemma lookup table, its rule lemmatizer's noun and adjective rules, and its known words."""

    def __init__(self, lang: str) -> None:
        from spacy.lookups import load_lookups

        self.lookup = textmod.pipeline(lang).get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
        tables = load_lookups(lang, ["lemma_rules", "lemma_index"])
        rules = tables.get_table("lemma_rules")
        self.rules = tuple((old, new) for pos in _RULE_POS for old, new in rules.get(pos, ()) if old)
        index = tables.get_table("lemma_index")
        lemmas = [word for pos in index for word in index[pos]]  # kept as a sorted array of hashes: 1.6 MB, not 20 MB of str
        self.known_hashes = np.sort(np.array([hash(word) for word in lemmas], dtype=np.int64))

    def known(self, word: str) -> bool:
        """Whether `word` (lowercase) is a word of the language: a form in the lookup table or a lemma of the index."""
        if word in self.lookup:
            return True
        h = hash(word)  # the process's own string hash: the array is built in the process (or its parent) that reads it
        i = int(np.searchsorted(self.known_hashes, h))
        return i < len(self.known_hashes) and self.known_hashes[i] == h


_LOCK = threading.Lock()


@functools.cache
def _language_unlocked(lang: str) -> _Language:
    return _Language(lang)


def _language(lang: str) -> _Language:
    with _LOCK:
        return _language_unlocked(textmod.check_language(lang))


@functools.lru_cache(maxsize=50_000)
def forms(lower: str, lemma: str, lang: str) -> frozenset[str]:
    """The forms a word (its lowercase text and lookup lemma) stands for: itself, its lemma (not for a verb
    form), for an unknown word its noun and adjective rule lemmas, and the nouns its adjective forms derive from."""
    language = _language(lang)
    found = {lower}
    if lemma != lower and not lower.endswith(_VERB_FORMS[lang]):
        found.add(lemma)
    if lemma == lower and not language.known(lower):
        found.update(lower[: len(lower) - len(old)] + new for old, new in language.rules
                     if lower.endswith(old) and len(lower) - len(old) >= MIN_REST)
    for word in list(found):
        found.update(word[: len(word) - len(old)] + new for old, new in _INFLECTED[lang] if word.endswith(old))
    for word in list(found):
        for ending, nouns in _DERIVATIONS[lang]:
            if word.endswith(ending) and len(word) - len(ending) >= MIN_REST:
                found.update(word[: len(word) - len(ending)] + noun for noun in nouns)
    return frozenset(found)


def word_forms(word: str, lang: str) -> frozenset[str]:
    """`forms` of a lowercase word outside a spaCy Doc (a part of a compound): its lemma from the lookup table."""
    lemma = _language(lang).lookup.get(word, word)
    return forms(word, lemma, lang)


def _is_word(word: str, lang: str, parts: int = 2) -> bool:
    """A known word of at least MIN_REST letters, or an inflection of one, or (`parts` 2) two of them joined."""
    if len(word) < MIN_REST:
        return False
    language = _language(lang)
    if any(language.known(form) for form in word_forms(word, lang)):
        return True
    return parts > 1 and any(_is_word(_unlinked(word[:i]), lang, 1) and _is_word(word[i:], lang, 1)
                             for i in range(MIN_REST, len(word) - MIN_REST + 1))


def _unlinked(first: str) -> str:
    """The first part of a compound without its linking "s" ("gezondheids" -> "gezondheid") where it has one."""
    return first[:-1] if first.endswith("s") and len(first) > MIN_REST else first


class Compounds:
    """Finds concept words inside Dutch compounds: `parts(word)` are the `keys` (concept words of at least
    MIN_PART letters) that the lowercase `word` starts or ends with, its other part being a word; the parts
    of a hyphenated word are words of their own. Answers are cached per word."""

    def __init__(self, keys: Iterable[str], lang: str = "nl") -> None:
        self.keys = frozenset(k for k in keys if len(k) >= MIN_PART and k.isalpha())
        self._starts = frozenset(k[:MIN_PART] for k in self.keys)  # a word's last part can only be a key from these
        self.lang = lang
        self.parts = functools.lru_cache(maxsize=50_000)(self._parts)

    def _parts(self, word: str) -> frozenset[str]:
        if "-" in word:
            pieces = [p for p in word.split("-") if p]
            return frozenset(k for p in pieces for k in word_forms(p, self.lang) | self.parts(p) if k in self.keys)
        if not word.isalpha():  # "energietransitieregio's": its rule lemma "energietransitieregio"
            bases = [form for form in word_forms(word, self.lang) if form.isalpha()]
            return frozenset().union(*(self.parts(base) for base in bases))
        if len(word) < MIN_PART + MIN_REST:
            return frozenset()
        found: set[str] = set()
        for i in range(MIN_PART, len(word) - MIN_REST + 1):  # the concept word first: "waterstof|productie"
            first, rest = word[:i], word[i:]
            if first in self.keys and (_is_word(rest, self.lang) or (rest[0] == "s" and _is_word(rest[1:], self.lang))):
                found.add(first)
        for i in range(MIN_REST, len(word) - MIN_PART + 1):  # the concept word last: "plastic|recycling"
            if word[i : i + MIN_PART] not in self._starts:
                continue
            last = self.keys & word_forms(word[i:], self.lang)  # "waterstof|clusters" -> "cluster"
            if last and _is_word(_unlinked(word[:i]), self.lang):
                found.update(last)
        return frozenset(found)
