"""Organisation profiles, derived from the graph: every organisation's track record (the consortia it led, was
partner of or funded, with their clusters, themes, missions, MMIPs and knowledge questions), its kind, and one
vector made of its consortia's texts.

An organisation's vector is the mean of the vectors of the consortia it was lead or partner of (a consortium's
vector: the mean of its documents' vectors in the search index), of length 1, with a hubness penalty as every
document has (search.hubness): its mean cosine to the reference proposals. A funder's role is part of its
track record but not of its vector: paying for a project is not doing it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from kg.cooperation import MEMBER_ROLES, Role, consortia_worked_in, load_roles
from kg.queries import named_query
from kg.store import GraphView
from search.hubness import hub_penalties
from search.index import SearchIndex
from search.portfolio import Portfolio, load_portfolio


@dataclass(frozen=True)
class Profile:
    """One organisation: its labels, every name it is known by (labels and alternative labels), its kind
    (mk:organisationKind: university, research_institute, company, ...; "other" where the graph has none),
    its sample mark and its roles in consortia."""

    iri: str
    labels: dict[str, str]
    names: tuple[str, ...]
    kind: str
    is_sample: bool
    roles: tuple[Role, ...]

    @property
    def label(self) -> str:
        return self.labels.get("nl") or self.labels.get("en") or next(iter(self.labels.values()), self.iri)

    @property
    def worked_in(self) -> tuple[str, ...]:
        """The consortia it was lead or partner of."""
        return tuple(dict.fromkeys(r.consortium for r in self.roles if r.role in MEMBER_ROLES))

    def role_in(self, consortium: str) -> str:
        """lead, partner or funder (the first the graph gives, lead before partner)."""
        return min((r.role for r in self.roles if r.consortium == consortium), key=("lead", "partner", "funder").index)


@dataclass(frozen=True)
class Profiles:
    """Every organisation's profile, the consortia (the portfolio: kinds, labels, links), and a vector per
    organisation that was lead or partner of a consortium with text: row i of `vectors` is `iris[i]`."""

    profiles: dict[str, Profile]
    portfolio: Portfolio
    iris: tuple[str, ...]
    vectors: np.ndarray
    penalties: np.ndarray

    @cached_property
    def worked_in(self) -> dict[str, frozenset[str]]:
        """organisation -> the consortia it was lead or partner of (kg.cooperation)."""
        return consortia_worked_in(tuple(r for p in self.profiles.values() for r in p.roles))

    def covered(self, organisations: tuple[str, ...], relation: str) -> frozenset[str]:
        """What the consortia these organisations worked in link to by `relation` (cluster, mission, ...)."""
        return frozenset(target for org in organisations for consortium in self.worked_in.get(org, ())
                         for target in self.portfolio.linked(consortium, relation))


def load_profiles(view: GraphView, index: SearchIndex, *, samples: bool = True, hubness_weight: float = 1.0) -> Profiles:
    """Every organisation of `view` with its track record and vector (consortium vectors from `index`); without
    `samples`, sample organisations have no profile and sample consortia are in no one's track record."""
    portfolio = load_portfolio(view, index, samples=samples)
    roles: dict[str, list[Role]] = defaultdict(list)
    for role in load_roles(view):
        if role.consortium in portfolio.kinds:
            roles[role.organisation].append(role)
    profiles = {p.iri: p for p in _named_profiles(view, roles) if samples or not p.is_sample}
    consortia = consortium_vectors(index, portfolio.with_text)
    iris = tuple(iri for iri, p in profiles.items() if any(c in consortia for c in p.worked_in))
    vectors = np.vstack([_unit(np.mean([consortia[c] for c in profiles[iri].worked_in if c in consortia], axis=0))
                         for iri in iris]) if iris else np.zeros((0, index.doc_vectors.shape[1]), dtype=np.float32)
    reference = index.reference_vectors if index.reference_vectors is not None else np.zeros((0, vectors.shape[1]))
    penalties = (hubness_weight * hub_penalties(vectors, reference)).astype(np.float32)
    return Profiles(profiles, portfolio, iris, vectors.astype(np.float32), penalties)


def _named_profiles(view: GraphView, roles: dict[str, list[Role]]) -> list[Profile]:
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    names: dict[str, dict[str, None]] = defaultdict(dict)
    kinds: dict[str, str] = {}
    samples: set[str] = set()
    for row in view.select(named_query("organisation_names")):
        iri, name = str(row["organisation"]), str(row["name"])
        names[iri][name] = None
        if row["form"] == "label":
            labels[iri][str(row.get("lang") or "")] = name
        kinds[iri] = str(row.get("kind") or "other")
        if row.get("sample") is True:
            samples.add(iri)
    return [Profile(iri, dict(labels[iri]), tuple(names[iri]), kinds[iri], iri in samples, tuple(roles.get(iri, ())))
            for iri in sorted(names)]


def consortium_vectors(index: SearchIndex, consortia: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Each consortium's vector: the mean of its documents' vectors, of length 1."""
    rows: dict[str, list[int]] = defaultdict(list)
    wanted = set(consortia)
    for i, doc in enumerate(index.documents):
        if doc.entity in wanted:
            rows[doc.entity].append(i)
    return {c: _unit(index.doc_vectors[r].mean(axis=0)) for c, r in rows.items()}


def _unit(vector: np.ndarray) -> np.ndarray:
    return (vector / (np.linalg.norm(vector) or 1.0)).astype(np.float32)
