"""Explanations on the shipped data, in Dutch and English: concept words found through derivations and Dutch
compounds, no concept from an ordinary word that looks like an acronym or a name, a concept shared by meaning
where no word is, and a best passage only for a proposal of several passages."""

from __future__ import annotations

import pytest

from search.explain import MEANING_KINDS, MEANING_MIN_COSINE, MEANING_NEAREST
from search.match import Matcher, match_passages
from tests.conftest import BASE

PHOTONICS = BASE + "cluster/photonics-light-technologies"
QUANTUM = BASE + "cluster/quantum-technologies"
HEALTH = BASE + "theme/gezondheid-zorg"
ROBUST = BASE + "programme/ai-ecosystem"  # its labels include "ROBUST"
EXCEED = BASE + "programme/exceed"
MOBILITY = BASE + "theme/mobiliteit"  # its labels include "transport"

# No label of the graph in it (checked below): whatever it shares with a hit, it shares by meaning.
LIVER_NL = ("Veel nieuwe pillen sneuvelen pas laat in de ontwikkeling omdat de lever er slecht op reageert, iets wat "
            "tests op muizen en ratten vaak missen. Wij kweken uit stamcellen van vrijwilligers kleine stukjes "
            "leverweefsel en laten die groeien in doorzichtige kunststofplaatjes met haarfijne kanaaltjes waardoor een "
            "bloedachtige vloeistof stroomt. In de wand van die kanaaltjes plaatsen we elektroden en zuurstofmeters, "
            "zodat we uur na uur zien wanneer het weefsel schade oploopt. Samen met een farmaceutisch bedrijf "
            "vergelijken we de uitkomsten voor twintig bekende stoffen met wat er destijds in klinische studies bij "
            "mensen gebeurde. We leggen vast welke protocollen nodig zijn om de methode in andere labs te herhalen, "
            "en bespreken met het CBG en de EMA wat er nodig is voordat zulke data meetellen in een dossier.")
LONG_EN = ("We build a palm-sized reader for people with rheumatoid arthritis, so that they need not visit the clinic "
           "every few weeks for a blood test. A finger-prick droplet flows over tiny waveguides in silicon nitride "
           "whose surface carries antibodies.\n\n"
           "The shift in refractive index reveals two inflammation markers within ten minutes. A smartphone link "
           "forwards the results to the rheumatologist, and two teaching hospitals compare the reader with their "
           "laboratory assays over a full year of routine care.")


def concepts(matcher: Matcher, text: str, lang: str) -> dict[str, tuple[str, ...]]:
    return {c.iri: c.matched for c in matcher.explainer.fingerprint(text, lang)}


def test_fotonische_finds_the_photonics_cluster(matcher: Matcher) -> None:
    found = {c.iri: c for c in matcher.explainer.fingerprint("Wij ontwikkelen een fotonische chip.", "nl")}
    assert found[PHOTONICS].label == "Fotonica en lichttechnologieën"
    assert found[PHOTONICS].matched == ("fotonische chip",)  # the label "fotonische chips", in the singular
    assert concepts(matcher, "Een fotonische sensor.", "nl")[PHOTONICS] == ("fotonische",)  # "fotonica"
    assert PHOTONICS in concepts(matcher, "We design photonic circuits.", "en")


@pytest.mark.parametrize(("text", "concept", "word"), [
    ("Quantumcomputers rekenen sneller.", QUANTUM, "Quantumcomputers"),
    ("Wij koppelen gezondheidsdata van huisartsen.", HEALTH, "gezondheidsdata"),
])
def test_a_dutch_compound_finds_its_concept(matcher: Matcher, text: str, concept: str, word: str) -> None:
    assert concepts(matcher, text, "nl")[concept] == (word,)


def test_ordinary_words_find_no_acronym_name_or_verb_concept(matcher: Matcher) -> None:
    text = "Robust results exceed expectations: the sensors are transported by lorry. Smart meters help."
    assert not {ROBUST, EXCEED, MOBILITY, BASE + "programme/smart-industry"} & set(concepts(matcher, text, "en"))
    assert concepts(matcher, "The ROBUST labs train people.", "en")[ROBUST] == ("ROBUST",)


def test_a_one_passage_proposal_shows_no_best_passage(matcher: Matcher) -> None:
    text = "Wij ontwikkelen een fotonische chip die bloedwaarden meet bij de huisarts."
    assert len(match_passages(text)) == 1
    hits = matcher.match(text, top=3).questions
    assert hits and all(h.explanation.passage is None and h.explanation.passage_similarity is None for h in hits)


def test_a_longer_proposal_shows_the_passage_that_matched_best(matcher: Matcher) -> None:
    passages = match_passages(LONG_EN)
    assert len(passages) > 1
    hits = matcher.match(LONG_EN, top=3).questions
    assert hits and all(h.explanation.passage in passages for h in hits)
    assert all(0 < h.explanation.passage_similarity <= 1 for h in hits)


def test_a_concept_shared_by_meaning_is_marked_and_is_the_proposals_nearest(matcher: Matcher) -> None:
    assert concepts(matcher, LIVER_NL, "nl") == {}  # no concept word: nothing can be shared by words
    result = matcher.match(LIVER_NL, top=5)
    hits = [h for section in (result.questions, result.programmes, result.missions) for h in section]
    shared = [(h, c) for h in hits for c in h.explanation.shared_concepts]
    assert shared, "a paraphrased proposal still shares a concept by meaning with some hits"
    closeness = matcher.explainer.closeness(matcher.encode_passages(match_passages(LIVER_NL)))
    for hit, concept in shared:
        assert concept.by_meaning and concept.matched == ()
        assert matcher.index.entities[concept.iri].kind in MEANING_KINDS
        assert concept.iri != hit.iri
        linked = (*hit.clusters, *hit.themes, *hit.missions)
        assert concept.iri in linked or concept.iri in concepts(matcher, matcher.index.entities[hit.iri].text, None)
        cosine, rank = closeness[concept.iri]
        assert cosine >= MEANING_MIN_COSINE and rank <= MEANING_NEAREST
    assert all(len(h.explanation.shared_concepts) <= 1 for h in hits)  # the closest one only
    answer = result.to_dict()
    marked = [c for s in ("questions", "programmes", "missions") for h in answer[s] for c in h["explanation"]["shared_concepts"]]
    assert marked and all(c["by_meaning"] is True for c in marked)  # the JSON answer says so too


def test_a_word_match_is_not_marked_by_meaning(matcher: Matcher) -> None:
    result = matcher.match("Wij ontwikkelen fotonische chips en geïntegreerde fotonica voor de zorg.", top=5)
    words = [c for h in result.programmes for c in h.explanation.shared_concepts if c.matched]
    assert words and not any(c.by_meaning for c in words)
