"""Concept fingerprints: labels found case-insensitively, by lemma, with offsets, counts and overlaps resolved."""

from __future__ import annotations

import pytest

from search.concepts import ConceptHit, ConceptMatcher

BASE = "https://w3id.org/missiekompas/id/"
HYDROGEN = BASE + "theme/waterstof"
DIGITAL = BASE + "cluster/digital-technologies"
TECH = BASE + "theme/technologie"
CLUSTER = BASE + "theme/cluster"
GENERIC = BASE + "theme/generic"

ENTRIES = [
    (HYDROGEN, [("Waterstof", "nl"), ("Hydrogen", "en"), ("groene waterstof", "nl")]),
    (DIGITAL, [("Digitale technologieën", "nl"), ("Digital Technologies", "en")]),
    (TECH, [("technologie", "nl"), ("technology", "en")]),
    (CLUSTER, [("cluster", "nl"), ("cluster", "en")]),
    (GENERIC, [("AI", "en"), ("de", "nl"), ("over de", "nl"), ("the", "en"), ("2030", "nl"), ("Wasserstoff", "de")]),
]


@pytest.fixture(scope="module")
def matcher() -> ConceptMatcher:
    return ConceptMatcher(ENTRIES)


def by_iri(hits: list[ConceptHit]) -> dict[str, ConceptHit]:
    return {hit.iri: hit for hit in hits}


def test_dutch_and_english_labels_are_found_case_insensitively(matcher: ConceptMatcher) -> None:
    text = "Wij produceren WATERSTOF. Our focus is hydrogen."
    hit = by_iri(matcher.fingerprint(text))[HYDROGEN]
    assert (hit.matched_text, hit.start_char, hit.end_char, hit.count) == ("WATERSTOF", 15, 24, 2)
    assert hit.label == "Waterstof"


def test_multi_word_label_has_the_right_offsets(matcher: ConceptMatcher) -> None:
    text = "The programme on digital technologies started in 2024."
    hit = by_iri(matcher.fingerprint(text))[DIGITAL]
    assert text[hit.start_char : hit.end_char] == "digital technologies" == hit.matched_text
    assert hit.label == "Digital Technologies"


def test_overlaps_keep_the_longest_match(matcher: ConceptMatcher) -> None:
    text = "Digital Technologies en groene waterstof."
    hits = by_iri(matcher.fingerprint(text))
    assert TECH not in hits  # "Technologies" lies inside "Digital Technologies"
    assert hits[DIGITAL].count == 1
    hydrogen = hits[HYDROGEN]
    assert (hydrogen.label, hydrogen.matched_text, hydrogen.count) == ("groene waterstof", "groene waterstof", 1)


def test_plurals_match_through_lemmas(matcher: ConceptMatcher) -> None:
    hits = by_iri(matcher.fingerprint("Nieuwe technologieën voor twee clusters.", lang="nl"))
    assert hits[TECH].matched_text == "technologieën"
    assert hits[CLUSTER].matched_text == "clusters"
    english = by_iri(matcher.fingerprint("New technologies for the clusters.", lang="en"))
    assert english[TECH].matched_text == "technologies"


def test_compounds_are_not_split(matcher: ConceptMatcher) -> None:
    hits = by_iri(matcher.fingerprint("De waterstofclusters in het noorden."))
    assert HYDROGEN not in hits and CLUSTER not in hits


def test_words_inside_longer_words_do_not_match(matcher: ConceptMatcher) -> None:
    assert matcher.fingerprint("Hydrogenation and superclusters.", lang="en") == []


def test_counts_order_the_fingerprint(matcher: ConceptMatcher) -> None:
    text = "Een cluster. Waterstof, waterstof en nog eens hydrogen."
    hits = matcher.fingerprint(text)
    assert [(h.iri, h.count) for h in hits] == [(HYDROGEN, 3), (CLUSTER, 1)]
    assert hits[0].start_char == text.index("Waterstof")


def test_lang_restricts_to_that_languages_labels(matcher: ConceptMatcher) -> None:
    text = "Waterstof en hydrogen."
    assert by_iri(matcher.fingerprint(text, lang="nl"))[HYDROGEN].count == 1
    assert by_iri(matcher.fingerprint(text, lang="en"))[HYDROGEN].matched_text == "hydrogen"


def test_short_generic_and_other_language_labels_are_ignored(matcher: ConceptMatcher) -> None:
    skipped = {label for _, label, _ in matcher.skipped_labels}
    assert skipped == {"AI", "de", "over de", "the", "2030", "Wasserstoff"}
    assert matcher.fingerprint("AI over de the 2030 Wasserstoff") == []


def test_untagged_labels_are_used_for_both_languages() -> None:
    matcher = ConceptMatcher([(HYDROGEN, [("Electrolyser", "")])])
    assert len(matcher) == 2
    assert matcher.fingerprint("Een electrolyser.", lang="nl")[0].matched_text == "electrolyser"


def test_empty_text_has_an_empty_fingerprint(matcher: ConceptMatcher) -> None:
    assert matcher.fingerprint("") == []
