"""Matching a proposal to the graph: hybrid ranking per section, with an explanation for every hit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from search.concepts import ConceptMatcher
from search.documents import Entity
from search.embedder import Embedder
from search.explain import Explainer
from search.fusion import reciprocal_rank_fusion
from search.index import SearchIndex, lexical_terms
from search.readers import read_text_input
from search.result import Concept, Hit, MatchResult, Member, Suggestion
from search.text import detect_language, split_passages

SECTIONS = {"questions": ("question",), "programmes": ("programme",), "missions": ("mission", "mmip"),
            "kem_categories": ("kem",)}
CANDIDATES = 300  # documents taken from each ranking before fusion
MAX_PASSAGES = 64
# Passages of at least a short sentence's length, encoded in small batches: less padding, so encoding
# the passages costs about as much as encoding the whole text once (bench/bench_search.py).
PASSAGE_MIN_WORDS = 30
PASSAGE_BATCH = 4


@dataclass(frozen=True)
class Filters:
    """Restrict hits to entities linked to these clusters / themes / missions (IRIs), and to kinds."""

    kinds: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    missions: tuple[str, ...] = ()

    def admits(self, entity: Entity) -> bool:
        if self.kinds and entity.kind not in self.kinds:
            return False
        for facet, wanted in (("cluster", self.clusters), ("theme", self.themes), ("mission", self.missions)):
            if wanted and not set(wanted) & set(entity.facets.get(facet, ())):
                return False
        return True

    @property
    def is_empty(self) -> bool:
        return not (self.kinds or self.clusters or self.themes or self.missions)


class Matcher:
    def __init__(self, index: SearchIndex, embedder: Embedder, concepts: ConceptMatcher,
                 members: dict[str, tuple[Member, ...]], weights: dict[str, float], rrf_k: int = 60) -> None:
        self.index, self.embedder, self.weights, self.rrf_k = index, embedder, weights, rrf_k
        self.members = members
        self.explainer = Explainer(index, concepts)

    def match(self, text: str, *, top: int = 10, filters: Filters | None = None) -> MatchResult:
        text = read_text_input(text)
        filters = filters or Filters()
        language = detect_language(text)
        passages = _passages(text)
        passage_vectors = self.embedder.encode_queries(passages, batch_size=PASSAGE_BATCH)
        query = passage_vectors.mean(axis=0)
        query /= np.linalg.norm(query) or 1.0
        allowed = self._allowed(filters)
        dense, dense_scores = self._dense(query, allowed)
        lexical, lexical_scores = self._lexical(text, allowed)
        fused = reciprocal_rank_fusion({"dense": dense, "lexical": lexical}, self.weights, k=self.rrf_k)
        fingerprint = self.explainer.fingerprint(text, language)
        context = (passages, passage_vectors, fingerprint, dense, dense_scores, lexical, lexical_scores)
        sections = {name: self._section(fused, kinds, top, context) for name, kinds in SECTIONS.items()}
        return MatchResult(
            language=language, concepts=tuple(fingerprint), weights=dict(self.weights),
            clusters=self._suggest(fused, "cluster", top, fingerprint),
            themes=self._suggest(fused, "theme", top, fingerprint), **sections,
        )

    def _allowed(self, filters: Filters) -> np.ndarray | None:
        if filters.is_empty:
            return None
        entities = self.index.entities
        return np.array([i for i, d in enumerate(self.index.documents) if filters.admits(entities[d.entity])],
                        dtype=np.int64)

    def _dense(self, query: np.ndarray, allowed: np.ndarray | None) -> tuple[list[str], dict[str, float]]:
        scores, ids = self.index.vectors.search(query[None, :].astype(np.float32), CANDIDATES, allowed)
        return _by_entity(self.index, ids[0], scores[0])

    def _lexical(self, text: str, allowed: np.ndarray | None) -> tuple[list[str], dict[str, float]]:
        scores, ids = self.index.lexical.search(lexical_terms(text), CANDIDATES, allowed)
        return _by_entity(self.index, ids, scores)

    def _section(self, fused: dict[str, float], kinds: Sequence[str], top: int, context: tuple) -> tuple[Hit, ...]:
        entities = self.index.entities
        chosen = [iri for iri in fused if entities[iri].kind in kinds][:top]
        return tuple(self._hit(iri, fused[iri], context) for iri in chosen)

    def _hit(self, iri: str, score: float, context: tuple) -> Hit:
        passages, passage_vectors, fingerprint, dense, dense_scores, lexical, lexical_scores = context
        entity = self.index.entities[iri]
        explanation = self.explainer.explain(
            entity, passages, passage_vectors, fingerprint,
            dense=(dense_scores.get(iri), _rank(dense, iri)), lexical=(lexical_scores.get(iri), _rank(lexical, iri)))
        return Hit(iri=iri, kind=entity.kind, label=entity.label, labels=dict(entity.labels), score=round(score, 6),
                   is_sample=entity.is_sample, explanation=explanation, members=self.members.get(iri, ()),
                   clusters=entity.facets.get("cluster", ()), themes=entity.facets.get("theme", ()),
                   missions=entity.facets.get("mission", ()))

    def _suggest(self, fused: dict[str, float], facet: str, top: int,
                 mentioned: Sequence[Concept]) -> tuple[Suggestion, ...]:
        """Clusters (or themes) vote from three sources: the best ten hits, each splitting its fused
        score over the clusters it is linked to (so broad records count less); a direct hit on the
        cluster's own text, counted double; and the proposal naming the cluster, worth the top score.
        Scores are shares of the total, so they sum to 1 over all candidates."""
        entities = self.index.entities
        votes: dict[str, float] = defaultdict(float)
        best = [iri for iri in fused if entities[iri].kind in ("question", "programme", "mission", "mmip")][:10]
        for iri in best:
            values = entities[iri].facets.get(facet, ())
            for value in values:
                votes[value] += fused[iri] / len(values)
        for iri, score in fused.items():
            if entities[iri].kind == facet:
                votes[iri] += 2 * score
        top_score = max(fused.values(), default=0.0)
        for concept in mentioned:
            if concept.iri in entities and entities[concept.iri].kind == facet:
                votes[concept.iri] += top_score
        total = sum(votes.values()) or 1.0
        ranked = sorted(votes.items(), key=lambda kv: -kv[1])[:top]
        return tuple(Suggestion(iri, entities[iri].label if iri in entities else iri, round(v / total, 4))
                     for iri, v in ranked)


def _passages(text: str) -> list[str]:
    passages = [p for p in split_passages(text, min_words=PASSAGE_MIN_WORDS) if p.strip()] or [text]
    if len(passages) > MAX_PASSAGES:  # long uploads: group sentences so encoding stays one batch
        size = -(-len(passages) // MAX_PASSAGES)
        passages = [" ".join(passages[i:i + size]) for i in range(0, len(passages), size)]
    return passages


def _by_entity(index: SearchIndex, ids: np.ndarray, scores: np.ndarray) -> tuple[list[str], dict[str, float]]:
    """Documents to entities: an entity ranks by its best document."""
    best: dict[str, float] = {}
    for doc_id, score in zip(ids.tolist(), scores.tolist(), strict=True):
        if doc_id < 0:
            continue
        entity = index.documents[doc_id].entity
        if entity not in best or score > best[entity]:
            best[entity] = float(score)
    ranking = sorted(best, key=lambda iri: -best[iri])
    return ranking, best


def _rank(ranking: list[str], iri: str) -> int | None:
    try:
        return ranking.index(iri) + 1
    except ValueError:
        return None
