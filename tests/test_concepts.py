"""Concept fingerprints: labels found case-insensitively, by lemma, derivation and inside Dutch compounds, acronyms
and names only as written, with offsets, counts and overlaps resolved."""

from __future__ import annotations

import pytest

from search.concepts import ConceptHit, ConceptMatcher

BASE = "https://w3id.org/missiekompas/id/"
HYDROGEN = BASE + "theme/waterstof"
DIGITAL = BASE + "cluster/digital-technologies"
TECH = BASE + "theme/technologie"
CLUSTER = BASE + "theme/cluster"
GENERIC = BASE + "theme/generic"
PHOTONICS = BASE + "cluster/photonics"
ENERGY = BASE + "theme/energie"
MOBILITY = BASE + "theme/mobility"
AI = BASE + "programme/ai"
EXCEED = BASE + "programme/exceed"
SMART = BASE + "programme/smart-industry"

ENTRIES = [
    (HYDROGEN, [("Waterstof", "nl"), ("Hydrogen", "en"), ("groene waterstof", "nl")]),
    (DIGITAL, [("Digitale technologieën", "nl"), ("Digital Technologies", "en")]),
    (TECH, [("technologie", "nl"), ("technology", "en")]),
    (CLUSTER, [("cluster", "nl"), ("cluster", "en")]),
    (GENERIC, [("AI", "en"), ("de", "nl"), ("over de", "nl"), ("the", "en"), ("2030", "nl"), ("Wasserstoff", "de")]),
    (PHOTONICS, [("Fotonica en lichttechnologieën", "nl"), ("fotonica", "nl"), ("photonics", "en"), ("optics", "en")]),
    (ENERGY, [("energie", "nl"), ("energy", "en")]),
    (MOBILITY, [("Mobiliteit", "nl"), ("transport", "en"), ("transport", "nl")]),
    (AI, [("ROBUST", "en"), ("ROBUST", "nl"), ("AI ecosystem", "en")]),
    (EXCEED, [("Exceed", "en"), ("Exceed", "nl")]),
    (SMART, [("Smart Industry", "en"), ("digital manufacturing", "en")]),
]
NAMES = (AI, EXCEED, SMART)  # programmes: their labels are names


@pytest.fixture(scope="module")
def matcher() -> ConceptMatcher:
    return ConceptMatcher(ENTRIES, names=NAMES)


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


def test_a_dutch_adjective_finds_the_field_it_derives_from(matcher: ConceptMatcher) -> None:
    hit = by_iri(matcher.fingerprint("Wij ontwikkelen een fotonische chip.", lang="nl"))[PHOTONICS]
    assert (hit.matched_text, hit.label) == ("fotonische", "fotonica")


def test_english_derivations_and_plurals(matcher: ConceptMatcher) -> None:
    hits = by_iri(matcher.fingerprint("Photonic circuits with optical parts.", lang="en"))
    assert hits[PHOTONICS].matched_text == "Photonic" and hits[PHOTONICS].count == 2  # and "optical" ~ "optics"


@pytest.mark.parametrize(("text", "compound", "concepts"), [
    ("De waterstofclusters in het noorden.", "waterstofclusters", {HYDROGEN, CLUSTER}),  # both parts are concept words
    ("De waterstofproductie groeit.", "waterstofproductie", {HYDROGEN}),
    ("Energiebesparende maatregelen.", "Energiebesparende", {ENERGY}),
    ("Gezonde fotonica-onderzoekers.", "fotonica-onderzoekers", {PHOTONICS}),  # a hyphenated compound
])
def test_a_dutch_compound_finds_its_concept_words(matcher: ConceptMatcher, text: str, compound: str,
                                                  concepts: set[str]) -> None:
    hits = matcher.fingerprint(text, lang="nl")
    assert {h.iri for h in hits} == concepts
    assert {h.matched_text for h in hits} == {compound}  # the whole compound is the matched text


def test_a_compound_needs_a_word_as_its_other_part(matcher: ConceptMatcher) -> None:
    assert matcher.fingerprint("Een energieke aanpak.", lang="nl") == []  # "energie" + "ke": no word
    assert matcher.fingerprint("Een energieke aanpak.") == []


def test_verb_forms_are_not_concepts(matcher: ConceptMatcher) -> None:
    assert matcher.fingerprint("The samples were transported and are transporting well.", lang="en") == []
    assert by_iri(matcher.fingerprint("Transport by rail.", lang="en"))[MOBILITY].matched_text == "Transport"


def test_an_acronym_matches_only_in_capitals(matcher: ConceptMatcher) -> None:
    assert matcher.fingerprint("Robust results. A robust design.", lang="en") == []
    hit = by_iri(matcher.fingerprint("The ROBUST labs and the AI ecosystem.", lang="en"))[AI]
    assert (hit.matched_text, hit.count) == ("ROBUST", 2)


def test_a_name_matches_only_as_written(matcher: ConceptMatcher) -> None:
    text = "Costs exceed the budget; smart industry needs digital manufacturing."
    assert {h.iri: h.matched_text for h in matcher.fingerprint(text, lang="en")} == {SMART: "digital manufacturing"}
    assert {h.iri for h in matcher.fingerprint("Exceed and Smart Industry programmes.", lang="en")} == {EXCEED, SMART}
    assert by_iri(ConceptMatcher(ENTRIES).fingerprint("costs exceed", lang="en"))[EXCEED].matched_text == "exceed"


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
