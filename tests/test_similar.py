"""Similar entities (search/similar.py): nearest in the vector index by the entity's mean vector, itself left out."""

from __future__ import annotations

from search.match import Matcher
from search.similar import similar_entities
from tests.conftest import BASE


def test_similar_entities_exclude_the_entity_and_rank_by_score(matcher: Matcher) -> None:
    found = similar_entities(matcher.index, BASE + "programme/eccm", top=5)
    assert len(found) == 5
    assert BASE + "programme/eccm" not in [s.iri for s in found]
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    assert len({s.iri for s in found}) == 5


def test_similar_entities_of_a_kind(matcher: Matcher) -> None:
    found = similar_entities(matcher.index, BASE + "programme/eccm", top=3, kinds=("question",))
    assert found and {s.kind for s in found} == {"question"}
    assert BASE + "question/q-eccm" in [s.iri for s in found]  # the programme's own question is close


def test_an_entity_outside_the_index_has_none(matcher: Matcher) -> None:
    assert similar_entities(matcher.index, BASE + "organisation/tno") == ()
