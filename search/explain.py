"""Why a hit matched: the concepts both texts mention, the best-matching passage, and the scores.

A shared concept is found by words where the proposal and the hit's record both mention it (search.concepts),
or the hit is linked to it (its clusters, themes and missions). Where no concept is shared by words, the hit
may still share one by meaning: a concept of MEANING_KINDS that the hit is linked to or mentions, that is
among the MEANING_NEAREST concepts of its kind closest to the proposal (the mean of its passage vectors, as
the dense ranking uses it, against the concept's own documents in the index), with a cosine of at least
MEANING_MIN_COSINE. It is marked `by_meaning`. Both numbers were calibrated on the tuning proposals of
tests/fixtures/eval/proposals.yaml against their labelled clusters and themes (bench/eval_explanations.py).

The best passage is named only where the proposal has more than one: a one-passage proposal would show its
whole text on every hit.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property

import numpy as np

from search.concepts import ConceptMatcher
from search.documents import Entity
from search.index import SearchIndex
from search.result import Concept, Explanation

MEANING_KINDS = ("cluster", "theme", "technology", "kem")
MEANING_NEAREST = 1
MEANING_MIN_COSINE = 0.83


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

    @cached_property
    def _meaning_concepts(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The concepts that can be shared by meaning (not samples), the vectors of their documents, and where
        each concept's documents start among those rows."""
        entities = self.index.entities
        iris = [iri for iri, docs in self._documents_of.items()
                if entities[iri].kind in MEANING_KINDS and not entities[iri].is_sample]
        rows = [row for iri in iris for row in self._documents_of[iri]]
        starts = np.cumsum([0] + [len(self._documents_of[iri]) for iri in iris[:-1]])
        return iris, self.index.doc_vectors[rows], starts

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
        shared = tuple(c for c in fingerprint if c.iri in mine) or self.by_meaning(entity, passage_vectors)
        passage, similarity = self._best_passage(entity, passages, passage_vectors)
        return Explanation(
            shared_concepts=shared, passage=passage, passage_similarity=similarity,
            dense_score=_round(dense[0]), dense_rank=dense[1], lexical_score=_round(lexical[0]), lexical_rank=lexical[1],
        )

    def closeness(self, passage_vectors: np.ndarray) -> dict[str, tuple[float, int]]:
        """Each concept of MEANING_KINDS: its cosine to the proposal (the normalised mean of its passage vectors)
        at its closest document, and its rank among the concepts of its kind (1 = the closest)."""
        iris, vectors, starts = self._meaning_concepts
        if not iris or not len(passage_vectors):
            return {}
        query = passage_vectors.mean(axis=0)
        query = query / (np.linalg.norm(query) or 1.0)
        cosines = np.maximum.reduceat(vectors @ query, starts).tolist()
        by_kind: dict[str, list[float]] = defaultdict(list)
        entities = self.index.entities
        for iri, cosine in zip(iris, cosines, strict=True):
            by_kind[entities[iri].kind].append(cosine)
        return {iri: (cosine, 1 + sum(other > cosine for other in by_kind[entities[iri].kind]))
                for iri, cosine in zip(iris, cosines, strict=True)}

    def by_meaning(self, entity: Entity, passage_vectors: np.ndarray) -> tuple[Concept, ...]:
        """The concept the hit shares with the proposal by meaning (see the module's doc), or none."""
        mine = self._concepts_of(entity) - {entity.iri}
        close = [(cosine, iri) for iri, (cosine, rank) in self.closeness(passage_vectors).items()
                 if iri in mine and rank <= MEANING_NEAREST and cosine >= MEANING_MIN_COSINE]
        if not close:
            return ()
        _, iri = max(close)
        return (Concept(iri, self._label(iri, iri), (), by_meaning=True),)

    def _best_passage(self, entity: Entity, passages: list[str],
                      passage_vectors: np.ndarray) -> tuple[str | None, float | None]:
        docs = self._documents_of.get(entity.iri)
        if not docs or len(passages) < 2:
            return None, None
        similarities = passage_vectors @ self.index.doc_vectors[docs].T  # passages x documents
        best = int(np.argmax(similarities.max(axis=1)))
        return passages[best], round(float(similarities[best].max()), 4)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
