"""Exporting and importing the whole graph in the standard RDF formats."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

from kg.errors import DataFileError
from kg.formats import RdfFormat, rdf_format_for_path
from kg.store import Store


def export_graph(store: Store, fmt: RdfFormat) -> bytes:
    """Quad formats keep the named graphs; triple formats get the union (each triple once)."""
    if fmt.has_graphs:
        return ox.serialize(store.quads(), format=fmt.ox_format) or b""
    return ox.serialize(_union(store.quads()), format=fmt.ox_format) or b""


def _union(quads: Iterator[ox.Quad]) -> list[ox.Triple]:
    return list(dict.fromkeys(q.triple for q in quads))


def import_file(store: Store, path: Path) -> int:
    """Replace the store's content with a TriG or N-Quads dump; returns the number of quads."""
    fmt = rdf_format_for_path(str(path))
    if not fmt.has_graphs:
        raise DataFileError(f"{path}: import needs named graphs; use a .trig or .nq dump")
    try:
        quads = list(ox.parse(path=str(path), format=fmt.ox_format))
    except (SyntaxError, OSError) as exc:
        raise DataFileError(f"{path}: cannot be read as {fmt.name}: {exc}") from exc
    store.replace_all(quads)
    return len(quads)
