"""Mission blank spots: how well the portfolio addresses each mission, MMIP and mission question.

The portfolio is every consortium of the graph (search.portfolio: MJPs, broadly supported programmes,
related programmes and projects), with or without the samples. Two numbers per item, side by side so
the Kernteam can judge: the consortia explicitly linked to it in the graph (named query
``consortium_coverage``; per kind from the portfolio's links), and the best semantic similarity of any
consortium's text to the item's text (best chunk pair, see search.similarity), with that consortium.
An item's status says which of the two find it addressed: ``blank`` (neither: a blank spot),
``unlinked`` (a consortium's text reaches the threshold, but none is linked: perhaps a missing link),
``weak`` (linked, but no consortium's text reaches the threshold), ``covered`` (both). The ranking puts
the fewest linked consortia first, then the lowest best similarity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kg.queries import named_query
from kg.store import GraphView
from search.index import SearchIndex
from search.portfolio import ConsortiumRef, Portfolio, PortfolioCount, Ref, load_portfolio, ref, samples_note
from search.similarity import best_chunk_similarity, chunk_rows, gather_chunks

KIND_ORDER = ("mission", "mmip", "question")
STATUSES = ("blank", "unlinked", "weak", "covered")  # by (is_linked, is_similar) as a two-bit number
ITEM_RELATION = {"mission": "mission", "mmip": "mmip", "question": "question"}  # item kind -> portfolio relation


@dataclass(frozen=True)
class Coverage:
    """One mission, MMIP or mission question and how the portfolio covers it."""

    item: Ref
    kind: str
    linked_consortia: int
    linked_samples: int
    linked_by_kind: dict[str, int]  # consortium kind -> linked consortia of that kind
    best_similarity: float | None
    best_consortium: ConsortiumRef | None
    threshold: float

    @property
    def is_linked(self) -> bool:
        return self.linked_consortia > 0

    @property
    def is_similar(self) -> bool:
        return self.best_similarity is not None and self.best_similarity >= self.threshold

    @property
    def status(self) -> str:
        return STATUSES[2 * self.is_linked + self.is_similar]

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item.to_dict(), "kind": self.kind, "linked_consortia": self.linked_consortia,
                "linked_samples": self.linked_samples, "linked_by_kind": self.linked_by_kind,
                "best_similarity": self.best_similarity,
                "best_consortium": self.best_consortium.to_dict() if self.best_consortium else None,
                "is_linked": self.is_linked, "is_similar": self.is_similar, "status": self.status}


@dataclass(frozen=True)
class MissionGaps:
    """Every item, most under-addressed first, and the portfolio it was measured against."""

    threshold: float
    portfolio: PortfolioCount
    items: tuple[Coverage, ...]

    @property
    def blank_spots(self) -> tuple[Coverage, ...]:
        return tuple(c for c in self.items if c.status == "blank")

    def counts(self) -> dict[str, int]:
        """How many items have each status."""
        return {status: sum(c.status == status for c in self.items) for status in STATUSES}

    @property
    def has_samples(self) -> bool:
        return self.portfolio.samples > 0

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, **self.portfolio.to_dict(), "counts": self.counts(),
                "items": [c.to_dict() for c in self.items], "samples_note": samples_note(self.portfolio)}


def find_mission_gaps(store: GraphView, index: SearchIndex, threshold: float, *, samples: bool = True) -> MissionGaps:
    """Coverage of every mission, MMIP and mission question by the consortia of the graph, ranked; without the
    sample consortia (their links and texts) when `samples` is False."""
    portfolio = load_portfolio(store, index, samples=samples)
    rows = [r for r in store.select(named_query("consortium_coverage")) if str(r["item"]) in index.entities]
    items = [str(r["item"]) for r in rows]
    chunks = chunk_rows(index)
    texts = portfolio.with_text
    similarity = best_chunk_similarity(gather_chunks(index, items, chunks), gather_chunks(index, texts, chunks))
    best = similarity.argmax(axis=1) if texts else np.zeros(len(items), dtype=np.int64)
    linked_to = _linked_to(portfolio)
    found = []
    for i, row in enumerate(rows):
        kind = str(row["kind"])
        sample_links = int(row["samples"]) if samples else 0
        linked = int(row["consortia"]) - (0 if samples else int(row["samples"]))
        found.append(Coverage(item=ref(index, items[i]), kind=kind, linked_consortia=linked,
                              linked_samples=sample_links,
                              linked_by_kind=portfolio.kind_counts(linked_to.get((ITEM_RELATION.get(kind, kind), items[i]),
                                                                                 set())),
                              best_similarity=round(float(similarity[i, best[i]]), 4) if texts else None,
                              best_consortium=portfolio.ref(texts[best[i]]) if texts else None, threshold=threshold))
    found.sort(key=lambda c: (c.linked_consortia, -1.0 if c.best_similarity is None else c.best_similarity,
                              KIND_ORDER.index(c.kind) if c.kind in KIND_ORDER else len(KIND_ORDER), c.item.iri))
    return MissionGaps(threshold, portfolio.count(), tuple(found))


def _linked_to(portfolio: Portfolio) -> dict[tuple[str, str], set[str]]:
    """(relation, target) -> the consortia linked to it."""
    found: dict[tuple[str, str], set[str]] = {}
    for relation in ITEM_RELATION.values():
        for member, target in portfolio.pairs(relation):
            found.setdefault((relation, target), set()).add(member)
    return found
