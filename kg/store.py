"""One small store interface, with embedded Oxigraph (persistent) and in-memory backends."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox

from kg.access import AUDIENCES, INTERNAL, read_policy, view_quads
from kg.delta import DEFAULT_FILE, LAYOUT, WriteEffect, apply_write, fill_views, mark_complete, write_version
from kg.errors import QueryError, StoreError
from kg.formats import rdf_format, results_format
from kg.journal import Journal, now
from kg.journal import Write as JournalWrite
from kg.publish import PublishFailed, locked_file, prune, publish_version, version_folders
from kg.remote import RemoteEndpoint, RemoteStore
from kg.terms import to_python
from kg.versions import MANIFEST, VersionInfo, find_version, list_versions, read_manifest, write_manifest
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

    versioned = True  # cache_key() names the version (a folder, or a handle that is never changed)

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


def fill_version(version: Path, fill: Callable[[ox.Store], object]) -> None:
    """Fill the new, empty version folder completely: the dataset `fill` writes into an in-memory
    store, as one view per audience plus its default graph (kg.delta), and the layout marker last
    (a folder without it is never opened)."""
    dataset = ox.Store()
    fill(dataset)
    fill_views(version, dataset.quads_for_pattern(None, None, None, None))
    mark_complete(version)


class MemoryStore(_InternalReads):
    """An in-memory Oxigraph store: fast, nothing persisted, no journal. For tests and throw-away runs."""

    name = "memory"

    def __init__(self) -> None:
        self._state = self._derive(ox.Store())

    @staticmethod
    def _derive(source: ox.Store) -> tuple[ox.Store, dict[str, View]]:
        views = _fill_views(source, lambda _: ox.Store())
        return source, {a: View(a, handle) for a, handle in views.items()}

    def handle(self) -> ox.Store:
        """The dataset as written (named graphs; its default graph is not the union)."""
        return self._state[0]

    def view(self, audience: str) -> View:
        return self._state[1][audience]

    def replace_all(self, quads: Iterable[ox.Quad], **_: object) -> None:
        fresh = ox.Store()
        fresh.bulk_extend(quads)
        self._state = self._derive(fresh)  # one reference swap: readers see the old or the new state

    def update(self, sparql: str, base_iri: str | None = None, *, who: str = "",
               visibility: str | None = None) -> None:
        fresh = ox.Store()
        fresh.bulk_extend(self._state[0].quads_for_pattern(None, None, None, None))
        apply_write(fresh, sparql, base_iri, visibility)
        self._state = self._derive(fresh)


Write = Callable[[Path | None, Path], WriteEffect]  # (the current version, the new folder) -> its effect


class OxigraphStore(_InternalReads):
    """The embedded, persistent Oxigraph store (RocksDB) at `path`.

    `path` is a symbolic link to a versioned folder that is only ever opened read-only. It holds one
    materialised view per audience (`public/`, `internal/`, see kg.access) and the default graph as
    written (kg.delta). Every write (a build, an import, a SPARQL update, a rollback) fills a new
    folder and then swaps the link with one atomic rename (kg.publish), under a file lock: a crash or
    a failed write never leaves a half-written store, readers in other processes keep answering from
    the old version and pick up the new one on their next request. The newest `keep_versions` stay
    for rollbacks (kg.versions). Admin writes are journaled first (kg.journal), so that a rebuild from
    the data files replays them (kg.replay).
    """

    name = "oxigraph"

    def __init__(self, path: Path, *, create: bool = False, journal: Journal | None = None,
                 keep_versions: int = 10) -> None:
        self.path, self.journal, self.keep_versions = path, journal, max(2, keep_versions)
        self._opened: Path | None = None
        self._stores: dict[str, ox.Store] = {}
        self._folder: Path | None = None  # the link's folder, resolved once
        self.pruned: list[str] = []  # the versions the last write removed
        if not path.exists():
            if not create:
                raise StoreError(f"no graph store at {path}; build one first with: python -m kg build")
            self.replace_all([], kind="build", note="an empty store")

    def version_path(self) -> Path:
        """The folder of the current version (changes with every write). Read on every request, so
        it reads the link itself (one system call) rather than resolving the whole path again."""
        if self._folder is None:
            self._folder = self.path.parent.resolve()
        try:
            return self._folder / os.readlink(self.path)  # the link names a sibling folder (kg.publish)
        except OSError:  # not a link (yet): resolve the long way
            return self.path.resolve()

    def current(self) -> Path | None:
        """The current version's folder; None for a store not written yet."""
        return self.version_path() if self.path.exists() else None

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
        """The internal view: every named graph as written (its default graph is their union)."""
        return self._open(INTERNAL)

    def view(self, audience: str) -> View:
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}")
        handle, current = self._open_at(audience)
        return View(audience, handle, current / audience)

    def replace_all(self, quads: Iterable[ox.Quad], *, kind: str = "import", writes: tuple[int, ...] = (),
                    note: str = "") -> None:
        """Make the store hold exactly these quads: a build (holding the journaled `writes` it replayed)
        or an import (a whole dump; `note` names it)."""
        listed = list(quads)

        def fill(version: Path) -> VersionInfo:
            fill_version(version, lambda dataset: dataset.bulk_extend(listed))
            return VersionInfo(version.name, kind, now(), writes=writes, quads=len(listed), note=note)

        self.publish(fill)

    def update(self, sparql: str, base_iri: str | None = None, *, who: str = "",
               visibility: str | None = None) -> WriteEffect:
        """Run an update in this process (the CLI and tests; the endpoint runs updates in a worker
        under a time limit: kg.endpoint)."""
        return self.write(lambda previous, version: write_version(previous, version, sparql, base_iri, visibility),
                          sparql=sparql, base_iri=base_iri, who=who, visibility=visibility)

    def write(self, run: Write, *, sparql: str, base_iri: str | None, who: str,
              visibility: str | None) -> WriteEffect:
        """An admin write: `run` fills the new version from the current one (here or in a worker),
        the journal gets the write (synced), then the version goes live. A process killed between the
        two leaves a journaled write the store never had: the next write marks it abandoned."""
        effects: list[WriteEffect] = []

        def fill(version: Path) -> VersionInfo:
            previous = self.current()
            held = read_manifest(previous).writes if previous else ()
            effect = run(previous, version)
            mark_complete(version)
            effects.append(effect)
            if self.journal is None:
                return VersionInfo(version.name, "write", now(), who=who, writes=held, changes=effect.changes)
            seq = self.journal.next_seq()
            self.journal.append_write(JournalWrite(seq, now(), who, sparql, base_iri, visibility, effect.changes,
                                                   version.name))
            return VersionInfo(version.name, "write", now(), who=who, writes=(*held, seq), changes=effect.changes)

        self.publish(fill)
        return effects[0]

    def rollback(self, name: str, *, who: str = "") -> VersionInfo:
        """Make a kept version current again, as a new version (so the history only grows). Journaled
        writes it does not hold are reverted (a rebuild no longer replays them); reverted writes it
        holds are restored."""
        source = find_version(self.path, name, complete=LAYOUT)
        target = read_manifest(source)

        def fill(version: Path) -> VersionInfo:
            for part in AUDIENCES:
                ox.Store.read_only(str(source / part)).backup(str(version / part))
            if (source / DEFAULT_FILE).exists():
                shutil.copyfile(source / DEFAULT_FILE, version / DEFAULT_FILE)
            mark_complete(version)
            if self.journal is not None:
                writes = {w.seq: w for w in self.journal.writes()}
                self.journal.end("revert", [s for s, w in writes.items() if w.is_active and s not in target.writes],
                                 f"rolled back to version {source.name}")
                self.journal.restore([s for s in target.writes if s in writes and writes[s].ended == "revert"],
                                     f"rolled back to version {source.name}")
            return VersionInfo(version.name, "rollback", now(), who=who, writes=target.writes, quads=target.quads,
                               note=source.name)

        return self.publish(fill)

    def history(self) -> list[VersionInfo]:
        """The kept versions, oldest first."""
        return list_versions(self.path, complete=LAYOUT) if self.path.exists() else []

    def _write_lock(self) -> AbstractContextManager[None]:
        """One writer at a time: an update reads the current version and writes the next one, so two
        at once would lose the first one's changes."""
        return locked_file(self.path.with_name(f".{self.path.name}.lock"), lambda exc: StoreError(
            f"cannot lock the store at {self.path} for writing: {exc.strerror or exc}"))

    def publish(self, prepare: Callable[[Path], VersionInfo]) -> VersionInfo:
        """Write a new version: `prepare` fills a new, empty folder completely and describes it, then it
        goes live in one rename (kg.publish), under the write lock. Whatever goes wrong before that
        leaves the current version as it was and no folder behind. The newest `keep_versions`, the
        previous one and the one this process has open stay; older ones are pruned (`pruned`)."""
        described: list[VersionInfo] = []

        def fill(version: Path) -> None:
            info = prepare(version)
            write_manifest(version, info)
            described.append(info)

        try:
            with self._write_lock():
                self._reconcile()
                kept = {folder.name for folder in version_folders(self.path)}
                version = publish_version(self.path, fill, keep=kept)
                newest = {folder.name for folder in version_folders(self.path)[-self.keep_versions:]}
                self.pruned = prune(self.path, keep={*newest, version.name, *(
                    [self._opened.name] if self._opened else [])})
        except PublishFailed as exc:  # a read-only or full disk, a missing folder: said plainly, nothing changed
            raise StoreError(f"cannot write a new store version next to {self.path}: {exc.reason}") from exc
        return described[0]

    def _reconcile(self) -> None:
        """Journaled writes the current version does not hold, and no event ended, were cut off by a
        killed process before they went live: say so in the journal (under the write lock)."""
        current = self.current()
        if self.journal is None or current is None or not (current / MANIFEST).exists():
            return
        held = set(read_manifest(current).writes)
        self.journal.end("abandon", [w.seq for w in self.journal.active() if w.seq not in held],
                         "the process stopped before this write went live; the store never had it")

    def drop_old_versions(self) -> None:
        """Remove every version but the current one (after removing personal data, nothing older may stay)."""
        with self._write_lock():
            prune(self.path, keep={self.path.resolve().name})


def open_store(kind: str, path: Path, *, create: bool = False, remote: RemoteEndpoint | None = None,
               journal: Path | None = None, keep_versions: int = 10) -> Store:
    """A store of `kind`: 'oxigraph' (embedded, in the folder `path`; `create` allows an empty one to be
    made; admin writes journaled in the file `journal`, `keep_versions` kept), 'memory' (new and empty)
    or 'remote' (at the `remote` endpoint)."""
    if kind == "memory":
        return MemoryStore()
    if kind == "remote":
        return RemoteStore.at(remote or RemoteEndpoint("", "", ""))  # without a query URL: a StoreError that says so
    if kind != "oxigraph":
        raise StoreError(f"unknown store {kind!r}: choose 'oxigraph', 'memory' or 'remote'")
    return OxigraphStore(path, create=create, journal=Journal(journal) if journal else None, keep_versions=keep_versions)
