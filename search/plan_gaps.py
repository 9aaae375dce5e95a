"""Blank spots of a research plan ('witte vlekken'): the knowledge questions of its clusters and themes
that it does not address, most relevant first.

The plan is a consortium of the graph (an MJP, another programme or a project of search.portfolio: its
clusters and themes are its facets in the index, its text is its indexed chunks) or an uploaded text (its
clusters and themes are the Matcher's top suggestions, its text the passages, encoded with the same
``passage: `` prompt as the index so that one threshold fits both). A question of those clusters and
themes counts as addressed when the consortium links to it explicitly, or when the best similarity of any
plan passage (a chunk of the consortium's text) to it reaches the threshold. Relevance is that best
similarity: the blank spots closest to the plan come first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kg.errors import KgError
from kg.store import GraphView
from kg.uris import InvalidIri, checked_iri, is_slug, mint_uri
from search.index import SearchIndex
from search.match import PASSAGE_MIN_WORDS, Matcher
from search.portfolio import ConsortiumRef, Portfolio, Ref, load_portfolio, ref
from search.readers import read_text_input
from search.similarity import Chunks, best_chunk_similarity, chunk_rows, gather_chunks
from search.text import split_bounded_passages

MAX_PASSAGES = 256  # longer uploads have their sentences grouped, to bound the encoding time
FACETS = ("cluster", "theme")
CONSORTIUM_PATHS = ("programme", "project")  # the URI paths of consortia (kg.schema)


class UnknownProgramme(KgError):
    """The id or IRI names no consortium (programme or project) of the portfolio that has text in the index."""


@dataclass(frozen=True)
class QuestionGap:
    """A knowledge question of the plan's clusters or themes, and how close the plan comes to it."""

    question: Ref
    similarity: float
    is_linked: bool
    threshold: float
    shared: tuple[Ref, ...]  # the plan's clusters and themes that the question belongs to
    passage: str | None = None  # the plan's best-matching passage (uploaded plans)

    @property
    def is_addressed(self) -> bool:
        return self.is_linked or self.similarity >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question.to_dict(), "similarity": self.similarity, "is_linked": self.is_linked,
                "is_addressed": self.is_addressed, "shared": [s.to_dict() for s in self.shared],
                "passage": self.passage}


@dataclass(frozen=True)
class PlanGaps:
    """The blank spots of one plan (ranked, at most `limit` when one was given) and what it addresses."""

    plan: ConsortiumRef  # an uploaded plan has kind ""
    source: str  # "consortium" or "upload"
    threshold: float
    clusters: tuple[Ref, ...]
    themes: tuple[Ref, ...]
    candidates: int  # questions of the plan's clusters and themes
    blank_total: int
    blank_spots: tuple[QuestionGap, ...]
    addressed: tuple[QuestionGap, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan.to_dict(), "source": self.source, "threshold": self.threshold,
                "clusters": [c.to_dict() for c in self.clusters], "themes": [t.to_dict() for t in self.themes],
                "candidates": self.candidates, "blank_total": self.blank_total,
                "blank_spots": [g.to_dict() for g in self.blank_spots], "addressed": [g.to_dict() for g in self.addressed],
                "samples_note": ("This plan is a sample consortium: an illustrative record, not a real programme or "
                                 "project." if self.plan.is_sample else None)}


def consortium_iri(base: str, given: str) -> str:
    """The consortium a user names: by IRI, as `programme/<id>` or `project/<id>`, or by a programme's id alone
    (as MJPs were named before projects joined the portfolio). InvalidIri when it is none of these."""
    given = given.strip()
    if given.startswith(("http://", "https://")):
        return checked_iri(given)
    path, _, record = given.rpartition("/")
    if (path or "programme") in CONSORTIUM_PATHS and is_slug(record):
        return str(mint_uri(base, path or "programme", record))
    raise InvalidIri(f"{given!r} is neither a consortium id (an MJP's id such as sample-mjp-04, programme/<id> or "
                     "project/<id>) nor an IRI")


def find_consortium_gaps(store: GraphView, index: SearchIndex, consortium: str, threshold: float, *,
                         limit: int | None = None, samples: bool = True) -> PlanGaps:
    """The blank spots of one consortium of the graph (`consortium` is its IRI); a sample one is refused when
    `samples` is False."""
    everything = load_portfolio(store, index)
    portfolio = everything if samples else everything.without_samples()
    if consortium not in portfolio.with_text:
        if consortium in portfolio.members:
            why = "has no text in the search index"
        elif consortium in everything.samples:
            why = "is a sample, and samples are left out"
        else:
            why = "is no MJP, programme or project in the graph"
        raise UnknownProgramme(f"{consortium} {why}; `python -m kg query --named portfolio_links` lists the consortia")
    return _consortium_gaps(index, portfolio, (consortium,), threshold, limit)[0]


