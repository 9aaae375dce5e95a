"""What the dashboard shows, ready for its template: the analytics of a store version (computed once per
version, web.version_cache) and the blank spots filtered by status, theme and mission, cut into pages.
The changes between two editions in words: web.changes_view."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from kg.editions import EditionChoice, EditionDiff, diff_editions
from kg.figures import Figures, compute_figures
from kg.listing import Ref, filter_options, label_in
from kg.matrix import ThemeClusterMatrix, theme_cluster_matrix
from kg.queries import named_query
from kg.store import GraphView
from search.concepts import ConceptMatcher
from search.gaps import STATUSES, Coverage, MissionGaps, find_mission_gaps
from search.index import SearchIndex
from search.overlaps import Overlaps, find_overlaps
from web.version_cache import VersionCache

T = TypeVar("T")
PAGE_SIZE = 25  # blank spots per page; ?page=all shows every one
ALL_PAGES = "all"


class FilterRejected(ValueError):
    """A dashboard parameter that names no status, theme, mission or page."""


# --- the analytics of one version -----------------------------------------------------------------

@dataclass(frozen=True)
class Search:
    """What the blank spots and overlaps read besides the graph: the audience's search index and concepts."""

    index: SearchIndex
    concepts: ConceptMatcher | None


@dataclass(frozen=True)
class Board:
    """One request's analytics: its audience's view, each analysis computed once per store version (`cache`).
    `search` opens the search parts when first needed (and raises where search is not set up)."""

    view: GraphView
    cache: VersionCache
    search: Callable[[], Search]
    gap_threshold: float
    overlap_threshold: float
    samples: bool  # False: the sample consortia are left out of the blank spots and overlaps
    editions: EditionChoice  # the two editions this request compares

    def _get(self, key: Hashable, compute: Callable[[], T], pin: tuple[object, ...] = ()) -> T:
        return self.cache.get(self.view, key, compute, pin=pin)

    def figures(self) -> Figures:
        return self._get("figures", lambda: compute_figures(self.view))

    def matrix(self) -> ThemeClusterMatrix:
        return self._get("matrix", lambda: theme_cluster_matrix(self.view))

    def labels(self) -> dict[str, dict[str, str]]:
        """Every entity's preferred label per language."""
        return self._get("labels", lambda: _labels(self.view))

    def context(self) -> GapContext:
        return self._get("gap_context", lambda: _gap_context(self.view))

    def gaps(self) -> MissionGaps:
        s = self.search()
        return self._get(("gaps", id(s.index), self.gap_threshold, self.samples),
                         lambda: find_mission_gaps(self.view, s.index, self.gap_threshold, samples=self.samples),
                         pin=(s.index,))

    def overlaps(self) -> Overlaps:
        s = self.search()
        return self._get(("overlaps", id(s.index), id(s.concepts), self.overlap_threshold, self.samples),
                         lambda: find_overlaps(self.view, s.index, self.overlap_threshold, concepts=s.concepts,
                                               samples=self.samples), pin=(s.index, s.concepts))

    def diff(self) -> EditionDiff:
        """What changed between the two editions chosen (they differ: the request checked)."""
        before, after = self.editions.before, self.editions.after
        return self._get(("diff", before, after), lambda: diff_editions(self.view, before, after))


def _labels(view: GraphView) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for row in view.select(named_query("preferred_labels")):
        found[str(row["entity"])].setdefault(str(row.get("lang") or ""), str(row["text"]))
    return dict(found)


def name_of(names: Mapping[str, Mapping[str, str]], iri: str, lang: str, fallback: str = "") -> str:
    """The entity's label in `lang` (or the closest there is), else `fallback`, else the IRI's last part."""
    return label_in(names.get(iri, {}), lang, fallback or iri.rstrip("/").rsplit("/", 1)[-1])


def language_of(labels: Mapping[str, str], lang: str) -> str:
    """The language of the label a reader of `lang` is shown ("" where it has none): a page marks a name it
    has only in the other language as such."""
    shown = label_in(labels, lang)
    return next((code for code, text in labels.items() if text == shown and code), "")


# --- blank spots: where each item sits, the filter, the page --------------------------------------

@dataclass(frozen=True)
class GapContext:
    """Per item of the blank spots its missions and themes, and the themes and missions to filter by."""

    missions: dict[str, frozenset[str]]
    themes: dict[str, frozenset[str]]
    theme_options: tuple[Ref, ...]
    mission_options: tuple[Ref, ...]

    def options(self, facet: str, lang: str) -> tuple[Ref, ...]:
        """The themes or missions to filter by, sorted by their label in `lang`."""
        found = self.theme_options if facet == "theme" else self.mission_options
        return tuple(sorted(found, key=lambda r: r.label(lang).casefold()))

    def theme(self, key: str) -> str:
        return _by_key(self.theme_options, key, "theme")

    def mission(self, key: str) -> str:
        return _by_key(self.mission_options, key, "mission")


