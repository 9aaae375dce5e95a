"""The SPARQL 1.1 Protocol at /sparql: query by GET or POST, update by POST with a token."""

from __future__ import annotations

import time

from flask import Blueprint, Response, g, render_template, request, url_for

from kg.queries import example_queries
from kg.sparql_text import UpdateDataset
from web.auth import current_audience, require_write_token
from web.description import service_description
from web.negotiation import GRAPH_OFFERS, negotiate, prefers_html
from web.services import services
from web.sparql_protocol import Operation, answer_query, read_operation

sparql = Blueprint("sparql", __name__)
DESCRIPTION_OFFERS = {k: GRAPH_OFFERS[k] for k in ("ttl", "nt", "jsonld", "rdfxml")}


@sparql.route("/sparql", methods=["GET", "POST", "OPTIONS"])
def endpoint() -> Response:
    """GET and POST queries are answered ahead of Flask (web.sparql_wsgi); HEAD queries, updates,
    OPTIONS, the service description and YASGUI come here."""
    if request.method == "OPTIONS":
        return Response(status=204)
    op = read_operation(request)
    if op.update is not None:
        return _update(op)
    if op.query is None:
        return _describe()
    response, g.log_detail = answer_query(request, op, services(), current_audience())
    return response


def _update(op: Operation) -> Response:
    assert op.update is not None
    require_write_token()
    started = time.perf_counter()
    services().queries.update(op.update, UpdateDataset(op.using, op.using_named), base_iri=request.base_url)
    g.log_detail = f"; UPDATE in {(time.perf_counter() - started) * 1000:.1f} ms: {' '.join(op.update.split())[:200]}"
    done = Response(status=204)
    del done.headers["Content-Type"]
    return done


def _describe() -> Response:
    accept = request.headers.get("Accept")
    if prefers_html(accept) and not request.args.get("format"):
        page = render_template("yasgui.html", endpoint=url_for("sparql.endpoint", _external=True),
                               examples=example_queries())
        html = Response(page, content_type="text/html; charset=utf-8")
        html.headers["Vary"] = "Accept"
        return html
    fmt = negotiate(DESCRIPTION_OFFERS, accept, request.args.get("format"))
    body, media_type = service_description(url_for("sparql.endpoint", _external=True), fmt)
    response = Response(body, content_type=media_type)
    response.headers["Vary"] = "Accept"
    return response
