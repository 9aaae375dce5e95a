"""The portfolio as the analytics see it: every consortium of the graph (each org:OrganizationalCollaboration:
MJPs, broadly supported programmes, related programmes and projects) with its kind, its sample flag and its
explicit links (named query ``portfolio_links``), optionally without the samples.

Links count for every consortium; texts only for those whose text the search index holds (`with_text`),
since similarity needs their chunk vectors. Every answer says what it counted (PortfolioCount).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from kg.figures import CONSORTIUM_KINDS
from kg.queries import named_query
from kg.store import GraphView
from search.index import SearchIndex

RELATIONS = ("question", "mission", "mmip", "cluster", "theme")
KINDS = CONSORTIUM_KINDS  # mjp, bgp, related, project: the order answers list them in
SAMPLES_CHOICES = ("include", "exclude")


@dataclass(frozen=True)
class Ref:
    """An entity named in a result: enough to show it and link to it."""

    iri: str
    label: str
    is_sample: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ConsortiumRef(Ref):
    """A consortium named in a result, with its kind (mjp, bgp, related, project)."""

    kind: str = ""


@dataclass(frozen=True)
class PortfolioCount:
    """What an answer counted: real and sample consortia, per kind; whether samples were left out."""

    real: int
    samples: int
    by_kind: dict[str, dict[str, int]]  # kind -> {"real": n, "samples": m}, every kind of KINDS listed
    with_text: int  # of the counted consortia: those whose text is in the search index
    samples_included: bool
    samples_left_out: int

    @property
    def consortia(self) -> int:
        return self.real + self.samples

    @property
    def sample_only(self) -> bool:
        """Every consortium counted is a sample: nothing here describes the real portfolio."""
        return self.samples > 0 and self.real == 0

    def to_dict(self) -> dict[str, Any]:
        return {"consortia": self.consortia, "real_consortia": self.real, "sample_consortia": self.samples,
                "consortia_by_kind": self.by_kind, "consortia_with_text": self.with_text,
                "samples": "include" if self.samples_included else "exclude", "samples_left_out": self.samples_left_out}


def samples_note(count: PortfolioCount) -> str | None:
    """What the samples mean for an answer: counted (and how to leave them out), or left out."""
    if count.samples:
        return (f"The portfolio holds {count.samples} sample consortia of {count.consortia}: illustrative records, "
                "not real programmes or projects; their links and texts count. Leave them out with samples=exclude "
                "(--no-samples).")
    if count.samples_left_out:
        return f"{count.samples_left_out} sample consortia were left out (samples=exclude): only real records count."
    return None


# The keys PortfolioCount.to_dict() puts into an answer (for the OpenAPI document).
COUNT_KEYS: dict[str, Any] = {"consortia": int, "real_consortia": int, "sample_consortia": int,
                              "consortia_by_kind": dict[str, dict[str, int]], "consortia_with_text": int,
                              "samples": str, "samples_left_out": int}


@dataclass(frozen=True)
class Portfolio:
    """Consortia (in IRI order), their kinds and labels and, per consortium, the IRIs it links to per relation."""

    members: tuple[str, ...]
    kinds: dict[str, str]
    labels: dict[str, str]
    links: dict[str, dict[str, frozenset[str]]]
    samples: frozenset[str]
    with_text: tuple[str, ...]  # the members whose text the index holds, in IRI order
    samples_included: bool = True
    samples_left_out: int = 0

    @property
    def sample_count(self) -> int:
        return len(self.samples)

    @property
    def real_count(self) -> int:
        return len(self.members) - len(self.samples)

    def linked(self, member: str, relation: str) -> frozenset[str]:
        return self.links.get(member, {}).get(relation, frozenset())

    def pairs(self, relation: str) -> set[tuple[str, str]]:
        """Every (consortium, target) link of one relation."""
        return {(m, target) for m in self.members for target in self.linked(m, relation)}

    def kind_counts(self, members: set[str] | frozenset[str] | tuple[str, ...]) -> dict[str, int]:
        """How many of `members` are of each kind (every kind of KINDS listed)."""
        counts = dict.fromkeys(KINDS, 0)
        for m in members:
            kind = self.kinds.get(m, "other")
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    def count(self) -> PortfolioCount:
        by_kind = {k: {"real": 0, "samples": 0} for k in KINDS}
        for m in self.members:
            part = by_kind.setdefault(self.kinds.get(m, "other"), {"real": 0, "samples": 0})
            part["samples" if m in self.samples else "real"] += 1
        return PortfolioCount(self.real_count, self.sample_count, by_kind, len(self.with_text), self.samples_included,
                              self.samples_left_out)

    def ref(self, iri: str) -> ConsortiumRef:
        return ConsortiumRef(iri, self.labels.get(iri, iri), iri in self.samples, self.kinds.get(iri, "other"))

    def without_samples(self) -> Portfolio:
        """The real consortia only: the samples, their links and their texts left out (and counted as left out)."""
        kept = tuple(m for m in self.members if m not in self.samples)
        return Portfolio(kept, {m: self.kinds[m] for m in kept}, {m: self.labels[m] for m in kept},
                         {m: by for m, by in self.links.items() if m not in self.samples}, frozenset(),
                         tuple(m for m in self.with_text if m not in self.samples), False,
                         self.samples_left_out + len(self.samples))


def load_portfolio(store: GraphView, index: SearchIndex, *, samples: bool = True) -> Portfolio:
    """Every consortium of the graph with its links (one SPARQL query); without the samples when `samples`
    is False (their links and texts then count nowhere)."""
    links: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    kinds: dict[str, str] = {}
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    flagged: set[str] = set()
    for row in store.select(named_query("portfolio_links")):
        member = str(row["consortium"])
        kinds.setdefault(member, str(row.get("kind") or "other"))
        if row.get("sample") is True:
            flagged.add(member)
        relation = row.get("relation")
        if relation == "label":
            labels[member].setdefault(str(row.get("lang") or ""), str(row["target"]))
        elif relation is not None:
            links[member][str(relation)].add(str(row["target"]))
    members = sorted(kinds)
    frozen = {m: {r: frozenset(t) for r, t in links[m].items()} for m in members if m in links}
    named = {m: labels[m].get("nl") or labels[m].get("en") or next(iter(labels[m].values()), m) for m in members}
    portfolio = Portfolio(tuple(members), kinds, named, frozen, frozenset(flagged),
                          tuple(m for m in members if m in index.entities))
    return portfolio if samples else portfolio.without_samples()


def ref(index: SearchIndex, iri: str) -> Ref:
    """The entity's label and sample flag from the index (its IRI as label when it is not there)."""
    entity = index.entities.get(iri)
    return Ref(iri, entity.label, entity.is_sample) if entity else Ref(iri, iri)


def include_samples(choice: str | None) -> bool:
    """samples=include (the default) or samples=exclude, as the API and the dashboard take it."""
    given = (choice or "include").strip().lower()
    if given not in SAMPLES_CHOICES:
        raise ValueError(f"samples={choice} is neither include nor exclude")
    return given == "include"
