"""The analytics fixture graph (tests/fixtures/analytics) built into memory with its search index."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from config import Settings
from kg.build import build
from kg.store import GraphView, MemoryStore, Store
from search.embedder import Embedder
from search.index import SearchIndex
from tests.conftest import index_over

ANALYTICS = Path(__file__).with_name("fixtures") / "analytics"
BASE = "https://w3id.org/missiekompas/id/"


@dataclass(frozen=True)
class Analytics:
    settings: Settings
    source: Store  # what was built
    store: GraphView  # the Kernteam's view of it, which the index was built from
    index: SearchIndex
    embedder: Embedder


def build_analytics(model_path: Path, folder: Path) -> Analytics:
    """Store and index of the fixture graph; the index is written under `folder`."""
    settings = Settings(data_dirs=(ANALYTICS,), store="memory", model=str(model_path), index_path=folder / "index")
    store = MemoryStore()
    build(settings.data_dirs, settings.base_uri, store)
    index, embedder, view, _ = index_over(settings, store)  # the Kernteam's (internal) view and index
    return Analytics(settings, store, view, index, embedder)


def iri(kind: str, record_id: str) -> str:
    return f"{BASE}{kind}/{record_id}"
