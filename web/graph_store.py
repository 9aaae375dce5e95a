"""The SPARQL 1.1 Graph Store HTTP Protocol (indirect identification): read for all, write with a token."""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, request

from kg.sparql_text import UpdateDataset
from kg.uris import checked_iri
from web.auth import checked_visibility, request_view, require_write_token
from web.errors import BadRequest, NotFound, UnsupportedMediaType
from web.negotiation import GRAPH_OFFERS, negotiate
from web.services import services

graph_store = Blueprint("graph_store", __name__)
READ_OFFERS = {k: GRAPH_OFFERS[k] for k in ("ttl", "nt", "jsonld", "rdfxml")}
BODY_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML, "application/ld+json": ox.RdfFormat.JSON_LD,
}


@graph_store.route("/rdf-graph-store", methods=["GET", "PUT", "POST", "DELETE"])
def store_graph() -> Response:
    target = _target()
    if request.method in ("GET", "HEAD"):
        return _read(target)
    who = require_write_token()
    visibility = checked_visibility(request.args.get("visibility"))
    if target is None and visibility == "public":
        raise BadRequest("the default graph is internal; publish triples in a named graph (?graph=...&visibility=public)")
    graph = "DEFAULT" if target is None else f"GRAPH <{target}>"
    if request.method == "DELETE":
        if target is not None and not _exists(target):
            raise NotFound(f"no graph named {target}")
        services().queries.update(f"DROP {graph}", UpdateDataset(), who=who)
        return Response(status=204)
    data = _body_triples()
    wrapped = data if target is None else f"{graph} {{ {data} }}"
    insert = f"INSERT DATA {{ {wrapped} }}" if data else ""
    existed = target is None or _exists(target)
    statements = ([f"DROP SILENT {graph}"] if request.method == "PUT" else []) + ([insert] if insert else [])
    if statements:
        services().queries.update(" ;\n".join(statements), UpdateDataset(), who=who, visibility=visibility)
    return Response(status=204 if existed else 201)


def _target() -> str | None:
    """The graph IRI of ?graph=, or None for ?default; exactly one of the two."""
    graphs = request.args.getlist("graph")
    has_default = "default" in request.args
    if has_default == bool(graphs) or len(graphs) > 1:
        raise BadRequest("give exactly one of ?graph=<IRI> or ?default")
    return checked_iri(graphs[0]) if graphs else None


def _exists(graph: str) -> bool:
    """Whether the graph exists for this request: an internal graph does not, for the public. A SELECT of
    one quad, not an ASK: Virtuoso answers an ASK on a graph outside the request's dataset with true
    (docs/virtuoso.md)."""
    return bool(request_view().select(f"SELECT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} LIMIT 1"))


def _read(target: str | None) -> Response:
    fmt = negotiate(READ_OFFERS, request.headers.get("Accept"), request.args.get("format"))
    where = "?s ?p ?o" if target is None else f"GRAPH <{target}> {{ ?s ?p ?o }}"
    if target is not None and not _exists(target):
        raise NotFound(f"no graph named {target}")
    body = request_view().query_to(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}", fmt)
    response = Response(body, content_type=READ_OFFERS[fmt][0])
    response.headers["Vary"] = "Accept"
    return response


def _body_triples() -> str:
    kind = (request.mimetype or "").lower()
    if kind not in BODY_FORMATS:
        raise UnsupportedMediaType(f"send the graph as one of: {', '.join(BODY_FORMATS)}")
    try:
        triples = list(ox.parse(request.get_data(), format=BODY_FORMATS[kind], base_iri=request.base_url))
    except SyntaxError as exc:
        raise BadRequest(f"the body is not valid {kind}: {exc}") from exc
    if any(not isinstance(t.graph_name, ox.DefaultGraph) for t in triples if isinstance(t, ox.Quad)):
        raise BadRequest("a graph body holds triples, not quads (no named graphs)")
    return "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
