"""Putting search together from settings: store, model, index (rebuilt when stale), concepts."""

from __future__ import annotations

from collections import defaultdict

from kg.queries import named_query
from kg.settings import Settings
from kg.store import Store, open_store
from search.concepts import ConceptMatcher
from search.embedder import Embedder
from search.index import SearchIndex, ensure_index
from search.match import Matcher
from search.result import Member


def concept_matcher(store: Store) -> ConceptMatcher:
    labels: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in store.select(named_query("concept_labels")):
        labels[str(row["concept"])].append((str(row["label"]), str(row.get("lang") or "en")))
    return ConceptMatcher(list(labels.items()))


def programme_members(store: Store) -> dict[str, tuple[Member, ...]]:
    found: dict[str, list[Member]] = defaultdict(list)
    for row in store.select(named_query("programmes_of_organisation")):
        found[str(row["programme"])].append(
            Member(str(row["organisation"]), str(row["orgLabel"]), str(row["role"]), bool(row.get("sample"))))
    return {k: tuple(sorted(v, key=lambda m: (m.role != "lead", m.label))) for k, v in found.items()}


def open_index(settings: Settings, store: Store | None = None, *, force: bool = False,
               progress: bool = False) -> tuple[SearchIndex, Embedder, Store, bool]:
    store = store or open_store(settings)
    embedder = Embedder(settings.model)
    index, rebuilt = ensure_index(store, embedder, settings.index_path, hnsw_threshold=settings.hnsw_threshold,
                                  force=force, progress=progress)
    return index, embedder, store, rebuilt


def open_matcher(settings: Settings, store: Store | None = None, *, progress: bool = False) -> Matcher:
    index, embedder, store, _ = open_index(settings, store, progress=progress)
    weights = {"dense": settings.dense_weight, "lexical": settings.lexical_weight}
    return Matcher(index, embedder, concept_matcher(store), programme_members(store), weights)
