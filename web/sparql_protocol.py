"""The SPARQL 1.1 Protocol's reading of a request and its answer to a query, on a plain werkzeug
request: the Flask route (web.sparql) and the WSGI query path (web.sparql_wsgi) share it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from flask import Response
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from werkzeug.wrappers import Request

from kg.execute import QueryRequest
from kg.sparql_text import query_form
from web.errors import BadRequest, UnsupportedMediaType
from web.finish import logging_requests
from web.negotiation import BOOLEAN_OFFERS, GRAPH_OFFERS, RESULTS_OFFERS, negotiate
from web.services import Services

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


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


def read_operation(request: Request) -> Operation:
    """The query or update of a GET or POST, refusing what the protocol does not allow (400/415)."""
    params = _strict_params(request.query_string)
    queries, updates = params.getlist("query"), params.getlist("update")
    if request.method == "POST":
        kind = (request.mimetype or "").lower()
        if not kind:
            raise BadRequest("a POST needs a Content-Type: application/x-www-form-urlencoded, "
                             "application/sparql-query or application/sparql-update")
        _check_charset(request)
        if kind == FORM:
            form = _strict_params(request.get_data(cache=True))
            queries, updates = queries + form.getlist("query"), updates + form.getlist("update")
            params = CombinedMultiDict([params, form])
        elif kind in (QUERY, UPDATE):
            (queries if kind == QUERY else updates).append(_body_text(request))
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


def answer_query(request: Request, op: Operation, services: Services, audience: str) -> tuple[Response, str]:
    """The query's results in the negotiated format, and what the request's log line should add."""
    assert op.query is not None
    form = query_form(op.query)
    offers = {"SELECT": RESULTS_OFFERS, "ASK": BOOLEAN_OFFERS}.get(form, GRAPH_OFFERS)
    fmt = negotiate(offers, request.headers.get("Accept"), op.format)
    started = time.perf_counter()
    asked = QueryRequest(op.query, op.default_graphs, op.named_graphs, base_iri=request.base_url)
    result = services.queries.query(asked, fmt, audience)
    detail = (f"; {form} as {fmt}, query {(time.perf_counter() - started) * 1000:.1f} ms"
              f"{' (truncated)' if result.truncated else ''}: {' '.join(op.query.split())[:200]}"
              if logging_requests() else "")
    response = Response(result.body, content_type=result.media_type)
    response.headers["Vary"] = "Accept"
    if result.truncated:
        response.headers["X-Result-Truncated"] = f"true; max-rows={services.settings.max_rows}"
    return response, detail


def _strict_params(raw: bytes) -> MultiDict[str, str]:
    """URL-encoded parameters, refusing any that are not UTF-8 (werkzeug would let them through)."""
    if not raw:
        return MultiDict()
    try:
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise BadRequest("request parameters must be UTF-8 (percent-encoded); found bytes that are not") from exc
    return MultiDict(pairs)


def _check_charset(request: Request) -> None:
    charset = request.mimetype_params.get("charset")
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise BadRequest(f"SPARQL requests must be UTF-8 encoded, not {charset}")


def _body_text(request: Request) -> str:
    try:
        return request.get_data(cache=True).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the request body is not valid UTF-8 (byte {exc.start})") from exc
