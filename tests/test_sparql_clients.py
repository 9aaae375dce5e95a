"""Real SPARQL clients against the real endpoint: SPARQLWrapper 2.0 and rdflib's SPARQLStore.

Each test asks the shipped default data something with a known answer (the eight technology clusters and
their English labels) and checks the answer the client hands back, not just that a request went through.
SPARQLWrapper is used as people use it (its default `format`/`output` parameters next to the Accept
header) unless a test says otherwise; its GET, URL-encoded POST and direct POST are all tried.
"""

from __future__ import annotations

import csv
import io
import re
import urllib.error
from typing import Any
from xml.dom.minidom import Document

import pytest
import requests
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV as CSV_FORMAT
from SPARQLWrapper import (
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)
from SPARQLWrapper import RDF as RDF_FORMAT

pytestmark = pytest.mark.filterwarnings("ignore:.*ConjunctiveGraph.*:DeprecationWarning",
                                        "ignore:Sending Accept header:RuntimeWarning")

MK = "https://w3id.org/missiekompas/ontology#"
QUANTUM = URIRef("https://w3id.org/missiekompas/id/cluster/quantum-technologies")
QUANTUM_EN = Literal("Quantum Technologies", lang="en")
PREFIXES = f"PREFIX mk: <{MK}>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
LABELS = ["Advanced Materials", "Chemical Technologies", "Digital Technologies",
          "Engineering and Fabrication Technologies", "Life Science Technologies", "Nanotechnologies",
          "Photonics and Light Technologies", "Quantum Technologies"]
SELECT_LABELS = PREFIXES + """SELECT ?label WHERE {
  ?c a mk:TechnologyCluster ; skos:prefLabel ?label FILTER(lang(?label) = "en")
} ORDER BY ?label"""
ASK_CLUSTER = PREFIXES + 'ASK { ?c a mk:TechnologyCluster ; skos:prefLabel "Quantum Technologies"@en }'
ASK_MISSING = PREFIXES + 'ASK { ?c a mk:TechnologyCluster ; skos:prefLabel "Warp Drives"@en }'
CONSTRUCT_LABELS = PREFIXES + """CONSTRUCT { ?c skos:prefLabel ?label } WHERE {
  ?c a mk:TechnologyCluster ; skos:prefLabel ?label FILTER(lang(?label) = "en")
}"""
DESCRIBE_QUANTUM = f"DESCRIBE <{QUANTUM}>"

METHODS = {"get": (GET, URLENCODED), "post_form": (POST, URLENCODED), "post_direct": (POST, POSTDIRECTLY)}


def endpoint(server: str) -> str:
    return f"{server}/sparql"


# --- SPARQLWrapper ----------------------------------------------------------------------------------------

def run_wrapper(server: str, query: str, fmt: str | None, method: str = "get", *, only_conneg: bool = False,
                accept: str | None = None) -> tuple[str, Any]:
    """Run `query` with SPARQLWrapper; the response Content-Type and what `convert()` made of the body."""
    wrapper = SPARQLWrapper(endpoint(server))
    wrapper.setQuery(query)
    if fmt is not None:
        wrapper.setReturnFormat(fmt)
    http_method, request_method = METHODS[method]
    wrapper.setMethod(http_method)
    wrapper.setRequestMethod(request_method)
    wrapper.setOnlyConneg(only_conneg)
    if accept:
        wrapper.addCustomHttpHeader("Accept", accept)
    wrapper.setTimeout(30)
    try:
        result = wrapper.query()
    except urllib.error.HTTPError as exc:  # show the endpoint's problem detail, not just the status line
        pytest.fail(f"HTTP {exc.code} from the endpoint: {exc.read().decode('utf-8', 'replace')}")
    return result.info()["content-type"], result.convert()


def labels_from_json(converted: dict[str, Any]) -> list[str]:
    assert converted["head"]["vars"] == ["label"]
    bindings = converted["results"]["bindings"]
    assert all(b["label"]["xml:lang"] == "en" for b in bindings)
    return [b["label"]["value"] for b in bindings]


def labels_from_xml(converted: Document) -> list[str]:
    literals = converted.getElementsByTagName("literal")
    assert all(node.getAttribute("xml:lang") == "en" for node in literals)
    return [node.firstChild.data for node in literals]


