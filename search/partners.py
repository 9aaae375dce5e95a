"""Partner suggestions: for a proposal and the organisations already in its consortium, the organisations whose
track record fits the proposal and adds what the consortium lacks, each explained by the projects behind it.

An organisation's *fit* is the hubness-corrected similarity (search.hubness) of its best consortium: the best
document of a programme or project it was lead or partner of, as a match scores a consortium hit. Its score
adds to that a bonus for what it brings to the consortium (search.profiles.Profiles.covered: what the
members' own consortia cover):

    score = fit + CLUSTER_BONUS per new cluster (two at most) + MISSION_BONUS per new mission (two at most)
                + KIND_BONUS for a kind of organisation the consortium lacks (a company, a research institute, ...)
                + COOPERATION_BONUS where it has worked with a member before

New clusters and missions count only from its *relevant* consortia, those that fit the proposal at least
fairly (search.strength), so an organisation gains nothing from unrelated work, and one that fits weakly
gains no bonus at all. Without members nothing is complemented: the ranking is by fit
(what each would add is still shown). The strength label is that of the fit.

Equal scores are common (the sixteen partners of one project share its fit); they are ordered by the
*profile fit*, the corrected similarity of the organisation's profile vector (search.profiles: the mean of
all its consortia), so an organisation whose whole record is about the subject comes before one for which
it is one project of many. Ranking by the profile fit alone buried large research institutes with one
highly relevant project under small firms: docs/partners.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from kg.store import GraphView
from search.hubness import match_passages, mean_vector
from search.index import SearchIndex
from search.match import Matcher
from search.organisation_names import OrganisationNames
from search.portfolio import ConsortiumRef, Ref, ref
from search.profiles import Profiles, load_profiles
from search.readers import read_text_input
from search.result import SAMPLES
from search.strength import no_strong_match
from search.text import detect_language

SUPPORTING = 3  # consortia shown behind a suggestion
# Bonuses in units of corrected similarity: 0.01 is the gap between the fair and the strong threshold.
CLUSTER_BONUS, MISSION_BONUS, KIND_BONUS, COOPERATION_BONUS = 0.01, 0.005, 0.01, 0.005
MAX_BONUS = 2 * CLUSTER_BONUS + 2 * MISSION_BONUS + KIND_BONUS + COOPERATION_BONUS


@dataclass(frozen=True)
class Support:
    """A consortium behind a suggestion: the organisation's role there and its corrected similarity."""

    consortium: ConsortiumRef
    role: str
    similarity: float


@dataclass(frozen=True)
class WorkedWith:
    """A member of the consortium the suggested organisation already worked with, and where."""

    member: Ref
    consortia: tuple[ConsortiumRef, ...]


@dataclass(frozen=True)
class PartnerSuggestion:
    iri: str
    label: str
    kind: str
    is_sample: bool
    score: float
    fit: float
    profile_fit: float
    strength: str
    bonus: float  # what it adds to the consortium, in units of the fit (the module's docstring)
    projects: tuple[Support, ...]
    adds_clusters: tuple[Ref, ...]
    adds_missions: tuple[Ref, ...]
    adds_kind: bool
    worked_with: tuple[WorkedWith, ...]


@dataclass(frozen=True)
class Consortium:
    """The consortium asked about: its members and what their track records cover."""

    members: tuple[Ref, ...]
    kinds: tuple[str, ...]
    clusters: tuple[Ref, ...]
    missions: tuple[Ref, ...]


