"""What a match returns: sections of hits, each with its explanation; plain data, JSON-ready."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Concept:
    """A graph concept (cluster, theme, technology, ...) mentioned in a text."""

    iri: str
    label: str
    matched: tuple[str, ...] = ()  # the words of the text it was found by
    by_meaning: bool = False  # shared by meaning (embeddings), not by words (search.explain)


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
    also says how it was funded. `strength` is strong, fair or weak: `strength_score` (the hubness-corrected
    similarity, search.hubness) against the calibrated thresholds (search.strength); `score` is the fused
    rank score the section is ordered by, and the explanation keeps the plain dense and lexical scores."""

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
    strength: str = "weak"
    strength_score: float | None = None


@dataclass(frozen=True)
class Suggestion:
    iri: str
    label: str
    score: float


SAMPLES = ("include", "exclude")  # what a match does with sample records: show them marked, or leave them out
STRENGTHS = ("strong", "fair", "weak")
# What the answer says when no hit is strong (no_strong_match), in both languages: for API clients.
NO_STRONG_MATCH_NOTE = {
    "en": "Nothing in the graph matches this proposal well: every hit is weak, the nearest records rather "
          "than matches.",
    "nl": "Niets in de graaf past goed bij dit voorstel: alle treffers zijn zwak, de dichtstbijzijnde records "
          "en geen echte match.",
}


@dataclass(frozen=True)
class MatchResult:
    """`programmes` is the consortia section: programmes (MJPs and related) and projects. `samples` says
    whether sample records were included (marked is_sample) or left out of every section and explanation.
    `no_strong_match` is true when no question, consortium, mission or MMIP hit is strong; the JSON then
    carries `no_strong_match_note` in Dutch and English. `strength_thresholds` and `hubness_weight` say how
    the strength labels were made."""

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
    no_strong_match: bool = False
    strength_thresholds: dict[str, float] = field(default_factory=dict)
    hubness_weight: float = 0.0

    @property
    def strength_note(self) -> dict[str, str] | None:
        """What to tell the user when no hit is strong (nl and en); None when one is."""
        return dict(NO_STRONG_MATCH_NOTE) if self.no_strong_match else None

    @property
    def has_samples(self) -> bool:
        hits = (*self.questions, *self.programmes, *self.missions, *self.kem_categories)
        return any(h.is_sample or any(m.is_sample for m in h.members) for h in hits)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["samples_note"] = ("Hits marked is_sample are illustrative records, not real programmes or organisations."
                               if self.has_samples else None)
        out["no_strong_match_note"] = self.strength_note
        return out
