"""One small store interface, with embedded Oxigraph (persistent) and in-memory backends."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox

from kg.errors import QueryError, StoreError
from kg.formats import rdf_format, results_format
from kg.remote import RemoteStore
from kg.settings import Settings
from kg.terms import to_python


class Store(Protocol):
    """What every backend offers. Queries see the union of all named graphs as default graph."""

    name: str

    def select(self, sparql: str) -> list[dict[str, Any]]:
        """Rows of a SELECT as dicts of plain Python values (unbound variables are absent)."""

    def ask(self, sparql: str) -> bool: ...

    def query_to(self, sparql: str, fmt: str) -> bytes:
        """Any query, serialised: results formats for SELECT/ASK, RDF formats for CONSTRUCT/DESCRIBE."""

    def quads(self) -> Iterator[ox.Quad]:
        """Every quad in the named graphs."""

    def replace_all(self, quads: Iterable[ox.Quad]) -> None:
        """Atomically make the store hold exactly these quads (readers see old or new, never a mix)."""

    def count(self) -> int: ...


class _OxigraphQueries:
    """Query methods shared by the backends that hold a pyoxigraph store in this process."""

    _store: ox.Store

    def _run(self, sparql: str) -> Any:
        try:
            return self._store.query(sparql, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise QueryError(f"malformed SPARQL: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"store read failed: {exc}") from exc

    def select(self, sparql: str) -> list[dict[str, Any]]:
        result = self._run(sparql)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("expected a SELECT query")
        names = [v.value for v in result.variables]
        return [{n: to_python(row[n]) for n in names if row[n] is not None} for row in result]

    def ask(self, sparql: str) -> bool:
        result = self._run(sparql)
        if not isinstance(result, ox.QueryBoolean):
            raise QueryError("expected an ASK query")
        return bool(result)

    def query_to(self, sparql: str, fmt: str) -> bytes:
        result = self._run(sparql)
        if isinstance(result, ox.QueryTriples):
            return ox.serialize(result, format=rdf_format(fmt).ox_format) or b""
        return result.serialize(format=results_format(fmt).ox_format) or b""

    def quads(self) -> Iterator[ox.Quad]:
        for quad in self._store.quads_for_pattern(None, None, None, None):
            if not isinstance(quad.graph_name, ox.DefaultGraph):
                yield quad

    def count(self) -> int:
        return len(self._store)


class MemoryStore(_OxigraphQueries):
    """An in-memory Oxigraph store: fast, nothing persisted. For tests and throw-away runs."""

    name = "memory"

    def __init__(self) -> None:
        self._store = ox.Store()

    def replace_all(self, quads: Iterable[ox.Quad]) -> None:
        fresh = ox.Store()
        fresh.bulk_extend(quads)
        self._store = fresh  # one reference swap: readers see the old or the new store


class OxigraphStore(_OxigraphQueries):
    """The embedded, persistent Oxigraph store (RocksDB) at `path`.

    `path` is a symbolic link to a versioned folder. A rebuild fills a new folder and then
    swaps the link with one atomic rename, so a crash or a failed build never leaves a
    half-written store behind.
    """

    name = "oxigraph"

    def __init__(self, path: Path, *, create: bool = False, read_only: bool = False) -> None:
        self.path = path
        if not path.exists() and not create:
            raise StoreError(f"no graph store at {path}; build one first with: python -m kg build")
        self._read_only = read_only
        self._store = self._open(path.resolve()) if path.exists() else self._new_version([])

    def _open(self, path: Path) -> ox.Store:
        # Always open the versioned folder itself, never the link: RocksDB caches by path.
        try:
            return ox.Store.read_only(str(path)) if self._read_only else ox.Store(str(path))
        except OSError as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc

    def replace_all(self, quads: Iterable[ox.Quad]) -> None:
        if self._read_only:
            raise StoreError("the store was opened read-only")
        self._store = self._new_version(quads)

    def _new_version(self, quads: Iterable[ox.Quad]) -> ox.Store:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        version = self.path.with_name(f"{self.path.name}-{time.time_ns()}")
        fresh = ox.Store(str(version))
        try:
            fresh.bulk_extend(quads)
            fresh.flush()
        except BaseException:
            del fresh
            shutil.rmtree(version, ignore_errors=True)
            raise
        del fresh  # release the RocksDB lock before the folder goes live under its stable name
        old = self.path.resolve() if self.path.is_symlink() else None
        if self.path.exists() and not self.path.is_symlink():
            self.path.rename(self.path.with_name(f"{self.path.name}-legacy-{time.time_ns()}"))
        link = self.path.with_name(f".{self.path.name}.link-{os.getpid()}")
        link.unlink(missing_ok=True)
        link.symlink_to(version.name)
        os.replace(link, self.path)
        if hasattr(self, "_store"):
            del self._store
        if old is not None and old != version:
            shutil.rmtree(old, ignore_errors=True)
        return self._open(version)


def open_store(settings: Settings, *, create: bool = False) -> Store:
    """The store the settings name; `create` allows an empty embedded store to be made."""
    if settings.store == "memory":
        return MemoryStore()
    if settings.store == "remote":
        return RemoteStore.from_settings(settings)
    return OxigraphStore(settings.store_path, create=create)
