"""Language detection, lemmas without stop words, overlapping chunks and passages (search.text), offline."""

from __future__ import annotations

import pytest

from search.text import (
    UnsupportedLanguage,
    analyse,
    chunk,
    detect_language,
    lower_keeping_offsets,
    parse,
    pipeline,
    sentences,
    split_bounded_passages,
    split_passages,
)

DUTCH = [
    "Dit voorstel richt zich op de ontwikkeling van groene waterstof voor de zware industrie in Nederland.",
    "Wij willen samen met het mkb en de kennisinstellingen nieuwe technologieën testen in een proeftuin.",
    "De projecten worden uitgevoerd door een consortium van bedrijven, universiteiten en gemeenten.",
]
ENGLISH = [
    "This proposal focuses on the development of green hydrogen for heavy industry in the Netherlands.",
    "We want to test new technologies in a living lab together with small companies and universities.",
    "The projects are carried out by a consortium of companies, universities and municipalities.",
]


@pytest.mark.parametrize("paragraph", DUTCH)
def test_dutch_paragraphs_are_detected_as_dutch(paragraph: str) -> None:
    assert detect_language(paragraph) == "nl"


@pytest.mark.parametrize("paragraph", ENGLISH)
def test_english_paragraphs_are_detected_as_english(paragraph: str) -> None:
    assert detect_language(paragraph) == "en"


def test_dutch_text_with_english_jargon_stays_dutch() -> None:
    text = "Het programma Key Enabling Technologies gaat over AI, photonics en quantum voor de maakindustrie."
    assert detect_language(text) == "nl"


def test_detection_without_evidence_falls_back_to_the_default() -> None:
    assert detect_language("waterstof") == "nl"
    assert detect_language("hydrogen", default="en") == "en"
    assert detect_language("") == "nl"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(UnsupportedLanguage):
        analyse("Bonjour tout le monde", lang="fr")
    with pytest.raises(UnsupportedLanguage):
        detect_language("x", default="de")


def test_lookup_lemmatizer_loads_offline_for_both_languages() -> None:
    for lang in ("nl", "en"):
        nlp = pipeline(lang)
        assert nlp.pipe_names == ["lemmatizer"]
        assert nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")  # a non-empty table
    assert pipeline("nl") is pipeline("nl")  # built once per process


def test_english_lemmas_without_stop_words_punctuation_or_numbers() -> None:
    tokens = analyse("The Technologies were tested in 2024 by 3 companies, visit https://example.org!", lang="en")
    assert tokens == ["technology", "test", "company", "visit"]


def test_dutch_plurals_become_singular_and_stop_words_go() -> None:
    tokens = analyse("De projecten en de Technologieën van het consortium, bijv. in 2030.", lang="nl")
    assert tokens == ["project", "technologie", "consortium"]


def test_analyse_detects_the_language_itself() -> None:
    assert analyse("The technologies of the companies") == ["technology", "company"]
    assert analyse("De technologieën van de projecten") == ["technologie", "project"]


def test_one_character_tokens_and_empty_text_give_nothing() -> None:
    assert analyse("a b c x y z", lang="en") == []
    assert analyse("", lang="nl") == []


def test_parse_keeps_offsets_of_the_original_text() -> None:
    text = "İstanbul en WATERSTOF"
    assert lower_keeping_offsets(text) == "İstanbul en waterstof"
    (offset, doc), = parse(text, "nl")
    assert offset == 0
    token = doc[-1]
    assert text[token.idx : token.idx + len(token)] == "WATERSTOF"


def test_long_text_is_parsed_in_pieces_with_correct_offsets() -> None:
    text = ("Waterstof is een energiedrager. " * 4000).strip()  # ~128,000 characters
    pieces = list(parse(text, "nl"))
    assert len(pieces) == 2
    offset, doc = pieces[1]
    first = doc[0] if not doc[0].is_space else doc[1]
    assert text[offset + first.idx : offset + first.idx + len(first)].lower() == first.text


def test_sentences_respect_abbreviations_and_blocks() -> None:
    text = "Dit gaat o.a. over waterstof. Het kost ca. 3 mln. euro!\n\n- eerste punt\n- tweede punt"
    assert [" ".join(s) for s in sentences(text)] == [
        "Dit gaat o.a. over waterstof.", "Het kost ca. 3 mln. euro!", "- eerste punt", "- tweede punt"]


def _long_text(n_sentences: int = 60) -> str:
    return " ".join(f"Zin nummer {i} gaat over waterstof en de energietransitie in regio {i}." for i in range(n_sentences))


def test_chunks_cover_every_word_in_order_and_respect_the_limits() -> None:
    text = _long_text()
    words = text.split()
    chunks = chunk(text, max_words=50, overlap=12)
    assert len(chunks) > 1
    assert all(len(c.split()) <= 50 for c in chunks)
    position = 0  # every chunk continues where the previous one ended, with at most `overlap` words shared
    for c in chunks:
        piece = c.split()
        shared = next(n for n in range(min(12, position), -1, -1) if words[position - n : position] == piece[:n])
        assert words[position - shared : position - shared + len(piece)] == piece
        position += len(piece) - shared
    assert position == len(words)


def test_chunks_end_at_sentence_boundaries_where_possible() -> None:
    chunks = chunk(_long_text(), max_words=50, overlap=12)
    assert all(c.endswith(".") for c in chunks)


def test_a_sentence_longer_than_the_window_is_cut_not_truncated() -> None:
    text = " ".join(f"woord{i}" for i in range(95))  # no punctuation at all
    chunks = chunk(text, max_words=40, overlap=10)
    assert [len(c.split()) for c in chunks] == [40, 40, 35]
    covered = {w for c in chunks for w in c.split()}
    assert covered == set(text.split())


def test_short_text_is_one_chunk_and_empty_text_none() -> None:
    assert chunk("Een korte tekst.") == ["Een korte tekst."]
    assert chunk("   \n ") == []


def test_chunk_refuses_impossible_windows() -> None:
    with pytest.raises(ValueError):
        chunk("tekst", max_words=0)
    with pytest.raises(ValueError):
        chunk("tekst", max_words=10, overlap=10)


def test_passages_are_sentences_with_headings_joined_and_long_ones_cut() -> None:
    text = ("1. Inleiding\nDit project gaat over groene waterstof. Het consortium bestaat uit vijf partners.\n\n"
            + " ".join(["lang"] * 130) + ".")
    passages = split_passages(text, max_words=60)
    assert passages[0] == "1. Inleiding Dit project gaat over groene waterstof."
    assert passages[1] == "Het consortium bestaat uit vijf partners."
    assert [len(p.split()) for p in passages[2:]] == [60, 60, 10]
    assert " ".join(passages).split() == text.split()


def test_bounded_passages_join_runs_and_lose_no_word() -> None:
    paragraphs = [f"Alinea {i} gaat over waterstof en elektrolyse in de haven." for i in range(10)]
    text = "\n\n".join(paragraphs)
    free = split_bounded_passages(text, min_words=3, max_passages=100)
    bounded = split_bounded_passages(text, min_words=3, max_passages=3)
    assert len(bounded) <= 3 < len(free)
    assert " ".join(bounded).split() == " ".join(free).split()  # joined, in order, nothing dropped
    assert split_bounded_passages("   ", min_words=3, max_passages=3) == ["   "]  # no passages: the text itself
