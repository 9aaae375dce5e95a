"""Matching a proposal to the graph: hybrid ranking per section, with an explanation and a strength label
for every hit.

The dense ranking is hubness-corrected (search.hubness): a record ranks by its cosine to the proposal minus
its mean cosine to typical proposals, so broad records no longer fill every answer. That corrected score
also labels each hit strong, fair or weak (search.strength), and votes for the suggested clusters and
themes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from search.concepts import ConceptMatcher
from search.documents import Entity
from search.embedder import Embedder
from search.explain import Explainer
from search.fusion import reciprocal_rank_fusion
from search.hubness import MAX_PASSAGES, PASSAGE_BATCH, PASSAGE_MIN_WORDS, match_passages, mean_vector
from search.index import SearchIndex, lexical_terms
from search.readers import read_text_input
from search.result import Concept, Funding, Hit, MatchResult, Member, Suggestion
from search.strength import StrengthThresholds, no_strong_match
from search.text import detect_language

__all__ = ["CANDIDATES", "MAX_PASSAGES", "PASSAGE_BATCH", "PASSAGE_MIN_WORDS", "SECTIONS", "Evidence", "Filters",
           "Matcher", "Ranking", "match_passages"]

# "programmes" is the consortia section: programmes (MJPs and related) and projects, each with lead and partners
SECTIONS = {"questions": ("question",), "programmes": ("programme", "project"), "missions": ("mission", "mmip"),
            "kem_categories": ("kem",)}
# The suggestion of clusters and themes, chosen on the tuning part of tests/fixtures/eval/proposals.yaml
# (bench/eval_search.py; docs/search.md): the kinds of hit whose links vote, how many of the strongest
# vote, how much a cluster's (theme's) own similarity to the proposal counts next to the votes of the
# records linked to it, and how much of the share an average proposal gives it is taken off.
VOTERS = ("question", "programme", "project", "mission", "mmip")
VOTING_HITS = 20
OWN_VOTE = 1.0
PRIOR_WEIGHT = 0.5
STRENGTH_SECTIONS = ("questions", "programmes", "missions")  # what no_strong_match looks at (KEM are methods)
CANDIDATES = 300  # documents taken from each ranking before fusion
HUBNESS_WEIGHT = 1.0  # how much of a document's hubness penalty is subtracted (MK_HUBNESS_WEIGHT)


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
    """Entities best first, each scored by its best document. For the dense ranking `scores` are plain
    cosines and `strength` the hubness-corrected ones the entities are ordered by."""

    iris: list[str]
    scores: dict[str, float]
    strength: dict[str, float] = field(default_factory=dict)

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
    query: np.ndarray | None = None  # the proposal's query vector (the mean of the passage vectors)


class Matcher:
    def __init__(self, index: SearchIndex, embedder: Embedder, concepts: ConceptMatcher,
                 members: dict[str, tuple[Member, ...]], weights: dict[str, float], rrf_k: int = 60, *,
                 funding: dict[str, Funding] | None = None, hubness_weight: float = HUBNESS_WEIGHT,
                 strength: StrengthThresholds | None = None) -> None:
        """`members`: the lead and partners of each consortium (programme or project) by IRI; `funding`:
        the instrument, call and year of each project by IRI; `hubness_weight`: how much of each document's
        hubness penalty the dense ranking subtracts (0: plain cosines); `strength`: the thresholds of the
        strong / fair / weak labels."""
        self.index, self.embedder, self.weights, self.rrf_k = index, embedder, weights, rrf_k
        self.members = members
        self.funding = funding or {}
        self.hubness_weight = hubness_weight
        self.strength = strength or StrengthThresholds()
        self.explainer = Explainer(index, concepts)
        self._priors: dict[str, dict[str, float]] = {}

    @cached_property
    def _rows(self) -> dict[str, list[int]]:
        """The document rows of every entity."""
        found: dict[str, list[int]] = defaultdict(list)
        for i, doc in enumerate(self.index.documents):
            found[doc.entity].append(i)
        return found

    @cached_property
    def _penalties(self) -> np.ndarray:
        return (self.hubness_weight * self.index.penalties()).astype(np.float32)

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
        evidence = Evidence(passages, passage_vectors, fingerprint, dense, lexical, mean_vector(passage_vectors))
        sections = {name: self.section(fused, kinds, top, evidence, filters) for name, kinds in SECTIONS.items()}
        labels = [hit.strength for name in STRENGTH_SECTIONS for hit in sections[name]]
        return MatchResult(
            language=language, concepts=tuple(evidence.fingerprint), weights=dict(self.weights),
            clusters=self.suggest(dense.strength, "cluster", top, evidence.fingerprint),
            themes=self.suggest(dense.strength, "theme", top, evidence.fingerprint),
            samples="include" if filters.include_samples else "exclude",
            no_strong_match=no_strong_match(labels),
            strength_thresholds={"strong": self.strength.strong, "fair": self.strength.fair},
            hubness_weight=self.hubness_weight, **sections,
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
        """Entities nearest to the mean of the passage vectors, by hubness-corrected similarity: the
        CANDIDATES nearest documents by cosine, each less its (weighted) penalty; an entity by its best
        document. `scores` keeps the plain cosine of that document."""
        query = mean_vector(passage_vectors)
        scores, ids = self.index.vectors.search(query[None, :], CANDIDATES, allowed)
        found = ids[0] >= 0
        corrected = scores[0].copy()
        corrected[found] -= self._penalties[ids[0][found]]
        return _by_entity(self.index, ids[0], scores[0], corrected)

    def rank_lexical(self, terms: list[str], allowed: np.ndarray | None) -> Ranking:
        """Entities by BM25 over `terms` (search.index.lexical_terms of the text)."""
        scores, ids = self.index.lexical.search(terms, CANDIDATES, allowed)
        return _by_entity(self.index, ids, scores)

    def fuse(self, dense: Ranking, lexical: Ranking) -> dict[str, float]:
        return reciprocal_rank_fusion({"dense": dense.iris, "lexical": lexical.iris}, self.weights, k=self.rrf_k)

    def section(self, fused: dict[str, float], kinds: Sequence[str], top: int, evidence: Evidence,
                filters: Filters | None = None) -> tuple[Hit, ...]:
        """The best `top` fused hits of these kinds, each explained and labelled strong, fair or weak (the
        section's best by strength counts strong from the fair threshold: search.strength)."""
        entities = self.index.entities
        chosen = [iri for iri in fused if entities[iri].kind in kinds][:top]
        strengths = [None if s is None else round(s, 4) for s in (self.strength_of(iri, evidence) for iri in chosen)]
        best = max((s for s in strengths if s is not None), default=None)  # labels are of the scores as shown
        return tuple(self._hit(iri, fused[iri], evidence, filters or Filters(), strength, strength == best)
                     for iri, strength in zip(chosen, strengths, strict=True))

    def _hit(self, iri: str, score: float, evidence: Evidence, filters: Filters, strength: float | None = None,
             best: bool = False) -> Hit:
        entity = self.index.entities[iri]
        members = tuple(m for m in self.members.get(iri, ()) if filters.include_samples or not m.is_sample)
        explanation = self.explainer.explain(
            entity, evidence.passages, evidence.passage_vectors, evidence.fingerprint,
            dense=(evidence.dense.scores.get(iri), evidence.dense.rank(iri)),
            lexical=(evidence.lexical.scores.get(iri), evidence.lexical.rank(iri)))
        return Hit(iri=iri, kind=entity.kind, label=entity.label, labels=dict(entity.labels), score=round(score, 6),
                   is_sample=entity.is_sample, explanation=explanation, members=members,
                   clusters=entity.facets.get("cluster", ()), themes=entity.facets.get("theme", ()),
                   missions=entity.facets.get("mission", ()), funding=self.funding.get(iri),
                   strength=self.strength.label(strength, best=best),
                   strength_score=strength)

    def strength_of(self, iri: str, evidence: Evidence) -> float | None:
        """The hubness-corrected similarity of the entity's best document to the proposal: from the dense
        ranking where it holds the entity, else computed (a hit the lexical ranking alone brought in)."""
        if iri in evidence.dense.strength:
            return evidence.dense.strength[iri]
        rows = self._rows.get(iri)
        if not rows or evidence.query is None:
            return None
        return float((self.index.doc_vectors[rows] @ evidence.query - self._penalties[rows]).max())

    def suggest(self, scores: Mapping[str, float], facet: str, top: int,
                mentioned: Sequence[Concept]) -> tuple[Suggestion, ...]:
        """Clusters (or themes) by the votes of the strongest hits (`scores`: hubness-corrected
        similarities, search.match.vote_shares), less PRIOR_WEIGHT times the share an average proposal
        gives them (the mean over the reference proposals of the hubness correction): a cluster that
        every proposal draws votes to, because many records link to it, no longer comes first for all
        of them. Scores are shares of what is left above zero (they sum to 1); no suggestion where
        nothing votes."""
        entities = self.index.entities
        shares = vote_shares(entities, scores, facet, mentioned)
        if not shares:
            return ()
        prior = self._prior(facet)
        adjusted = {iri: share - PRIOR_WEIGHT * prior.get(iri, 0.0) for iri, share in shares.items()}
        total = sum(v for v in adjusted.values() if v > 0) or 1.0
        ranked = sorted(adjusted.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        return tuple(Suggestion(iri, entities[iri].label if iri in entities else iri, round(max(v, 0.0) / total, 4))
                     for iri, v in ranked)

    def _prior(self, facet: str) -> dict[str, float]:
        """The mean vote share of each cluster (theme) over the reference proposals (search.hubness),
        worked out once per facet; empty without reference proposals."""
        if facet not in self._priors:
            vectors = self.index.reference_vectors
            found: dict[str, float] = defaultdict(float)
            for vector in () if vectors is None else vectors:
                for iri, share in vote_shares(self.index.entities, self.rank_dense(vector[None, :], None).strength,
                                              facet, ()).items():
                    found[iri] += share / len(vectors)
            self._priors[facet] = dict(found)
        return self._priors[facet]


def vote_shares(entities: Mapping[str, Entity], scores: Mapping[str, float], facet: str,
                mentioned: Sequence[Concept], *, hits: int = VOTING_HITS, own_vote: float = OWN_VOTE,
                voters: Sequence[str] = VOTERS) -> dict[str, float]:
    """Each cluster's (theme's) share of the votes: the `hits` strongest hits of the `voters` kinds vote
    their score, when positive, split evenly over the clusters they are linked to (a record linked to
    many clusters gives each little, a weak one nothing); a cluster's own score, when positive, counts
    `own_vote` times; a cluster the proposal names gets as much as the strongest vote of a record."""
    strongest_hits = sorted((iri for iri in scores if iri in entities and entities[iri].kind in voters),
                            key=lambda iri: (-scores[iri], iri))[:hits]
    votes: dict[str, float] = defaultdict(float)
    strongest = 0.0
    for iri in strongest_hits:
        values = entities[iri].facets.get(facet, ())
        if values and scores[iri] > 0:
            strongest = max(strongest, scores[iri] / len(values))
            for value in values:
                votes[value] += scores[iri] / len(values)
    for iri, score in scores.items():
        if score > 0 and iri in entities and entities[iri].kind == facet:
            votes[iri] += own_vote * score
    for concept in mentioned:
        if strongest and concept.iri in entities and entities[concept.iri].kind == facet:
            votes[concept.iri] += strongest
    total = sum(votes.values())
    return {iri: v / total for iri, v in votes.items()} if total else {}


def _by_entity(index: SearchIndex, ids: np.ndarray, scores: np.ndarray, order: np.ndarray | None = None) -> Ranking:
    """Documents to entities: an entity ranks by its best document by `order` (default: `scores`); it
    keeps that document's score and, with `order`, its `order` value as its strength."""
    order = scores if order is None else order
    best: dict[str, float] = {}
    plain: dict[str, float] = {}
    for doc_id, score, rank_by in zip(ids.tolist(), scores.tolist(), order.tolist(), strict=True):
        if doc_id < 0:
            continue
        entity = index.documents[doc_id].entity
        if entity not in best or rank_by > best[entity]:
            best[entity], plain[entity] = float(rank_by), float(score)
    iris = sorted(best, key=lambda iri: (-best[iri], iri))
    return Ranking(iris, plain, best if order is not scores else {})