@dataclass(frozen=True)
class PartnersResult:
    language: str
    consortium: Consortium
    suggestions: tuple[PartnerSuggestion, ...]
    samples: str = "include"
    no_strong_match: bool = False
    strength_thresholds: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PartnerFinder:
    """Partner suggestions over a matcher's index and model and the graph view it was built from. Profiles
    are loaded at the first suggestion (with and without samples: each once), unless `profiles` (made
    elsewhere, by bench/bench_partners.py say) are given: they then serve both."""

    def __init__(self, matcher: Matcher, view: GraphView, base: str, profiles: Profiles | None = None) -> None:
        self.matcher, self.view, self.base = matcher, view, base
        self._profiles: dict[bool, Profiles] = {} if profiles is None else {True: profiles, False: profiles}

    def profiles(self, include_samples: bool = True) -> Profiles:
        if include_samples not in self._profiles:
            self._profiles[include_samples] = load_profiles(self.view, self.matcher.index, samples=include_samples,
                                                            hubness_weight=self.matcher.hubness_weight)
        return self._profiles[include_samples]

    def names(self, include_samples: bool = True) -> OrganisationNames:
        profiles = self.profiles(include_samples).profiles
        return OrganisationNames({i: p.names for i, p in profiles.items()}, {i: p.label for i, p in profiles.items()},
                                 self.base)

    @cached_property
    def _rows(self) -> dict[str, np.ndarray]:
        found: dict[str, list[int]] = defaultdict(list)
        for i, doc in enumerate(self.matcher.index.documents):
            found[doc.entity].append(i)
        return {iri: np.array(rows) for iri, rows in found.items()}

    def suggest(self, text: str, have: tuple[str, ...] = (), *, top: int = 10,
                include_samples: bool = True) -> PartnersResult:
        """The `top` organisations to add to a consortium of `have` (names, ids or IRIs; UnknownOrganisation
        for one that names none) for the proposal `text`."""
        text = read_text_input(text)
        members = self.names(include_samples).resolve(have)
        passages = match_passages(text)
        query = mean_vector(self.matcher.encode_passages(passages))
        return self.suggest_for(query, members, top=top, include_samples=include_samples,
                                language=detect_language(text))

    def suggest_for(self, query: np.ndarray, members: tuple[str, ...], *, top: int = 10, include_samples: bool = True,
                    language: str = "") -> PartnersResult:
        """suggest for a query vector and member IRIs: the ranking itself (bench/bench_partners.py times it)."""
        profiles = self.profiles(include_samples)
        index, strength = self.matcher.index, self.matcher.strength
        corrected = index.doc_vectors @ query - self.matcher.hubness_weight * index.penalties()
        consortium_fit = {c: float(corrected[self._rows[c]].max()) for c in profiles.portfolio.with_text}
        consortium = _consortium(profiles, index, members)
        fits = {iri: max(consortium_fit[c] for c in profiles.profiles[iri].worked_in if c in consortium_fit)
                for iri in profiles.iris if iri not in members}
        profile_fit = dict(zip(profiles.iris, (profiles.vectors @ query - profiles.penalties).tolist(), strict=True))
        ranked = sorted(fits, key=lambda iri: (-fits[iri], iri))
        floor = fits[ranked[min(top, len(ranked)) - 1]] - MAX_BONUS if ranked else 0.0
        scored = [self._suggestion(profiles, iri, (fits[iri], profile_fit[iri]), consortium_fit, consortium, members)
                  for iri in ranked if fits[iri] >= floor]
        best = sorted(scored, key=lambda s: (-s.score, -s.profile_fit, s.iri))[:top]
        top_fit = max((s.fit for s in best), default=None)
        labelled = tuple(replace(s, strength=strength.label(s.fit, best=s.fit == top_fit)) for s in best)
        return PartnersResult(language, consortium, labelled, SAMPLES[0] if include_samples else SAMPLES[1],
                              no_strong_match(s.strength for s in labelled),
                              {"strong": strength.strong, "fair": strength.fair})

    def _suggestion(self, profiles: Profiles, iri: str, fits: tuple[float, float], consortium_fit: dict[str, float],
                    consortium: Consortium, members: tuple[str, ...]) -> PartnerSuggestion:
        """`fits`: the organisation's fit and profile fit."""
        profile, (fit, profile_fit) = profiles.profiles[iri], fits
        index, portfolio = self.matcher.index, profiles.portfolio
        mine = sorted((c for c in profile.worked_in if c in consortium_fit), key=lambda c: -consortium_fit[c])
        shown = [c for c in mine[:SUPPORTING] if consortium_fit[c] > 0] or mine[:1]
        relevant = [c for c in mine if consortium_fit[c] >= self.matcher.strength.fair]
        had = {"cluster": {r.iri for r in consortium.clusters}, "mission": {r.iri for r in consortium.missions}}
        adds = {rel: sorted({t for c in relevant for t in portfolio.linked(c, rel)} - had[rel])
                for rel in ("cluster", "mission")}
        adds_kind = profile.kind not in consortium.kinds
        worked_with = _worked_with(profiles, iri, members)
        bonus = (CLUSTER_BONUS * min(len(adds["cluster"]), 2) + MISSION_BONUS * min(len(adds["mission"]), 2)
                 + KIND_BONUS * adds_kind + COOPERATION_BONUS * bool(worked_with)) if members and relevant else 0.0
        score = fit + bonus
        return PartnerSuggestion(
            iri, profile.label, profile.kind, profile.is_sample, round(score, 4), round(fit, 4),
            round(profile_fit, 4), "weak",
            round(bonus, 4), tuple(Support(portfolio.ref(c), profile.role_in(c), round(consortium_fit[c], 4))
                                        for c in shown),
            tuple(ref(index, t) for t in adds["cluster"]), tuple(ref(index, t) for t in adds["mission"]), adds_kind,
            worked_with)


def _consortium(profiles: Profiles, index: SearchIndex, members: tuple[str, ...]) -> Consortium:
    named = profiles.profiles
    return Consortium(tuple(Ref(m, named[m].label, named[m].is_sample) for m in members),
                      tuple(sorted({named[m].kind for m in members})),
                      tuple(ref(index, c) for c in sorted(profiles.covered(members, "cluster"))),
                      tuple(ref(index, m) for m in sorted(profiles.covered(members, "mission"))))


def _worked_with(profiles: Profiles, iri: str, members: tuple[str, ...]) -> tuple[WorkedWith, ...]:
    mine = profiles.worked_in.get(iri, frozenset())
    named = profiles.profiles
    found = []
    for member in members:
        shared = sorted(mine & profiles.worked_in.get(member, frozenset()))
        if shared:
            found.append(WorkedWith(Ref(member, named[member].label, named[member].is_sample),
                                    tuple(profiles.portfolio.ref(c) for c in shared)))
    return tuple(found)
