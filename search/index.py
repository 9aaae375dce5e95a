"""The persisted search index: documents, their vectors and BM25 terms, each document's hubness
penalty (search.hubness) with the reference proposals' vectors it was computed from, and a manifest
saying which model, corpus and reference proposals they were built from. Rebuilt when any of them
changes; swapped in atomically (kg.publish)."""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from kg.errors import KgError
from kg.publish import PublishFailed, locked_file, publish_version
from kg.store import GraphView
from search.documents import Document, Entity, corpus_hash, load_entities, to_documents
from search.embedder import Embedder
from search.hubness import NEAREST, hub_penalties, load_reference, proposal_vectors, reference_hash
from search.lexical_index import LexicalIndex, LexicalIndexUnavailable
from search.text import analyse
from search.vector_index import IndexUnavailable, VectorIndex

MANIFEST = "manifest.json"


class EmptyCorpus(KgError):
    """The graph holds nothing to search."""


class IndexNotWritable(KgError):
    """The index folder cannot be written (read-only, full, not a folder), so a stale index cannot be rebuilt."""


class IndexStale(KgError):
    """The index on disk is missing, damaged or not built from the graph's current content and this
    model, and the caller asked not to rebuild it now."""


FORMAT_VERSION = 2  # 2: hubness penalties and reference vectors
KNOWN_FORMATS = (1, 2)  # versions whose document vectors are reused by a rebuild


def lexical_terms(text: str) -> list[str]:
    """Terms in both languages: records mix Dutch and English, and so do proposals."""
    return analyse(text, "nl") + analyse(text, "en")


@dataclass
class SearchIndex:
    entities: dict[str, Entity]
    documents: list[Document]
    doc_vectors: np.ndarray  # row i is document i's vector (explanations compare passages with it)
    vectors: VectorIndex
    lexical: LexicalIndex
    manifest: dict[str, object]
    hub_penalty: np.ndarray | None = None  # row i is document i's hubness penalty; None: no correction
    reference_vectors: np.ndarray | None = None  # the reference proposals' vectors the penalties come from

    def penalties(self) -> np.ndarray:
        """Each document's hubness penalty (zeros for an index built without them)."""
        if self.hub_penalty is None or len(self.hub_penalty) != len(self.documents):
            return np.zeros(len(self.documents), dtype=np.float32)
        return self.hub_penalty

    def save(self, folder: Path) -> None:
        """Write a new version of `folder` and swap it in (kg.publish): readers never see a
        half-written index, and the previous version stays for readers still loading it.
        IndexNotWritable where the folder cannot be written."""
        try:
            publish_version(folder, self._write_files)
        except PublishFailed as exc:
            raise IndexNotWritable(f"the search index folder {folder.parent} is not writable ({exc.reason}); "
                                   "make it writable, or point MK_INDEX_PATH at a folder that is") from exc

    def _write_files(self, fresh: Path) -> None:
        """Plain files: the new folder goes live whole, so none of them needs a rename of its own."""
        self.vectors.save(fresh / "vectors")
        np.save(fresh / "doc_vectors.npy", self.doc_vectors)
        self.lexical.save(fresh / "lexical")
        if self.hub_penalty is not None:
            np.save(fresh / "hub_penalty.npy", self.hub_penalty)
        if self.reference_vectors is not None:
            np.save(fresh / "reference_vectors.npy", self.reference_vectors)
        payload = {"entities": [asdict(e) for e in self.entities.values()],
                   "documents": [asdict(d) for d in self.documents]}
        (fresh / "documents.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        (fresh / MANIFEST).write_text(json.dumps(self.manifest, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> SearchIndex:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        payload = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
        entities = {e["iri"]: Entity(**{**e, "facets": {k: tuple(v) for k, v in e["facets"].items()}})
                    for e in payload["entities"]}
        documents = [Document(**d) for d in payload["documents"]]
        optional = {name: np.load(folder / f"{name}.npy") if (folder / f"{name}.npy").is_file() else None
                    for name in ("hub_penalty", "reference_vectors")}
        return cls(entities, documents, np.load(folder / "doc_vectors.npy"), VectorIndex.load(folder / "vectors"),
                   LexicalIndex.load(folder / "lexical"), manifest, **optional)


def read_manifest(folder: Path) -> dict[str, object] | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


ENCODE_SLICE = 2048  # texts per encode call: large enough for the model's own length sorting to pay off


def build_index(entities: list[Entity], embedder: Embedder, *, hnsw_threshold: int, batch_size: int = 32,
                progress: bool = False, known: dict[str, np.ndarray] | None = None,
                reference: list[str] | None = None, reference_vectors: np.ndarray | None = None) -> SearchIndex:
    """Embed every document; texts in `known` (same model, from an index built before) are not
    encoded again. `reference`: the reference proposals of the hubness penalties (default: those of
    search/hubness_reference.yaml; [] for none), encoded unless their `reference_vectors` are given."""
    documents = to_documents(entities)
    if not documents:
        raise EmptyCorpus("the graph holds no questions, programmes or other texts to search; "
                          "build it first with: python -m kg build")
    texts = [d.text for d in documents]
    known = known or {}
    todo = list(dict.fromkeys(t for t in texts if t not in known))
    slices = range(0, len(todo), ENCODE_SLICE)
    parts = [embedder.encode_passages(todo[i:i + ENCODE_SLICE], batch_size=batch_size)
             for i in tqdm(slices, desc=f"embedding {len(todo)} documents", unit="slice", disable=not progress,
                           leave=False)]
    fresh = dict(zip(todo, np.vstack(parts), strict=True)) if parts else {}
    vectors = (np.vstack([fresh[t] if t in fresh else known[t] for t in texts]).astype(np.float32)
               if texts else np.zeros((0, embedder.dimension), dtype=np.float32))
    lexical = LexicalIndex.build([lexical_terms(t) for t in texts])
    reference = load_reference() if reference is None else reference
    if reference_vectors is None or len(reference_vectors) != len(reference):
        reference_vectors = (proposal_vectors(embedder, reference) if reference
                             else np.zeros((0, embedder.dimension), dtype=np.float32))
    manifest = {"format": FORMAT_VERSION, "model": embedder.name, "dimension": embedder.dimension,
                "corpus_hash": corpus_hash(documents, embedder.name, entities), "documents": len(documents),
                "entities": len(entities), "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "hubness": {"reference": len(reference), "nearest": NEAREST,
                            "reference_hash": reference_hash(reference)}}
    return SearchIndex({e.iri: e for e in entities}, documents, vectors,
                       VectorIndex.build(vectors, hnsw_threshold=hnsw_threshold), lexical, manifest,
                       hub_penalties(vectors, reference_vectors), reference_vectors.astype(np.float32))


