"""search.vector_index on random unit vectors (fixed seeds, no model): results, filters, files, errors."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pytest

import search.vector_index as vector_index
from search.vector_index import INDEX_FILE, MANIFEST_FILE, IndexUnavailable, VectorIndex

KINDS = ("exact", "hnsw")


def unit_vectors(count: int, dimension: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def brute_force(queries: np.ndarray, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k rows of vectors by inner product, best first (numpy only)."""
    scores = queries @ vectors.T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, top, axis=1), top


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, truth, strict=True)]))


def build(kind: str, vectors: np.ndarray, **kwargs: object) -> VectorIndex:
    threshold = 0 if kind == "hnsw" else len(vectors) + 1
    index = VectorIndex.build(vectors, hnsw_threshold=threshold, **kwargs)
    assert index.kind == kind
    return index


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return unit_vectors(2_000, 32, seed=1)


@pytest.fixture(scope="module")
def queries() -> np.ndarray:
    return unit_vectors(25, 32, seed=2)


# -- results ------------------------------------------------------------------------------------


def test_exact_search_returns_the_true_nearest_neighbours(vectors: np.ndarray, queries: np.ndarray) -> None:
    index = build("exact", vectors)
    scores, ids = index.search(queries, 10)
    true_scores, true_ids = brute_force(queries, vectors, 10)
    assert scores.shape == ids.shape == (25, 10)
    np.testing.assert_array_equal(ids, true_ids)
    np.testing.assert_allclose(scores, true_scores, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-7).all(), "best first"


def test_the_kind_switches_at_the_threshold(vectors: np.ndarray) -> None:
    assert VectorIndex.build(vectors[:100], hnsw_threshold=101).kind == "exact"
    hnsw = VectorIndex.build(vectors[:100], hnsw_threshold=100)
    assert (hnsw.kind, hnsw.count, hnsw.dimension) == ("hnsw", 100, 32)


def test_hnsw_at_the_threshold_has_recall_at_10_of_at_least_095() -> None:
    vectors, queries = unit_vectors(5_000, 64, seed=3), unit_vectors(200, 64, seed=4)
    index = VectorIndex.build(vectors, hnsw_threshold=5_000)
    assert index.kind == "hnsw"
    _, ids = index.search(queries, 10)
    assert recall(ids, brute_force(queries, vectors, 10)[1]) >= 0.95


def test_k_larger_than_the_index_pads_with_minus_one(vectors: np.ndarray, queries: np.ndarray) -> None:
    index = build("exact", vectors[:5])
    scores, ids = index.search(queries[:2], 8)
    assert (ids[:, :5] >= 0).all() and (ids[:, 5:] == -1).all()
    assert np.isneginf(scores[:, 5:]).all()


def test_an_empty_index_and_no_queries_give_empty_answers(queries: np.ndarray) -> None:
    empty = VectorIndex.build(np.zeros((0, 32), dtype=np.float32))
    assert empty.count == 0
    scores, ids = empty.search(queries[:2], 3)
    assert (ids == -1).all() and np.isneginf(scores).all()
    scores, ids = build("exact", queries).search(queries[:0], 3)
    assert scores.shape == ids.shape == (0, 3)


def test_float64_input_is_accepted(vectors: np.ndarray, queries: np.ndarray) -> None:
    index = VectorIndex.build(vectors.astype(np.float64))
    _, ids = index.search(queries.astype(np.float64), 5)
    np.testing.assert_array_equal(ids, brute_force(queries, vectors, 5)[1])


# -- ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("scale", "offset"), [(7, 10**12), (3, 0)], ids=["sparse", "dense-with-gaps"])
def test_ids_that_are_not_0_to_n_are_kept(
    kind: str, scale: int, offset: int, vectors: np.ndarray, queries: np.ndarray, tmp_path: Path
) -> None:
    ids = np.random.default_rng(5).permutation(len(vectors)).astype(np.int64) * scale + offset
    index = build(kind, vectors, ids=ids)
    np.testing.assert_array_equal(index.ids, ids)
    _, found = index.search(queries, 10)
    _, rows = brute_force(queries, vectors, 10)
    assert recall(found, ids[rows]) >= (1.0 if kind == "exact" else 0.95)
    allowed = ids[rows[0, :3]]
    unknown = [-5, offset + 1, offset + 2, 10**15]  # not in the index: ignored
    _, only = index.search(queries[:1], 5, allowed=[*allowed, *unknown, allowed[0]])
    assert set(only[0, :3]) == set(allowed) and (only[0, 3:] == -1).all()
    index.save(tmp_path)
    np.testing.assert_array_equal(VectorIndex.load(tmp_path).ids, ids)


