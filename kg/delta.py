"""A write as a new store version made from the previous one, in milliseconds whatever the store's
size: the update runs in memory on just the graphs it names, and only the difference is carried
into hard-linked copies (RocksDB checkpoints) of the previous version's audience views.

A version folder holds one store per audience (kg.access) and `default.nq`, the default graph as
admins wrote it (the views' default graphs are unions). The internal view holds every named graph
as written, so together with `default.nq` it is the whole dataset: an update's own view of it.

The graphs an update reads and writes are read from its text (kg.sparql_text.written_graphs). Where
the text does not say (GRAPH ?g, DROP ALL), the whole dataset is loaded and the views are derived
anew, as a build does: slower, equally correct."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.access import AUDIENCES, INTERNAL, PUBLIC, GraphPolicy, read_policy, view_quads
from kg.errors import QueryError, StoreError
from kg.sparql_text import data_operations, written_graphs

DEFAULT = ""  # the default graph as admins wrote it, in change maps
DEFAULT_FILE = "default.nq"
LAYOUT = "layout-3"  # a file in every complete version folder, written last
_VISIBILITY = ox.NamedNode("https://w3id.org/missiekompas/ontology#visibility")
_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_EDITION = ox.NamedNode("https://w3id.org/missiekompas/ontology#Edition")
_WRITES_GRAPH = ox.NamedNode("urn:missiekompas:graph:write-visibility")  # declarations where no metadata graph exists


@dataclass
class Changes:
    """Quads added to and removed from each graph of the dataset by one write."""

    added: dict[str, set[ox.Quad]] = field(default_factory=dict)
    removed: dict[str, set[ox.Quad]] = field(default_factory=dict)

    def record(self, graph: str, before: set[ox.Quad], after: set[ox.Quad]) -> None:
        self.added.setdefault(graph, set()).update(after - before)
        self.removed.setdefault(graph, set()).update(before - after)

    def add(self, quad: ox.Quad) -> None:
        self.added.setdefault(_name(quad.graph_name), set()).add(quad)

    def remove(self, quad: ox.Quad) -> None:
        self.removed.setdefault(_name(quad.graph_name), set()).add(quad)

    def counts(self) -> dict[str, tuple[int, int]]:
        graphs = set(self.added) | set(self.removed)
        counts = {g: (len(self.added.get(g, ())), len(self.removed.get(g, ()))) for g in graphs}
        return {g: c for g, c in counts.items() if c != (0, 0)}


@dataclass(frozen=True)
class WriteEffect:
    changes: dict[str, tuple[int, int]]  # graph ("" for the default graph) -> (quads added, removed)
    views_rebuilt: bool  # the update did not say which graphs it writes: the views were derived anew


def _open_read_only(folder: Path) -> ox.Store:
    return ox.Store.read_only(str(folder))


def mark_complete(version: Path) -> None:
    """The last file of a version folder: a folder without it is never opened (kg.store)."""
    (version / LAYOUT).write_text("public/ and internal/: one view per audience; default.nq: the default graph "
                                  "as written\n")


def fill_views(target: Path, quads: Iterable[ox.Quad]) -> None:
    """Write a whole version into the empty folder `target`: the views of the dataset `quads`."""
    dataset = ox.Store()
    dataset.bulk_extend(quads)
    _derive(dataset, target)


def dataset_quads(version: Path) -> list[ox.Quad]:
    """Every quad of a version as written: the internal view's named graphs and `default.nq`."""
    internal = ox.Store.read_only(str(version / INTERNAL))
    named = [q for q in internal.quads_for_pattern(None, None, None, None) if not isinstance(q.graph_name, ox.DefaultGraph)]
    return named + read_default(version)


def read_default(version: Path) -> list[ox.Quad]:
    try:
        return list(ox.parse(path=str(version / DEFAULT_FILE), format=ox.RdfFormat.N_QUADS))
    except FileNotFoundError:
        return []