def ensure_index(store: GraphView, embedder: Embedder, folder: Path, *, hnsw_threshold: int, force: bool = False,
                 progress: bool = False, rebuild: bool = True) -> tuple[SearchIndex, bool]:
    """The index for the graph's current content and this model: loaded when the manifest matches,
    rebuilt (and saved) otherwise; with `rebuild` False, IndexStale instead of a rebuild. Returns the
    index and whether it was rebuilt. Checking the manifest does not load the model. One process
    rebuilds at a time (a lock beside the folder): one that waited loads what the other built, so
    replicas that share the folder (docs/deploy.md) build each version's index once."""
    entities = load_entities(store)
    wanted = corpus_hash(to_documents(entities), embedder.name, entities)
    reference = load_reference()
    found = None if force else _fitting(folder, wanted, reference)
    if found is not None:
        return found, False
    if not rebuild:
        raise IndexStale(f"the search index in {folder} is missing, damaged or out of date")
    with _rebuild_lock(folder):
        found = None if force else _fitting(folder, wanted, reference)  # built meanwhile by another process
        if found is not None:
            return found, False
        known = {} if force else known_vectors(folder.parent, embedder.name)
        reuse = None if force else known_reference(folder.parent, embedder.name, reference_hash(reference))
        index = build_index(entities, embedder, hnsw_threshold=hnsw_threshold, progress=progress, known=known,
                            reference=reference, reference_vectors=reuse)
        index.save(folder)
    return index, True


def _fitting(folder: Path, wanted: str, reference: list[str]) -> SearchIndex | None:
    """The index in `folder` if its manifest says it holds the corpus `wanted` (and the reference); None
    where it is missing, out of date or damaged (rebuilt then, like a stale one)."""
    manifest = read_manifest(folder)
    if not (manifest and manifest.get("corpus_hash") == wanted and manifest.get("format") == FORMAT_VERSION
            and _reference_of(manifest) == reference_hash(reference)):
        return None
    try:
        return SearchIndex.load(folder)
    except (IndexUnavailable, LexicalIndexUnavailable, OSError, ValueError, KeyError, TypeError):
        return None


def _rebuild_lock(folder: Path) -> AbstractContextManager[None]:
    """An exclusive flock on `.<name>.rebuild.lock` beside the index folder (released if the process dies)."""
    return locked_file(folder.with_name(f".{folder.name}.rebuild.lock"), lambda exc: IndexNotWritable(
        f"the search index folder {folder.parent} is not writable ({exc.strerror or exc}); make it writable, or "
        "point MK_INDEX_PATH at a folder that is"))


def known_vectors(root: Path, model: str) -> dict[str, np.ndarray]:
    """Document vectors of the indexes under `root` built with `model` (one per audience): a text
    already embedded by one of them is not embedded again."""
    known: dict[str, np.ndarray] = {}
    for manifest_path in root.glob(f"*/{MANIFEST}"):
        folder = manifest_path.parent
        if not folder.is_symlink() and folder.name.rsplit("-", 1)[-1].isdigit():
            continue  # a version folder: read through its audience's link instead
        manifest = read_manifest(folder)
        if not manifest or manifest.get("model") != model or manifest.get("format") not in KNOWN_FORMATS:
            continue
        try:
            payload = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
            vectors = np.load(folder / "doc_vectors.npy")
        except (OSError, ValueError):
            continue
        if len(payload.get("documents", [])) != len(vectors):
            continue
        known.update({d["text"]: vectors[i] for i, d in enumerate(payload["documents"])})
    return known


def _reference_of(manifest: dict[str, object]) -> object:
    hubness = manifest.get("hubness")
    return hubness.get("reference_hash") if isinstance(hubness, dict) else None


def known_reference(root: Path, model: str, wanted: str) -> np.ndarray | None:
    """The reference proposals' vectors of an index under `root` built with `model` from the same
    reference proposals (hash `wanted`): they are not encoded again."""
    for manifest_path in root.glob(f"*/{MANIFEST}"):
        manifest = read_manifest(manifest_path.parent)
        if manifest and manifest.get("model") == model and _reference_of(manifest) == wanted:
            try:
                return np.load(manifest_path.parent / "reference_vectors.npy")
            except (OSError, ValueError):
                continue
    return None
