"""Why a hit matched: the concepts both texts mention, the best-matching passage, and the scores."""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property

import numpy as np

from search.concepts import ConceptMatcher
from search.documents import Entity
from search.index import SearchIndex
from search.result import Concept, Explanation


class Explainer:
    def __init__(self, index: SearchIndex, concepts: ConceptMatcher) -> None:
        self.index = index
        self.concepts = concepts
        self._entity_concepts: dict[str, frozenset[str]] = {}

    @cached_property
    def _documents_of(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = defaultdict(list)
        for i, doc in enumerate(self.index.documents):
            found[doc.entity].append(i)
        return found

    def fingerprint(self, text: str, language: str | None = None) -> list[Concept]:
        """The graph concepts a text mentions, each once, with the words that matched."""
        matched: dict[str, list[str]] = defaultdict(list)
        labels: dict[str, str] = {}
        for hit in self.concepts.fingerprint(text, language):
            labels.setdefault(hit.iri, hit.label)
            if hit.matched_text not in matched[hit.iri]:
                matched[hit.iri].append(hit.matched_text)
        return [Concept(iri, self._label(iri, labels[iri]), tuple(words)) for iri, words in matched.items()]

    def _label(self, iri: str, fallback: str) -> str:
        entity = self.index.entities.get(iri)
        return entity.label if entity else fallback

    def _concepts_of(self, entity: Entity) -> frozenset[str]:
        """What the entity talks about: concepts in its own text, its linked clusters, themes and
        missions, and the entity itself."""
        if entity.iri not in self._entity_concepts:
            own = {c.iri for c in self.fingerprint(entity.text)}
            linked = {v for values in entity.facets.values() for v in values}
            self._entity_concepts[entity.iri] = frozenset(own | linked | {entity.iri})
        return self._entity_concepts[entity.iri]

    def explain(self, entity: Entity, passages: list[str], passage_vectors: np.ndarray, fingerprint: list[Concept],
                *, dense: tuple[float | None, int | None], lexical: tuple[float | None, int | None]) -> Explanation:
        mine = self._concepts_of(entity)
        shared = tuple(c for c in fingerprint if c.iri in mine)
        passage, similarity = self._best_passage(entity, passages, passage_vectors)
        return Explanation(
            shared_concepts=shared, passage=passage, passage_similarity=similarity,
            dense_score=_round(dense[0]), dense_rank=dense[1], lexical_score=_round(lexical[0]), lexical_rank=lexical[1],
        )

    def _best_passage(self, entity: Entity, passages: list[str],
                      passage_vectors: np.ndarray) -> tuple[str | None, float | None]:
        docs = self._documents_of.get(entity.iri)
        if not docs or not passages:
            return None, None
        similarities = passage_vectors @ self.index.doc_vectors[docs].T  # passages x documents
        best = int(np.argmax(similarities.max(axis=1)))
        return passages[best], round(float(similarities[best].max()), 4)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
