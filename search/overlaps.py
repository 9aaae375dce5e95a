"""Overlapping consortia: pairs whose aims agree above a threshold, and the groups they form.

The portfolio is every consortium of the graph (search.portfolio: MJPs, broadly supported programmes,
related programmes and projects) whose text the search index holds, with or without the samples. The
similarity of two consortia is the cosine of their mean chunk vectors (their aims as a whole, see
search.similarity), all pairs in one matrix product. Groups are the connected components of the pairs
above the threshold: candidates to bring together. Each pair says what the two share: the graph
concepts both texts mention (ConceptMatcher) and their common explicit links (questions, missions,
MMIPs, clusters, themes).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from kg.store import GraphView
from search.concepts import ConceptMatcher
from search.index import SearchIndex
from search.portfolio import (
    RELATIONS,
    ConsortiumRef,
    Portfolio,
    PortfolioCount,
    Ref,
    load_portfolio,
    ref,
    samples_note,
)
from search.similarity import gather_chunks, mean_vector_similarity


@dataclass(frozen=True)
class Link:
    """An explicit link both consortia of a pair have."""

    relation: str
    target: Ref

    def to_dict(self) -> dict[str, Any]:
        return {"relation": self.relation, "target": self.target.to_dict()}


@dataclass(frozen=True)
class OverlapPair:
    first: ConsortiumRef
    second: ConsortiumRef
    similarity: float
    shared_concepts: tuple[Ref, ...]
    shared_links: tuple[Link, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"first": self.first.to_dict(), "second": self.second.to_dict(), "similarity": self.similarity,
                "shared_concepts": [c.to_dict() for c in self.shared_concepts],
                "shared_links": [link.to_dict() for link in self.shared_links]}


@dataclass(frozen=True)
class OverlapGroup:
    """Consortia connected by pairs above the threshold."""

    members: tuple[ConsortiumRef, ...]
    pairs: int
    best_similarity: float

    def to_dict(self) -> dict[str, Any]:
        return {"members": [m.to_dict() for m in self.members], "pairs": self.pairs,
                "best_similarity": self.best_similarity}


@dataclass(frozen=True)
class Overlaps:
    threshold: float
    portfolio: PortfolioCount  # the consortia compared: those of the portfolio with text in the index
    pairs: tuple[OverlapPair, ...]  # most similar first
    groups: tuple[OverlapGroup, ...]  # the one with the most similar pair first

    @property
    def has_samples(self) -> bool:
        return self.portfolio.samples > 0

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, **self.portfolio.to_dict(),
                "pairs": [p.to_dict() for p in self.pairs], "groups": [g.to_dict() for g in self.groups],
                "samples_note": samples_note(self.portfolio)}


def find_overlaps(store: GraphView, index: SearchIndex, threshold: float,
                  concepts: ConceptMatcher | None = None, *, samples: bool = True) -> Overlaps:
    """Every pair of consortia with similarity >= threshold, and their groups; without the sample consortia
    when `samples` is False. `concepts` defaults to the graph's concept labels (built only when there is a
    pair to explain)."""
    portfolio = load_portfolio(store, index, samples=samples)
    members = portfolio.with_text
    chunks = gather_chunks(index, members)
    similarity = mean_vector_similarity(chunks, chunks)
    first, second = np.nonzero(np.triu(similarity >= threshold, k=1))
    order = np.argsort(-similarity[first, second], kind="stable")
    first, second = first[order], second[order]
    if len(first) and concepts is None:
        from search.service import concept_matcher  # spaCy and the label query, only when needed

        concepts = concept_matcher(store)
    mentioned = _mentioned(index, concepts, {members[i] for i in (*first.tolist(), *second.tolist())})
    pairs = tuple(_pair(index, portfolio, mentioned, members[a], members[b], float(similarity[a, b]))
                  for a, b in zip(first.tolist(), second.tolist(), strict=True))
    count = portfolio.count()
    return Overlaps(threshold, count, pairs, _groups(portfolio, pairs))


def _mentioned(index: SearchIndex, concepts: ConceptMatcher | None, members: set[str]) -> dict[str, set[str]]:
    """The graph concepts each consortium's own text mentions (the consortium itself left out)."""
    if concepts is None:
        return {}
    return {m: {hit.iri for hit in concepts.fingerprint(index.entities[m].text)} - {m} for m in sorted(members)}


def _pair(index: SearchIndex, portfolio: Portfolio, mentioned: dict[str, set[str]], a: str, b: str,
          similarity: float) -> OverlapPair:
    concepts = sorted(mentioned.get(a, set()) & mentioned.get(b, set()))
    links = tuple(Link(relation, ref(index, target)) for relation in RELATIONS
                  for target in sorted(portfolio.linked(a, relation) & portfolio.linked(b, relation)))
    return OverlapPair(portfolio.ref(a), portfolio.ref(b), round(similarity, 4), tuple(ref(index, c) for c in concepts),
                       links)


def _groups(portfolio: Portfolio, pairs: tuple[OverlapPair, ...]) -> tuple[OverlapGroup, ...]:
    """Connected components over the pairs (union-find; the pairs are already the thresholded few)."""
    parent: dict[str, str] = {}

    def root(iri: str) -> str:
        parent.setdefault(iri, iri)
        while parent[iri] != iri:
            parent[iri] = parent[parent[iri]]
            iri = parent[iri]
        return iri

    for pair in pairs:
        parent[root(pair.first.iri)] = root(pair.second.iri)
    members: dict[str, set[str]] = defaultdict(set)
    inside: dict[str, list[OverlapPair]] = defaultdict(list)
    for iri in list(parent):
        members[root(iri)].add(iri)
    for pair in pairs:
        inside[root(pair.first.iri)].append(pair)
    groups = [OverlapGroup(tuple(portfolio.ref(m) for m in sorted(component)), len(inside[key]),
                           max(p.similarity for p in inside[key])) for key, component in members.items()]
    return tuple(sorted(groups, key=lambda g: (-g.best_similarity, -len(g.members), g.members[0].iri)))
