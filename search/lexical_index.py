"""BM25 keyword index over already-analysed documents (bm25s), with filtered top-k search and checked save/load.

Documents are token lists made by `search.text.analyse` (each in its own language); the index never analyses text.
On disk a folder holds `lexical.json` (the manifest) and the bm25s files it names, with their checksums. A save
writes plain files, the manifest last: the folder is part of a new search index version that goes live whole
(search.index, kg.publish), so no file here needs a rename of its own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import bm25s

MANIFEST = "lexical.json"
FORMAT = "missiekompas-lexical"
VERSION = 1
_PARTS = {  # bm25s.BM25.save/load keyword -> file name (older saves used other names: the manifest says which)
    "data_name": "data.npy",
    "indices_name": "indices.npy",
    "indptr_name": "indptr.npy",
    "vocab_name": "vocab.json",
    "params_name": "params.json",
}


class LexicalIndexUnavailable(Exception):
    """The lexical index cannot be loaded: it was never built, or its files are missing or damaged."""


@dataclass(frozen=True)
class Manifest:
    """What `save` wrote: the bm25s files and their checksums."""

    n_docs: int
    files: dict[str, str]
    sha256: dict[str, str]

    def to_json(self) -> str:
        body = {"format": FORMAT, "version": VERSION, "n_docs": self.n_docs, "files": self.files, "sha256": self.sha256}
        return json.dumps(body, indent=2, sort_keys=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LexicalIndexUnavailable(f"no lexical index in {folder} (missing {MANIFEST}): build the index first") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LexicalIndexUnavailable(f"the lexical index manifest {path} is unreadable: {exc}") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT or body.get("version") != VERSION:
        raise LexicalIndexUnavailable(f"{path} is not a version-{VERSION} lexical index manifest: rebuild the index")
    try:
        manifest = Manifest(int(body["n_docs"]), dict(body["files"]), dict(body["sha256"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise LexicalIndexUnavailable(f"the lexical index manifest {path} is incomplete: rebuild the index") from exc
    if set(manifest.files) != set(_PARTS) or set(manifest.sha256) != set(manifest.files.values()):
        raise LexicalIndexUnavailable(f"the lexical index manifest {path} lists the wrong files: rebuild the index")
    return manifest


def _check_files(folder: Path, manifest: Manifest) -> None:
    for name, expected in manifest.sha256.items():
        path = folder / name
        if Path(name).name != name or not path.is_file():
            raise LexicalIndexUnavailable(f"the lexical index in {folder} is missing {name}: rebuild the index")
        if _sha256(path) != expected:
            raise LexicalIndexUnavailable(f"the lexical index file {path} is damaged (checksum mismatch): rebuild the index")


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best positive scores, best first; equal scores in document order."""
    candidates = np.flatnonzero(scores > 0)
    if len(candidates) > k:
        candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
    order = np.lexsort((candidates, -scores[candidates]))
    best = candidates[order].astype(np.int64)
    return scores[best].astype(np.float32), best


class LexicalIndex:
    """BM25 over token lists; documents are addressed by their position in the list given to `build`."""

    def __init__(self, model: bm25s.BM25, n_docs: int) -> None:
        self._model = model
        self.n_docs = n_docs

    def __len__(self) -> int:
        return self.n_docs

    @classmethod
    def build(cls, docs: list[list[str]], k1: float = 1.5, b: float = 0.75) -> LexicalIndex:
        """Index `docs` (lists of analysed tokens; an empty list is allowed) with Lucene-style BM25(k1, b)."""
        import bm25s

        if not docs:
            raise ValueError("cannot build a lexical index from no documents")
        if any(not isinstance(doc, list) or not all(isinstance(t, str) for t in doc) for doc in docs):
            raise TypeError("documents must be lists of token strings (run search.text.analyse first)")
        model = bm25s.BM25(k1=k1, b=b, method="lucene")
        model.index(docs, show_progress=False)
        return cls(model, len(docs))

    def _allowed_mask(self, allowed: np.ndarray) -> np.ndarray:
        indices = np.asarray(allowed)
        if indices.size and (not np.issubdtype(indices.dtype, np.integer) or indices.min() < 0 or indices.max() >= self.n_docs):
            raise IndexError(f"allowed must hold document indices between 0 and {self.n_docs - 1}")
        mask = np.zeros(self.n_docs, dtype=bool)
        mask[indices.astype(np.int64, copy=False)] = True
        return mask

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """The BM25 score of every document for the query (0 where no query token occurs)."""
        vocabulary = self._model.vocab_dict
        known = [token for token in query_tokens if token and token in vocabulary]
        if not known:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._model.get_scores(known), dtype=np.float32)

    def search(self, query_tokens: list[str], k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, document indices) of the k best documents, best first; documents scoring 0 are left out.

        `allowed` (document indices) restricts the candidates before the top-k cut, so up to k allowed
        documents come back even when better documents were excluded.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        scores = self.scores(query_tokens)
        if allowed is not None:
            scores = np.where(self._allowed_mask(allowed), scores, np.float32(0))
        return _top_k(scores, k)

    def save(self, folder: Path) -> None:
        """Write the index to `folder` (created if needed), the manifest last. Plain writes, not
        atomic on their own: the caller writes into a new folder that goes live whole (search.index)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._model.save(folder, show_progress=False, **_PARTS)
        manifest = Manifest(self.n_docs, dict(_PARTS), {name: _sha256(folder / name) for name in _PARTS.values()})
        (folder / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Read an index written by `save`; LexicalIndexUnavailable if it is missing, incomplete or damaged."""
        import bm25s

        folder = Path(folder)
        manifest = _read_manifest(folder)
        _check_files(folder, manifest)
        try:
            model = bm25s.BM25.load(folder, show_progress=False, **manifest.files)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LexicalIndexUnavailable(f"the lexical index in {folder} cannot be loaded: {exc}") from exc
        if model.scores["num_docs"] != manifest.n_docs:
            raise LexicalIndexUnavailable(f"the lexical index in {folder} does not match its manifest: rebuild the index")
        return cls(model, manifest.n_docs)