def labels_from_csv(converted: bytes) -> list[str]:
    header, *rows = csv.reader(io.StringIO(converted.decode("utf-8")))
    assert header == ["label"]
    return [row[0] for row in rows]


def labels_from_tsv(converted: bytes) -> list[str]:
    header, *rows = converted.decode("utf-8").splitlines()
    assert header == "?label"
    return [re.fullmatch(r'"(.*)"@en', row).group(1) for row in rows]  # type: ignore[union-attr]


SELECT_FORMATS = {
    "json": (JSON, "application/sparql-results+json", labels_from_json),
    "xml": (XML, "application/sparql-results+xml", labels_from_xml),
    "csv": (CSV_FORMAT, "text/csv; charset=utf-8", labels_from_csv),
    "tsv": (TSV, "text/tab-separated-values; charset=utf-8", labels_from_tsv),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", SELECT_FORMATS)
def test_sparqlwrapper_select(server: str, name: str, method: str) -> None:
    fmt, media_type, labels_of = SELECT_FORMATS[name]
    content_type, converted = run_wrapper(server, SELECT_LABELS, fmt, method)
    assert content_type == media_type
    assert labels_of(converted) == LABELS


def boolean_from_json(converted: dict[str, Any]) -> bool:
    value = converted["boolean"]
    assert isinstance(value, bool)
    return value


def boolean_from_xml(converted: Document) -> bool:
    [node] = converted.getElementsByTagName("boolean")
    return {"true": True, "false": False}[node.firstChild.data]


ASK_FORMATS = {
    "json": (JSON, "application/sparql-results+json", boolean_from_json),
    "xml": (XML, "application/sparql-results+xml", boolean_from_xml),
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", ASK_FORMATS)
def test_sparqlwrapper_ask(server: str, name: str, method: str) -> None:
    fmt, media_type, boolean_of = ASK_FORMATS[name]
    content_type, converted = run_wrapper(server, ASK_CLUSTER, fmt, method)
    assert content_type == media_type
    assert boolean_of(converted) is True
    assert boolean_of(run_wrapper(server, ASK_MISSING, fmt, method)[1]) is False


def as_graph(converted: Graph | bytes, content_type: str) -> Graph:
    """SPARQLWrapper gives an rdflib graph for RDF/XML and JSON-LD, and the raw bytes for Turtle/N3/N-Triples."""
    if isinstance(converted, Graph):
        return converted
    assert isinstance(converted, bytes)
    rdflib_format = "nt" if content_type.startswith("application/n-triples") else "turtle"
    return Graph().parse(data=converted, format=rdflib_format)


def check_graph(query: str, graph: Graph) -> None:
    if query == CONSTRUCT_LABELS:
        assert len(graph) == 8
        assert sorted(str(label) for label in graph.objects(None, SKOS.prefLabel)) == LABELS
    else:
        assert (QUANTUM, SKOS.prefLabel, QUANTUM_EN) in graph
        assert (QUANTUM, RDF.type, URIRef(MK + "TechnologyCluster")) in graph


# SPARQLWrapper's RDF formats for CONSTRUCT/DESCRIBE and the media type each should come back in. XML is
# SPARQLWrapper's default return format; N3 asks for Turtle (text/turtle is first in its Accept list).
GRAPH_FORMATS = {
    "turtle": (TURTLE, "text/turtle"),
    "n3": (N3, "text/turtle"),
    "rdf": (RDF_FORMAT, "application/rdf+xml"),
    "rdfxml": (RDFXML, "application/rdf+xml"),
    "jsonld": (JSONLD, "application/ld+json"),
    "xml": (XML, "application/rdf+xml"),
}
GRAPH_QUERIES = {"construct": CONSTRUCT_LABELS, "describe": DESCRIBE_QUANTUM}


@pytest.mark.parametrize("name", GRAPH_FORMATS)
@pytest.mark.parametrize("form", GRAPH_QUERIES)
def test_sparqlwrapper_graph_formats(server: str, form: str, name: str) -> None:
    fmt, media_type = GRAPH_FORMATS[name]
    query = GRAPH_QUERIES[form]
    content_type, converted = run_wrapper(server, query, fmt)
    assert content_type == media_type
    check_graph(query, as_graph(converted, content_type))


@pytest.mark.parametrize("name", ["n3", "rdfxml", "xml"])
@pytest.mark.parametrize("form", GRAPH_QUERIES)
def test_sparqlwrapper_graph_formats_by_accept_only(server: str, form: str, name: str) -> None:
    """The same formats with only the Accept header (setOnlyConneg): the endpoint can produce all of them."""
    fmt, media_type = GRAPH_FORMATS[name]
    query = GRAPH_QUERIES[form]
    content_type, converted = run_wrapper(server, query, fmt, only_conneg=True)
    assert content_type == media_type
    check_graph(query, as_graph(converted, content_type))


@pytest.mark.parametrize("method", ["post_form", "post_direct"])
@pytest.mark.parametrize("name", ["turtle", "jsonld"])
@pytest.mark.parametrize("form", GRAPH_QUERIES)
def test_sparqlwrapper_graph_by_post(server: str, form: str, name: str, method: str) -> None:
    fmt, media_type = GRAPH_FORMATS[name]
    query = GRAPH_QUERIES[form]
    content_type, converted = run_wrapper(server, query, fmt, method)
    assert content_type == media_type
    check_graph(query, as_graph(converted, content_type))


@pytest.mark.parametrize("form", GRAPH_QUERIES)
def test_sparqlwrapper_n_triples(server: str, form: str) -> None:
    """SPARQLWrapper has no N-Triples constant: ask for it with the Accept header; N3 conversion keeps the bytes."""
    query = GRAPH_QUERIES[form]
    content_type, converted = run_wrapper(server, query, N3, only_conneg=True, accept="application/n-triples")
    assert content_type == "application/n-triples"
    assert all(line.endswith(b" .") for line in converted.splitlines())
    check_graph(query, as_graph(converted, content_type))


def test_sparqlwrapper_default_format_for_construct(server: str) -> None:
    """Without setReturnFormat SPARQLWrapper asks for XML, which for a CONSTRUCT means RDF/XML."""
    content_type, converted = run_wrapper(server, CONSTRUCT_LABELS, None)
    assert content_type == "application/rdf+xml"
    check_graph(CONSTRUCT_LABELS, as_graph(converted, content_type))


# --- rdflib SPARQLStore -----------------------------------------------------------------------------------

STORE_METHODS = ["GET", "POST", "POST_FORM"]


def remote_graph(server: str, method: str = "GET", return_format: str = "xml") -> Graph:
    return Graph(store=SPARQLStore(endpoint(server), method=method, returnFormat=return_format, timeout=30))


@pytest.mark.parametrize("method", STORE_METHODS)
def test_sparqlstore_select(server: str, method: str) -> None:
    rows = list(remote_graph(server, method).query(SELECT_LABELS))
    assert [row.label for row in rows] == [Literal(label, lang="en") for label in LABELS]


@pytest.mark.parametrize("method", STORE_METHODS)
def test_sparqlstore_ask(server: str, method: str) -> None:
    graph = remote_graph(server, method)
    assert graph.query(ASK_CLUSTER).askAnswer is True
    assert graph.query(ASK_MISSING).askAnswer is False


@pytest.mark.parametrize("method", STORE_METHODS)
def test_sparqlstore_construct(server: str, method: str) -> None:
    result = remote_graph(server, method).query(CONSTRUCT_LABELS)
    assert result.type == "CONSTRUCT"
    assert result.graph is not None
    check_graph(CONSTRUCT_LABELS, result.graph)


@pytest.mark.parametrize("method", STORE_METHODS)
def test_sparqlstore_json_results(server: str, method: str) -> None:
    graph = remote_graph(server, method, "json")
    assert [str(row.label) for row in graph.query(SELECT_LABELS)] == LABELS
    assert graph.query(ASK_CLUSTER).askAnswer is True


def test_sparqlstore_graph_api(server: str) -> None:
    """Graph methods become queries: triple patterns, membership and the size of the default graph."""
    graph = remote_graph(server)
    labels = set(graph.objects(QUANTUM, SKOS.prefLabel))
    assert QUANTUM_EN in labels and len(labels) == 2
    assert (QUANTUM, RDF.type, URIRef(MK + "TechnologyCluster")) in graph
    assert len(set(graph.subjects(RDF.type, URIRef(MK + "TechnologyCluster")))) == 8
    count = requests.get(endpoint(server), params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                         timeout=30).json()["results"]["bindings"][0]["n"]["value"]
    assert len(graph) == int(count) > 5000