def write_version(previous: Path | None, target: Path, sparql: str, base_iri: str | None,
                  visibility: str | None = None, *, open_view: Callable[[Path], ox.Store] = _open_read_only
                  ) -> WriteEffect:
    """Fill the empty version folder `target` with `previous` (a version folder, or None for an empty
    store) changed by the update. `visibility` (public or internal) is given to the named graphs the
    update creates; None leaves new graphs internal (undeclared) and existing graphs as they are.
    `open_view` opens a view of `previous` read-only (a query worker passes the handles it holds)."""
    graphs = written_graphs(sparql, base_iri)
    if graphs is None or previous is None:
        return _rewrite(previous, target, sparql, base_iri, visibility)
    internal = open_view(previous / INTERNAL)
    default_before = set(read_default(previous))
    operations = data_operations(sparql)
    if operations is not None:
        changes = _data_changes(internal, default_before, operations, base_iri)
    else:
        changes = _changes_in_memory(internal, default_before, graphs, sparql, base_iri)
    policy = read_policy(internal)
    new = {g for g in graphs if next(internal.quads_for_pattern(None, None, None, ox.NamedNode(g)), None) is None}
    _declare(internal, new, policy, visibility, changes, changes)
    after = _policy_after(internal, default_before, changes)
    state = _State(internal, default_before, changes, after)
    for audience in AUDIENCES:
        handle = internal if audience == INTERNAL else open_view(previous / audience)
        _carry_into_view(handle, target / audience, audience, state, policy)
    _write_default(target, (default_before - changes.removed.get(DEFAULT, set())) | changes.added.get(DEFAULT, set()))
    return WriteEffect(changes.counts(), False)


def _changes_in_memory(internal: ox.Store, default: set[ox.Quad], graphs: frozenset[str], sparql: str,
                       base_iri: str | None) -> Changes:
    """Run the update in memory on the named graphs it reads or writes and the default graph: all it
    can see, so it does there exactly what it would do on the whole dataset."""
    work = ox.Store()
    work.bulk_extend(default)
    for g in graphs:
        work.bulk_extend(internal.quads_for_pattern(None, None, None, ox.NamedNode(g)))
    before = {g: _graph_quads(work, g) for g in (DEFAULT, *graphs)}
    _run(work, sparql, base_iri)
    changes = Changes()
    for g in (DEFAULT, *graphs):
        changes.record(g, before[g], _graph_quads(work, g))
    return changes


def _data_changes(internal: ox.Store, default: set[ox.Quad], operations: list[tuple[str, str]],
                  base_iri: str | None) -> Changes:
    """What INSERT DATA and DELETE DATA operations change, without reading any graph: each operation's
    quads (parsed by the engine into a scratch store), inserted where absent, deleted where present."""
    added: set[ox.Quad] = set()
    removed: set[ox.Quad] = set()

    def is_present(quad: ox.Quad) -> bool:
        if quad in added or quad in removed:
            return quad in added
        if isinstance(quad.graph_name, ox.DefaultGraph):
            return quad in default
        return next(internal.quads_for_pattern(quad.subject, quad.predicate, quad.object, quad.graph_name), None) \
            is not None

    for kind, text in operations:
        scratch = ox.Store()
        _run(scratch, text, base_iri)
        for quad in scratch.quads_for_pattern(None, None, None, None):
            if kind == "INSERT" and not is_present(quad):
                (removed.discard if quad in removed else added.add)(quad)
            elif kind == "DELETE" and is_present(quad):
                (added.discard if quad in added else removed.add)(quad)
    changes = Changes()
    for quad in added:
        changes.add(quad)
    for quad in removed:
        changes.remove(quad)
    return changes


def apply_write(dataset: ox.Store, sparql: str, base_iri: str | None, visibility: str | None = None) -> Changes:
    """Run a write on a whole dataset held in memory (the in-memory store, a build's replay, the slow
    path): the update, then the visibility of the graphs it created. Returns what changed."""
    graphs = written_graphs(sparql, base_iri)
    if visibility is not None and graphs is None:
        raise QueryError("a write with a visibility must name its graphs (GRAPH <iri>), not GRAPH ?g or ALL")
    policy = read_policy(dataset)
    watched = sorted(graphs) if graphs is not None else None
    before = {g: _graph_quads(dataset, g) for g in (DEFAULT, *watched)} if watched is not None else \
        {"*": set(dataset.quads_for_pattern(None, None, None, None))}
    _run(dataset, sparql, base_iri)
    changes = Changes()
    if watched is None:
        after = set(dataset.quads_for_pattern(None, None, None, None))
        for quad in after - before["*"]:
            changes.add(quad)
        for quad in before["*"] - after:
            changes.remove(quad)
        return changes
    for g in (DEFAULT, *watched):
        changes.record(g, before[g], _graph_quads(dataset, g))
    declared = Changes()
    _declare(dataset, {g for g in watched if not before[g]}, policy, visibility, changes, declared)
    for quads in declared.removed.values():
        for quad in quads:
            dataset.remove(quad)
    for quads in declared.added.values():
        dataset.extend(quads)
    return changes


