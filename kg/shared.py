"""A store shared by several web replicas: SPARQL servers hold the audience views, a folder holds the rest.

The layout (docs/deploy.md):
- Per audience, two SPARQL 1.1 servers, slot 0 and slot 1 (blue/green): Oxigraph server's layout
  (`<base>/query`, `<base>/update`) or one URL ending in `/sparql` for both (Virtuoso). A server holds
  one audience's view and nothing else of ours, as the embedded store's view folders do (kg.access:
  the visible named graphs, and their union as the default graph, here the named graph
  DEFAULT_GRAPH that every request names as its default graph), so the servers themselves keep the
  public away from internal graphs: a replica configured without the internal URLs has no
  connection that can read them.
- A shared folder: `current.json` (the live version and its slot), `versions/` (each version as written,
  with the same `version.json` as an embedded version: kg.versions), the write lock and the journal.

Publishing a version (a build, an import, an admin write) fills the two servers of the slot that is not
live, then rewrites `current.json` with one rename. Readers read the pointer per request and keep it for
the whole request (`pinned`), so a request sees the old version or the new one, never a mix, and every
replica picks a new version up on its next request, without a restart. A slot that has just gone out of
service is left alone for `grace_s` seconds, for the requests still reading it."""

from __future__ import annotations

import contextvars
import json
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.access import AUDIENCES, INTERNAL, PUBLIC, read_policy, view_quads
from kg.delta import WriteEffect, apply_write
from kg.errors import StoreError
from kg.journal import Journal, now
from kg.journal import Write as JournalWrite
from kg.publish import PublishFailed, locked_file, prune, publish_folder, version_folders, write_atomically
from kg.remote import RemoteStore, RemoteView
from kg.results import Serialized, serialize_boolean, serialize_solutions, serialize_triples
from kg.sparql_text import query_form
from kg.store import _InternalReads
from kg.terms import from_json
from kg.versions import MANIFEST, VersionInfo, list_versions, read_manifest, write_manifest

POINTER = "current.json"
GRAPHS = "graphs.json"  # in a version's folder: the named graphs of each audience's view
DEFAULT_GRAPH = "urn:missiekompas:graph:view-default"  # a view's default graph, held as a named graph
LOADED_GRAPH = "urn:missiekompas:graph:loaded"  # on each server: the graphs a publish put there
EMPTY_GRAPH = "urn:missiekompas:graph:empty"  # named where a dataset must hold no graph at all
_LOADED = "urn:missiekompas:LoadedGraph"
INSERT_QUADS = 5_000
DATASET = "dataset.nq"  # a version as written: every named graph and the default graph
COMPLETE = DATASET  # written before the manifest; a folder is only published once whole (publish_folder)
# the version a request is pinned to, by shared folder (a process may hold several shared stores)
_PINNED: contextvars.ContextVar[tuple[Path, Pointer] | None] = contextvars.ContextVar("missiekompas_shared_pin",
                                                                                     default=None)


@dataclass(frozen=True)
class Pointer:
    """The live version: its name, the slot its views are served from, and when it went live."""

    version: str
    slot: int
    since: float


