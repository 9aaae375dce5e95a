"""Entities like a given one: its documents' mean vector searched in the vector index (no model needed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from search.index import SearchIndex

CANDIDATES = 50  # documents taken from the vector index; an entity counts once, by its best document


@dataclass(frozen=True)
class SimilarEntity:
    iri: str
    kind: str
    label: str
    labels: dict[str, str]
    score: float  # cosine of the entity's mean vector and this entity's best document
    is_sample: bool


def similar_entities(index: SearchIndex, iri: str, *, top: int = 6,
                     kinds: tuple[str, ...] = ()) -> tuple[SimilarEntity, ...]:
    """The `top` entities nearest to `iri` (itself left out), of `kinds` if given; () when `iri` is not indexed."""
    rows = [i for i, doc in enumerate(index.documents) if doc.entity == iri]
    if not rows:
        return ()
    query = index.doc_vectors[rows].mean(axis=0)
    query = (query / (np.linalg.norm(query) or 1.0)).astype(np.float32)
    scores, ids = index.vectors.search(query[None, :], min(CANDIDATES, max(1, len(index.documents))))
    found: dict[str, float] = {}
    for doc_id, score in zip(ids[0].tolist(), scores[0].tolist(), strict=True):
        if doc_id < 0:
            continue
        entity = index.documents[doc_id].entity
        if entity != iri and entity not in found and (not kinds or index.entities[entity].kind in kinds):
            found[entity] = float(score)
    best = sorted(found, key=lambda e: -found[e])[:top]
    return tuple(SimilarEntity(e, index.entities[e].kind, index.entities[e].label, dict(index.entities[e].labels),
                               round(found[e], 4), index.entities[e].is_sample) for e in best)
