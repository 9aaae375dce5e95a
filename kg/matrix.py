"""Figure 1 as a matrix: MJPs per societal theme and technology cluster, the cells of the dashboard heatmap."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kg.listing import label_in
from kg.queries import named_query
from kg.store import GraphView


@dataclass(frozen=True)
class Axis:
    iri: str
    labels: dict[str, str]
    cell_sum: int  # the sum of its cells (an MJP counts once per cell it is in); orders the axis

    def label(self, lang: str) -> str:
        return label_in(self.labels, lang, self.iri)


@dataclass(frozen=True)
class Cell:
    count: int
    samples: int


@dataclass(frozen=True)
class ThemeClusterMatrix:
    themes: tuple[Axis, ...]  # rows, most MJPs first
    clusters: tuple[Axis, ...]  # columns, most MJPs first
    cells: dict[tuple[str, str], Cell]  # (theme IRI, cluster IRI) -> cell; absent means no MJP

    @property
    def peak(self) -> int:
        return max((c.count for c in self.cells.values()), default=0)

    def cell(self, theme: str, cluster: str) -> Cell:
        return self.cells.get((theme, cluster), Cell(0, 0))

    def rows(self) -> list[tuple[Axis, list[Cell]]]:
        return [(t, [self.cell(t.iri, c.iri) for c in self.clusters]) for t in self.themes]

    def table(self, lang: str = "en") -> tuple[list[str], list[list[object]]]:
        """Wide format (header, rows): one row per theme, one column per cluster."""
        header = ["theme", "theme_iri", *(c.label(lang) for c in self.clusters)]
        return header, [[theme.label(lang), theme.iri, *(c.count for c in cells)] for theme, cells in self.rows()]


def theme_cluster_matrix(store: GraphView) -> ThemeClusterMatrix:
    labels: dict[str, dict[str, dict[str, str]]] = {"theme": defaultdict(dict), "cluster": defaultdict(dict)}
    cells: dict[tuple[str, str], Cell] = {}
    for row in store.select(named_query("mjps_per_theme_cluster")):
        if row["kind"] == "cell":
            cells[(str(row["theme"]), str(row["cluster"]))] = Cell(int(row["mjps"]), int(row["samples"]))
        else:
            labels[str(row["kind"])][str(row["iri"])][str(row.get("lang") or "")] = str(row["label"])
    row_sums: dict[str, int] = defaultdict(int)
    col_sums: dict[str, int] = defaultdict(int)
    for (theme, cluster), cell in cells.items():
        row_sums[theme] += cell.count
        col_sums[cluster] += cell.count

    def axis(kind: str, sums: dict[str, int]) -> tuple[Axis, ...]:
        found = [Axis(iri, ls, sums.get(iri, 0)) for iri, ls in labels[kind].items()]
        return tuple(sorted(found, key=lambda a: (-a.cell_sum, a.label("nl").casefold())))

    return ThemeClusterMatrix(axis("theme", row_sums), axis("cluster", col_sums), cells)
