"""Matching proposals on the shipped data: every section, explanations with real shared concepts,
filters applied during search, the persisted index and its manifest."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from config import Settings
from kg.store import Store
from search.match import Filters, Matcher, match_passages
from search.readers import ProposalUnreadable
from tests.conftest import BASE, index_over

HYDROGEN_NL = ("Wij willen met overtollige windstroom water splitsen tot waterstof voor de staalindustrie en de "
               "chemie. Het project ontwikkelt katalysatoren zonder iridium voor elektrolysers en test ze in "
               "een proeffabriek, samen met bedrijven in het havengebied.")
DEMENTIA_EN = ("People living with dementia want to stay at home for longer. We develop sensors and data analysis "
               "that let carers notice early when someone's daily routine changes, so that care can be "
               "organised at home instead of in an institution.")


def test_match_returns_every_section(matcher: Matcher) -> None:
    result = matcher.match(HYDROGEN_NL, top=5)
    assert result.language == "nl"
    assert result.questions and result.programmes and result.missions
    assert result.clusters and result.themes and result.kem_categories
    assert abs(sum(s.score for s in result.clusters) - 1) < 0.05 or len(result.clusters) == 5


def test_hydrogen_proposal_finds_the_electrochemistry_programmes(matcher: Matcher) -> None:
    result = matcher.match(HYDROGEN_NL, top=5)
    programmes = [h.iri.rsplit("/", 1)[1] for h in result.programmes]
    assert {"eccm", "sample-mjp-04", "sample-mjp-09"} & set(programmes[:3])
    clusters = [s.iri.rsplit("/", 1)[1] for s in result.clusters[:3]]
    assert "chemical-technologies" in clusters


def test_programme_hits_name_lead_and_partners(matcher: Matcher) -> None:
    result = matcher.match(HYDROGEN_NL, top=10)
    with_members = [h for h in result.programmes if h.members]
    assert with_members
    assert all(m.role in ("lead", "partner") for h in with_members for m in h.members)
    samples = [h for h in result.programmes if h.is_sample]
    assert all(all(m.is_sample for m in h.members) for h in samples)


def test_explanations_name_shared_concepts_and_the_best_passage(matcher: Matcher) -> None:
    text = (HYDROGEN_NL + "\n\nHet gaat om groene waterstof en elektrolyse. De elektrolysers draaien op stroom van "
            "windparken op zee, en de waterstof gaat via bestaande gasleidingen naar de fabrieken in het havengebied, "
            "waar hij aardgas vervangt.")  # two passages: a best passage is named (one would be the whole text)
    result = matcher.match(text, top=5)
    hit = result.programmes[0]
    why = hit.explanation
    assert why.passage and why.passage in match_passages(text)
    assert why.dense_score is not None and why.dense_rank is not None
    mentioned = {c.iri for c in result.concepts}
    assert all(c.iri in mentioned for c in why.shared_concepts)
    assert any(h.explanation.shared_concepts for h in result.programmes)


def test_filters_apply_during_search(matcher: Matcher) -> None:
    health = f"{BASE}theme/gezondheid-zorg"
    result = matcher.match(HYDROGEN_NL, top=5, filters=Filters(themes=(health,)))
    assert result.programmes, "a filter must not empty the list when matching records exist"
    assert all(health in h.themes for h in (*result.programmes, *result.questions))


def test_kind_filter(matcher: Matcher) -> None:
    result = matcher.match(DEMENTIA_EN, top=3, filters=Filters(kinds=("question",)))
    assert result.questions and not result.programmes


@pytest.mark.parametrize("text", ["", "   \n  "])
def test_empty_text_is_refused(matcher: Matcher, text: str) -> None:
    with pytest.raises(ProposalUnreadable):
        matcher.match(text)


def test_result_is_json_ready(matcher: Matcher) -> None:
    data = json.loads(json.dumps(matcher.match(DEMENTIA_EN, top=3).to_dict()))
    assert set(data) >= {"questions", "programmes", "missions", "clusters", "themes", "kem_categories", "concepts"}
    first = data["questions"][0]
    assert {"iri", "label", "score", "explanation"} <= set(first)
    assert {"shared_concepts", "passage", "dense_score", "lexical_score"} <= set(first["explanation"])


def test_index_is_reused_and_rebuilt_when_the_graph_changes(search_settings: Settings, default_store: Store,
                                                           tmp_path: Path, tiny_store: Store) -> None:
    settings = replace(search_settings, index_path=tmp_path / "index")
    _, _, _, rebuilt = index_over(settings, tiny_store)
    assert rebuilt
    manifest = json.loads((tmp_path / "index" / "internal" / "manifest.json").read_text())  # one index per audience
    assert manifest["dimension"] == 384 and manifest["documents"] > 0
    assert not index_over(settings, tiny_store)[3]
    assert index_over(settings, default_store)[3]


def test_a_damaged_index_is_rebuilt(search_settings: Settings, tmp_path: Path, tiny_store: Store) -> None:
    settings = replace(search_settings, index_path=tmp_path / "index")
    index_over(settings, tiny_store)
    (tmp_path / "index" / "internal" / "documents.json").write_text("{ not json")
    index, _, _, rebuilt = index_over(settings, tiny_store)
    assert rebuilt and index.documents
