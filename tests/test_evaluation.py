"""Retrieval metrics (search.evaluation) on rankings worked out by hand."""

from __future__ import annotations

import math

import pytest

from search.evaluation import ndcg_at, recall_at, reciprocal_rank, relevance_gains

RANKED = ["a", "x", "b", "y"]


def test_reciprocal_rank_is_one_over_the_first_relevant_position() -> None:
    assert reciprocal_rank(RANKED, ["b", "a"]) == 1.0
    assert reciprocal_rank(RANKED, ["y"]) == 0.25
    assert reciprocal_rank(RANKED, ["z"]) == 0.0
    assert reciprocal_rank(RANKED, ["b"], k=2) == 0.0  # found, but below the cut-off


def test_recall_is_the_share_of_relevant_records_in_the_top_k() -> None:
    assert recall_at(RANKED, ["a", "b", "z"]) == pytest.approx(2 / 3)
    assert recall_at(RANKED, ["b"], k=2) == 0.0
    assert recall_at(RANKED, []) == 0.0


def test_binary_ndcg() -> None:
    # DCG = 1/log2(2) + 1/log2(4) = 1.5; the ideal ranking puts both on top: 1 + 1/log2(3)
    assert ndcg_at(RANKED, ["a", "b"]) == pytest.approx(1.5 / (1 + 1 / 1.5849625007211562))
    assert ndcg_at(RANKED, ["a"]) == 1.0
    assert ndcg_at(RANKED, ["z"]) == 0.0
    assert ndcg_at(RANKED, []) == 0.0


def test_graded_ndcg_weights_records_by_their_place_in_the_labels() -> None:
    assert relevance_gains(["b", "a"], graded=True) == {"b": 2.0, "a": 1.0}
    assert relevance_gains(["b", "a"], graded=False) == {"b": 1.0, "a": 1.0}
    # b (gain 2) at rank 3, a (gain 1) at rank 1: DCG 1 + 2/2 = 2; ideal 2 + 1/log2(3)
    assert ndcg_at(RANKED, ["b", "a"], graded=True) == pytest.approx((1 + 2 / 2) / (2 + 1 / 1.5849625007211562))


def test_the_ideal_ranking_holds_at_most_k_records() -> None:
    # three relevant records, k = 2: the ideal DCG counts two of them (1 + 1/log2(3)), DCG only "a" at rank 1
    assert ndcg_at(["a", "x"], ["a", "b", "c"], k=2) == pytest.approx(1 / (1 + 1 / math.log2(3)))
