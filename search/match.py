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
from search.result import Concept, Funding, Hit, MatchResult, Member, Suggestion
from search.text import detect_language, split_bounded_passages

# "programmes" is the consortia section: programmes (MJPs and related) and projects, each with lead and partners
SECTIONS = {"questions": ("question",), "programmes": ("programme", "project"), "missions": ("mission", "mmip"),
            "kem_categories": ("kem",)}
VOTERS = ("question", "programme", "project", "mission", "mmip")  # the kinds of hit whose links suggest clusters, themes
CANDIDATES = 300  # documents taken from each ranking before fusion
MAX_PASSAGES = 64
# Passages of at least a short sentence's length, encoded in small batches: less padding, so encoding
# the passages costs about as much as encoding the whole text once (bench/bench_search.py).
PASSAGE_MIN_WORDS = 30
PASSAGE_BATCH = 4


@dataclass(frozen=True)
class Filters:
    """Restrict hits to entities linked to these clusters / themes / missions (IRIs), and to kinds; without
    `include_samples`, sample records take no part at all: no hit, no member, no concept of an explanation."""

    kinds: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    missions: tuple[str, ...] = ()
    include_samples: bool = True

    def admits(self, entity: Entity) -> bool:
        if self.kinds and entity.kind not in self.kinds:
            return False
        if entity.is_sample and not self.include_samples:
            return False
        for facet, wanted in (("cluster", self.clusters), ("theme", self.themes), ("mission", self.missions)):
            if wanted and not set(wanted) & set(entity.facets.get(facet, ())):
                return False
        return True

    @property
    def is_empty(self) -> bool:
        return not (self.kinds or self.clusters or self.themes or self.missions) and self.include_samples


@dataclass(frozen=True)
class Ranking:
    """Entities best first, each scored by its best document."""

    iris: list[str]
    scores: dict[str, float]

    def rank(self, iri: str) -> int | None:
        """The 1-based position of `iri`, None when it is not ranked."""
        try:
            return self.iris.index(iri) + 1
        except ValueError:
            return None


@dataclass(frozen=True)
class Evidence:
    """What one match found in the text; every hit's explanation is drawn from it."""

    passages: list[str]
    passage_vectors: np.ndarray
    fingerprint: list[Concept]
    dense: Ranking
    lexical: Ranking


def match_passages(text: str) -> list[str]:
    """The passages of a proposal that a match encodes and explains hits with."""
    return split_bounded_passages(text, min_words=PASSAGE_MIN_WORDS, max_passages=MAX_PASSAGES)