class SlotView(RemoteView):
    """One audience's reads from the server of one slot. The server holds that view and nothing else of
    ours; every request names its dataset (the view's default graph, its named graphs), so a server
    whose default graph is the union of all it holds, or which keeps graphs of its own (Virtuoso),
    answers the same as one that does not."""

    versioned = True  # a version never changes once live: caches may key on cache_key() (web.version_cache)

    def __init__(self, remote: RemoteStore, audience: str, version: str, graphs: tuple[str, ...]) -> None:
        super().__init__(remote, audience, (DEFAULT_GRAPH,), graphs)
        self.version, self.graphs = version, graphs
        self._dataset = protocol_dataset((DEFAULT_GRAPH,), graphs)  # no named graph: the empty one, not all

    def cache_key(self) -> str:
        return f"{self.audience}:shared:{self.version}"

    def dataset(self, default: tuple[str, ...] = (), named: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        """The protocol dataset of a request: the whole view, or the graphs a user named (default-graph-uri,
        named-graph-uri), of those in the view only; a graph not in it is an empty one."""
        if not default and not named:
            return self._dataset
        allowed = set(self.graphs)
        return protocol_dataset(tuple(g for g in default if g in allowed), tuple(g for g in named if g in allowed))

    def answer(self, sparql: str, fmt: str, max_rows: int, default: tuple[str, ...] = (),
               named: tuple[str, ...] = ()) -> Serialized:
        """A user's query, serialised here as the embedded store does it (kg.results: the same formats,
        at most `max_rows` rows or triples), from the server's answer in SPARQL JSON results or N-Triples
        (as RemoteStore.query_to gives them, in standard form)."""
        dataset = self.dataset(default, named)
        try:
            if query_form(sparql) in ("CONSTRUCT", "DESCRIBE"):
                quads = ox.parse(self.remote.query_to(sparql, "nt", dataset), format=ox.RdfFormat.N_TRIPLES)
                return serialize_triples((q.triple for q in quads), fmt, max_rows)
            results = ox.parse_query_results(self.remote.query_to(sparql, "json", dataset), ox.QueryResultsFormat.JSON)
        except SyntaxError as exc:
            raise StoreError(f"the {self.audience} server's answer could not be read: {exc}") from exc
        if isinstance(results, ox.QueryBoolean):
            return serialize_boolean(bool(results), fmt)
        return serialize_solutions([v.value for v in results.variables], results, fmt, max_rows)

    def quads(self) -> Iterator[ox.Quad]:
        """Every quad of the view's named graphs."""
        body = self.remote.query_to("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }", "json", self._dataset)
        for row in json.loads(body)["results"]["bindings"]:
            yield ox.Quad(from_json(row["s"]), from_json(row["p"]), from_json(row["o"]), from_json(row["g"]))

    def count(self) -> int:
        rows = self.remote.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", self._dataset)
        return int(rows[0]["n"]) if rows else 0


def protocol_dataset(default: tuple[str, ...], named: tuple[str, ...]) -> list[tuple[str, str]]:
    """default-graph-uri and named-graph-uri parameters; an empty side names the empty graph, since
    leaving a side out lets the server choose."""
    return [("default-graph-uri", g) for g in default or (EMPTY_GRAPH,)] + \
        [("named-graph-uri", g) for g in named or (EMPTY_GRAPH,)]


class SharedStore(_InternalReads):
    """The shared store: see the module. `public` and `internal` are the base URLs of slot 0 and slot 1
    of each audience; without `internal` this process serves the public view only and cannot publish."""

    name = "shared"

    def __init__(self, path: Path, public: tuple[str, ...], internal: tuple[str, ...], *, graph_prefix: str,
                 journal: Journal | None = None, keep_versions: int = 10, timeout_s: float = 10.0,
                 grace_s: float = 15.0, token: str = "", user: str = "", password: str = "") -> None:
        for audience, urls in ((PUBLIC, public), (INTERNAL, internal)):
            if len(urls) not in ((0, 2) if audience == INTERNAL else (2,)):
                setting = f"MK_SHARED_{audience.upper()}_URLS"
                raise StoreError(f"MK_STORE=shared needs {setting}: the base URLs of two SPARQL servers (slot 0 "
                                 f"and slot 1) for the {audience} view, separated by a space; got {len(urls)}")
        self.path, self.journal, self.keep_versions, self.grace_s = path, journal, max(2, keep_versions), grace_s
        self.pruned: list[str] = []

        def server(base: str) -> RemoteStore:
            """Oxigraph server's layout (<base>/query, <base>/update), or one URL for both (Virtuoso's /sparql)."""
            base = base.rstrip("/")
            query, update = (base, base) if base.endswith("/sparql") else (f"{base}/query", f"{base}/update")
            return RemoteStore(query, update, graph_prefix, token=token, user=user, password=password,
                               timeout_s=timeout_s)

        self._slots = {PUBLIC: tuple(server(u) for u in public), INTERNAL: tuple(server(u) for u in internal)}
        self._seen: tuple[tuple[int, int, int], Pointer] | None = None
        self._graphs: dict[str, dict[str, tuple[str, ...]]] = {}  # version -> audience -> its named graphs

    # reading

    def pointer(self) -> Pointer:
        """The live version, as `current.json` says now (one stat per call; read again when it changed)."""
        target = self.path / POINTER
        try:
            stat = target.stat()
        except FileNotFoundError:
            raise StoreError(f"no version has been published to the shared store at {self.path} yet; publish one "
                             "with: python -m kg build") from None
        except OSError as exc:
            raise StoreError(f"cannot read the shared store's pointer {target}: {exc.strerror or exc}") from exc
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        seen = self._seen
        if seen is not None and seen[0] == key:
            return seen[1]
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
            found = Pointer(str(data["version"]), int(data["slot"]), float(data["since"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"the shared store's pointer {target} is unreadable: {exc}") from exc
        if found.slot not in (0, 1):
            raise StoreError(f"the shared store's pointer {target} names slot {found.slot}; slots are 0 and 1")
        self._seen = (key, found)
        return found

    @contextmanager
    def pinned(self) -> Iterator[Pointer]:
        """Read the pointer once and answer every read in the block from that version (one request)."""
        pointer = self.pointer()
        token = _PINNED.set((self.path, pointer))
        try:
            yield pointer
        finally:
            _PINNED.reset(token)

    def live(self) -> Pointer:
        """The version this request is pinned to, else the pointer as it is now."""
        pinned = _PINNED.get()
        return pinned[1] if pinned is not None and pinned[0] == self.path else self.pointer()

    def version_name(self) -> str:
        return self.live().version

    def view(self, audience: str) -> SlotView:
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}")
        if not self._slots[audience]:
            raise StoreError("this replica serves the public view only (MK_SHARED_INTERNAL_URLS is not set)")
        live = self.live()
        return SlotView(self._slots[audience][live.slot], audience, live.version, self._view_graphs(live.version)[audience])

    def _view_graphs(self, version: str) -> dict[str, tuple[str, ...]]:
        """The named graphs of each audience's view in `version` (read once per version, from its record)."""
        found = self._graphs.get(version)
        if found is None:
            target = self._versions().with_name(version) / GRAPHS
            try:
                data = json.loads(target.read_text(encoding="utf-8"))
                found = {audience: tuple(str(g) for g in data[audience]) for audience in AUDIENCES}
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise StoreError(f"cannot read the graphs of store version {version} ({target}): {exc}") from exc
            if len(self._graphs) > 8:
                self._graphs.clear()
            self._graphs[version] = found
        return found

    def current(self) -> Path | None:
        """The live version's folder in the shared folder (its manifest and dataset); None before the first."""
        try:
            return self._versions().with_name(self.pointer().version)
        except StoreError:
            if (self.path / POINTER).exists():
                raise
            return None

    def history(self) -> list[VersionInfo]:
        return list_versions(self._versions(), complete=COMPLETE)

    def dataset(self, version: Path | None) -> list[ox.Quad]:
        """Every quad of a version as written (the named graphs and the default graph)."""
        if version is None:
            return []
        try:
            return list(ox.parse(path=str(version / DATASET), format=ox.RdfFormat.N_QUADS))
        except (OSError, SyntaxError) as exc:
            raise StoreError(f"cannot read store version {version.name} of the shared store: {exc}") from exc

    # writing

    def replace_all(self, quads: Iterable[ox.Quad], *, kind: str = "import", writes: tuple[int, ...] = (),
                    note: str = "") -> VersionInfo:
        listed = list(quads)
        return self.publish(lambda _, __: (listed, VersionInfo("", kind, now(), writes=writes, quads=len(listed),
                                                            note=note)))

    def update(self, sparql: str, base_iri: str | None = None, *, who: str = "",
               visibility: str | None = None) -> WriteEffect:
        """An admin write: the live version as written, changed in memory, published as a new version."""
        effects: list[WriteEffect] = []

        def change(previous: Path | None, name: str) -> tuple[list[ox.Quad], VersionInfo]:
            dataset = ox.Store()
            dataset.bulk_extend(self.dataset(previous))
            changes = apply_write(dataset, sparql, base_iri, visibility)
            effects.append(WriteEffect(changes.counts(), True))
            writes = read_manifest(previous).writes if previous else ()
            if self.journal is not None:
                seq = self.journal.next_seq()
                self.journal.append_write(JournalWrite(seq, now(), who, sparql, base_iri, visibility,
                                                       changes.counts(), name))
                writes = (*writes, seq)
            quads = list(dataset.quads_for_pattern(None, None, None, None))
            return quads, VersionInfo("", "write", now(), who=who, writes=writes, changes=changes.counts())

        self.publish(change)
        return effects[0]

    def publish(self, make: Callable[[Path | None, str], tuple[list[ox.Quad], VersionInfo]]) -> VersionInfo:
        """Under the write lock: `make` gives the new dataset from the live version's folder (and the new
        version's name); it is recorded in the shared folder, loaded into the slot that is not live, and
        goes live with the pointer's rename. Anything failing before the rename leaves the live version
        as it was, and no record of the new one."""
        if not self._slots[INTERNAL]:
            raise StoreError("publishing to the shared store needs MK_SHARED_INTERNAL_URLS as well")
        with self._write_lock():
            live = self.pointer() if (self.path / POINTER).exists() else None
            previous = self._versions().with_name(live.version) if live else None
            self._reconcile(previous)
            name = f"{self._versions().name}-{time.time_ns()}"
            quads, made = make(previous, name)
            info = VersionInfo(name, made.kind, made.created, who=made.who, writes=made.writes, changes=made.changes,
                               quads=len(quads), note=made.note)
            slot = 1 - live.slot if live else 0
            if live is not None:
                self._wait_for_readers(live)
            folder = self._versions().with_name(name)
            views = audience_views(quads)
            try:
                publish_folder(folder, lambda staging: self._record(staging, quads, info, views))
                self._load_slot(slot, views)
                self._point(Pointer(name, slot, time.time()))
            except BaseException as exc:
                shutil.rmtree(folder, ignore_errors=True)
                if isinstance(exc, PublishFailed):
                    raise StoreError(f"cannot publish to the shared store at {self.path}: {exc.reason}") from exc
                raise
            newest = {f.name for f in version_folders(self._versions())[-self.keep_versions:]}
            self.pruned = prune(self._versions(), keep={*newest, name, *([live.version] if live else [])})
        return info

    def _versions(self) -> Path:
        return self.path / "versions" / "v"  # version folders are its siblings: versions/v-<time>

    @staticmethod
    def _record(folder: Path, quads: list[ox.Quad], info: VersionInfo, views: dict[str, list[ox.Quad]]) -> None:
        graphs = {audience: sorted({q.graph_name.value for q in view} - {DEFAULT_GRAPH}) for audience, view in views.items()}
        (folder / GRAPHS).write_text(json.dumps(graphs, indent=1), encoding="utf-8")
        ox.serialize(quads, output=str(folder / DATASET), format=ox.RdfFormat.N_QUADS)
        write_manifest(folder, info)

    def _load_slot(self, slot: int, views: dict[str, list[ox.Quad]]) -> None:
        """Fill slot `slot` of each audience with its view, and check what the server then holds. The slot
        is not live, so this need not be atomic: first the graphs the last publish put there go (the
        server may hold graphs of its own, which stay) and the new list is written, then the quads."""
        for audience, view in views.items():
            server = self._slots[audience][slot]
            graphs = sorted({q.graph_name.value for q in view} | {DEFAULT_GRAPH})
            before = {str(r["g"]) for r in server.select(f"SELECT ?g WHERE {{ GRAPH <{LOADED_GRAPH}> {{ ?g a <{_LOADED}> }} }}")}
            drops = [f"DROP SILENT GRAPH <{g}>" for g in sorted(before | {DEFAULT_GRAPH, LOADED_GRAPH})]
            listing = " ".join(f"<{g}> a <{_LOADED}> ." for g in graphs)
            server.update(" ;\n".join([*drops, f"INSERT DATA {{ GRAPH <{LOADED_GRAPH}> {{ {listing} }} }}"]))
            for part in insert_parts(view):
                server.update(RemoteStore.insert_request(part))
            held = server.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", protocol_dataset((), tuple(graphs)))
            if not held or int(held[0]["n"]) != len(view):
                raise StoreError(f"the {audience} server of slot {slot} ({server.query_url}) holds "
                                 f"{held[0]['n'] if held else 'no'} quads after loading {len(view)}; "
                                 "the live version is unchanged")

    def _point(self, pointer: Pointer) -> None:
        data = {"version": pointer.version, "slot": pointer.slot, "since": pointer.since,
                "published": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(pointer.since))}
        write_atomically(self.path / POINTER, json.dumps(data, indent=1).encode("utf-8"))

    def _wait_for_readers(self, live: Pointer) -> None:
        """The slot about to be filled went out of service when `live` went live: give the requests
        still reading it `grace_s` seconds from then."""
        left = live.since + self.grace_s - time.time()
        if left > 0:
            time.sleep(left)

    def _reconcile(self, previous: Path | None) -> None:
        """Journaled writes the live version does not hold were cut off before they went live."""
        if self.journal is None or previous is None or not (previous / MANIFEST).exists():
            return
        held = set(read_manifest(previous).writes)
        self.journal.end("abandon", [w.seq for w in self.journal.active() if w.seq not in held],
                         "the process stopped before this write went live; the store never had it")

    def _write_lock(self) -> AbstractContextManager[None]:
        """One publisher at a time, over every process on this host (flock; on a network folder, a
        lock its file system honours)."""
        return locked_file(self.path / ".publish.lock", lambda exc: StoreError(
            f"cannot lock the shared store at {self.path}: {exc.strerror or exc}"))


def insert_parts(quads: list[ox.Quad], size: int = INSERT_QUADS) -> Iterator[list[ox.Quad]]:
    """The quads in parts of `size` for one update request each (Virtuoso's SPARQL compiler runs out of
    memory on one INSERT DATA of the default data's 23,000 quads). The quads with a blank node come last,
    in two parts: those of the named graphs, then their copies in the view's default graph, so a blank
    node stays one node within each (Virtuoso refuses one blank node in two graphs with HTTP 500; a
    join of a blank node across the default graph and a named graph finds nothing here)."""
    ground: list[ox.Quad] = []
    blank: dict[bool, list[ox.Quad]] = {False: [], True: []}  # in the default graph's copy?
    for q in quads:
        if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode):
            blank[q.graph_name.value == DEFAULT_GRAPH].append(q)
        else:
            ground.append(q)
    for start in range(0, len(ground), size):
        yield ground[start:start + size]
    yield from (part for part in blank.values() if part)


def audience_views(quads: list[ox.Quad]) -> dict[str, list[ox.Quad]]:
    """Each audience's view of a dataset (kg.access) as its server holds it: the default graph, the
    union of the current graphs, as the named graph DEFAULT_GRAPH; no quad twice."""
    source = ox.Store()
    source.bulk_extend(quads)
    policy = read_policy(source)
    default = ox.NamedNode(DEFAULT_GRAPH)
    return {audience: list(dict.fromkeys(
        ox.Quad(q.subject, q.predicate, q.object, default) if isinstance(q.graph_name, ox.DefaultGraph) else q
        for q in view_quads(source, policy, audience))) for audience in AUDIENCES}
