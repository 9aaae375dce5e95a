"""Mission blank spots: how well the MJP portfolio addresses each mission, MMIP and mission question.

Two numbers per item, side by side so the Kernteam can judge: the MJPs explicitly linked to it in
the graph (named query ``mission_coverage``), and the best semantic similarity of any MJP's text to
the item's text (best chunk pair, see search.similarity), with that MJP. An item's status says which
of the two find it addressed: ``blank`` (neither: a blank spot), ``unlinked`` (an MJP's text reaches
the threshold, but no MJP is linked: perhaps a missing link), ``weak`` (linked, but no MJP's text
reaches the threshold), ``covered`` (both). The ranking puts the fewest linked MJPs first, then the
lowest best similarity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kg.queries import named_query
from kg.store import GraphView
from search.index import SearchIndex
from search.portfolio import Ref, load_portfolio, ref
from search.similarity import best_chunk_similarity, chunk_rows, gather_chunks

KIND_ORDER = ("mission", "mmip", "question")
STATUSES = ("blank", "unlinked", "weak", "covered")  # by (is_linked, is_similar) as a two-bit number
SAMPLES_NOTE = "The portfolio holds sample MJPs: illustrative records, not real programmes; their links and texts count."


@dataclass(frozen=True)
class Coverage:
    """One mission, MMIP or mission question and how the portfolio covers it."""

    item: Ref
    kind: str
    linked_mjps: int
    linked_samples: int
    best_similarity: float | None
    best_mjp: Ref | None
    threshold: float

    @property
    def is_linked(self) -> bool:
        return self.linked_mjps > 0

    @property
    def is_similar(self) -> bool:
        return self.best_similarity is not None and self.best_similarity >= self.threshold

    @property
    def status(self) -> str:
        return STATUSES[2 * self.is_linked + self.is_similar]

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item.to_dict(), "kind": self.kind, "linked_mjps": self.linked_mjps,
                "linked_samples": self.linked_samples, "best_similarity": self.best_similarity,
                "best_mjp": self.best_mjp.to_dict() if self.best_mjp else None, "is_linked": self.is_linked,
                "is_similar": self.is_similar, "status": self.status}


@dataclass(frozen=True)
class MissionGaps:
    """Every item, most under-addressed first, and the portfolio it was measured against."""

    threshold: float
    mjps: int
    sample_mjps: int
    items: tuple[Coverage, ...]

    @property
    def blank_spots(self) -> tuple[Coverage, ...]:
        return tuple(c for c in self.items if c.status == "blank")

    def counts(self) -> dict[str, int]:
        """How many items have each status."""
        return {status: sum(c.status == status for c in self.items) for status in STATUSES}

    @property
    def has_samples(self) -> bool:
        return self.sample_mjps > 0

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "mjps": self.mjps, "sample_mjps": self.sample_mjps,
                "counts": self.counts(), "items": [c.to_dict() for c in self.items],
                "samples_note": SAMPLES_NOTE if self.has_samples else None}


def find_mission_gaps(store: GraphView, index: SearchIndex, threshold: float) -> MissionGaps:
    """Coverage of every mission, MMIP and mission question by the MJPs of the graph, ranked."""
    portfolio = load_portfolio(store, index)
    rows = [r for r in store.select(named_query("mission_coverage")) if str(r["item"]) in index.entities]
    items = [str(r["item"]) for r in rows]
    chunks = chunk_rows(index)
    similarity = best_chunk_similarity(gather_chunks(index, items, chunks),
                                       gather_chunks(index, portfolio.mjps, chunks))
    has_mjps = bool(portfolio.mjps)
    best = similarity.argmax(axis=1) if has_mjps else np.zeros(len(items), dtype=np.int64)
    found = [Coverage(item=ref(index, items[i]), kind=str(row["kind"]), linked_mjps=int(row["mjps"]),
                      linked_samples=int(row["samples"]),
                      best_similarity=round(float(similarity[i, best[i]]), 4) if has_mjps else None,
                      best_mjp=ref(index, portfolio.mjps[best[i]]) if has_mjps else None, threshold=threshold)
             for i, row in enumerate(rows)]
    found.sort(key=lambda c: (c.linked_mjps, -1.0 if c.best_similarity is None else c.best_similarity,
                              KIND_ORDER.index(c.kind) if c.kind in KIND_ORDER else len(KIND_ORDER), c.item.iri))
    return MissionGaps(threshold, len(portfolio.mjps), portfolio.sample_count, tuple(found))
