"""Linked data: entity URIs dereference by content negotiation; dumps and the VoID description."""

from __future__ import annotations

import gzip
import threading
from typing import NoReturn

from flask import Blueprint, Response, render_template, request, url_for

from kg.cooperation import cooperation_network
from kg.entity import describe_entity, entity_view
from kg.export import export_graph
from kg.formats import prefixes, rdf_format
from kg.past_entity import find_past_entity
from kg.store import GraphView, View
from kg.uris import checked_iri
from web.auth import current_audience, request_view
from web.description import DUMPS, dataset_summary, serialize, void_description
from web.entity_view import entity_page
from web.errors import Gone, NotFound
from web.negotiation import GRAPH_OFFERS, negotiate, prefers_html
from web.services import services

linked_data = Blueprint("linked_data", __name__)
ENTITY_OFFERS = {k: GRAPH_OFFERS[k] for k in ("ttl", "jsonld", "nt", "rdfxml")}
_dump_cache: dict[tuple[str, str], bytes] = {}
_dump_lock = threading.Lock()


@linked_data.route("/id/<path:rest>")
def entity(rest: str) -> Response:
    s = services()
    iri = checked_iri(s.settings.base_uri + rest)
    accept = request.headers.get("Accept")
    if prefers_html(accept) and not request.args.get("format"):
        response = Response(_entity_html(iri), content_type="text/html; charset=utf-8")
    else:
        fmt = negotiate(ENTITY_OFFERS, accept, request.args.get("format"))
        graph = describe_entity(request_view(), iri)
        if len(graph) == 0:
            _not_current(iri)
        body, media_type = serialize(graph, fmt, prefixes(s.settings.base_uri))
        response = Response(body, content_type=media_type)
    response.headers["Vary"] = "Accept"
    return response


def _entity_html(iri: str) -> str:
    """The entity's page by kind (web.entity_view); for an entity only a past edition holds, that edition's."""
    view = request_view()
    found = entity_view(view, iri)
    if found is None:
        past = find_past_entity(view, iri)
        if past is None:
            raise NotFound(f"nothing is known about {iri}")
        return render_template("entity_past.html", past=past)
    page = entity_page(view, found)
    network = cooperation_network(view, iri) if page.kind == "organisation" else ()
    return render_template("entity.html", page=page, similar=services().similar(iri, current_audience()),
                           network=network)


def _not_current(iri: str) -> NoReturn:
    """404 for an unknown IRI; 410 Gone, naming the edition and its graph, for one only a past edition holds (its
    URI named something once; a 200 with the old triples would pass for current data)."""
    past = find_past_entity(request_view(), iri)
    if past is None:
        raise NotFound(f"nothing is known about {iri}")
    raise Gone(f"{iri} is no longer in the current portfolio; edition {past.edition} held it: "
               f"GET {url_for('graph_store.store_graph', graph=past.edition_graph)}")


@linked_data.route("/dumps/<name>")
def dump(name: str) -> Response:
    if name not in DUMPS:  # a fixed list: no path from the request ever reaches the file system
        raise NotFound(f"no dump named {name!r}; available: {', '.join(DUMPS)}")
    body = _dump_bytes(request_view(), DUMPS[name])
    response = Response(body, content_type="application/gzip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _dump_bytes(view: GraphView, fmt: str) -> bytes:
    """Gzipped dump of what this audience may see; cached per view of a store version, since a
    version never changes once written."""
    version = view.cache_key() if isinstance(view, View) and view.path is not None else ""
    with _dump_lock:
        if version and (version, fmt) in _dump_cache:
            return _dump_cache[(version, fmt)]
    body = gzip.compress(export_graph(view, rdf_format(fmt), base=services().settings.base_uri), mtime=0)
    if version:
        with _dump_lock:
            if len(_dump_cache) >= len(DUMPS) * 2:  # keep the current and the previous version only
                _dump_cache.clear()
            _dump_cache[(version, fmt)] = body
    return body


@linked_data.route("/void")
@linked_data.route("/.well-known/void")
def void() -> Response:
    """The VoID description: a page for a browser (Accept), else RDF in the negotiated format."""
    base = services().settings.base_uri
    root = url_for("sparql.endpoint", _external=True).removesuffix("sparql")
    if prefers_html(request.headers.get("Accept")) and not request.args.get("format"):
        summary = dataset_summary(void_description(request_view(), base, root), base)
        response = Response(render_template("dataset.html", dataset=summary, formats=ENTITY_OFFERS),
                            content_type="text/html; charset=utf-8")
    else:
        fmt = negotiate(ENTITY_OFFERS, request.headers.get("Accept"), request.args.get("format"))
        body, media_type = serialize(void_description(request_view(), base, root), fmt)
        response = Response(body, content_type=media_type)
    response.headers["Vary"] = "Accept"
    return response
