"""Vector index of the semantic search: top-k inner-product search over unit vectors with FAISS.

Its job is the boundary between embeddings and FAISS, over plain arrays and nothing else (no model,
no text): build an index from L2-normalised float32 vectors under integer ids, search it, optionally
restricted to a set of allowed ids, and save it to / load it from a folder.

* Below ``hnsw_threshold`` vectors the index is exact (``IndexFlatIP``); at or above it, it is
  approximate (``IndexHNSWFlat`` with ``METRIC_INNER_PRODUCT``). Both sit in an ``IndexIDMap2``,
  so the ids are stored in the FAISS file and need not be 0..n-1.
* ``allowed`` filters inside the search (a FAISS ``IDSelectorBitmap`` over insertion positions, in
  the search parameters), not after the top-k cut: a query gets ``min(k, allowed ids in the index)``
  results. HNSW explores only a neighbourhood of the query, so when the allowed ids are few (under
  ``EXACT_FILTER_SHARE`` of the index) or lie away from the query (HNSW came back short), those
  queries are answered exactly over the allowed vectors instead. Otherwise the filtered HNSW
  search widens ``efSearch`` by 1/sqrt(share of allowed ids), which keeps recall near that of an
  unfiltered search (measured with bench/bench_faiss.py).
* ``search`` changes no state, so several threads may search one index at once.
* ``save`` writes ``vectors.faiss`` and then the ``vectors.json`` manifest as plain files: the
  folder is part of a new search index version that goes live whole (search.index, kg.publish).
  ``load`` checks the manifest against the file (size, CRC-32, dimension, count, kind) and raises
  ``IndexUnavailable`` when anything is missing or does not match.

FAISS threads (``faiss.omp_set_num_threads``) are the caller's business; this module sets nothing.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np

INDEX_FILE = "vectors.faiss"
MANIFEST_FILE = "vectors.json"
FORMAT_VERSION = 1
NORM_TOLERANCE = 1e-3  # |norm - 1| allowed for a vector that counts as L2-normalised
DENSE_LOOKUP_FACTOR = 4  # ids below 4 x count get a position table (8 bytes per possible id)
EXACT_FILTER_SHARE = 0.05  # HNSW: allowed sets under this share of the index are searched exactly

Kind = Literal["exact", "hnsw"]
KINDS: tuple[Kind, ...] = ("exact", "hnsw")


class IndexUnavailable(Exception):
    """The saved index is missing, unreadable, or does not match its manifest."""


@dataclass(frozen=True)
class IndexParameters:
    """How an index was built; written to the manifest."""

    hnsw_threshold: int = 100_000
    hnsw_m: int = 32
    ef_construction: int = 200
    ef_search: int = 128

    def validate(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ValueError(f"{item.name} must be an integer, got {value!r}")
            lowest = 0 if item.name == "hnsw_threshold" else 1
            if value < lowest:
                raise ValueError(f"{item.name} must be >= {lowest}, got {value}")


class VectorIndex:
    """Inner-product top-k search over L2-normalised float32 vectors, exact or HNSW."""

    def __init__(self, index: faiss.IndexIDMap2, kind: Kind, parameters: IndexParameters) -> None:
        """Wrap a built or loaded ``IndexIDMap2``; use ``build`` or ``load`` rather than this."""
        self._index = index
        self._kind: Kind = kind
        self._parameters = parameters
        self._inner = faiss.downcast_index(index.index)
        self._flat = faiss.downcast_index(self._inner.storage) if kind == "hnsw" else self._inner
        if kind == "hnsw":
            self._inner.hnsw.efSearch = parameters.ef_search
        self._ids = faiss.vector_to_array(index.id_map).astype(np.int64, copy=False)
        self._position_of, self._order, self._sorted_ids = _id_lookup(self._ids)

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        ids: Sequence[int] | np.ndarray | None = None,
        hnsw_threshold: int = 100_000,
        hnsw_m: int = 32,
        ef_construction: int = 200,
        ef_search: int = 128,
    ) -> VectorIndex:
        """Index ``vectors`` (n x d, each row of norm 1) under ``ids`` (default 0..n-1).

        Exact search below ``hnsw_threshold`` rows, HNSW at or above it. Raises ValueError for
        input that is not a 2-D float array of unit rows, or ids that are not n unique ints >= 0.
        """
        parameters = IndexParameters(hnsw_threshold, hnsw_m, ef_construction, ef_search)
        parameters.validate()
        data = _unit_rows(vectors, "vectors")
        keys = _as_ids(ids, data.shape[0])
        kind: Kind = "hnsw" if data.shape[0] >= hnsw_threshold else "exact"
        index = faiss.IndexIDMap2(_new_inner(kind, data.shape[1], parameters))
        if data.shape[0]:
            index.add_with_ids(data, keys)
        return cls(index, kind, parameters)

    # -- properties -------------------------------------------------------------------------

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> Kind:
        return self._kind

    @property
    def parameters(self) -> IndexParameters:
        return self._parameters

    @property
    def ids(self) -> np.ndarray:
        """The ids in insertion order (read-only view)."""
        view = self._ids.view()
        view.flags.writeable = False
        return view

    def __repr__(self) -> str:
        return f"VectorIndex(kind={self.kind!r}, count={self.count}, dimension={self.dimension})"

    # -- searching --------------------------------------------------------------------------

    def search(
        self,
        queries: np.ndarray,
        k: int,
        allowed: np.ndarray | Sequence[int] | None = None,
        ef_search: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, ids), both (len(queries) x k), best first.

        Scores are inner products (cosine similarity for unit vectors). Missing results have id -1
        and score -inf. ``allowed`` restricts the candidates to those ids, inside the search; ids
        not in the index are ignored. ``ef_search`` overrides the HNSW search breadth for this
        call (ignored by exact indexes).
        """
        k = _positive_int(k, "k")
        ef = self._parameters.ef_search if ef_search is None else _positive_int(ef_search, "ef_search")
        rows = _unit_rows(queries, "queries", self.dimension)
        if allowed is None:
            return self._search_all(rows, k, ef)
        return self._search_allowed(rows, k, self._allowed_mask(allowed), ef)

    def _search_all(self, rows: np.ndarray, k: int, ef: int) -> tuple[np.ndarray, np.ndarray]:
        if rows.shape[0] == 0 or self.count == 0:
            return _padding(rows.shape[0], k)
        if self._kind == "hnsw" and ef != self._parameters.ef_search:
            scores, labels = self._inner.search(rows, k, params=faiss.SearchParametersHNSW(efSearch=ef))
            return self._to_ids(scores, labels)
        scores, ids = self._index.search(rows, k)
        scores[ids < 0] = -np.inf
        return scores, ids

    def _search_allowed(self, rows: np.ndarray, k: int, mask: np.ndarray, ef: int) -> tuple[np.ndarray, np.ndarray]:
        """Search restricted to the vectors where ``mask`` (over insertion positions) is True."""
        allowed_count = int(np.count_nonzero(mask))
        if rows.shape[0] == 0 or allowed_count == 0:
            return _padding(rows.shape[0], k)
        # A bitmap of count/8 bytes is far cheaper to make per call than an IDSelectorBatch (a hash set:
        # about 80 ms for 200k ids), and FAISS tests membership with one bit lookup. It must outlive the search.
        bitmap = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(bitmap.size, faiss.swig_ptr(bitmap))
        if self._kind == "exact" or allowed_count < EXACT_FILTER_SHARE * self.count:
            scores, labels = self._flat.search(rows, k, params=faiss.SearchParameters(sel=selector))
        else:
            scores, labels = self._hnsw_filtered(rows, k, selector, allowed_count, ef)
        del bitmap  # explicit: the selector reads it until here
        return self._to_ids(scores, labels)

    def _hnsw_filtered(
        self, rows: np.ndarray, k: int, selector: faiss.IDSelector, allowed_count: int, ef: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Filtered HNSW search; queries for which it comes back short are answered exactly."""
        share = allowed_count / self.count  # fewer allowed vectors per hop: widen the search to keep recall
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=math.ceil(ef / math.sqrt(share)))
        scores, labels = self._inner.search(rows, k, params=params)
        short = (labels >= 0).sum(axis=1) < min(k, allowed_count)
        if short.any():  # HNSW ran out of allowed neighbours near the query (e.g. they lie far away)
            exact = self._flat.search(rows[short], k, params=faiss.SearchParameters(sel=selector))
            scores[short], labels[short] = exact
        return scores, labels

    def _to_ids(self, scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Turn insertion positions into ids; -1 stays -1 with score -inf."""
        missing = labels < 0
        ids = self._ids[np.where(missing, 0, labels)]
        ids[missing] = -1
        scores[missing] = -np.inf
        return scores, ids

    def _allowed_mask(self, allowed: np.ndarray | Sequence[int]) -> np.ndarray:
        """Boolean mask over insertion positions: True where the id is allowed (unknown ids are ignored)."""
        wanted = np.asarray(allowed)
        if wanted.ndim != 1:
            raise ValueError(f"allowed must be a 1-D array of ids, got shape {wanted.shape}")
        if wanted.size and not np.issubdtype(wanted.dtype, np.integer):
            raise ValueError(f"allowed must hold integer ids, got dtype {wanted.dtype}")
        wanted = wanted.astype(np.int64, copy=False)
        mask = np.zeros(self.count, dtype=bool)
        if wanted.size == 0 or self.count == 0:
            return mask
        if self._position_of is not None:  # dense ids: one lookup per allowed id
            found = self._position_of[wanted[(wanted >= 0) & (wanted < self._position_of.size)]]
            mask[found[found >= 0]] = True
        else:  # sparse ids: binary search in the sorted ids
            slots = np.minimum(np.searchsorted(self._sorted_ids, wanted), self.count - 1)
            mask[self._order[slots[self._sorted_ids[slots] == wanted]]] = True
        return mask

    # -- saving and loading -----------------------------------------------------------------

    def save(self, folder: Path | str) -> None:
        """Write ``vectors.faiss`` and then ``vectors.json`` into ``folder`` (created if needed).

        Plain writes, not atomic on their own: the caller writes into a new folder that goes live
        whole (search.index, kg.publish). The manifest comes last and names the file's size and
        CRC-32, so ``load`` refuses a file whose save did not finish.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        index_path = folder / INDEX_FILE
        faiss.write_index(self._index, str(index_path))
        manifest = self._manifest(index_path.stat().st_size, _crc32(index_path))
        (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

    def _manifest(self, size: int, crc: int) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "kind": self.kind,
            "dimension": self.dimension,
            "count": self.count,
            "metric": "inner_product",
            "parameters": asdict(self._parameters),
            "index_file": INDEX_FILE,
            "index_bytes": size,
            "index_crc32": crc,
            "faiss_version": faiss.__version__,
        }

    @classmethod
    def load(cls, folder: Path | str) -> VectorIndex:
        """Read an index written by ``save``; IndexUnavailable when missing or inconsistent."""
        folder = Path(folder)
        manifest = _read_manifest(folder / MANIFEST_FILE)
        index = _read_index(folder / INDEX_FILE, manifest)
        _check_index(index, manifest, folder / INDEX_FILE)
        try:
            parameters = IndexParameters(**manifest["parameters"])
            parameters.validate()
        except (TypeError, ValueError) as error:
            raise IndexUnavailable(f"{folder / MANIFEST_FILE}: bad parameters: {error}") from error
        return cls(index, manifest["kind"], parameters)


# -- helpers ----------------------------------------------------------------------------------


def _new_inner(kind: Kind, dimension: int, parameters: IndexParameters) -> faiss.Index:
    if kind == "exact":
        return faiss.IndexFlatIP(dimension)
    inner = faiss.IndexHNSWFlat(dimension, parameters.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    inner.hnsw.efConstruction = parameters.ef_construction
    inner.hnsw.efSearch = parameters.ef_search
    return inner


def _unit_rows(array: np.ndarray, what: str, dimension: int | None = None) -> np.ndarray:
    """``array`` as a C-contiguous float32 matrix of unit rows, or ValueError naming the problem."""
    matrix = np.asarray(array)
    if matrix.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (rows x dimension), got {matrix.ndim}-D with shape {matrix.shape}")
    if not np.issubdtype(matrix.dtype, np.floating):
        raise ValueError(f"{what} must be floating point, got dtype {matrix.dtype}")
    if dimension is not None and matrix.shape[1] != dimension:
        raise ValueError(f"{what} have dimension {matrix.shape[1]}, but the index has dimension {dimension}")
    if matrix.shape[1] == 0:
        raise ValueError(f"{what} have dimension 0")
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))  # no n x d temporary
    bad = ~np.isfinite(norms)
    if bad.any():
        raise ValueError(f"{what} row {int(np.argmax(bad))} holds NaN or infinity ({int(bad.sum())} such rows)")
    off = np.abs(norms - 1.0) > NORM_TOLERANCE
    if off.any():
        row = int(np.argmax(off))
        raise ValueError(
            f"{what} must be L2-normalised (norm 1 ± {NORM_TOLERANCE}): row {row} has norm {norms[row]:.6g} "
            f"({int(off.sum())} of {len(norms)} rows are off); normalise them first, e.g. with faiss.normalize_L2"
        )
    return matrix


def _as_ids(ids: Sequence[int] | np.ndarray | None, count: int) -> np.ndarray:
    """``ids`` as int64, or ValueError unless they are ``count`` unique integers >= 0."""
    if ids is None:
        return np.arange(count, dtype=np.int64)
    keys = np.asarray(ids)
    if keys.ndim != 1 or keys.shape[0] != count:
        raise ValueError(f"ids must be a 1-D sequence with one id per vector ({count}), got shape {keys.shape}")
    if count == 0:
        return np.empty(0, dtype=np.int64)
    if not np.issubdtype(keys.dtype, np.integer):
        raise ValueError(f"ids must be integers, got dtype {keys.dtype}")
    if keys.dtype == np.uint64 and int(keys.max()) > np.iinfo(np.int64).max:
        raise ValueError("ids must fit in a signed 64-bit integer")
    keys = keys.astype(np.int64)
    if keys.min() < 0:
        raise ValueError(f"ids must be >= 0 (-1 marks a missing result), got {int(keys.min())}")
    unique, counts = np.unique(keys, return_counts=True)
    if unique.size != count:
        raise ValueError(f"ids must be unique: {int(unique[np.argmax(counts > 1)])} appears {int(counts.max())} times")
    return keys


def _id_lookup(ids: np.ndarray) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """How to find the insertion position of an id: (dense table or None, argsort order, sorted ids).

    Ids up to DENSE_LOOKUP_FACTOR times the count (the usual 0..n-1 included) get a table indexed by
    id (-1 where none); sparser ids (say 10**12 + i) are found by binary search in the sorted ids.
    """
    if ids.size and int(ids.max()) < DENSE_LOOKUP_FACTOR * ids.size + 1024:
        table = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
        table[ids] = np.arange(ids.size, dtype=np.int64)
        empty = np.empty(0, dtype=np.int64)
        return table, empty, empty
    order = np.argsort(ids, kind="stable")
    return None, order, ids[order]


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _padding(rows: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((rows, k), -np.inf, dtype=np.float32), np.full((rows, k), -1, dtype=np.int64)


def _crc32(path: Path) -> int:
    crc = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            crc = zlib.crc32(chunk, crc)
    return crc


def _read_manifest(path: Path) -> dict[str, Any]:
    """The manifest as a dict with the expected keys and types, or IndexUnavailable."""
    if not path.is_file():
        raise IndexUnavailable(f"no vector index in {path.parent}: {path.name} is missing (build the index first)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IndexUnavailable(f"{path} cannot be read as JSON: {error}") from error
    expected = {"format": int, "kind": str, "dimension": int, "count": int, "parameters": dict,
                "index_bytes": int, "index_crc32": int}
    if not isinstance(manifest, dict):
        raise IndexUnavailable(f"{path} is not a JSON object")
    for key, kind in expected.items():
        if not isinstance(manifest.get(key), kind) or isinstance(manifest.get(key), bool):
            raise IndexUnavailable(f"{path}: '{key}' is missing or not a {kind.__name__}")
    if manifest["format"] != FORMAT_VERSION:
        raise IndexUnavailable(f"{path}: format {manifest['format']} is not supported (expected {FORMAT_VERSION}); rebuild")
    if manifest["kind"] not in KINDS:
        raise IndexUnavailable(f"{path}: kind {manifest['kind']!r} is not one of {', '.join(KINDS)}")
    return manifest


def _read_index(path: Path, manifest: dict[str, Any]) -> faiss.Index:
    """The FAISS file, after checking its size and CRC-32 against the manifest."""
    if not path.is_file():
        raise IndexUnavailable(f"no vector index in {path.parent}: {path.name} is missing although the manifest is there")
    size = path.stat().st_size
    if size != manifest["index_bytes"]:
        raise IndexUnavailable(
            f"{path} has {size} bytes, the manifest says {manifest['index_bytes']}: the file is truncated, "
            "corrupted, or from another save (if a save is running, retry)"
        )
    if _crc32(path) != manifest["index_crc32"]:
        raise IndexUnavailable(f"{path} does not match the CRC-32 in the manifest: the file is corrupted or from another save")
    try:
        return faiss.read_index(str(path))  # already the concrete type; a downcast copy would not own it
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise IndexUnavailable(f"{path} cannot be read by FAISS: {first_line}") from error


def _check_index(index: faiss.Index, manifest: dict[str, Any], path: Path) -> None:
    """IndexUnavailable unless ``index`` is the IDMap2 of the kind, dimension and count the manifest says."""
    if not isinstance(index, faiss.IndexIDMap2):
        raise IndexUnavailable(f"{path} holds a {type(index).__name__}, expected IndexIDMap2")
    inner = faiss.downcast_index(index.index)
    expected = faiss.IndexHNSWFlat if manifest["kind"] == "hnsw" else faiss.IndexFlat
    if not isinstance(inner, expected):
        raise IndexUnavailable(f"{path} holds a {type(inner).__name__}, the manifest says kind {manifest['kind']!r}")
    if index.metric_type != faiss.METRIC_INNER_PRODUCT:
        raise IndexUnavailable(f"{path} does not use the inner-product metric")
    for what, found in (("dimension", index.d), ("count", index.ntotal)):
        if found != manifest[what]:
            raise IndexUnavailable(f"{path} has {what} {found}, the manifest says {manifest[what]}: rebuild the index")
