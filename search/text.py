"""Turning raw Dutch or English text into what search needs: language, lemmas, chunks and passages.

spaCy runs offline here: `spacy.blank(lang)` plus the "lemmatizer" pipe in lookup mode, whose tables come
from the spacy-lookups-data package. Pipelines are built lazily, once per process and language.
Text is lowercased before it goes through spaCy (the lookup tables are keyed on lowercase forms), in a way
that keeps every character offset valid for the original text.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing spaCy takes 1.5-2.5 s (thinc pulls in torch): it is imported when first needed
    from spacy.language import Language
    from spacy.tokens import Doc, Token

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
MAX_PIECE_CHARS = 100_000  # spaCy is fed texts in pieces of at most this many characters
_DETECT_WORDS = 5_000  # language detection looks at most at this many words

_LETTERS = re.compile(r"[^\W\d_]+")
_BLOCK_BREAK = re.compile(r"\n[ \t]*\n\s*|\n(?=[ \t]*(?:[-*•▪◦–]|\d{1,2}[.)])\s)")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+")
_INITIALS = re.compile(r"(?:^|\s)(?:[^\W\d_]\.){1,4}$")  # "o.a.", "e.g.", "J."
_ABBREVIATIONS = frozenset({  # a sentence break after these is a false one
    "bijv.", "bv.", "nr.", "dr.", "mr.", "prof.", "ing.", "ir.", "drs.", "ca.", "vs.", "incl.", "excl.", "resp.", "zgn.",
    "jl.", "mln.", "mld.", "fig.", "st.", "jr.", "sr.", "mrs.", "ms.", "dhr.", "mevr.", "art.", "blz.", "pag.", "vgl.", "cf.",
})


class UnsupportedLanguage(ValueError):
    """A language code other than "nl" or "en" was asked for."""


def check_language(lang: str) -> str:
    """`lang` itself if it is a supported language code, else UnsupportedLanguage."""
    if lang not in LANGUAGES:
        raise UnsupportedLanguage(f"unsupported language {lang!r}: use one of {', '.join(LANGUAGES)}")
    return lang


_BUILD_LOCK = threading.Lock()


def pipeline(lang: str) -> Language:
    """The blank spaCy pipeline for `lang` with the lookup lemmatizer, built once per process (thread-safe)."""
    with _BUILD_LOCK:
        return _build_pipeline(check_language(lang))


@functools.cache
def _build_pipeline(lang: str) -> Language:
    import spacy

    nlp = spacy.blank(check_language(lang))
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # loads the lemma_lookup table from spacy-lookups-data (offline)
    return nlp


@functools.cache
def stop_words(lang: str) -> frozenset[str]:
    """spaCy's own stop-word list for `lang` (lowercase); needs no pipeline."""
    from spacy.util import get_lang_class

    return frozenset(get_lang_class(check_language(lang)).Defaults.stop_words)


@functools.cache
def _distinctive_stop_words() -> dict[str, frozenset[str]]:
    """Per language, the stop words that are not also stop words of the other language ("in", "was", ...)."""
    nl, en = stop_words("nl"), stop_words("en")
    return {"nl": nl - en, "en": en - nl}


def detect_language(text: str, default: str = DEFAULT_LANGUAGE) -> str:
    """Return "nl" or "en", by counting each language's distinctive function words; `default` on a tie (e.g. one word)."""
    words = _LETTERS.findall(text[: _DETECT_WORDS * 12].lower())[:_DETECT_WORDS]
    lists = _distinctive_stop_words()
    nl_hits = sum(1 for w in words if w in lists["nl"])
    en_hits = sum(1 for w in words if w in lists["en"])
    if nl_hits == en_hits:
        return check_language(default)
    return "nl" if nl_hits > en_hits else "en"


