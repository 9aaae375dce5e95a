"""Who worked with whom: the part every organisation takes in the consortia, and the organisations one of them
shared a consortium with (its co-operation network, as its page shows it)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kg.queries import named_query
from kg.store import GraphView

MEMBER_ROLES = ("lead", "partner")  # working in a consortium; a funder pays for it (mk:fundedBy)


@dataclass(frozen=True)
class Role:
    """One organisation's part in one consortium (programme or project): lead, partner or funder."""

    organisation: str
    consortium: str
    role: str


@dataclass(frozen=True)
class Named:
    """An entity named on a page: its labels per language and its sample mark."""

    iri: str
    labels: dict[str, str]
    is_sample: bool

    @property
    def label(self) -> str:
        return self.labels.get("nl") or self.labels.get("en") or next(iter(self.labels.values()), self.iri)


@dataclass(frozen=True)
class CoWorker:
    """An organisation that was lead or partner of `consortia` together with the organisation asked about."""

    organisation: Named
    consortia: tuple[Named, ...]


def load_roles(view: GraphView) -> tuple[Role, ...]:
    """Every organisation's roles in every consortium (named query organisation_roles)."""
    return tuple(Role(str(r["organisation"]), str(r["consortium"]), str(r["role"]))
                 for r in view.select(named_query("organisation_roles")))


def consortia_worked_in(roles: tuple[Role, ...]) -> dict[str, frozenset[str]]:
    """organisation -> the consortia it was lead or partner of: two organisations worked together where
    these meet."""
    found: dict[str, set[str]] = defaultdict(set)
    for role in roles:
        if role.role in MEMBER_ROLES:
            found[role.organisation].add(role.consortium)
    return {org: frozenset(consortia) for org, consortia in found.items()}


def cooperation_network(view: GraphView, organisation: str) -> tuple[CoWorker, ...]:
    """The organisations that shared a consortium with `organisation` (both lead or partner), most shared
    consortia first, then by label; each with the consortia shared, by label."""
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    samples: set[str] = set()
    shared: dict[str, set[str]] = defaultdict(set)
    for row in view.select(named_query("cooperation_network", organisation)):
        partner, consortium = str(row["partner"]), str(row["consortium"])
        shared[partner].add(consortium)
        for who, prefix in ((partner, "partner"), (consortium, "consortium")):
            if row.get(f"{prefix}Label") is not None:
                labels[who][str(row.get(f"{prefix}Lang") or "")] = str(row[f"{prefix}Label"])
            if row.get(f"{prefix}Sample") is True:
                samples.add(who)

    def named(iri: str) -> Named:
        return Named(iri, dict(labels[iri]), iri in samples)

    workers = [CoWorker(named(p), tuple(sorted((named(c) for c in consortia), key=lambda n: n.label)))
               for p, consortia in shared.items()]
    return tuple(sorted(workers, key=lambda w: (-len(w.consortia), w.organisation.label.casefold())))
