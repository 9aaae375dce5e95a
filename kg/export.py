"""Exporting and importing the whole graph in the standard RDF formats."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.errors import DataFileError
from kg.formats import RdfFormat, prefixes, rdf_format_for_path
from kg.store import GraphView, OxigraphStore, Store
from ontology import PREFIXES


def export_graph(store: Store | GraphView, fmt: RdfFormat, *, base: str | None = None) -> bytes:
    """Quad formats keep the named graphs (past editions included); triple formats get the
    default graph: the current portfolio, each triple once. Both declare the vocabularies' prefixes,
    and with `base` one prefix per entity type (`programme:eccm`)."""
    if fmt.has_graphs:
        return ox.serialize(store.quads(), format=fmt.ox_format, prefixes=prefixes(base) if base else PREFIXES) or b""
    triples = ox.parse(store.query_to("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "nt"), format=ox.RdfFormat.N_TRIPLES)
    return ox.serialize(triples, format=fmt.ox_format, prefixes=prefixes(base) if base else PREFIXES) or b""


def import_file(store: Store, path: Path) -> int:
    """Replace the store's content with a TriG or N-Quads dump; returns the number of quads."""
    fmt = rdf_format_for_path(str(path))
    if not fmt.has_graphs:
        raise DataFileError(f"{path}: import needs named graphs; use a .trig or .nq dump")
    try:
        quads = list(ox.parse(path=str(path), format=fmt.ox_format))
    except (SyntaxError, OSError) as exc:
        raise DataFileError(f"{path}: cannot be read as {fmt.name}: {exc}") from exc
    if isinstance(store, OxigraphStore):
        store.replace_all(quads, kind="import", note=path.name)  # a build later asks before replacing it
    else:
        store.replace_all(quads)
    return len(quads)
