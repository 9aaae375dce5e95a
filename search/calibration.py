"""Calibrating the analytics thresholds on the graph's own explicit links, which serve as labels.

* Gap threshold: every (MJP, target) pair, target a knowledge question, mission or MMIP, scored by the
  best chunk similarity (as the gap analyses score them); labelled 1 when the MJP links to the target.
* Overlap threshold: every pair of MJPs, scored by mean-vector similarity (as the overlap analysis
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
from search.portfolio import Portfolio, load_portfolio
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

    mjps: int
    sample_mjps: int
    gap: Calibration
    overlap: Calibration
    gap_by_kind: tuple[Calibration, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"mjps": self.mjps, "sample_mjps": self.sample_mjps, "gap": self.gap.to_dict(),
                "overlap": self.overlap.to_dict(), "gap_by_kind": [c.to_dict() for c in self.gap_by_kind]}


def calibrate(store: GraphView, index: SearchIndex) -> Calibrations:
    portfolio = load_portfolio(store, index)
    rows = chunk_rows(index)
    mjp_chunks = gather_chunks(index, portfolio.mjps, rows)
    scores, labels, by_kind = [], [], []
    for kind, relation in GAP_TARGETS.items():
        targets = sorted(iri for iri, e in index.entities.items() if e.kind == kind)
        similarity = best_chunk_similarity(mjp_chunks, gather_chunks(index, targets, rows))
        linked = _link_matrix(portfolio, relation, targets)
        scores.append(similarity.ravel())
        labels.append(linked.ravel())
        by_kind.append(calibrate_threshold(kind, similarity, linked))
    gap = calibrate_threshold("gap", np.concatenate(scores), np.concatenate(labels))
    return Calibrations(len(portfolio.mjps), portfolio.sample_count, gap, _overlap(portfolio, mjp_chunks),
                        tuple(by_kind))


def _link_matrix(portfolio: Portfolio, relation: str, targets: list[str]) -> np.ndarray:
    column = {t: i for i, t in enumerate(targets)}
    linked = np.zeros((len(portfolio.mjps), len(targets)), dtype=bool)
    for row, mjp in enumerate(portfolio.mjps):
        linked[row, [column[t] for t in portfolio.linked(mjp, relation) if t in column]] = True
    return linked


def _overlap(portfolio: Portfolio, mjp_chunks: Chunks) -> Calibration:
    similarity = mean_vector_similarity(mjp_chunks, mjp_chunks)
    targets = sorted({t for r in OVERLAP_RELATIONS for m in portfolio.mjps for t in portfolio.linked(m, r)})
    links = np.logical_or.reduce([_link_matrix(portfolio, r, targets) for r in OVERLAP_RELATIONS]).astype(np.float32)
    shares = (links @ links.T) > 0  # two MJPs that link to a common question or mission
    upper = np.triu_indices(len(portfolio.mjps), k=1)
    return calibrate_threshold("overlap", similarity[upper], shares[upper])
