"""The Kernteam dashboard: Figure 1 as a theme x cluster heatmap, Figure 2 as a bar chart, budget totals (each
computed block with its real and sample parts, next to what the agenda reports), the real consortia per theme and
cluster, mission blank spots (in plain words; filtered by ?status=, ?theme= and ?mission=, ?page= or page=all) and
overlapping consortia (MJPs, programmes and projects; ?samples=exclude leaves the sample consortia out, nothing is
remembered server-side) and what changed between two editions (?before=, ?after=: two different ones); every
table downloadable as CSV (web.dashboard_tables). Charts are drawn in the template (HTML and inline SVG), never by
a script. Everything reads the request's audience; the analytics are computed once per store version."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for

from kg.editions import EditionChoice, choose_editions, find_edition
from kg.figures import AMOUNTS, CONSORTIUM_KINDS
from kg.store import GraphView
from search.embedder import ModelUnavailable
from search.gaps import STATUSES
from search.portfolio import include_samples
from web.auth import current_audience, request_view
from web.changes_view import changed_programmes, euro
from web.dashboard_tables import TABLES
from web.dashboard_view import (
    ALL_PAGES,
    PAGE_SIZE,
    Board,
    FilterRejected,
    GapFilter,
    Search,
    key_of,
    language_of,
    name_of,
    parse_gap_filter,
    select_gaps,
)
from web.errors import BadRequest, NotFound, SearchUnavailable
from web.i18n import current_language
from web.services import services
from web.version_cache import VersionCache

dashboard = Blueprint("dashboard", __name__)
GAPS_SHOWN = PAGE_SIZE  # blank spots per page
CACHE = "missiekompas.dashboard"  # the app's VersionCache, in app.extensions
KEPT = ("before", "after", "samples")  # what links within the page carry along, besides the blank-spot filter


def version_cache() -> VersionCache:
    """The app's values derived from one store version (the dashboard's and /api/figures')."""
    found: VersionCache = current_app.extensions.setdefault(CACHE, VersionCache())
    return found


def _samples() -> bool:
    """?samples=exclude leaves the sample consortia out of the blank spots and overlaps (default: include)."""
    try:
        return include_samples(request.args.get("samples"))
    except ValueError as exc:
        raise BadRequest(f"?{exc}; give include (the default) or exclude") from exc


def _editions(view: GraphView) -> EditionChoice:
    """The editions asked for (an unknown name is a 404 that lists the known ones)."""
    choice = choose_editions(view, request.args.get("before") or None, request.args.get("after") or None)
    for name in (choice.before, choice.after):
        if name not in choice.names:
            find_edition(view, name)
    return choice


def _board() -> Board:
    view, s, audience = request_view(), services(), current_audience()

    def search() -> Search:
        matcher = s.matcher(audience)
        return Search(matcher.index, matcher.explainer.concepts)

    return Board(view, version_cache(), search, s.settings.gap_threshold, s.settings.overlap_threshold, _samples(),
                 _editions(view))


@dashboard.get("/dashboard")
def index() -> tuple[str, int]:
    board, lang = _board(), current_language()
    context = board.context()
    try:
        chosen = parse_gap_filter(request.args, context)
    except FilterRejected as exc:
        raise BadRequest(str(exc)) from exc
    try:
        gaps, overlaps = board.gaps(), board.overlaps()
    except (SearchUnavailable, ModelUnavailable):
        gaps = overlaps = None  # the sections say that they need the search index
    editions = board.editions
    refused = editions.has_past and editions.is_same  # an edition compared with itself: said so, with a 400
    changes = board.diff() if editions.has_past and not editions.is_same else None
    names = board.labels()
    matrix = board.matrix()
    page = render_template(
        "dashboard.html", figures=board.figures(), matrix=matrix, tables=TABLES,
        axes={axis.iri: axis for axis in (*matrix.themes, *matrix.clusters)},
        gaps=gaps, gap_page=select_gaps(gaps, context, chosen) if gaps else None, chosen=chosen, context=context,
        statuses=STATUSES, gaps_url=_gaps_url(chosen), key_of=key_of, all_pages=ALL_PAGES,
        overlaps=overlaps, search_missing=gaps is None, editions=editions, editions_refused=refused,
        changes=changes, changed=changed_programmes(changes, names, lang) if changes else (),
        name=lambda iri, fallback="": name_of(names, iri, lang, fallback),
        name_lang=lambda iri: language_of(names.get(iri, {}), lang), label_lang=lambda ref: language_of(ref.labels, lang),
        euro=lambda amount: euro(amount, lang), samples_included=board.samples, samples_toggle=_samples_toggle(board, chosen),
        samples_arg={} if board.samples else {"samples": "exclude"}, kinds=CONSORTIUM_KINDS, amounts=AMOUNTS)
    return page, 400 if refused else 200


def _kept(**changes: Any) -> dict[str, str]:
    """The request's other choices (editions, samples) with `changes`; empty values left out."""
    args = {k: v for k, v in request.args.items() if k in KEPT}
    return {k: v for k, v in {**args, **changes}.items() if v}


def _samples_toggle(board: Board, chosen: GapFilter) -> str:
    """This page with the samples switched the other way (the blank-spot filter kept, back at page 1)."""
    return url_for("dashboard.index", **_kept(**chosen.args(), samples=None if not board.samples else "exclude"))


def _gaps_url(chosen: GapFilter) -> Any:
    """url(**changes): the blank spots with the filter changed (status=, theme=, mission=, page=; None clears)."""
    def url(**changes: Any) -> str:
        return url_for("dashboard.index", **_kept(**{**chosen.args(), **changes}), _anchor="gaps")
    return url


@dashboard.get("/dashboard/<name>.csv")
def table_csv(name: str) -> Response:
    if name not in TABLES:
        raise NotFound(f"no table named {name!r}; choose from {', '.join(TABLES)}")
    return TABLES[name](_board(), current_language())
