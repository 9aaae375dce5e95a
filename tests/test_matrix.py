"""Figure 1 as a matrix (kg/matrix.py): MJPs per theme and cluster, with samples and both axes complete."""

from __future__ import annotations

from kg.figures import compute_figures
from kg.matrix import Cell, theme_cluster_matrix
from kg.store import Store
from tests.conftest import BASE

ENERGY, HEALTH = BASE + "theme/energy", BASE + "theme/health"
ALPHA, BETA = BASE + "cluster/alpha-tech", BASE + "cluster/beta-tech"


def test_tiny_cells_count_mjps_and_samples(tiny_store: Store) -> None:
    matrix = theme_cluster_matrix(tiny_store)
    assert matrix.cell(ENERGY, BETA) == Cell(2, 1)  # storage-mjp and the sample
    assert matrix.cell(ENERGY, ALPHA) == Cell(1, 0)  # the broad programme is no MJP
    assert matrix.cell(HEALTH, BETA) == Cell(1, 1)
    assert matrix.cell(HEALTH, ALPHA) == Cell(0, 0)
    assert matrix.peak == 2


def test_axes_hold_every_theme_and_cluster_busiest_first(tiny_store: Store) -> None:
    matrix = theme_cluster_matrix(tiny_store)
    assert [a.iri for a in matrix.themes] == [ENERGY, HEALTH]
    assert [a.iri for a in matrix.clusters] == [BETA, ALPHA]
    assert matrix.clusters[0].label("nl") == "Bètatechnologie" and matrix.clusters[0].label("en") == "Beta technology"


def test_table_is_wide(tiny_store: Store) -> None:
    header, rows = theme_cluster_matrix(tiny_store).table("en")
    assert header == ["theme", "theme_iri", "Beta technology", "Alpha technology"]
    assert rows == [["Energy", ENERGY, 2, 1], ["Health", HEALTH, 1, 0]]


def test_no_cell_exceeds_its_theme_or_cluster_in_figure_1(default_store: Store) -> None:
    matrix, figures = theme_cluster_matrix(default_store), compute_figures(default_store)
    per_theme = {s.iri: s.count for s in figures.mjps_per_theme}
    per_cluster = {s.iri: s.count for s in figures.mjps_per_cluster}
    assert len(matrix.themes) == len(per_theme) and len(matrix.clusters) == len(per_cluster)
    for (theme, cluster), cell in matrix.cells.items():
        assert cell.count <= min(per_theme[theme], per_cluster[cluster])
