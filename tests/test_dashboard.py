"""The Kernteam dashboard (web/dashboard.py): Figure 1 as a heatmap, Figure 2 as an SVG bar chart, budgets,
every table as CSV, and the sections other analyses will fill (absent until given data)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient

from kg.access import PUBLIC
from kg.figures import compute_figures
from kg.matrix import theme_cluster_matrix
from kg.store import Store
from tests.test_web_security import parse_html
from web.dashboard import TABLES


@pytest.fixture
def client(default_app: Flask) -> FlaskClient:
    return default_app.test_client()


@pytest.fixture(scope="module")
def page(default_app: Flask) -> str:
    response = default_app.test_client().get("/dashboard", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_heatmap_has_a_row_per_theme_and_a_column_per_cluster(page: str, default_store: Store) -> None:
    matrix = theme_cluster_matrix(default_store.view(PUBLIC))
    table = page.split('<table class="heatmap">', 1)[1].split("</table>", 1)[0]
    body_rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", table, re.S)
    assert len(body_rows) == len(matrix.themes) == 9
    assert table.split("</thead>", 1)[0].count('<th scope="col" class="column">') == len(matrix.clusters) == 8
    for (theme, cells), row in zip(matrix.rows(), body_rows, strict=True):
        assert theme.iri.rsplit("/", 1)[1] in row
        shown = [int(v) for v in re.findall(r'<td class="cell[^"]*"[^>]*>(\d+)', row)]
        assert shown == [c.count for c in cells]


def test_heatmap_shades_by_count(page: str, default_store: Store) -> None:
    peak = theme_cluster_matrix(default_store.view(PUBLIC)).peak
    assert "rgba(11, 92, 173, 1.00)" in page  # the peak cell
    assert re.search(r'class="cell dark"[^>]*>' + str(peak), page)


def test_figure_1_tables_and_budget_match_the_figures(page: str, default_store: Store) -> None:
    figures = compute_figures(default_store.view(PUBLIC))
    for share in figures.mjps_per_theme:
        assert re.search(rf'href="/id/theme/{share.iri.rsplit("/", 1)[1]}">[^<]+</a></th><td class="num">{share.count}</td>',
                         page)
    assert f"€ {figures.budget['total']:,.0f}" in page
    assert "Reported by" in page and "€ 4,165,000,000" in page


def test_figure_2_is_an_inline_svg_bar_chart(page: str, default_store: Store) -> None:
    figures = compute_figures(default_store.view(PUBLIC))
    svg = page.split('<svg class="bar-chart"', 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert svg.count("<rect") == len(figures.questions_per_cluster) == 8
    widths = [float(w) for w in re.findall(r'<rect x="300" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths == sorted(widths, reverse=True) and widths[0] == 400.0


def test_dashboard_loads_no_script_and_nothing_from_elsewhere(page: str) -> None:
    tags = parse_html(page)
    assert not tags.scripts
    for tag, attrs in tags.tags:
        for name in ("src", "href"):
            assert not re.match(r"^(https?:)?//", attrs.get(name) or ""), (tag, attrs)


def test_every_table_has_a_csv_link(page: str) -> None:
    for name in TABLES:
        assert f'href="/dashboard/{name}.csv"' in page


@pytest.mark.parametrize("name", list(TABLES))
def test_every_table_downloads_as_csv(client: FlaskClient, name: str) -> None:
    response = client.get(f"/dashboard/{name}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="missiekompas-{name}.csv"' in response.headers["Content-Disposition"]
    assert len(list(csv.reader(io.StringIO(response.get_data(as_text=True))))) > 1


def test_heatmap_csv_is_the_matrix(client: FlaskClient, default_store: Store) -> None:
    matrix = theme_cluster_matrix(default_store.view(PUBLIC))
    table = list(csv.reader(io.StringIO(client.get("/dashboard/theme-cluster.csv").get_data(as_text=True))))
    assert table[0][2:] == [c.label("en") for c in matrix.clusters]
    assert [[int(v) for v in row[2:]] for row in table[1:]] == [[c.count for c in cells] for _, cells in matrix.rows()]


def test_an_unknown_table_is_404(client: FlaskClient) -> None:
    assert client.get("/dashboard/secrets.csv").status_code == 404


def test_sections_for_later_analyses_show_only_with_data(page: str, default_app: Flask, default_store: Store) -> None:
    for section in ("gaps", "overlaps", "changes"):
        assert f'id="{section}"' not in page
    view = default_store.view(PUBLIC)
    figures, matrix = compute_figures(view), theme_cluster_matrix(view)
    with default_app.test_request_context("/dashboard"):
        default_app.preprocess_request()
        filled = render_template("dashboard.html", figures=figures, matrix=matrix, axes={}, tables=TABLES,
                                 gaps=[1], overlaps=[1], changes=[1])
    for section in ("gaps", "overlaps", "changes"):
        assert f'<section id="{section}"' in filled