def find_all_consortium_gaps(store: GraphView, index: SearchIndex, threshold: float, *, limit: int | None = 10,
                             samples: bool = True) -> tuple[PlanGaps, ...]:
    """The blank spots of every consortium with text in the index, from one similarity matrix (chunks x questions)."""
    portfolio = load_portfolio(store, index, samples=samples)
    return _consortium_gaps(index, portfolio, portfolio.with_text, threshold, limit)


def find_upload_gaps(matcher: Matcher, text: str, threshold: float, *, name: str = "uploaded plan",
                     facets: int = 3, limit: int | None = None) -> PlanGaps:
    """The blank spots of an uploaded plan, in the clusters and themes the Matcher suggests for it
    (the top `facets` of each)."""
    text = read_text_input(text)
    index = matcher.index
    suggested = matcher.match(text, top=facets)
    plan_facets = {"cluster": {s.iri for s in suggested.clusters}, "theme": {s.iri for s in suggested.themes}}
    passages = split_bounded_passages(text, min_words=PASSAGE_MIN_WORDS, max_passages=MAX_PASSAGES)
    vectors = matcher.embedder.encode_passages(passages)
    questions = _questions(index)
    per_passage = best_chunk_similarity(Chunks(vectors, np.arange(len(passages))), questions.chunks)
    similarity, best = per_passage.max(axis=0), per_passage.argmax(axis=0)
    return _gaps(index, ConsortiumRef(name, name), "upload", plan_facets, questions, similarity,
                 np.zeros(len(questions.iris), bool), threshold, limit, [passages[i] for i in best])


def _consortium_gaps(index: SearchIndex, portfolio: Portfolio, members: tuple[str, ...], threshold: float,
                     limit: int | None) -> tuple[PlanGaps, ...]:
    questions = _questions(index)
    similarity = best_chunk_similarity(gather_chunks(index, members), questions.chunks)
    position = {q: i for i, q in enumerate(questions.iris)}
    found = []
    for row, member in enumerate(members):
        facets = {f: set(index.entities[member].facets.get(f, ())) for f in FACETS}
        linked = np.zeros(len(questions.iris), dtype=bool)
        linked[[position[q] for q in portfolio.linked(member, "question") if q in position]] = True
        found.append(_gaps(index, portfolio.ref(member), "consortium", facets, questions, similarity[row], linked,
                           threshold, limit, None))
    return tuple(found)


@dataclass(frozen=True)
class _Questions:
    """Every knowledge question of the index: chunks, and its clusters and themes as a 0/1 matrix."""

    iris: list[str]
    chunks: Chunks
    facets: list[frozenset[str]]
    columns: dict[str, int]  # cluster or theme IRI -> column of `membership`
    membership: np.ndarray

    def candidates(self, wanted: set[str]) -> np.ndarray:
        """Which questions belong to at least one of the `wanted` clusters or themes."""
        return self.membership[:, [self.columns[v] for v in wanted if v in self.columns]].any(axis=1)


def _questions(index: SearchIndex) -> _Questions:
    iris = sorted(iri for iri, e in index.entities.items() if e.kind == "question")
    facets = [frozenset(v for f in FACETS for v in index.entities[q].facets.get(f, ())) for q in iris]
    columns = {v: i for i, v in enumerate(sorted(set().union(*facets)))}
    membership = np.zeros((len(iris), len(columns)), dtype=bool)
    for row, values in enumerate(facets):
        membership[row, [columns[v] for v in values]] = True
    return _Questions(iris, gather_chunks(index, iris, chunk_rows(index)), facets, columns, membership)


def _gaps(index: SearchIndex, plan: ConsortiumRef, source: str, plan_facets: dict[str, set[str]], questions: _Questions,
          similarity: np.ndarray, linked: np.ndarray, threshold: float, limit: int | None,
          passages: list[str] | None) -> PlanGaps:
    wanted = set().union(*plan_facets.values())
    candidate = questions.candidates(wanted)
    addressed = candidate & (linked | (similarity >= threshold))
    blank = np.flatnonzero(candidate & ~addressed)
    ranked = blank[np.argsort(-similarity[blank], kind="stable")][:limit]

    def gap(i: int) -> QuestionGap:
        shared = tuple(ref(index, v) for v in sorted(wanted & questions.facets[i]))
        return QuestionGap(ref(index, questions.iris[i]), round(float(similarity[i]), 4), bool(linked[i]), threshold,
                           shared, passages[i] if passages else None)

    done = np.flatnonzero(addressed)
    return PlanGaps(plan, source, threshold,
                    tuple(ref(index, c) for c in sorted(plan_facets["cluster"])),
                    tuple(ref(index, t) for t in sorted(plan_facets["theme"])),
                    int(candidate.sum()), len(blank), tuple(gap(int(i)) for i in ranked),
                    tuple(gap(int(i)) for i in done[np.argsort(-similarity[done], kind="stable")]))