# -- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_allowed_ids_far_from_the_query_still_give_k_results(kind: str, vectors: np.ndarray, queries: np.ndarray) -> None:
    """The 12 allowed ids are the ones least like the query: a filter after the top-k cut would find none."""
    index = build(kind, vectors)
    query = queries[:1]
    farthest = np.argsort(vectors @ query[0])[:12]
    scores, ids = index.search(query, 10, allowed=farthest)
    assert set(ids[0]) <= set(farthest) and (ids[0] >= 0).all()
    true_scores, true_rows = brute_force(query, vectors[farthest], 10)
    np.testing.assert_array_equal(ids[0], farthest[true_rows[0]])
    np.testing.assert_allclose(scores, true_scores, atol=1e-5)


def test_hnsw_answers_exactly_when_the_allowed_ids_are_out_of_its_reach() -> None:
    """Allowed: a cluster opposite the queries (10% of the index, so the filter goes to HNSW first).

    The graph search explores the queries' own cluster and comes back short; those queries are
    answered again exactly over the allowed vectors.
    """
    axis = np.zeros(32, dtype=np.float32)
    axis[0] = 1.0

    def cluster(count: int, centre: np.ndarray, seed: int) -> np.ndarray:
        rows = centre + 0.1 * np.random.default_rng(seed).standard_normal((count, 32)).astype(np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    vectors = np.vstack([cluster(1_800, axis, seed=13), cluster(200, -axis, seed=14)])
    queries, far = cluster(5, axis, seed=15), np.arange(1_800, 2_000)
    index = VectorIndex.build(vectors, hnsw_threshold=0, ef_search=16)
    raw = index._inner.search(queries, 10, params=vector_index.faiss.SearchParametersHNSW(
        sel=vector_index.faiss.IDSelectorBatch(far), efSearch=64))[1]
    assert ((raw >= 0).sum(axis=1) < 10).any(), "plain filtered HNSW should come back short here"
    scores, ids = index.search(queries, 10, allowed=far)
    true_scores, true_rows = brute_force(queries, vectors[far], 10)
    np.testing.assert_array_equal(ids, far[true_rows])
    np.testing.assert_allclose(scores, true_scores, atol=1e-5)


@pytest.mark.parametrize("share", [0.5, 0.1])
def test_hnsw_with_a_large_allowed_set_filters_inside_the_graph_search(share: float) -> None:
    """Above EXACT_FILTER_SHARE the filter goes into the HNSW search itself; results stay good."""
    assert share > vector_index.EXACT_FILTER_SHARE
    vectors, queries = unit_vectors(5_000, 32, seed=6), unit_vectors(100, 32, seed=7)
    index = VectorIndex.build(vectors, hnsw_threshold=0)
    allowed = np.sort(np.random.default_rng(8).choice(len(vectors), int(share * len(vectors)), replace=False))
    _, ids = index.search(queries, 10, allowed=allowed)
    assert np.isin(ids, allowed).all()
    assert recall(ids, allowed[brute_force(queries, vectors[allowed], 10)[1]]) >= 0.95


@pytest.mark.parametrize("kind", KINDS)
def test_fewer_allowed_ids_than_k_give_all_of_them_then_padding(kind: str, vectors: np.ndarray, queries: np.ndarray) -> None:
    index = build(kind, vectors)
    scores, ids = index.search(queries[:3], 10, allowed=[4, 400, 1999, 123_456_789])
    for row, score in zip(ids, scores, strict=True):
        assert set(row[:3]) == {4, 400, 1999} and (row[3:] == -1).all()
        assert np.isfinite(score[:3]).all() and np.isneginf(score[3:]).all()


@pytest.mark.parametrize("kind", KINDS)
def test_the_last_vector_can_be_allowed_when_the_count_is_not_a_multiple_of_8(kind: str, queries: np.ndarray) -> None:
    vectors = unit_vectors(1_003, 32, seed=16)
    index = VectorIndex.build(vectors, hnsw_threshold=0 if kind == "hnsw" else 10**6)
    allowed = np.arange(1_003)[-60:]  # 6%: above EXACT_FILTER_SHARE, so HNSW filters in the graph search
    _, ids = index.search(queries, 60, allowed=allowed)
    assert all(set(row) == set(allowed) for row in ids)


def test_an_empty_allowed_set_gives_no_results(vectors: np.ndarray, queries: np.ndarray) -> None:
    scores, ids = build("exact", vectors).search(queries[:2], 4, allowed=np.array([], dtype=np.int64))
    assert (ids == -1).all() and np.isneginf(scores).all()


def test_ef_search_can_be_raised_per_call() -> None:
    vectors, queries = unit_vectors(5_000, 64, seed=9), unit_vectors(100, 64, seed=10)
    index = VectorIndex.build(vectors, hnsw_threshold=0, ef_construction=40, ef_search=10)
    truth = brute_force(queries, vectors, 10)[1]
    low = recall(index.search(queries, 10)[1], truth)
    high = recall(index.search(queries, 10, ef_search=200)[1], truth)
    assert high > low and high >= 0.95


# -- files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_save_then_load_gives_identical_results(kind: str, vectors: np.ndarray, queries: np.ndarray, tmp_path: Path) -> None:
    index = build(kind, vectors, hnsw_m=16, ef_search=64)
    index.save(tmp_path / "new" / "folder")
    loaded = VectorIndex.load(tmp_path / "new" / "folder")
    assert (loaded.kind, loaded.count, loaded.dimension, loaded.parameters) == (kind, 2_000, 32, index.parameters)
    for allowed in (None, np.arange(0, 2_000, 3)):
        before, after = index.search(queries, 10, allowed=allowed), loaded.search(queries, 10, allowed=allowed)
        np.testing.assert_array_equal(before[1], after[1])
        np.testing.assert_array_equal(before[0], after[0])
    assert sorted(p.name for p in (tmp_path / "new" / "folder").iterdir()) == [INDEX_FILE, MANIFEST_FILE]
    manifest = json.loads((tmp_path / "new" / "folder" / MANIFEST_FILE).read_text())
    assert (manifest["kind"], manifest["dimension"], manifest["count"]) == (kind, 32, 2_000)
    assert manifest["parameters"]["hnsw_m"] == 16


def test_a_save_that_did_not_finish_is_refused_on_load(
    vectors: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saves are plain writes (the search index publishes the whole folder: kg.publish); a file left
    half-written is caught by the manifest's size and checksum, never read as an index."""
    build("exact", vectors).save(tmp_path)

    def write_half_then_fail(index: object, path: str) -> None:
        Path(path).write_bytes(b"half an index")
        raise OSError("disk full")

    monkeypatch.setattr(vector_index.faiss, "write_index", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        build("exact", vectors[:10]).save(tmp_path)
    with pytest.raises(IndexUnavailable, match="truncated"):
        VectorIndex.load(tmp_path)


def test_saving_again_replaces_the_index(vectors: np.ndarray, tmp_path: Path) -> None:
    build("exact", vectors).save(tmp_path)
    build("hnsw", vectors[:50]).save(tmp_path)
    loaded = VectorIndex.load(tmp_path)
    assert (loaded.kind, loaded.count) == ("hnsw", 50)


@pytest.fixture
def saved(vectors: np.ndarray, tmp_path: Path) -> Path:
    build("exact", vectors).save(tmp_path)
    return tmp_path


def edit_manifest(folder: Path, **changes: object) -> None:
    path = folder / MANIFEST_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def replace_index_file(folder: Path, data: bytes) -> None:
    """Swap in other bytes and make the manifest's size and checksum agree with them."""
    (folder / INDEX_FILE).write_bytes(data)
    edit_manifest(folder, index_bytes=len(data), index_crc32=zlib.crc32(data))


def test_a_missing_folder_or_file_is_index_unavailable(saved: Path, tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable, match=r"vectors\.json is missing"):
        VectorIndex.load(tmp_path / "nowhere")
    (saved / INDEX_FILE).unlink()
    with pytest.raises(IndexUnavailable, match=r"vectors\.faiss is missing"):
        VectorIndex.load(saved)


def test_a_truncated_index_file_is_index_unavailable(saved: Path) -> None:
    data = (saved / INDEX_FILE).read_bytes()
    (saved / INDEX_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexUnavailable, match="bytes, the manifest says"):
        VectorIndex.load(saved)


def test_corrupted_bytes_are_index_unavailable(saved: Path) -> None:
    data = bytearray((saved / INDEX_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (saved / INDEX_FILE).write_bytes(bytes(data))
    with pytest.raises(IndexUnavailable, match="CRC-32"):
        VectorIndex.load(saved)


def test_a_file_faiss_cannot_read_is_index_unavailable(saved: Path) -> None:
    replace_index_file(saved, b"not a faiss index at all" * 10)
    with pytest.raises(IndexUnavailable, match="cannot be read by FAISS"):
        VectorIndex.load(saved)


def test_a_manifest_that_disagrees_with_the_file_is_index_unavailable(saved: Path) -> None:
    edit_manifest(saved, dimension=384)
    with pytest.raises(IndexUnavailable, match="has dimension 32, the manifest says 384"):
        VectorIndex.load(saved)
    edit_manifest(saved, dimension=32, count=7)
    with pytest.raises(IndexUnavailable, match="has count 2000, the manifest says 7"):
        VectorIndex.load(saved)
    edit_manifest(saved, count=2000, kind="hnsw")
    with pytest.raises(IndexUnavailable, match="the manifest says kind 'hnsw'"):
        VectorIndex.load(saved)


def test_an_index_of_another_dimension_is_index_unavailable(saved: Path, tmp_path: Path) -> None:
    """The manifest says 32 dimensions; the FAISS file (from another build) has 64."""
    other = tmp_path / "other"
    VectorIndex.build(unit_vectors(2_000, 64, seed=11)).save(other)
    replace_index_file(saved, (other / INDEX_FILE).read_bytes())
    with pytest.raises(IndexUnavailable, match="has dimension 64, the manifest says 32"):
        VectorIndex.load(saved)


@pytest.mark.parametrize(
    ("text", "message"),
    [("{not json", "cannot be read as JSON"), ("[]", "not a JSON object"), ('{"format": 1}', "'kind' is missing")],
)
def test_a_broken_manifest_is_index_unavailable(saved: Path, text: str, message: str) -> None:
    (saved / MANIFEST_FILE).write_text(text)
    with pytest.raises(IndexUnavailable, match=message):
        VectorIndex.load(saved)


def test_a_manifest_of_another_format_is_index_unavailable(saved: Path) -> None:
    edit_manifest(saved, format=99)
    with pytest.raises(IndexUnavailable, match="format 99 is not supported"):
        VectorIndex.load(saved)


# -- input errors -----------------------------------------------------------------------------


def test_queries_of_the_wrong_dimension_are_a_value_error(vectors: np.ndarray) -> None:
    index = build("exact", vectors)
    with pytest.raises(ValueError, match="queries have dimension 64, but the index has dimension 32"):
        index.search(unit_vectors(2, 64, seed=12), 3)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.ones(32, dtype=np.float32) / np.sqrt(32), "must be a 2-D array"),
        (np.ones((2, 32), dtype=np.float32), "must be L2-normalised .* row 0 has norm 5.65685"),
        (np.full((2, 32), np.nan, dtype=np.float32), "NaN or infinity"),
        (np.eye(2, 32, dtype=np.int64), "must be floating point"),
        (np.zeros((3, 0), dtype=np.float32), "dimension 0"),
    ],
)
def test_bad_vectors_are_a_value_error(bad: np.ndarray, message: str, vectors: np.ndarray) -> None:
    with pytest.raises(ValueError, match=message):
        VectorIndex.build(bad)
    if bad.ndim == 2 and bad.shape[1] == 32:
        with pytest.raises(ValueError, match=message.replace("vectors", "queries")):
            build("exact", vectors).search(bad, 3)


@pytest.mark.parametrize(
    ("ids", "message"),
    [([0, 1, 1], "unique: 1 appears 2 times"), ([0, -1, 2], ">= 0"), ([0, 1], "one id per vector"),
     ([0.0, 1.0, 2.0], "must be integers")],
)
def test_bad_ids_are_a_value_error(ids: list[float], message: str, vectors: np.ndarray) -> None:
    with pytest.raises(ValueError, match=message):
        VectorIndex.build(vectors[:3], ids=ids)


def test_bad_search_arguments_are_a_value_error(vectors: np.ndarray, queries: np.ndarray) -> None:
    index = build("exact", vectors)
    for k in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="k must be a positive integer"):
            index.search(queries, k)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="allowed must be a 1-D array"):
        index.search(queries, 3, allowed=np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="allowed must hold integer ids"):
        index.search(queries, 3, allowed=np.array([1.5]))
    with pytest.raises(ValueError, match="ef_search must be a positive integer"):
        index.search(queries, 3, ef_search=0)


@pytest.mark.parametrize("name", ["hnsw_m", "ef_construction", "ef_search"])
def test_bad_parameters_are_a_value_error(name: str, vectors: np.ndarray) -> None:
    with pytest.raises(ValueError, match=f"{name} must be >= 1"):
        VectorIndex.build(vectors, **{name: 0})  # type: ignore[arg-type]
