"""The serialisation formats the graph speaks, by short name, with their media types."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from kg.errors import KgError
from kg.schema import ENTITY_TYPES
from ontology import PREFIXES


@dataclass(frozen=True)
class RdfFormat:
    name: str
    media_type: str
    ox_format: ox.RdfFormat
    has_graphs: bool


@dataclass(frozen=True)
class ResultsFormat:
    name: str
    media_type: str
    ox_format: ox.QueryResultsFormat


RDF_FORMATS = {
    f.name: f
    for f in (
        RdfFormat("ttl", "text/turtle", ox.RdfFormat.TURTLE, False),
        RdfFormat("nt", "application/n-triples", ox.RdfFormat.N_TRIPLES, False),
        RdfFormat("jsonld", "application/ld+json", ox.RdfFormat.JSON_LD, False),
        RdfFormat("rdfxml", "application/rdf+xml", ox.RdfFormat.RDF_XML, False),
        RdfFormat("trig", "application/trig", ox.RdfFormat.TRIG, True),
        RdfFormat("nq", "application/n-quads", ox.RdfFormat.N_QUADS, True),
    )
}

RESULTS_FORMATS = {
    f.name: f
    for f in (
        ResultsFormat("json", "application/sparql-results+json", ox.QueryResultsFormat.JSON),
        ResultsFormat("xml", "application/sparql-results+xml", ox.QueryResultsFormat.XML),
        ResultsFormat("csv", "text/csv", ox.QueryResultsFormat.CSV),
        ResultsFormat("tsv", "text/tab-separated-values", ox.QueryResultsFormat.TSV),
    )
}


def rdf_format(name: str) -> RdfFormat:
    try:
        return RDF_FORMATS[name]
    except KeyError:
        raise KgError(f"unknown RDF format {name!r}; choose from {', '.join(RDF_FORMATS)}") from None


def results_format(name: str) -> ResultsFormat:
    try:
        return RESULTS_FORMATS[name]
    except KeyError:
        raise KgError(f"unknown results format {name!r}; choose from {', '.join(RESULTS_FORMATS)}") from None


def rdf_format_for_path(path: str) -> RdfFormat:
    suffix = path.rsplit(".", 1)[-1].lower()
    aliases = {"turtle": "ttl", "json": "jsonld", "rdf": "rdfxml", "xml": "rdfxml", "owl": "rdfxml"}
    return rdf_format(aliases.get(suffix, suffix))


def prefixes(base: str) -> dict[str, str]:
    """The prefixes a serialisation declares: the vocabularies, plus one per entity type under `base`
    (`programme:eccm`), so a dump or entity reads as Turtle people write."""
    own = {t.path.replace("-", "_"): f"{base}{t.path}/" for t in ENTITY_TYPES}
    return {**PREFIXES, **own, "graph": f"{base}graph/"}
