"""What a match returns: sections of hits, each with its explanation; plain data, JSON-ready."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Concept:
    """A graph concept (cluster, theme, technology, ...) mentioned in a text."""

    iri: str
    label: str
    matched: tuple[str, ...] = ()


@dataclass(frozen=True)
class Explanation:
    shared_concepts: tuple[Concept, ...]
    passage: str | None
    passage_similarity: float | None
    dense_score: float | None
    dense_rank: int | None
    lexical_score: float | None
    lexical_rank: int | None


@dataclass(frozen=True)
class Member:
    iri: str
    label: str
    role: str
    is_sample: bool


@dataclass(frozen=True)
class Funding:
    """How a project was funded: its instrument (mooi, kic, ngf, perspectief, tki, other), call and award year."""

    instrument: str | None = None
    call: str | None = None
    year: int | None = None


@dataclass(frozen=True)
class Hit:
    """One hit. A consortium (a programme or a project) names its lead and partners in `members`; a project
    also says how it was funded."""

    iri: str
    kind: str
    label: str
    labels: dict[str, str]
    score: float
    is_sample: bool
    explanation: Explanation
    members: tuple[Member, ...] = ()
    clusters: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    missions: tuple[str, ...] = ()
    funding: Funding | None = None


@dataclass(frozen=True)
class Suggestion:
    iri: str
    label: str
    score: float


SAMPLES = ("include", "exclude")  # what a match does with sample records: show them marked, or leave them out


@dataclass(frozen=True)
class MatchResult:
    """`programmes` is the consortia section: programmes (MJPs and related) and projects. `samples` says
    whether sample records were included (marked is_sample) or left out of every section and explanation."""

    language: str
    concepts: tuple[Concept, ...]
    questions: tuple[Hit, ...]
    programmes: tuple[Hit, ...]
    missions: tuple[Hit, ...]
    kem_categories: tuple[Hit, ...]
    clusters: tuple[Suggestion, ...]
    themes: tuple[Suggestion, ...]
    weights: dict[str, float] = field(default_factory=dict)
    samples: str = "include"

    @property
    def has_samples(self) -> bool:
        hits = (*self.questions, *self.programmes, *self.missions, *self.kem_categories)
        return any(h.is_sample or any(m.is_sample for m in h.members) for h in hits)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["samples_note"] = ("Hits marked is_sample are illustrative records, not real programmes or organisations."
                               if self.has_samples else None)
        return out
