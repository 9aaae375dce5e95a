"""Similarity between entities of the search index as whole matrices, and threshold calibration.

Two measures, both cosines of the index's normalised document vectors (the ``passage: `` side of E5):

* ``best_chunk_similarity``: the highest cosine over every pair of chunks of two entities. A long
  programme that treats several subjects addresses a question when *one* of its parts does, so the
  gap analyses use this one (as they use the best passage of an uploaded plan).
* ``mean_vector_similarity``: the cosine of the entities' normalised mean chunk vectors. Two
  programmes overlap when their aims as a whole agree, not when one passage each happens to match,
  so the overlap analysis uses this one.

Both are a single matrix product over all chunks, reduced per entity with ``np.maximum.reduceat``
(no loop over pairs in Python). Calibration picks the threshold that maximises F1 of
"similarity >= t" against explicit links in the graph, which serve as labels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from search.index import SearchIndex

BLOCK_ROWS = 4096  # chunk rows per matrix product: bounds memory at 4096 x columns floats


@dataclass(frozen=True)
class Chunks:
    """The chunk vectors of some entities, stacked; entity i owns rows starts[i]:starts[i+1]."""

    vectors: np.ndarray
    starts: np.ndarray

    @property
    def count(self) -> int:
        return len(self.starts)


def chunk_rows(index: SearchIndex) -> dict[str, list[int]]:
    """Row numbers in ``index.doc_vectors`` of every entity's chunks."""
    rows: dict[str, list[int]] = defaultdict(list)
    for i, document in enumerate(index.documents):
        rows[document.entity].append(i)
    return dict(rows)


def gather_chunks(index: SearchIndex, iris: Sequence[str], rows: dict[str, list[int]] | None = None) -> Chunks:
    """The chunks of ``iris`` in that order; every IRI must have at least one document in the index."""
    rows = chunk_rows(index) if rows is None else rows
    counts = np.array([len(rows[iri]) for iri in iris], dtype=np.int64)
    if np.any(counts == 0):
        missing = [iri for iri, n in zip(iris, counts, strict=True) if n == 0]
        raise KeyError(f"no documents in the index for {missing[:3]}")
    order = [r for iri in iris for r in rows[iri]]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(iris) else counts
    return Chunks(index.doc_vectors[order], starts)


def passage_chunks(vectors: np.ndarray) -> Chunks:
    """The passages of one uploaded text as the chunks of a single entity."""
    return Chunks(np.asarray(vectors, dtype=np.float32), np.zeros(1, dtype=np.int64))


def best_chunk_similarity(rows: Chunks, columns: Chunks) -> np.ndarray:
    """rows.count x columns.count: the highest chunk-to-chunk cosine of each pair of entities."""
    out = np.empty((rows.count, columns.count), dtype=np.float32)
    if not rows.count or not columns.count:
        return out
    bounds = [*rows.starts.tolist(), len(rows.vectors)]
    entity = 0
    while entity < rows.count:  # blocks of whole entities, so reduceat never splits one
        stop = entity + 1
        while stop < rows.count and bounds[stop + 1] - bounds[entity] <= BLOCK_ROWS:
            stop += 1
        block = rows.vectors[bounds[entity]:bounds[stop]] @ columns.vectors.T
        block = np.maximum.reduceat(block, np.asarray(bounds[entity:stop]) - bounds[entity], axis=0)
        out[entity:stop] = np.maximum.reduceat(block, columns.starts, axis=1)
        entity = stop
    return out


def mean_vectors(chunks: Chunks) -> np.ndarray:
    """One normalised vector per entity: the mean of its chunk vectors."""
    if not chunks.count:
        return np.zeros((0, chunks.vectors.shape[1] if chunks.vectors.ndim == 2 else 0), dtype=np.float32)
    sums = np.add.reduceat(chunks.vectors, chunks.starts, axis=0)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def mean_vector_similarity(rows: Chunks, columns: Chunks) -> np.ndarray:
    """rows.count x columns.count: cosines of the entities' mean vectors."""
    return mean_vectors(rows) @ mean_vectors(columns).T


@dataclass(frozen=True)
class Calibration:
    """The threshold that best separates linked from unlinked pairs, and how well it does."""

    name: str
    threshold: float
    f1: float
    precision: float
    recall: float
    pairs: int
    positives: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def calibrate_threshold(name: str, scores: np.ndarray, labels: np.ndarray) -> Calibration:
    """The cut "score >= t" with the highest F1 against ``labels`` (booleans, one per score).

    The threshold lies halfway between the last score taken and the next lower one, so that
    rounding does not move a pair across it. With no positive labels the F1 is 0 and t is 1.
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels, dtype=bool).ravel()
    positives = int(labels.sum())
    if not positives or not len(scores):
        return Calibration(name, 1.0, 0.0, 0.0, 0.0, len(scores), positives)
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], labels[order]
    last_of_tie = np.r_[ranked[1:] != ranked[:-1], True]  # a cut can only fall between distinct scores
    true_pos = np.cumsum(hits)[last_of_tie]
    taken = np.flatnonzero(last_of_tie) + 1
    f1 = 2 * true_pos / (taken + positives)
    best = int(np.argmax(f1))
    cut = taken[best]
    lower = ranked[cut] if cut < len(ranked) else ranked[cut - 1] - 1e-3
    threshold = (ranked[cut - 1] + lower) / 2
    return Calibration(name, round(float(threshold), 4), round(float(f1[best]), 4),
                       round(float(true_pos[best] / taken[best]), 4), round(float(true_pos[best] / positives), 4),
                       len(scores), positives)
