"""Graph statistics from SPARQL: entities per class, MJPs per theme and per cluster."""

from __future__ import annotations

from dataclasses import dataclass

from kg.queries import named_query
from kg.store import GraphView


@dataclass(frozen=True)
class Count:
    iri: str
    label: str
    count: int
    samples: int


@dataclass(frozen=True)
class Stats:
    classes: tuple[Count, ...]
    mjps_per_theme: tuple[Count, ...]
    mjps_per_cluster: tuple[Count, ...]
    quads: int

    def class_count(self, local_name: str) -> int:
        return next((c.count for c in self.classes if c.iri.endswith("#" + local_name)), 0)


def count_rows(store: GraphView, query: str, iri: str, value: str) -> tuple[Count, ...]:
    """The rows of a named counting query (an IRI, its label, a count and how many of those are samples)."""
    return tuple(Count(str(r[iri]), str(r.get("label", r[iri])), int(r.get(value, 0)), int(r.get("samples", 0)))
                 for r in store.select(named_query(query)))


def compute_stats(store: GraphView) -> Stats:
    return Stats(
        classes=count_rows(store, "class_counts", "class", "count"),
        mjps_per_theme=count_rows(store, "mjps_per_theme", "theme", "mjps"),
        mjps_per_cluster=count_rows(store, "mjps_per_cluster", "cluster", "mjps"),
        quads=store.count(),
    )


def format_stats(stats: Stats) -> str:
    """A plain-text report; sample records are counted separately so nobody mistakes them for real."""
    lines = [f"Missiekompas graph: {stats.quads} quads", "", "Entities per class (of which samples):"]
    lines += [f"  {c.label or c.iri:<42} {c.count:>5}" + (f"  ({c.samples} sample)" if c.samples else "")
              for c in stats.classes]
    for title, rows in (("MJPs per theme", stats.mjps_per_theme), ("MJPs per technology cluster", stats.mjps_per_cluster)):
        lines += ["", f"{title} (of which samples):"]
        lines += [f"  {c.label:<42} {c.count:>5}" + (f"  ({c.samples} sample)" if c.samples else "") for c in rows]
    if any(c.samples for c in stats.classes):
        lines += ["", "Note: records marked sample are illustrative, not real programmes or organisations."]
    return "\n".join(lines)