class Matcher:
    def __init__(self, index: SearchIndex, embedder: Embedder, concepts: ConceptMatcher,
                 members: dict[str, tuple[Member, ...]], weights: dict[str, float], rrf_k: int = 60, *,
                 funding: dict[str, Funding] | None = None) -> None:
        """`members`: the lead and partners of each consortium (programme or project) by IRI; `funding`:
        the instrument, call and year of each project by IRI."""
        self.index, self.embedder, self.weights, self.rrf_k = index, embedder, weights, rrf_k
        self.members = members
        self.funding = funding or {}
        self.explainer = Explainer(index, concepts)

    def match(self, text: str, *, top: int = 10, filters: Filters | None = None) -> MatchResult:
        text = read_text_input(text)
        filters = filters or Filters()
        language = detect_language(text)
        passages = match_passages(text)
        passage_vectors = self.encode_passages(passages)
        allowed = self._allowed(filters)
        dense = self.rank_dense(passage_vectors, allowed)
        lexical = self.rank_lexical(lexical_terms(text), allowed)
        fused = self.fuse(dense, lexical)
        fingerprint = [c for c in self.explainer.fingerprint(text, language) if self._counts(c.iri, filters)]
        evidence = Evidence(passages, passage_vectors, fingerprint, dense, lexical)
        sections = {name: self.section(fused, kinds, top, evidence, filters) for name, kinds in SECTIONS.items()}
        return MatchResult(
            language=language, concepts=tuple(evidence.fingerprint), weights=dict(self.weights),
            clusters=self.suggest(fused, "cluster", top, evidence.fingerprint),
            themes=self.suggest(fused, "theme", top, evidence.fingerprint),
            samples="include" if filters.include_samples else "exclude", **sections,
        )

    def _counts(self, iri: str, filters: Filters) -> bool:
        """Whether a concept may explain a hit: not a sample record when samples are left out."""
        entity = self.index.entities.get(iri)
        return filters.include_samples or entity is None or not entity.is_sample

    def _allowed(self, filters: Filters) -> np.ndarray | None:
        if filters.is_empty:
            return None
        entities = self.index.entities
        return np.array([i for i, d in enumerate(self.index.documents) if filters.admits(entities[d.entity])],
                        dtype=np.int64)

    def encode_passages(self, passages: list[str]) -> np.ndarray:
        return self.embedder.encode_queries(passages, batch_size=PASSAGE_BATCH)

    def rank_dense(self, passage_vectors: np.ndarray, allowed: np.ndarray | None) -> Ranking:
        """Entities nearest to the mean of the passage vectors."""
        query = passage_vectors.mean(axis=0)
        query /= np.linalg.norm(query) or 1.0
        scores, ids = self.index.vectors.search(query[None, :].astype(np.float32), CANDIDATES, allowed)
        return _by_entity(self.index, ids[0], scores[0])

    def rank_lexical(self, terms: list[str], allowed: np.ndarray | None) -> Ranking:
        """Entities by BM25 over `terms` (search.index.lexical_terms of the text)."""
        scores, ids = self.index.lexical.search(terms, CANDIDATES, allowed)
        return _by_entity(self.index, ids, scores)

    def fuse(self, dense: Ranking, lexical: Ranking) -> dict[str, float]:
        return reciprocal_rank_fusion({"dense": dense.iris, "lexical": lexical.iris}, self.weights, k=self.rrf_k)

    def section(self, fused: dict[str, float], kinds: Sequence[str], top: int, evidence: Evidence,
                filters: Filters | None = None) -> tuple[Hit, ...]:
        """The best `top` fused hits of these kinds, each explained."""
        entities = self.index.entities
        chosen = [iri for iri in fused if entities[iri].kind in kinds][:top]
        return tuple(self._hit(iri, fused[iri], evidence, filters or Filters()) for iri in chosen)

    def _hit(self, iri: str, score: float, evidence: Evidence, filters: Filters) -> Hit:
        entity = self.index.entities[iri]
        members = tuple(m for m in self.members.get(iri, ()) if filters.include_samples or not m.is_sample)
        explanation = self.explainer.explain(
            entity, evidence.passages, evidence.passage_vectors, evidence.fingerprint,
            dense=(evidence.dense.scores.get(iri), evidence.dense.rank(iri)),
            lexical=(evidence.lexical.scores.get(iri), evidence.lexical.rank(iri)))
        return Hit(iri=iri, kind=entity.kind, label=entity.label, labels=dict(entity.labels), score=round(score, 6),
                   is_sample=entity.is_sample, explanation=explanation, members=members,
                   clusters=entity.facets.get("cluster", ()), themes=entity.facets.get("theme", ()),
                   missions=entity.facets.get("mission", ()), funding=self.funding.get(iri))

    def suggest(self, fused: dict[str, float], facet: str, top: int,
                mentioned: Sequence[Concept]) -> tuple[Suggestion, ...]:
        """Clusters (or themes) vote from three sources: the best ten hits, each splitting its fused
        score over the clusters it is linked to (so broad records count less); a direct hit on the
        cluster's own text, counted double; and the proposal naming the cluster, worth the top score.
        Scores are shares of the total, so they sum to 1 over all candidates."""
        entities = self.index.entities
        votes: dict[str, float] = defaultdict(float)
        best = [iri for iri in fused if entities[iri].kind in VOTERS][:10]
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


def _by_entity(index: SearchIndex, ids: np.ndarray, scores: np.ndarray) -> Ranking:
    """Documents to entities: an entity ranks by its best document."""
    best: dict[str, float] = {}
    for doc_id, score in zip(ids.tolist(), scores.tolist(), strict=True):
        if doc_id < 0:
            continue
        entity = index.documents[doc_id].entity
        if entity not in best or score > best[entity]:
            best[entity] = float(score)
    return Ranking(sorted(best, key=lambda iri: -best[iri]), best)

