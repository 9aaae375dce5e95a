"""Who sees what. Every named graph is public or internal (declared in the dataset's metadata; a
graph nobody declared counts as internal). Each audience reads its own materialised view of the
dataset: its visible graphs as named graphs, and as default graph the union of those that are not
past editions. A public view physically holds no internal quad, so no query can reach one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import pyoxigraph as ox

from ontology import MK

PUBLIC = "public"
INTERNAL = "internal"
AUDIENCES = (PUBLIC, INTERNAL)

_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_VISIBILITY = ox.NamedNode(str(MK.visibility))
_EDITION = ox.NamedNode(str(MK.Edition))


@dataclass(frozen=True)
class GraphPolicy:
    """The graphs the public may see, and the graphs that hold past editions."""

    public: frozenset[str]
    editions: frozenset[str]

    def visible(self, graph: str, audience: str) -> bool:
        return audience == INTERNAL or graph in self.public


def read_policy(source: ox.Store) -> GraphPolicy:
    """Visibility as the metadata declares it; a graph declared both ways is internal."""
    declared: dict[str, set[str]] = defaultdict(set)
    for quad in source.quads_for_pattern(None, _VISIBILITY, None, None):
        if isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.Literal):
            declared[quad.subject.value].add(quad.object.value)
    editions = {q.subject.value for q in source.quads_for_pattern(None, _TYPE, _EDITION, None)
                if isinstance(q.subject, ox.NamedNode)}
    public = {g for g, values in declared.items() if values == {PUBLIC}}
    return GraphPolicy(frozenset(public), frozenset(editions))


def view_quads(source: ox.Store, policy: GraphPolicy, audience: str) -> Iterator[ox.Quad]:
    """The quads of one audience's view: visible named graphs as they are, plus their union as the
    default graph (editions stay out of it: the default graph is the current portfolio). Quads the
    source holds in its own default graph (only an admin's update puts them there) are internal."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    default = ox.DefaultGraph()
    for quad in source.quads_for_pattern(None, None, None, None):
        graph = quad.graph_name
        if isinstance(graph, ox.DefaultGraph):
            if audience == INTERNAL:
                yield quad
            continue
        if not policy.visible(graph.value, audience):
            continue
        yield quad
        if graph.value not in policy.editions:
            yield ox.Quad(quad.subject, quad.predicate, quad.object, default)
