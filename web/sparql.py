"""The SPARQL 1.1 Protocol at /sparql: query by GET or POST, update by POST with a token."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from flask import Blueprint, Response, render_template, request, url_for
from werkzeug.datastructures import CombinedMultiDict, MultiDict

from kg.execute import QueryRequest
from kg.queries import example_queries
from kg.sparql_text import UpdateDataset, query_form
from web.auth import current_audience, require_write_token
from web.description import service_description
from web.errors import BadRequest, UnsupportedMediaType
from web.negotiation import BOOLEAN_OFFERS, GRAPH_OFFERS, RESULTS_OFFERS, negotiate, prefers_html
from web.services import services

sparql = Blueprint("sparql", __name__)
log = logging.getLogger("missiekompas.sparql")

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"
DESCRIPTION_OFFERS = {k: GRAPH_OFFERS[k] for k in ("ttl", "nt", "jsonld", "rdfxml")}


@dataclass(frozen=True)
class Operation:
    """What a protocol request asks: exactly one query or one update, with its dataset."""

    query: str | None
    update: str | None
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    using: tuple[str, ...]
    using_named: tuple[str, ...]
    format: str | None


@sparql.route("/sparql", methods=["GET", "POST", "OPTIONS"])
def endpoint() -> Response:
    if request.method == "OPTIONS":
        return Response(status=204)
    op = _read_operation()
    if op.update is not None:
        return _update(op)
    if op.query is None:
        return _describe()
    return _query(op)


def _read_operation() -> Operation:
    params = _strict_params(request.query_string)
    queries, updates = params.getlist("query"), params.getlist("update")
    if request.method == "POST":
        kind = (request.mimetype or "").lower()
        if not kind:
            raise BadRequest("a POST needs a Content-Type: application/x-www-form-urlencoded, "
                             "application/sparql-query or application/sparql-update")
        _check_charset()
        if kind == FORM:
            form = _strict_params(request.get_data(cache=True))
            queries, updates = queries + form.getlist("query"), updates + form.getlist("update")
            params = CombinedMultiDict([params, form])
        elif kind in (QUERY, UPDATE):
            (queries if kind == QUERY else updates).append(_body_text())
        else:
            raise UnsupportedMediaType(f"unsupported Content-Type {kind!r}; use {FORM}, {QUERY} or {UPDATE}")
    elif updates:
        raise BadRequest("a SPARQL update must be sent with POST, not GET")
    if len(queries) + len(updates) > 1:
        raise BadRequest("give exactly one 'query' or one 'update', not several")
    return Operation(
        query=queries[0] if queries else None, update=updates[0] if updates else None,
        default_graphs=tuple(params.getlist("default-graph-uri")), named_graphs=tuple(params.getlist("named-graph-uri")),
        using=tuple(params.getlist("using-graph-uri")), using_named=tuple(params.getlist("using-named-graph-uri")),
        format=params.get("format"),
    )


def _strict_params(raw: bytes) -> MultiDict[str, str]:
    """URL-encoded parameters, refusing any that are not UTF-8 (werkzeug would let them through)."""
    try:
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise BadRequest("request parameters must be UTF-8 (percent-encoded); found bytes that are not") from exc
    return MultiDict(pairs)


def _check_charset() -> None:
    charset = request.mimetype_params.get("charset")
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise BadRequest(f"SPARQL requests must be UTF-8 encoded, not {charset}")


def _body_text() -> str:
    try:
        return request.get_data(cache=True).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the request body is not valid UTF-8 (byte {exc.start})") from exc


def _query(op: Operation) -> Response:
    assert op.query is not None
    form = query_form(op.query)
    offers = {"SELECT": RESULTS_OFFERS, "ASK": BOOLEAN_OFFERS}.get(form, GRAPH_OFFERS)
    fmt = negotiate(offers, request.headers.get("Accept"), op.format)
    started = time.perf_counter()
    request_ = QueryRequest(op.query, op.default_graphs, op.named_graphs, base_iri=request.base_url)
    result = services().queries.query(request_, fmt, current_audience())
    if log.isEnabledFor(logging.INFO):
        log.info("%s as %s in %.1f ms, %d bytes%s: %s", form, fmt, (time.perf_counter() - started) * 1000,
                 len(result.body), " (truncated)" if result.truncated else "", " ".join(op.query.split())[:200])
    response = Response(result.body, content_type=result.media_type)
    response.headers["Vary"] = "Accept"
    if result.truncated:
        response.headers["X-Result-Truncated"] = f"true; max-rows={services().settings.max_rows}"
    return response


def _update(op: Operation) -> Response:
    assert op.update is not None
    require_write_token()
    started = time.perf_counter()
    services().queries.update(op.update, UpdateDataset(op.using, op.using_named), base_iri=request.base_url)
    log.info("UPDATE in %.1f ms: %s", (time.perf_counter() - started) * 1000, " ".join(op.update.split())[:200])
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
