"""The Kernteam dashboard: Figure 1 as a theme x cluster heatmap, Figure 2 as a bar chart, budget totals (each
computed block with its real and sample parts, next to what the agenda reports), the real consortia per theme and
cluster, mission blank spots and overlapping consortia (MJPs, programmes and projects; ?samples=exclude leaves the
sample consortia out, nothing is remembered server-side) and what changed between two editions; every table
downloadable as CSV. Charts are drawn in the template (HTML and inline SVG), never by a script. Everything reads the
request's audience."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, render_template, request, url_for

from kg.editions import EditionChoice, EditionDiff, choose_editions, diff_editions
from kg.figures import AMOUNTS, CONSORTIUM_KINDS, compute_figures
from kg.matrix import theme_cluster_matrix
from kg.store import GraphView
from search.embedder import ModelUnavailable
from search.gaps import MissionGaps, find_mission_gaps
from search.overlaps import Overlaps, find_overlaps
from search.portfolio import include_samples
from web.auth import current_audience, request_view
from web.errors import BadRequest, NotFound, SearchUnavailable
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


def _samples() -> bool:
    """?samples=exclude leaves the sample consortia out of the blank spots and overlaps (default: include)."""
    try:
        return include_samples(request.args.get("samples"))
    except ValueError as exc:
        raise BadRequest(f"?{exc}; give include (the default) or exclude") from exc


def _mission_gaps(view: GraphView) -> MissionGaps:
    s = services()
    return find_mission_gaps(view, s.matcher(current_audience()).index, s.settings.gap_threshold, samples=_samples())


def _overlaps(view: GraphView) -> Overlaps:
    s = services()
    matcher = s.matcher(current_audience())
    return find_overlaps(view, matcher.index, s.settings.overlap_threshold, concepts=matcher.explainer.concepts,
                         samples=_samples())


@dashboard.get("/dashboard")
def index() -> str:
    view = request_view()
    samples = _samples()
    figures, matrix = compute_figures(view), theme_cluster_matrix(view)
    axes = {axis.iri: axis for axis in (*matrix.themes, *matrix.clusters)}
    try:
        gaps, overlaps = _mission_gaps(view), _overlaps(view)
    except (SearchUnavailable, ModelUnavailable):
        gaps = overlaps = None  # the sections say that they need the search index
    choice, changes = _asked_diff(view)
    kept = {k: v for k, v in request.args.items() if k in ("before", "after")}
    toggle = url_for("dashboard.index", **kept, **({"samples": "exclude"} if samples else {}))
    return render_template("dashboard.html", figures=figures, matrix=matrix, axes=axes, tables=TABLES,
                           gaps=gaps, overlaps=overlaps, search_missing=gaps is None, editions=choice,
                           changes=changes, gaps_shown=GAPS_SHOWN, samples_included=samples, samples_toggle=toggle,
                           samples_arg={} if samples else {"samples": "exclude"}, kinds=CONSORTIUM_KINDS,
                           amounts=AMOUNTS)


def _labels(view: GraphView, lang: str) -> Callable[[str, str], str]:
    """A theme's or cluster's label in `lang` (the query's label when it is no axis of the matrix)."""
    matrix = theme_cluster_matrix(view)
    axes = {axis.iri: axis for axis in (*matrix.themes, *matrix.clusters)}
    return lambda iri, label: axes[iri].label(lang) if iri in axes else label


def _shares(name: str) -> Callable[[GraphView, str], Response]:
    """Figure 1 (MJPs per theme or cluster): every share with its real and sample MJPs."""
    def table(view: GraphView, lang: str) -> Response:
        label = _labels(view, lang)
        rows = [[s.iri, label(s.iri, s.label), s.count, s.share, s.real, s.samples, s.real == 0 and s.samples > 0]
                for s in getattr(compute_figures(view), name.replace("-", "_"))]
        return csv_download(["iri", "label", "count", "share", "real", "samples", "sample_only"], rows,
                            f"missiekompas-{name}.csv")
    return table


def _questions(view: GraphView, lang: str) -> Response:
    """Figure 2: questions per cluster, with how many are proxies (not from Bijlage A)."""
    label = _labels(view, lang)
    rows = [[q.iri, label(q.iri, q.label), q.count, q.share, q.proxies, q.from_bijlage_a]
            for q in compute_figures(view).questions_per_cluster]
    return csv_download(["iri", "label", "count", "share", "proxies", "from_bijlage_a"], rows,
                        "missiekompas-questions-per-cluster.csv")


def _real_consortia(facet: str) -> Callable[[GraphView, str], Response]:
    """The real consortia (no samples) per theme or cluster, per kind."""
    def table(view: GraphView, lang: str) -> Response:
        label = _labels(view, lang)
        rows = [[c.iri, label(c.iri, c.label), c.count, c.share, *(c.by_kind.get(k, 0) for k in CONSORTIUM_KINDS)]
                for c in getattr(compute_figures(view).real_consortia, f"per_{facet}")]
        return csv_download(["iri", "label", "consortia", "share", *CONSORTIUM_KINDS], rows,
                            f"missiekompas-real-consortia-per-{facet}.csv")
    return table


def _matrix(view: GraphView, lang: str) -> Response:
    header, rows = theme_cluster_matrix(view).table(lang)
    return csv_download(header, rows, "missiekompas-theme-cluster.csv")


def _budget(view: GraphView, lang: str) -> Response:
    """Per amount: the graph's real, sample and all MJPs that state it (sum and count), then what agendas report."""
    figures = compute_figures(view)
    rows: list[list[object]] = []
    for line in figures.budget:
        rows += [["graph-real", line.amount, line.real, line.real_mjps, line.sample_only],
                 ["graph-samples", line.amount, line.samples, line.sample_mjps, line.sample_only],
                 ["graph-all", line.amount, line.all, line.real_mjps + line.sample_mjps, line.sample_only]]
    for reported in figures.reported:
        source = str(reported.get("label") or reported.get("agenda"))
        rows += [[source, key, reported[field], reported.get("mjps", ""), ""]
                 for key, field in (("total", "budgetTotal"), ("committed", "budgetCommitted"))
                 if reported.get(field) is not None]
    return csv_download(["source", "budget", "eur", "mjps", "sample_only"], rows, "missiekompas-budget.csv")


def _gaps(view: GraphView, lang: str) -> Response:
    """Every item, not only the ones the page shows."""
    rows = []
    for rank, c in enumerate(_mission_gaps(view).items, 1):
        best = c.best_consortium
        rows.append([rank, c.kind, c.item.iri, c.item.label, c.item.is_sample, c.status, c.linked_consortia,
                     c.linked_samples, *(c.linked_by_kind.get(k, 0) for k in CONSORTIUM_KINDS), _blank(c.best_similarity),
                     best.iri if best else "", best.label if best else "", best.kind if best else "",
                     best.is_sample if best else "", c.threshold])
    return csv_download(["rank", "kind", "iri", "label", "is_sample", "status", "linked_consortia", "linked_samples",
                         *(f"linked_{k}" for k in CONSORTIUM_KINDS), "best_similarity", "best_consortium",
                         "best_consortium_label", "best_consortium_kind", "best_consortium_is_sample", "threshold"],
                        rows, "missiekompas-gaps.csv")


def _overlap_rows(view: GraphView, lang: str) -> Response:
    found = _overlaps(view)
    group_of = {m.iri: number for number, group in enumerate(found.groups, 1) for m in group.members}
    rows = [[rank, group_of.get(p.first.iri, ""), p.similarity,
             p.first.iri, p.first.label, p.first.kind, p.first.is_sample,
             p.second.iri, p.second.label, p.second.kind, p.second.is_sample,
             "; ".join(c.label for c in p.shared_concepts),
             "; ".join(f"{link.relation}: {link.target.label}" for link in p.shared_links)]
            for rank, p in enumerate(found.pairs, 1)]
    return csv_download(["rank", "group", "similarity", "first", "first_label", "first_kind", "first_is_sample", "second",
                         "second_label", "second_kind", "second_is_sample", "shared_concepts", "shared_links"],
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
    "questions-per-cluster": _questions,
    "budget": _budget,
    "real-consortia-per-theme": _real_consortia("theme"),
    "real-consortia-per-cluster": _real_consortia("cluster"),
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
