"""Export then import gives back an isomorphic graph, in every format."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Dataset, Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from kg.errors import DataFileError
from kg.export import export_graph, import_file
from kg.formats import RDF_FORMATS, rdf_format
from kg.store import MemoryStore, Store

RDFLIB_NAMES = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdfxml": "xml", "trig": "trig", "nq": "nquads"}


def union_graph(store: Store) -> Graph:
    graph = Graph()
    graph.parse(data=export_graph(store, rdf_format("nt")), format="nt")
    return graph


def assert_isomorphic(expected: Graph, actual: Graph) -> None:
    if not isomorphic(expected, actual):
        _, only_expected, only_actual = graph_diff(to_isomorphic(expected), to_isomorphic(actual))
        pytest.fail("graphs differ\nonly expected:\n" + only_expected.serialize(format="nt")[:2000]
                    + "\nonly actual:\n" + only_actual.serialize(format="nt")[:2000])


@pytest.mark.parametrize("fmt", ["trig", "nq"])
def test_quad_export_import_round_trip_keeps_named_graphs(tiny_store: Store, tmp_path: Path, fmt: str) -> None:
    dump = tmp_path / f"dump.{fmt}"
    dump.write_bytes(export_graph(tiny_store, rdf_format(fmt)))
    copy = MemoryStore()
    assert import_file(copy, dump) == tiny_store.count()
    assert set(copy.quads()) == set(tiny_store.quads())
    original, again = Dataset(), Dataset()
    original.parse(data=export_graph(tiny_store, rdf_format("nq")), format="nquads")
    again.parse(dump, format=RDFLIB_NAMES[fmt])
    names = {g.identifier for g in original.graphs()}
    assert names == {g.identifier for g in again.graphs()}
    for name in names:
        assert_isomorphic(original.graph(name), again.graph(name))


@pytest.mark.parametrize("fmt", sorted(f for f, spec in RDF_FORMATS.items() if not spec.has_graphs))
def test_triple_export_is_isomorphic_to_the_union(tiny_store: Store, fmt: str) -> None:
    exported = Graph().parse(data=export_graph(tiny_store, rdf_format(fmt)), format=RDFLIB_NAMES[fmt])
    assert_isomorphic(union_graph(tiny_store), exported)
    assert len(exported) > 500


def test_import_refuses_triple_formats(tmp_path: Path) -> None:
    dump = tmp_path / "dump.ttl"
    dump.write_text("<urn:a> <urn:b> <urn:c> .\n")
    with pytest.raises(DataFileError, match="named graphs"):
        import_file(MemoryStore(), dump)


def test_import_of_broken_dump_leaves_store_untouched(tiny_store: Store, tmp_path: Path) -> None:
    dump = tmp_path / "dump.trig"
    dump.write_text("GRAPH <urn:g> { <urn:a> <urn:b> ")
    before = tiny_store.count()
    with pytest.raises(DataFileError, match="cannot be read"):
        import_file(tiny_store, dump)
    assert tiny_store.count() == before
