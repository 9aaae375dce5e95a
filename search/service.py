"""Putting search together from settings: store, model, index (rebuilt when stale), concepts."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from kg.access import INTERNAL
from kg.queries import named_query
from kg.settings import Settings
from kg.store import GraphView, Store, open_store
from search.concepts import ConceptMatcher
from search.embedder import Embedder
from search.index import SearchIndex, ensure_index
from search.match import Matcher
from search.result import Member


def concept_matcher(store: GraphView) -> ConceptMatcher:
    labels: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in store.select(named_query("concept_labels")):
        labels[str(row["concept"])].append((str(row["label"]), str(row.get("lang") or "en")))
    return ConceptMatcher(list(labels.items()))


def programme_members(store: GraphView) -> dict[str, tuple[Member, ...]]:
    found: dict[str, list[Member]] = defaultdict(list)
    for row in store.select(named_query("programmes_of_organisation")):
        found[str(row["programme"])].append(
            Member(str(row["organisation"]), str(row["orgLabel"]), str(row["role"]), bool(row.get("sample"))))
    return {k: tuple(sorted(v, key=lambda m: (m.role != "lead", m.label))) for k, v in found.items()}


def index_folder(settings: Settings, audience: str) -> Path:
    """Each audience has its own index, built from its own view: an internal text can never come
    back as a public hit, nor in a public explanation."""
    return settings.index_path / audience


def open_index(settings: Settings, store: Store | None = None, *, audience: str = INTERNAL, force: bool = False,
               progress: bool = False) -> tuple[SearchIndex, Embedder, GraphView, bool]:
    """The index of `audience` (rebuilt when stale), its embedder, the audience's graph view and
    whether it was rebuilt. The default audience is the Kernteam's: the CLI runs for them."""
    view = (store or open_store(settings)).view(audience)
    embedder = Embedder(settings.model)
    index, rebuilt = ensure_index(view, embedder, index_folder(settings, audience),
                                  hnsw_threshold=settings.hnsw_threshold, force=force, progress=progress)
    return index, embedder, view, rebuilt


def open_matcher(settings: Settings, store: Store | None = None, *, audience: str = INTERNAL,
                 progress: bool = False) -> Matcher:
    index, embedder, view, _ = open_index(settings, store, audience=audience, progress=progress)
    weights = {"dense": settings.dense_weight, "lexical": settings.lexical_weight}
    return Matcher(index, embedder, concept_matcher(view), programme_members(view), weights)
