"""Reciprocal rank fusion combines rankings as the formula says."""

from __future__ import annotations

import pytest

from search.fusion import reciprocal_rank_fusion


def test_items_high_in_both_rankings_win() -> None:
    fused = reciprocal_rank_fusion({"dense": ["a", "b", "c"], "lexical": ["b", "a", "d"]}, {}, k=60)
    assert list(fused)[:2] == ["a", "b"]  # tie on score, broken by name
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["d"] == pytest.approx(1 / 63)


def test_weights_shift_the_order() -> None:
    rankings = {"dense": ["a", "b"], "lexical": ["b", "a"]}
    assert list(reciprocal_rank_fusion(rankings, {"dense": 2.0, "lexical": 1.0})) == ["a", "b"]
    assert list(reciprocal_rank_fusion(rankings, {"dense": 1.0, "lexical": 2.0})) == ["b", "a"]


def test_zero_weight_drops_a_ranking() -> None:
    fused = reciprocal_rank_fusion({"dense": ["a"], "lexical": ["b"]}, {"lexical": 0.0})
    assert list(fused) == ["a"]
