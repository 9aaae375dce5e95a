"""One small store interface, with embedded Oxigraph (persistent) and in-memory backends."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox

from kg.access import AUDIENCES, INTERNAL, read_policy, view_quads
from kg.errors import QueryError, StoreError
from kg.formats import rdf_format, results_format
from kg.publish import PublishFailed, prune, publish_version
from kg.remote import RemoteEndpoint, RemoteStore
from kg.terms import to_python
from ontology import PREFIXES


class Store(Protocol):
    """What every backend offers. The read methods answer from the internal view (everything
    except past editions in the default graph); `view(audience)` narrows that down."""

    name: str

    def view(self, audience: str) -> GraphView:
        """The read-only view of one audience (kg.access): what it holds is all it can answer from."""

    def select(self, sparql: str) -> list[dict[str, Any]]:
        """Rows of a SELECT as dicts of plain Python values (unbound variables are absent)."""

    def ask(self, sparql: str) -> bool: ...

    def query_to(self, sparql: str, fmt: str) -> bytes:
        """Any query, serialised: results formats for SELECT/ASK, RDF formats for CONSTRUCT/DESCRIBE."""

    def quads(self) -> Iterator[ox.Quad]:
        """Every quad in the named graphs."""

    def replace_all(self, quads: Iterable[ox.Quad]) -> None:
        """Atomically make the store hold exactly these quads (readers see old or new, never a mix)."""

    def update(self, sparql: str, base_iri: str | None = None) -> None:
        """Run a SPARQL update atomically: all of it applies, or nothing does."""

    def count(self) -> int: ...


class GraphView(Protocol):
    """The reads of one audience (a Store's view, or a Store itself for the internal audience)."""

    audience: str

    def select(self, sparql: str) -> list[dict[str, Any]]: ...

    def ask(self, sparql: str) -> bool: ...

    def query_to(self, sparql: str, fmt: str) -> bytes: ...

    def quads(self) -> Iterator[ox.Quad]: ...

    def count(self) -> int: ...

    def cache_key(self) -> str:
        """Changes whenever the view's content may have changed (for caches of derived data)."""


class View:
    """One audience's materialised view in this process: a pyoxigraph store whose default graph is
    already the union of the audience's current graphs, so queries run without union evaluation."""

    def __init__(self, audience: str, handle: ox.Store, path: Path | None = None) -> None:
        self.audience, self._handle, self.path = audience, handle, path

    def handle(self) -> ox.Store:
        return self._handle

    def cache_key(self) -> str:
        return f"{self.audience}:{self.path}" if self.path else f"{self.audience}:{id(self._handle)}"

    def _run(self, sparql: str) -> Any:
        try:
            return self._handle.query(sparql)
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
            return ox.serialize(result, format=rdf_format(fmt).ox_format, prefixes=PREFIXES) or b""
        return result.serialize(format=results_format(fmt).ox_format) or b""

    def quads(self) -> Iterator[ox.Quad]:
        for quad in self._handle.quads_for_pattern(None, None, None, None):
            if not isinstance(quad.graph_name, ox.DefaultGraph):
                yield quad

    def count(self) -> int:
        return sum(1 for _ in self.quads())


class _InternalReads:
    """The Store read methods, answered from the internal view."""

    def view(self, audience: str) -> View:
        raise NotImplementedError

    def select(self, sparql: str) -> list[dict[str, Any]]:
        return self.view(INTERNAL).select(sparql)

    def ask(self, sparql: str) -> bool:
        return self.view(INTERNAL).ask(sparql)

    def query_to(self, sparql: str, fmt: str) -> bytes:
        return self.view(INTERNAL).query_to(sparql, fmt)

    def quads(self) -> Iterator[ox.Quad]:
        return self.view(INTERNAL).quads()

    def count(self) -> int:
        return self.view(INTERNAL).count()


def _fill_views(source: ox.Store, make: Callable[[str], ox.Store]) -> dict[str, ox.Store]:
    policy = read_policy(source)
    views = {}
    for audience in AUDIENCES:
        target = make(audience)
        target.bulk_extend(view_quads(source, policy, audience))
        views[audience] = target
    return views


def apply_update(source: ox.Store, target: ox.Store, sparql: str, base_iri: str | None) -> None:
    """Copy `source` into `target`, then run the update on `target` (the source stays as it was)."""
    target.bulk_extend(source.quads_for_pattern(None, None, None, None))
    try:
        target.update(sparql, base_iri=base_iri)
    except SyntaxError as exc:
        raise QueryError(f"malformed SPARQL update: {exc}") from exc
    except RuntimeError as exc:  # pyoxigraph's evaluation errors, e.g. CLEAR of a graph that does not exist
        raise QueryError(f"the update could not be applied: {exc}") from exc
    except OSError as exc:
        raise StoreError(f"the update failed: {exc}") from exc


LAYOUT = "layout-2"  # a file in every version folder: the source store plus one view per audience


def fill_version(version: Path, fill: Callable[[ox.Store], object]) -> None:
    """Fill the new, empty version folder completely: the source store as `fill` writes it, one view
    per audience, and the layout marker last (a folder without it is never opened)."""
    source = ox.Store(str(version / "source"))
    fill(source)
    views = _fill_views(source, lambda audience: ox.Store(str(version / audience)))
    for store in (source, *views.values()):
        store.flush()
    del source, views, store  # release the RocksDB locks before the folder goes live
    (version / LAYOUT).write_text("source/ plus one view per audience: public/, internal/\n")


class MemoryStore(_InternalReads):
    """An in-memory Oxigraph store: fast, nothing persisted. For tests and throw-away runs."""

    name = "memory"

    def __init__(self) -> None:
        self._state = self._derive(ox.Store())

    @staticmethod
    def _derive(source: ox.Store) -> tuple[ox.Store, dict[str, View]]:
        views = _fill_views(source, lambda _: ox.Store())
        return source, {a: View(a, handle) for a, handle in views.items()}

    def handle(self) -> ox.Store:
        """The source store (named graphs as written; its default graph is not the union)."""
        return self._state[0]

    def view(self, audience: str) -> View:
        return self._state[1][audience]

    def replace_all(self, quads: Iterable[ox.Quad]) -> None:
        fresh = ox.Store()
        fresh.bulk_extend(quads)
        self._state = self._derive(fresh)  # one reference swap: readers see the old or the new state

    def update(self, sparql: str, base_iri: str | None = None) -> None:
        fresh = ox.Store()
        apply_update(self._state[0], fresh, sparql, base_iri)
        self._state = self._derive(fresh)


class OxigraphStore(_InternalReads):
    """The embedded, persistent Oxigraph store (RocksDB) at `path`.

    `path` is a symbolic link to a versioned folder that is only ever opened read-only. It holds
    the source store (`source/`, what writes change) and one materialised view per audience
    (`public/`, `internal/`, see kg.access). Every write (a build, an import, a SPARQL update)
    fills a new folder and then swaps the link with one atomic rename (kg.publish), under a file
    lock: a crash or a failed write never leaves a half-written store, readers in other processes
    keep answering from the old version and pick up the new one on their next request, and the
    previous version is kept for readers still busy with it.
    """

    name = "oxigraph"

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        self._opened: Path | None = None
        self._stores: dict[str, ox.Store] = {}
        self._folder: Path | None = None  # the link's folder, resolved once
        if not path.exists():
            if not create:
                raise StoreError(f"no graph store at {path}; build one first with: python -m kg build")
            self.replace_all([])

    def version_path(self) -> Path:
        """The folder of the current version (changes with every write). Read on every request, so
        it reads the link itself (one system call) rather than resolving the whole path again."""
        if self._folder is None:
            self._folder = self.path.parent.resolve()
        try:
            return self._folder / os.readlink(self.path)  # the link names a sibling folder (kg.publish)
        except OSError:  # not a link (yet): resolve the long way
            return self.path.resolve()

    def _open(self, part: str) -> ox.Store:
        return self._open_at(part)[0]

    def _open_at(self, part: str) -> tuple[ox.Store, Path]:
        """The read-only store of `part` in the current version, and that version's folder."""
        current = self.version_path()
        if current != self._opened:
            if not (current / LAYOUT).exists():
                raise StoreError(f"the store at {self.path} was built by an older version of Missiekompas; "
                                 "rebuild it with: python -m kg build")
            self._stores, self._opened = {}, current
        if part not in self._stores:
            try:
                # Open the versioned folder itself, never the link: RocksDB caches by path.
                self._stores[part] = ox.Store.read_only(str(current / part))
            except OSError as exc:
                raise StoreError(f"cannot open the store at {self.path}: {exc}") from exc
        return self._stores[part], current

    def handle(self) -> ox.Store:
        """The source store (named graphs as written; its default graph is not the union)."""
        return self._open("source")

    def view(self, audience: str) -> View:
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}")
        handle, current = self._open_at(audience)
        return View(audience, handle, current / audience)

    def source_path(self) -> Path | None:
        """The source store's folder in the current version (None before the first write)."""
        return self.version_path() / "source" if self.path.exists() else None

    def replace_all(self, quads: Iterable[ox.Quad]) -> None:
        self.publish(lambda version: fill_version(version, lambda fresh: fresh.bulk_extend(quads)))

    def update(self, sparql: str, base_iri: str | None = None) -> None:
        """Run an update in this process (the build and the CLI; the endpoint runs updates in a worker
        under a time limit: kg.endpoint)."""
        def fill(fresh: ox.Store) -> None:
            apply_update(self.handle() if self.path.exists() else ox.Store(), fresh, sparql, base_iri)

        self.publish(lambda version: fill_version(version, fill))

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        """One writer at a time: an update reads the current version and writes the next one, so two
        at once would lose the first one's changes."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = os.open(self.path.with_name(f".{self.path.name}.lock"), os.O_WRONLY | os.O_CREAT, 0o666)
        except OSError as exc:
            raise StoreError(f"cannot lock the store at {self.path} for writing: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            os.close(lock)

    def publish(self, prepare: Callable[[Path], object]) -> None:
        """Write a new version: `prepare` fills a new, empty folder completely (kg.store.fill_version,
        here or in a worker process), then it goes live in one rename (kg.publish), under the write
        lock. Whatever goes wrong before that leaves the current version as it was and no folder
        behind. The previous version and the one this process has open stay for their readers."""
        try:
            with self._write_lock():
                publish_version(self.path, prepare, keep={self._opened.name} if self._opened else ())
        except PublishFailed as exc:  # a read-only or full disk, a missing folder: said plainly, nothing changed
            raise StoreError(f"cannot write a new store version next to {self.path}: {exc.reason}") from exc

    def drop_old_versions(self) -> None:
        """Remove every version but the current one (after removing personal data, nothing older may stay)."""
        with self._write_lock():
            prune(self.path, keep={self.path.resolve().name})


def open_store(kind: str, path: Path, *, create: bool = False, remote: RemoteEndpoint | None = None) -> Store:
    """A store of `kind`: 'oxigraph' (embedded, in the folder `path`; `create` allows an empty one to be
    made), 'memory' (new and empty) or 'remote' (at the `remote` endpoint)."""
    if kind == "memory":
        return MemoryStore()
    if kind == "remote":
        return RemoteStore.at(remote or RemoteEndpoint("", "", ""))  # without a query URL: a StoreError that says so
    if kind != "oxigraph":
        raise StoreError(f"unknown store {kind!r}: choose 'oxigraph', 'memory' or 'remote'")
    return OxigraphStore(path, create=create)
