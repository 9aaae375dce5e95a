"""The Kernteam dashboard: Figure 1 as a theme x cluster heatmap, Figure 2 as a bar chart, budget totals, mission
blank spots, overlapping MJPs and what changed between two editions; every table downloadable as CSV. Charts are
drawn in the template (HTML and inline SVG), never by a script. Everything reads the request's audience."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, render_template, request

from kg.editions import EditionChoice, EditionDiff, choose_editions, diff_editions
from kg.figures import compute_figures
from kg.matrix import theme_cluster_matrix
from kg.store import GraphView
from search.embedder import ModelUnavailable
from search.gaps import MissionGaps, find_mission_gaps
from search.overlaps import Overlaps, find_overlaps
from web.auth import current_audience, request_view
from web.errors import NotFound, SearchUnavailable
from web.exports import csv_download
from web.i18n import current_language
from web.services import services

dashboard = Blueprint("dashboard", __name__)
GAPS_SHOWN = 25  # the rest is in the CSV


def _asked_diff(view: GraphView) -> tuple[EditionChoice, EditionDiff | None]:
    choice = choose_editions(view, request.args.get("before"), request.args.get("after"))
    asked = bool(request.args.get("before") or request.args.get("after"))
    # Without a past edition there is nothing to compare, unless names were asked for (then they are checked).
    return choice, diff_editions(view, choice.before, choice.after) if choice.has_past or asked else None


def _mission_gaps(view: GraphView) -> MissionGaps:
    s = services()
    return find_mission_gaps(view, s.matcher(current_audience()).index, s.settings.gap_threshold)


def _overlaps(view: GraphView) -> Overlaps:
    s = services()
    matcher = s.matcher(current_audience())
    return find_overlaps(view, matcher.index, s.settings.overlap_threshold, concepts=matcher.explainer.concepts)


@dashboard.get("/dashboard")
def index() -> str:
    view = request_view()
    figures, matrix = compute_figures(view), theme_cluster_matrix(view)
    axes = {axis.iri: axis for axis in (*matrix.themes, *matrix.clusters)}
    try:
        gaps, overlaps = _mission_gaps(view), _overlaps(view)
    except (SearchUnavailable, ModelUnavailable):
        gaps = overlaps = None  # the sections say that they need the search index
    choice, changes = _asked_diff(view)
    return render_template("dashboard.html", figures=figures, matrix=matrix, axes=axes, tables=TABLES,
                           gaps=gaps, overlaps=overlaps, search_missing=gaps is None, editions=choice,
                           changes=changes, gaps_shown=GAPS_SHOWN)


def _shares(name: str) -> Callable[[GraphView, str], Response]:
    def table(view: GraphView, lang: str) -> Response:
        matrix = theme_cluster_matrix(view)
        axes = {axis.iri: axis for axis in (*matrix.themes, *matrix.clusters)}
        rows = [[s.iri, axes[s.iri].label(lang) if s.iri in axes else s.label, s.count, s.share, s.samples]
                for s in getattr(compute_figures(view), name.replace("-", "_"))]
        return csv_download(["iri", "label", "count", "share", "samples"], rows, f"missiekompas-{name}.csv")
    return table


def _matrix(view: GraphView, lang: str) -> Response:
    header, rows = theme_cluster_matrix(view).table(lang)
    return csv_download(header, rows, "missiekompas-theme-cluster.csv")


def _budget(view: GraphView, lang: str) -> Response:
    figures = compute_figures(view)
    rows: list[list[object]] = [["graph", key, value, figures.mjps_with_budget] for key, value in figures.budget.items()]
    for reported in figures.reported:
        source = str(reported.get("label") or reported.get("agenda"))
        rows += [[source, key, reported[field], reported.get("mjps", "")]
                 for key, field in (("total", "budgetTotal"), ("committed", "budgetCommitted"))
                 if reported.get(field) is not None]
    return csv_download(["source", "budget", "eur", "mjps"], rows, "missiekompas-budget.csv")


def _gaps(view: GraphView, lang: str) -> Response:
    """Every item, not only the ones the page shows."""
    rows = [[rank, c.kind, c.item.iri, c.item.label, c.item.is_sample, c.status, c.linked_mjps, c.linked_samples,
             _blank(c.best_similarity), c.best_mjp.iri if c.best_mjp else "", c.best_mjp.label if c.best_mjp else "",
             c.best_mjp.is_sample if c.best_mjp else "", c.threshold]
            for rank, c in enumerate(_mission_gaps(view).items, 1)]
    return csv_download(["rank", "kind", "iri", "label", "is_sample", "status", "linked_mjps", "linked_samples",
                         "best_similarity", "best_mjp", "best_mjp_label", "best_mjp_is_sample", "threshold"],
                        rows, "missiekompas-gaps.csv")


def _overlap_rows(view: GraphView, lang: str) -> Response:
    found = _overlaps(view)
    group_of = {m.iri: number for number, group in enumerate(found.groups, 1) for m in group.members}
    rows = [[rank, group_of.get(p.first.iri, ""), p.similarity,
             p.first.iri, p.first.label, p.first.is_sample, p.second.iri, p.second.label, p.second.is_sample,
             "; ".join(c.label for c in p.shared_concepts),
             "; ".join(f"{link.relation}: {link.target.label}" for link in p.shared_links)]
            for rank, p in enumerate(found.pairs, 1)]
    return csv_download(["rank", "group", "similarity", "first", "first_label", "first_is_sample", "second",
                         "second_label", "second_is_sample", "shared_concepts", "shared_links"],
                        rows, "missiekompas-overlaps.csv")


def _edition_changes(view: GraphView, lang: str) -> Response:
    """One row per new or dropped MJP, and one per changed field of a changed MJP."""
    choice, diff = _asked_diff(view)
    rows: list[list[object]] = []
    if diff is not None:
        rows += [[choice.before, choice.after, change, s.iri, s.label, s.is_sample, "", "", ""]
                 for change, found in (("new", diff.new), ("dropped", diff.dropped)) for s in found]
        rows += [[choice.before, choice.after, "changed", c.iri, c.label, c.is_sample, f.field, "; ".join(f.before),
                  "; ".join(f.after)] for c in diff.changed for f in c.changes]
    return csv_download(["before_edition", "after_edition", "change", "iri", "label", "is_sample", "field", "before",
                         "after"], rows, "missiekompas-edition-changes.csv")


def _mission_coverage(view: GraphView, lang: str) -> Response:
    """MJPs per mission in both editions, every mission (the page shows the ones that changed)."""
    choice, diff = _asked_diff(view)
    rows = [[choice.before, choice.after, c.iri, c.label, c.before, c.after, c.delta]
            for c in (diff.coverage if diff else ())]
    return csv_download(["before_edition", "after_edition", "mission", "label", "mjps_before", "mjps_after", "delta"],
                        rows, "missiekompas-mission-coverage.csv")


def _blank(value: object) -> object:
    return "" if value is None else value


TABLES: dict[str, Callable[[GraphView, str], Response]] = {
    "theme-cluster": _matrix,
    "mjps-per-theme": _shares("mjps-per-theme"),
    "mjps-per-cluster": _shares("mjps-per-cluster"),
    "questions-per-cluster": _shares("questions-per-cluster"),
    "budget": _budget,
    "gaps": _gaps,
    "overlaps": _overlap_rows,
    "edition-changes": _edition_changes,
    "mission-coverage": _mission_coverage,
}


@dashboard.get("/dashboard/<name>.csv")
def table_csv(name: str) -> Response:
    if name not in TABLES:
        raise NotFound(f"no table named {name!r}; choose from {', '.join(TABLES)}")
    return TABLES[name](request_view(), current_language())
