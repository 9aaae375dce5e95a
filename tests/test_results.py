"""Our row-limited result serialisers write exactly what pyoxigraph writes, and cut at the limit."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from kg.formats import results_format
from kg.results import serialize_boolean, serialize_solutions, serialize_triples

XSD = "http://www.w3.org/2001/XMLSchema#"
QUERY = "SELECT ?s ?p ?o ?unbound WHERE { ?s ?p ?o } ORDER BY ?p ?o"


@pytest.fixture(scope="module")
def store() -> ox.Store:
    store = ox.Store()
    a = ox.NamedNode("urn:a")

    def typed(value: str, datatype: str) -> ox.Literal:
        return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))

    objects = [ox.Literal('x, "quoted" <&>', language="nl"), typed("5", "integer"), typed("5.5", "decimal"),
               typed("1.0E3", "double"), typed("true", "boolean"), typed("2020-01-01", "date"),
               ox.Literal("tab\there\nnewline"), ox.NamedNode("urn:z")]
    for i, obj in enumerate(objects):
        store.add(ox.Quad(a, ox.NamedNode(f"urn:p{i}"), obj))
    store.add(ox.Quad(ox.BlankNode("b1"), ox.NamedNode("urn:p9"), a))
    return store


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_solutions_match_pyoxigraph_byte_for_byte(store: ox.Store, fmt: str) -> None:
    result = store.query(QUERY)
    ours = serialize_solutions([v.value for v in result.variables], result, fmt, max_rows=100)
    assert ours.body == store.query(QUERY).serialize(format=results_format(fmt).ox_format)
    assert not ours.truncated


def test_rows_are_cut_at_the_limit(store: ox.Store) -> None:
    result = store.query(QUERY)
    out = serialize_solutions([v.value for v in result.variables], result, "json", max_rows=3)
    assert out.truncated
    assert len(json.loads(out.body)["results"]["bindings"]) == 3


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_boolean_matches_pyoxigraph(store: ox.Store, fmt: str) -> None:
    expected = store.query("ASK { ?s ?p ?o }").serialize(format=results_format(fmt).ox_format)
    assert serialize_boolean(True, fmt).body == expected


def test_triples_are_cut_at_the_limit(store: ox.Store) -> None:
    out = serialize_triples(store.query("CONSTRUCT WHERE { ?s ?p ?o }"), "nt", max_rows=4)
    assert out.truncated and len(out.body.decode().strip().splitlines()) == 4
    assert out.media_type == "application/n-triples"


TRICKY = ["apos ' here", "ctl \x01\x1f\x7f", "  spaces  ", "uni é 漢 😀", "", "]]> & <", 'back\\slash "q"', "cr\rlf\n"]
TRICKY_QUERIES = [
    "SELECT ?s ?p ?o ?unbound WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o",
    "SELECT ?x WHERE { }",  # one row, all unbound
    "SELECT * WHERE { ?s ?p ?o FILTER(false) }",  # no rows
    "SELECT ?t WHERE { BIND(<<( <urn:a> <urn:b> 'c' )>> AS ?t) }",  # a triple term
]


@pytest.fixture(scope="module")
def tricky() -> ox.Store:
    store = ox.Store()
    for i, value in enumerate(TRICKY):
        subject = ox.NamedNode(f"http://example.org/s{i}?a=1&b='x'")
        store.add(ox.Quad(subject, ox.NamedNode("urn:plain"), ox.Literal(value)))
        store.add(ox.Quad(subject, ox.NamedNode("urn:lang"), ox.Literal(value, language="en-GB")))
        store.add(ox.Quad(subject, ox.NamedNode("urn:typed"), ox.Literal(value, datatype=ox.NamedNode("urn:dt?x='1'"))))
        store.add(ox.Quad(subject, ox.NamedNode("urn:blank"), ox.BlankNode(f"b{i}")))
    return store
