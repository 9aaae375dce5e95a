"""The Kernteam dashboard: Figure 1 as a theme x cluster heatmap, Figure 2 as a bar chart, budget totals;
every table downloadable as CSV. Charts are drawn in the template (HTML and inline SVG), never by a script."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, render_template

from kg.figures import Figures, compute_figures
from kg.matrix import ThemeClusterMatrix, theme_cluster_matrix
from web.auth import request_view
from web.errors import NotFound
from web.exports import csv_download
from web.i18n import current_language

dashboard = Blueprint("dashboard", __name__)


@dashboard.get("/dashboard")
def index() -> str:
    view = request_view()
    figures, matrix = compute_figures(view), theme_cluster_matrix(view)
    axes = {axis.iri: axis for axis in (*matrix.themes, *matrix.clusters)}
    # Blank spots, overlaps and edition changes come from other analyses; the template shows each
    # section only when it is passed here (gaps=..., overlaps=..., changes=...).
    return render_template("dashboard.html", figures=figures, matrix=matrix, axes=axes, tables=TABLES)


def _shares(name: str) -> Callable[[Figures, ThemeClusterMatrix, str], Response]:
    def table(figures: Figures, matrix: ThemeClusterMatrix, lang: str) -> Response:
        axes = {axis.iri: axis for axis in (*matrix.themes, *matrix.clusters)}
        rows = [[s.iri, axes[s.iri].label(lang) if s.iri in axes else s.label, s.count, s.share, s.samples]
                for s in getattr(figures, name.replace("-", "_"))]
        return csv_download(["iri", "label", "count", "share", "samples"], rows, f"missiekompas-{name}.csv")
    return table


def _matrix(figures: Figures, matrix: ThemeClusterMatrix, lang: str) -> Response:
    header, rows = matrix.table(lang)
    return csv_download(header, rows, "missiekompas-theme-cluster.csv")


def _budget(figures: Figures, matrix: ThemeClusterMatrix, lang: str) -> Response:
    rows: list[list[object]] = [["graph", key, value, figures.mjps_with_budget] for key, value in figures.budget.items()]
    for reported in figures.reported:
        source = str(reported.get("label") or reported.get("agenda"))
        rows += [[source, key, reported[field], reported.get("mjps", "")]
                 for key, field in (("total", "budgetTotal"), ("committed", "budgetCommitted"))
                 if reported.get(field) is not None]
    return csv_download(["source", "budget", "eur", "mjps"], rows, "missiekompas-budget.csv")


TABLES: dict[str, Callable[[Figures, ThemeClusterMatrix, str], Response]] = {
    "theme-cluster": _matrix,
    "mjps-per-theme": _shares("mjps-per-theme"),
    "mjps-per-cluster": _shares("mjps-per-cluster"),
    "questions-per-cluster": _shares("questions-per-cluster"),
    "budget": _budget,
}


@dashboard.get("/dashboard/<name>.csv")
def table_csv(name: str) -> Response:
    if name not in TABLES:
        raise NotFound(f"no table named {name!r}; choose from {', '.join(TABLES)}")
    view = request_view()
    return TABLES[name](compute_figures(view), theme_cluster_matrix(view), current_language())