def lower_keeping_offsets(text: str) -> str:
    """`text.lower()`, except that characters whose lowercase is longer (only "İ") stay as they are."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _cut(window: str) -> int:
    """Where to end a piece: the last blank line, line end or space in the second half of `window`."""
    for separator in ("\n\n", "\n", " "):
        position = window.rfind(separator, len(window) // 2)
        if position > 0:
            return position
    return len(window)


def _pieces(text: str, max_chars: int = MAX_PIECE_CHARS) -> Iterator[tuple[int, str]]:
    """(offset, piece) with pieces of at most `max_chars` characters, preferably cut at whitespace."""
    start = 0
    while len(text) - start > max_chars:
        cut = _cut(text[start : start + max_chars])
        yield start, text[start : start + cut]
        start += cut
    yield start, text[start:]


def parse(text: str, lang: str) -> Iterator[tuple[int, Doc]]:
    """spaCy Docs over the lowercased text, in pieces: (character offset of the piece, Doc).

    Character offsets inside a Doc plus the piece offset are valid offsets into the original `text`.
    Lemmas are lookup lemmas of the lowercase forms (tokens not in the table keep their lowercase form).
    """
    nlp = pipeline(check_language(lang))
    pieces = list(_pieces(lower_keeping_offsets(text)))
    for (offset, _), doc in zip(pieces, nlp.pipe(piece for _, piece in pieces), strict=True):
        yield offset, doc


def _keep(token: Token, stops: frozenset[str]) -> bool:
    lemma = token.lemma_
    return not (
        token.is_punct or token.is_space or token.like_url or token.like_email
        or len(token.text) < 2 or len(lemma) < 2 or lemma.endswith(".")  # abbreviations: "bijv.", "e.g."
        or token.lower_ in stops or lemma in stops
        or not any(c.isalpha() for c in lemma)
    )


def analyse(text: str, lang: str | None = None) -> list[str]:
    """Lowercase lemmas of `text` without stop words, punctuation, numbers, URLs, abbreviations and 1-character tokens.

    `lang` is "nl" or "en"; None detects it with `detect_language`.
    """
    language = check_language(lang) if lang is not None else detect_language(text)
    stops = stop_words(language)
    return [token.lemma_ for _, doc in parse(text, language) for token in doc if _keep(token, stops)]


def _merges_with_next(sentence: str, following: str) -> bool:
    """Whether a regex sentence break after `sentence` was a false one (abbreviation, lowercase continuation)."""
    last = sentence.rsplit(None, 1)[-1].lower()
    return following[:1].islower() or last in _ABBREVIATIONS or bool(_INITIALS.search(sentence))


def _split_block(block: str) -> list[str]:
    sentences: list[str] = []
    for part in _SENTENCE_BREAK.split(block):
        if sentences and _merges_with_next(sentences[-1], part):
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    return sentences


def sentences(text: str) -> list[list[str]]:
    """The words of each sentence-ish unit: blocks split at blank lines and list items, then at sentence ends."""
    units: list[list[str]] = []
    for block in _BLOCK_BREAK.split(text):
        if block.strip():
            units.extend(words for s in _split_block(block.strip()) if (words := s.split()))
    return units


def _check_window(max_words: int, overlap: int) -> None:
    if max_words < 1:
        raise ValueError(f"max_words must be at least 1, not {max_words}")
    if not 0 <= overlap < max_words:
        raise ValueError(f"overlap must be between 0 and max_words - 1, not {overlap}")


def _window_end(start: int, n: int, max_words: int, boundaries: list[int]) -> int:
    """End of the window from `start`: the last sentence boundary that keeps it at least half full, else hard cut."""
    end = min(start + max_words, n)
    if end == n:
        return end
    fitting = [b for b in boundaries if max(start + 1, start + max_words // 2) <= b <= end]
    return fitting[-1] if fitting else end


def _next_start(start: int, end: int, overlap: int, boundaries: list[int]) -> int:
    """Start of the next window: `overlap` words back from `end`, moved forward to a sentence start inside the overlap."""
    back = max(end - overlap, start + 1)
    starts = [b for b in boundaries if back <= b < end]
    return starts[0] if starts else back


def chunk(text: str, max_words: int = 200, overlap: int = 40) -> list[str]:
    """Overlapping windows of at most `max_words` words, ending at sentence boundaries where possible.

    Nothing is truncated: every word of `text` is in at least one chunk. Consecutive chunks share at most
    `overlap` words. Whitespace inside a chunk is normalised to single spaces.
    """
    _check_window(max_words, overlap)
    words: list[str] = []
    boundaries: list[int] = []
    for unit in sentences(text):
        words.extend(unit)
        boundaries.append(len(words))
    chunks: list[str] = []
    start = 0
    while start < len(words):
        end = _window_end(start, len(words), max_words, boundaries)
        chunks.append(" ".join(words[start:end]))
        if end == len(words):
            break
        start = _next_start(start, end, overlap, boundaries)
    return chunks


def split_passages(text: str, max_words: int = 60, min_words: int = 4) -> list[str]:
    """Sentence-ish passages of a proposal, to show which passage matched best.

    Units shorter than `min_words` (headings, list numbers) are joined to the next one; units longer than
    `max_words` are cut into consecutive pieces of `max_words` words. Every word is in exactly one passage.
    """
    _check_window(max_words, 0)
    passages: list[str] = []
    pending: list[str] = []
    for unit in sentences(text):
        pending.extend(unit)
        if len(pending) < min_words:
            continue
        passages.extend(" ".join(pending[i : i + max_words]) for i in range(0, len(pending), max_words))
        pending = []
    if pending and passages and len(passages[-1].split()) + len(pending) <= max_words:
        passages[-1] = f"{passages[-1]} {' '.join(pending)}"
    elif pending:
        passages.append(" ".join(pending))
    return passages


def split_bounded_passages(text: str, *, min_words: int, max_passages: int) -> list[str]:
    """`split_passages` of at least `min_words` words, at most `max_passages` of them: a longer text has runs of
    consecutive passages joined, so the time to encode them stays bounded. A text without passages is one."""
    passages = [p for p in split_passages(text, min_words=min_words) if p.strip()] or [text]
    if len(passages) > max_passages:
        size = -(-len(passages) // max_passages)
        passages = [" ".join(passages[i : i + size]) for i in range(0, len(passages), size)]
    return passages