def _gap_context(view: GraphView) -> GapContext:
    missions: dict[str, set[str]] = defaultdict(set)
    themes: dict[str, set[str]] = defaultdict(set)
    for row in view.select(named_query("gap_context")):
        missions[str(row["item"])].add(str(row["mission"]))
        if row.get("theme"):
            themes[str(row["item"])].add(str(row["theme"]))
    options = filter_options(view)
    return GapContext({k: frozenset(v) for k, v in missions.items()}, {k: frozenset(v) for k, v in themes.items()},
                      options.get("theme", ()), options.get("mission", ()))


def key_of(iri: str) -> str:
    """How a URL names a theme or mission: the last part of its IRI."""
    return iri.rstrip("/").rsplit("/", 1)[-1]


def _by_key(options: tuple[Ref, ...], key: str, noun: str) -> str:
    for ref in options:
        if key_of(ref.value) == key:
            return ref.value
    raise FilterRejected(f"no {noun} named {key!r}; give one of: {', '.join(key_of(r.value) for r in options)}")


@dataclass(frozen=True)
class GapFilter:
    """The blank spots asked for: a status, a theme and a mission (None: any), and a page (None: all)."""

    status: str | None = None
    theme: str | None = None
    mission: str | None = None
    page: int | None = 1

    def matches(self, item: Coverage, context: GapContext, *, status: bool = True) -> bool:
        return ((not status or self.status is None or item.status == self.status)
                and (self.theme is None or self.theme in context.themes.get(item.item.iri, ()))
                and (self.mission is None or self.mission in context.missions.get(item.item.iri, ())))

    def args(self) -> dict[str, str]:
        """This filter as URL parameters (the page left out: a new choice starts at page 1)."""
        chosen = {"status": self.status, "theme": self.theme and key_of(self.theme),
                  "mission": self.mission and key_of(self.mission)}
        return {k: v for k, v in chosen.items() if v}

    @property
    def is_filtered(self) -> bool:
        return bool(self.args())


def parse_gap_filter(args: Mapping[str, str], context: GapContext) -> GapFilter:
    """?status=, ?theme=, ?mission= (an empty value: any) and ?page= (a number, or `all`)."""
    status = (args.get("status") or "").strip() or None
    if status is not None and status not in STATUSES:
        raise FilterRejected(f"no status {status!r}; give one of: {', '.join(STATUSES)}")
    theme, mission = (args.get(k, "").strip() for k in ("theme", "mission"))
    page_arg = (args.get("page") or "1").strip()
    if page_arg == ALL_PAGES:
        page = None
    elif page_arg.isdigit() and int(page_arg) >= 1:
        page = int(page_arg)
    else:
        raise FilterRejected(f"page={page_arg!r} is no page; give a number from 1, or {ALL_PAGES}")
    return GapFilter(status, context.theme(theme) if theme else None, context.mission(mission) if mission else None,
                     page)


@dataclass(frozen=True)
class GapRow:
    rank: int  # in the whole ranking, whatever the filter
    coverage: Coverage


@dataclass(frozen=True)
class GapPage:
    """The rows of one page of the filtered blank spots, and the counts the tabs and the pager show."""

    rows: tuple[GapRow, ...]
    total: int  # every item
    matching: int  # items that pass the whole filter
    counts: dict[str, int]  # per status: items in the chosen theme and mission
    page: int | None  # None: every matching row on one page
    pages: int
    first: int  # 1-based position of the first row shown among the matching ones (0: none)
    last: int


def select_gaps(gaps: MissionGaps, context: GapContext, chosen: GapFilter) -> GapPage:
    """The blank spots `chosen` asks for, in ranking order; a page past the last shows the last."""
    ranked = [GapRow(rank, item) for rank, item in enumerate(gaps.items, 1)]
    placed = [row for row in ranked if chosen.matches(row.coverage, context, status=False)]
    counts = {status: sum(row.coverage.status == status for row in placed) for status in STATUSES}
    matching = [row for row in placed if chosen.status is None or row.coverage.status == chosen.status]
    pages = max(1, math.ceil(len(matching) / PAGE_SIZE))
    page = None if chosen.page is None else min(chosen.page, pages)
    start, end = (0, len(matching)) if page is None else ((page - 1) * PAGE_SIZE, page * PAGE_SIZE)
    shown = tuple(matching[start:end])
    return GapPage(shown, len(ranked), len(matching), counts, page, pages, start + 1 if shown else 0,
                   start + len(shown))
