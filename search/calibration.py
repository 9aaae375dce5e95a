"""Calibrating the analytics thresholds on the graph's own explicit links, which serve as labels.

The portfolio is every consortium of the graph (search.portfolio: MJPs, broadly supported programmes,
related programmes, projects) whose text the search index holds, with or without the samples.

* Gap threshold: every (consortium, target) pair, target a knowledge question, mission or MMIP, scored by
  the best chunk similarity (as the gap analyses score them); labelled 1 when the consortium links to it.
* Overlap threshold: every pair of consortia, scored by mean-vector similarity (as the overlap analysis
  scores them); labelled 1 when the two link to a common knowledge question or mission.

Each threshold is the one with the highest F1 (search.similarity.calibrate_threshold). The labels are
few on the default data, so the F1 says how rough the threshold is; it depends on the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kg.store import GraphView
from search.index import SearchIndex
from search.portfolio import Portfolio, PortfolioCount, load_portfolio
from search.similarity import (
    Calibration,
    Chunks,
    best_chunk_similarity,
    calibrate_threshold,
    chunk_rows,
    gather_chunks,
    mean_vector_similarity,
)

GAP_TARGETS = {"question": "question", "mission": "mission", "mmip": "mmip"}  # entity kind -> link relation
OVERLAP_RELATIONS = ("question", "mission")


@dataclass(frozen=True)
class Calibrations:
    """The calibrated thresholds (`gap`, `overlap`) and, for reference, the gap per target kind."""

    portfolio: PortfolioCount  # the labels are the links of the consortia with text in the index
    gap: Calibration
    overlap: Calibration
    gap_by_kind: tuple[Calibration, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.portfolio.to_dict(), "gap": self.gap.to_dict(), "overlap": self.overlap.to_dict(),
                "gap_by_kind": [c.to_dict() for c in self.gap_by_kind]}


def calibrate(store: GraphView, index: SearchIndex, *, samples: bool = True) -> Calibrations:
    """Both thresholds from the links of the consortia with text (without the samples when `samples` is False)."""
    portfolio = load_portfolio(store, index, samples=samples)
    rows = chunk_rows(index)
    member_chunks = gather_chunks(index, portfolio.with_text, rows)
    scores, labels, by_kind = [], [], []
    for kind, relation in GAP_TARGETS.items():
        targets = sorted(iri for iri, e in index.entities.items() if e.kind == kind)
        similarity = best_chunk_similarity(member_chunks, gather_chunks(index, targets, rows))
        linked = _link_matrix(portfolio, relation, targets)
        scores.append(similarity.ravel())
        labels.append(linked.ravel())
        by_kind.append(calibrate_threshold(kind, similarity, linked))
    gap = calibrate_threshold("gap", np.concatenate(scores), np.concatenate(labels))
    return Calibrations(portfolio.count(), gap, _overlap(portfolio, member_chunks), tuple(by_kind))


def _link_matrix(portfolio: Portfolio, relation: str, targets: list[str]) -> np.ndarray:
    column = {t: i for i, t in enumerate(targets)}
    linked = np.zeros((len(portfolio.with_text), len(targets)), dtype=bool)
    for row, member in enumerate(portfolio.with_text):
        linked[row, [column[t] for t in portfolio.linked(member, relation) if t in column]] = True
    return linked


def _overlap(portfolio: Portfolio, member_chunks: Chunks) -> Calibration:
    similarity = mean_vector_similarity(member_chunks, member_chunks)
    targets = sorted({t for r in OVERLAP_RELATIONS for m in portfolio.with_text for t in portfolio.linked(m, r)})
    links = np.logical_or.reduce([_link_matrix(portfolio, r, targets) for r in OVERLAP_RELATIONS]).astype(np.float32)
    shares = (links @ links.T) > 0  # two consortia that link to a common question or mission
    upper = np.triu_indices(len(portfolio.with_text), k=1)
    return calibrate_threshold("overlap", similarity[upper], shares[upper])
