"""The MJP portfolio as the analytics see it: every MJP in the index with its explicit links."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from kg.queries import named_query
from kg.store import GraphView
from search.index import SearchIndex

RELATIONS = ("question", "mission", "mmip", "cluster", "theme")


@dataclass(frozen=True)
class Ref:
    """An entity named in a result: enough to show it and link to it."""

    iri: str
    label: str
    is_sample: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Portfolio:
    """MJPs (in IRI order) and, per MJP, the IRIs it links to per relation (see RELATIONS)."""

    mjps: tuple[str, ...]
    links: dict[str, dict[str, frozenset[str]]]
    samples: frozenset[str]

    @property
    def sample_count(self) -> int:
        return len(self.samples)

    def linked(self, mjp: str, relation: str) -> frozenset[str]:
        return self.links.get(mjp, {}).get(relation, frozenset())

    def pairs(self, relation: str) -> set[tuple[str, str]]:
        """Every (MJP, target) link of one relation."""
        return {(mjp, target) for mjp in self.mjps for target in self.linked(mjp, relation)}


def load_portfolio(store: GraphView, index: SearchIndex) -> Portfolio:
    """The MJPs of the graph that the index holds, with their links (one SPARQL query)."""
    links: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    mjps: set[str] = set()
    samples: set[str] = set()
    for row in store.select(named_query("mjp_links")):
        mjp = str(row["mjp"])
        if mjp not in index.entities:
            continue
        mjps.add(mjp)
        if row.get("sample"):
            samples.add(mjp)
        if "relation" in row:
            links[mjp][str(row["relation"])].add(str(row["target"]))
    frozen = {m: {r: frozenset(t) for r, t in by.items()} for m, by in links.items()}
    return Portfolio(tuple(sorted(mjps)), frozen, frozenset(samples))


def ref(index: SearchIndex, iri: str) -> Ref:
    """The entity's label and sample flag from the index (its IRI as label when it is not there)."""
    entity = index.entities.get(iri)
    return Ref(iri, entity.label, entity.is_sample) if entity else Ref(iri, iri)