def _rewrite(previous: Path | None, target: Path, sparql: str, base_iri: str | None,
             visibility: str | None) -> WriteEffect:
    """The slow path: the whole dataset in memory, the write run on it, the views derived anew."""
    dataset = ox.Store()
    if previous is not None:
        dataset.bulk_extend(dataset_quads(previous))
    changes = apply_write(dataset, sparql, base_iri, visibility)
    _derive(dataset, target)
    return WriteEffect(changes.counts(), True)


def _derive(dataset: ox.Store, target: Path) -> None:
    policy = read_policy(dataset)
    for audience in AUDIENCES:
        view = ox.Store(str(target / audience))
        view.bulk_extend(view_quads(dataset, policy, audience))
        view.flush()
        del view
    _write_default(target, dataset.quads_for_pattern(None, None, None, ox.DefaultGraph()))


def _write_default(target: Path, quads: Iterable[ox.Quad]) -> None:
    ox.serialize(sorted(quads, key=str), output=str(target / DEFAULT_FILE), format=ox.RdfFormat.N_QUADS)


def _run(dataset: ox.Store, sparql: str, base_iri: str | None) -> None:
    try:
        dataset.update(sparql, base_iri=base_iri)
    except SyntaxError as exc:
        raise QueryError(f"malformed SPARQL update: {exc}") from exc
    except RuntimeError as exc:  # pyoxigraph's evaluation errors, e.g. DROP of a graph that does not exist
        raise QueryError(f"the update could not be applied: {exc}") from exc
    except OSError as exc:
        raise StoreError(f"the update failed: {exc}") from exc


def _graph_node(graph: str) -> ox.NamedNode | ox.DefaultGraph:
    return ox.DefaultGraph() if graph == DEFAULT else ox.NamedNode(graph)


def _graph_quads(store: ox.Store, graph: str) -> set[ox.Quad]:
    return set(store.quads_for_pattern(None, None, None, _graph_node(graph)))


