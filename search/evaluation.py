"""Retrieval metrics of one ranking against the records labelled relevant: MRR, recall@k and nDCG@k.

Used by bench/eval_search.py, which prints them, and tests/test_search_quality.py, which holds floors under them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

DEFAULT_K = 10


def reciprocal_rank(ranked: Sequence[str], relevant: Sequence[str], k: int = DEFAULT_K) -> float:
    """1 / the position of the first relevant record in the top k; 0 when there is none."""
    wanted = set(relevant)
    for i, iri in enumerate(ranked[:k], start=1):
        if iri in wanted:
            return 1.0 / i
    return 0.0


def recall_at(ranked: Sequence[str], relevant: Sequence[str], k: int = DEFAULT_K) -> float:
    """The share of the relevant records found in the top k; 0 when none is labelled."""
    wanted = set(relevant)
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def relevance_gains(relevant: Sequence[str], graded: bool) -> dict[str, float]:
    """Binary: 1 per listed record. Graded: n, n-1, ..., 1 in list order (most relevant first)."""
    n = len(relevant)
    return {iri: float(n - i) if graded else 1.0 for i, iri in enumerate(relevant)}


def ndcg_at(ranked: Sequence[str], relevant: Sequence[str], k: int = DEFAULT_K, graded: bool = False) -> float:
    """DCG of the top k over the ideal DCG, whose ranking holds every labelled record (at most k of them)."""
    gain = relevance_gains(relevant, graded)
    if not gain:
        return 0.0
    dcg = sum(gain.get(iri, 0.0) / math.log2(i + 1) for i, iri in enumerate(ranked[:k], start=1))
    ideal = sorted(gain.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 1) for i, g in enumerate(ideal, start=1))
    return dcg / idcg
