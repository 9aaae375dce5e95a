"""Reciprocal rank fusion: one ranking from several, weighted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def reciprocal_rank_fusion(rankings: Mapping[str, Sequence[str]], weights: Mapping[str, float],
                           k: int = 60) -> dict[str, float]:
    """score(item) = sum over rankings of weight / (k + rank), ranks from 1. Items missing from a
    ranking get nothing from it. Returns scores, highest first."""
    scores: dict[str, float] = {}
    for name, ranking in rankings.items():
        weight = weights.get(name, 1.0)
        if weight == 0:
            continue
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return dict(sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])))