def _name(graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> str:
    return DEFAULT if isinstance(graph, ox.DefaultGraph) else graph.value


def _declare(dataset: ox.Store, new: set[str], policy: GraphPolicy, visibility: str | None, changes: Changes,
             declared: Changes) -> None:
    """Give the graphs this write created (`new`, given what it `changes`) the asked visibility, stale
    declarations of a graph that was dropped going first, and record that in `declared`; refuse to
    change the visibility of a graph that already has content. `dataset` holds every named graph."""
    for g, (added, _removed) in changes.counts().items():
        if g == DEFAULT or g in new or visibility is None or not added:
            continue
        current = PUBLIC if g in policy.public else INTERNAL
        if current != visibility:
            raise QueryError(f"the graph <{g}> is {current} already; a write does not change the visibility of "
                             "a graph with content (drop it first, then write it again with the visibility)")
    for g in sorted(new):
        if not changes.added.get(g):
            continue
        for quad in dataset.quads_for_pattern(ox.NamedNode(g), _VISIBILITY, None, None):
            if not isinstance(quad.graph_name, ox.DefaultGraph):
                declared.remove(quad)
        if visibility == PUBLIC:
            declared.add(ox.Quad(ox.NamedNode(g), _VISIBILITY, ox.Literal(PUBLIC), _meta_graph(dataset)))


def _meta_graph(internal: ox.Store) -> ox.NamedNode:
    """The public metadata graph: the one that declares itself public (kg.build)."""
    for quad in internal.quads_for_pattern(None, _VISIBILITY, ox.Literal(PUBLIC), None):
        if quad.graph_name == quad.subject:
            return quad.subject  # type: ignore[return-value]
    return _WRITES_GRAPH


def _policy_after(internal: ox.Store, default: set[ox.Quad], changes: Changes) -> GraphPolicy:
    """The visibility declarations and editions once the write is applied (they are few)."""
    def is_declaration(quad: ox.Quad) -> bool:
        return quad.predicate == _VISIBILITY or (quad.predicate == _TYPE and quad.object == _EDITION)

    declared = ox.Store()
    for pattern in ((None, _VISIBILITY, None, None), (None, _TYPE, _EDITION, None)):
        declared.extend(q for q in internal.quads_for_pattern(*pattern) if not isinstance(q.graph_name, ox.DefaultGraph))
    declared.extend(q for q in default if is_declaration(q))
    for quads in changes.removed.values():
        for quad in quads:
            declared.remove(quad)
    for quads in changes.added.values():
        declared.extend(q for q in quads if is_declaration(q))
    return read_policy(declared)


class _State:
    """The dataset after the write, as far as the views need it: a graph's content, and whether a
    triple is still given to an audience's default graph by some graph."""

    def __init__(self, internal: ox.Store, default: set[ox.Quad], changes: Changes, policy: GraphPolicy) -> None:
        self.internal, self.default_before, self.changes, self.policy = internal, default, changes, policy

    def content(self, graph: str) -> set[ox.Quad]:
        before = set(self.internal.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
        return (before - self.changes.removed.get(graph, set())) | self.changes.added.get(graph, set())

    def gives_to_union(self, triple: ox.Triple, audience: str) -> bool:
        candidates = [q for q in self.internal.quads_for_pattern(triple.subject, triple.predicate, triple.object, None)
                      if not isinstance(q.graph_name, ox.DefaultGraph)]
        candidates += [ox.Quad(*triple, ox.DefaultGraph())] if audience == INTERNAL else []
        candidates += [q for quads in self.changes.added.values() for q in quads if q.triple == triple]
        for quad in candidates:
            graph = _name(quad.graph_name)
            if quad in self.changes.removed.get(graph, set()):
                continue
            if graph == DEFAULT:
                if audience == INTERNAL and self._in_default(quad):
                    return True
            elif self.policy.visible(graph, audience) and graph not in self.policy.editions:
                return True
        return False

    def _in_default(self, quad: ox.Quad) -> bool:
        return quad in self.changes.added.get(DEFAULT, set()) or quad in self.default_before


def _carry_into_view(previous: ox.Store, folder: Path, audience: str, state: _State, before: GraphPolicy) -> None:
    """One audience's view of the new version: a copy of the previous one (opened read-only), changed by what changed in
    the dataset: the named graphs it sees, and its default graph (the union of those that are not
    editions, plus, for the internal view, the default graph as written)."""
    changes, after = state.changes, state.policy
    removals: list[ox.Quad] = []
    additions: list[ox.Quad] = []
    unions_lost: set[ox.Triple] = set()
    shifted = (before.public ^ after.public) | (before.editions ^ after.editions)
    for g in sorted(set(changes.added) | set(changes.removed) | shifted):
        added, removed = changes.added.get(g, set()), changes.removed.get(g, set())
        if g == DEFAULT:
            if audience == INTERNAL:
                unions_lost.update(q.triple for q in removed)
                additions += added
            continue
        seen_before, seen_after = before.visible(g, audience), after.visible(g, audience)
        if g in shifted:  # its visibility or edition status changed: all of it moves
            now = state.content(g)
            old = ((now - added) | removed) if seen_before else set()
            new = now if seen_after else set()
        elif not seen_after:
            continue
        else:
            old, new = removed, added
        removals += old - new
        additions += new - old
        old_union = {q.triple for q in old} if g not in before.editions else set()
        new_union = {q.triple for q in new} if g not in after.editions else set()
        unions_lost.update(old_union - new_union)
        additions += [ox.Quad(*t, ox.DefaultGraph()) for t in new_union - old_union]
    removals += [ox.Quad(*t, ox.DefaultGraph()) for t in unions_lost if not state.gives_to_union(t, audience)]
    previous.backup(str(folder))
    if not removals and not additions:
        return
    view = ox.Store(str(folder))
    if removals:
        for quad in removals:
            view.remove(quad)
        view.flush()  # a checkpoint of a read-only store (the next write's copy) holds flushed data only
    if additions:
        view.bulk_extend(additions)  # written as table files directly: nothing to flush (the folder is not live yet)
    del view
