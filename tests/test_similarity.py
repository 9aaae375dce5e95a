"""Entity similarities as matrices, checked against plain loops on random unit vectors (no model), and
threshold calibration on scores whose best cut is known."""

from __future__ import annotations

import numpy as np
import pytest

from search import similarity
from search.similarity import Chunks, best_chunk_similarity, calibrate_threshold, mean_vector_similarity, mean_vectors


def random_chunks(rng: np.random.Generator, counts: list[int], dim: int = 16) -> Chunks:
    vectors = rng.normal(size=(sum(counts), dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return Chunks(vectors, np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64))


def owned(chunks: Chunks, i: int) -> np.ndarray:
    stop = chunks.starts[i + 1] if i + 1 < chunks.count else len(chunks.vectors)
    return chunks.vectors[chunks.starts[i]:stop]


@pytest.mark.parametrize("block_rows", [1, 3, 4096])
def test_best_chunk_similarity_is_the_best_pair_of_chunks(monkeypatch: pytest.MonkeyPatch, block_rows: int) -> None:
    monkeypatch.setattr(similarity, "BLOCK_ROWS", block_rows)  # blocks of whole entities, also when one is larger
    rng = np.random.default_rng(1)
    rows, columns = random_chunks(rng, [1, 3, 2, 1, 4]), random_chunks(rng, [2, 1, 1, 3])
    got = best_chunk_similarity(rows, columns)
    expected = np.array([[float((owned(rows, i) @ owned(columns, j).T).max()) for j in range(columns.count)]
                         for i in range(rows.count)])
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_mean_vectors_are_normalised_means() -> None:
    rng = np.random.default_rng(2)
    chunks = random_chunks(rng, [2, 1, 3])
    means = mean_vectors(chunks)
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 1.0, rtol=1e-6)
    first = owned(chunks, 0).mean(axis=0)
    np.testing.assert_allclose(means[0], first / np.linalg.norm(first), rtol=1e-5)
    np.testing.assert_allclose(mean_vector_similarity(chunks, chunks), means @ means.T, rtol=1e-6)


def test_empty_sides_give_empty_matrices() -> None:
    rng = np.random.default_rng(3)
    none = Chunks(np.zeros((0, 16), np.float32), np.zeros(0, np.int64))
    assert best_chunk_similarity(none, random_chunks(rng, [1, 2])).shape == (0, 2)
    assert best_chunk_similarity(random_chunks(rng, [1]), none).shape == (1, 0)


def test_calibration_finds_the_cut_with_the_best_f1() -> None:
    scores = np.array([0.95, 0.9, 0.85, 0.8, 0.7, 0.6])
    labels = np.array([1, 1, 0, 1, 0, 0], dtype=bool)
    found = calibrate_threshold("t", scores, labels)
    # cuts after 0.9 (F1 0.8) and after 0.8 (F1 0.857): the second wins; t halfway to the next lower score
    assert found.threshold == pytest.approx(0.75)
    assert found.f1 == pytest.approx(6 / 7, abs=1e-4)
    assert (found.precision, found.recall, found.positives, found.pairs) == (0.75, 1.0, 3, 6)


def test_calibration_never_cuts_between_equal_scores() -> None:
    found = calibrate_threshold("t", np.array([0.9, 0.9, 0.5]), np.array([1, 0, 0], dtype=bool))
    assert found.threshold == pytest.approx(0.7) and found.precision == 0.5


def test_calibration_without_positives_says_so() -> None:
    found = calibrate_threshold("t", np.array([0.3, 0.2]), np.zeros(2, dtype=bool))
    assert (found.threshold, found.f1, found.positives) == (1.0, 0.0, 0)
