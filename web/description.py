"""Machine-readable self-descriptions: the SPARQL service description and the VoID/DCAT dataset."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, RDFS, VOID, XSD

from kg.functions import FN
from kg.queries import named_query
from kg.store import Store
from kg.uris import dataset_uri
from ontology import PREFIXES
from search.sparql_functions import DESCRIPTIONS
from web.negotiation import GRAPH_OFFERS

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
RDFLIB_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdfxml": "xml"}
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                  "Turtle", "N-Triples", "JSON-LD", "RDF_XML", "TriG", "N-Quads")
DUMPS = {  # file name -> (RDF format name, description)
    "missiekompas.trig.gz": "trig",
    "missiekompas.nq.gz": "nq",
    "missiekompas.ttl.gz": "ttl",
    "missiekompas.nt.gz": "nt",
}


def serialize(graph: Graph, fmt: str, prefixes: Mapping[str, str] | None = None) -> tuple[bytes, str]:
    """`graph` in `fmt`, declaring `prefixes` (replacing rdflib's ns1: for our vocabulary)."""
    for prefix, namespace in (prefixes or PREFIXES).items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph.serialize(format=RDFLIB_FORMATS[fmt], encoding="utf-8"), GRAPH_OFFERS[fmt][0]


def service_description(endpoint: str, fmt: str, *, writable: bool) -> tuple[bytes, str]:
    """The SPARQL service description; Update is advertised only where an admin token can write."""
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("fn", FN)
    service = URIRef(endpoint + "#service")
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, URIRef(endpoint)))
    for language in ("SPARQL11Query", "SPARQL11Update") if writable else ("SPARQL11Query",):
        graph.add((service, SD.supportedLanguage, SD[language]))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    for name in RESULT_FORMATS:
        graph.add((service, SD.resultFormat, FORMATS[name]))
    for function, comment in DESCRIPTIONS.items():  # kg.functions, scored by search.sparql_functions
        graph.add((service, SD.extensionFunction, URIRef(function)))
        graph.add((URIRef(function), RDF.type, SD.Function))
        graph.add((URIRef(function), RDFS.comment, Literal(comment, lang="en")))
    dataset = BNode()
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    default = BNode()
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    graph.add((default, DCTERMS.description,
               Literal("The union of the named graphs this audience may read."
                       + (" Writes need an admin token." if writable else " This server is read-only."), lang="en")))
    return serialize(graph, fmt)


def void_description(store: Store, base: str, root: str) -> Graph:
    """The dataset: title, licence, build time, named graphs with their sizes, endpoint and dumps."""
    graph = Graph()
    graph.bind("void", VOID)
    graph.bind("dcat", DCAT)
    dataset = dataset_uri(base)
    graph.parse(data=store.query_to(f"CONSTRUCT {{ <{dataset}> ?p ?o }} WHERE {{ <{dataset}> ?p ?o }}", "nt"),
                format="nt")
    graph.add((dataset, VOID.sparqlEndpoint, URIRef(root + "sparql")))
    graph.add((dataset, VOID.triples, Literal(store.count(), datatype=XSD.integer)))
    for name in DUMPS:
        graph.add((dataset, VOID.dataDump, URIRef(f"{root}dumps/{name}")))
    for row in store.select(named_query("graphs")):
        subset = URIRef(row["graph"])
        graph.add((dataset, VOID.subset, subset))
        graph.add((subset, VOID.triples, Literal(int(row["triples"]), datatype=XSD.integer)))
        graph.add((subset, DCTERMS.source, Literal(row["file"])))
    distribution = URIRef(root + "sparql")
    graph.add((dataset, DCAT.distribution, distribution))
    graph.add((distribution, RDF.type, DCAT.Distribution))
    graph.add((distribution, DCAT.accessURL, URIRef(root + "sparql")))
    return graph


@dataclass(frozen=True)
class Subset:
    graph: str  # a named graph's IRI
    triples: int
    source: str  # the data file it was built from


@dataclass(frozen=True)
class DatasetSummary:
    """The VoID description as a page shows it."""

    titles: dict[str, str]  # language -> title
    licence: str
    modified: str
    triples: int
    endpoint: str
    dumps: tuple[str, ...]
    subsets: tuple[Subset, ...]


def dataset_summary(graph: Graph, base: str) -> DatasetSummary:
    """What void_description says about the dataset, read back from its graph (so the page and the RDF agree)."""
    dataset = dataset_uri(base)
    titles = {o.language or "": str(o) for o in graph.objects(dataset, DCTERMS.title) if isinstance(o, Literal)}
    subsets = tuple(sorted((Subset(str(s), int(graph.value(s, VOID.triples) or 0), str(graph.value(s, DCTERMS.source) or ""))
                            for s in graph.objects(dataset, VOID.subset)), key=lambda sub: sub.graph))
    return DatasetSummary(titles, str(graph.value(dataset, DCTERMS.license) or ""),
                          str(graph.value(dataset, DCTERMS.modified) or ""), int(graph.value(dataset, VOID.triples) or 0),
                          str(graph.value(dataset, VOID.sparqlEndpoint) or ""),
                          tuple(sorted(str(o) for o in graph.objects(dataset, VOID.dataDump))), subsets)
