"""/sparql, the one door of the SPARQL 1.1 Protocol: a plain WSGI dispatcher ahead of Flask (the path
partner tools hit hardest skips Flask's request machinery). It reads the operation once
(web.sparql_protocol), picks its handler from one table of (operation, method), and finishes every
answer, errors included, the same way (web.errors, web.finish)."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, render_template, url_for
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.sansio.utils import get_current_url
from werkzeug.wrappers import Request, Response

from kg.execute import QueryRequest
from kg.queries import example_queries
from kg.sparql_text import UpdateDataset, query_form
from web.auth import COOKIE, Role, checked_visibility, require_admin, role_of_request
from web.client_slots import ClientSlots
from web.description import service_description
from web.error_pages import error_answer
from web.errors import error_response
from web.finish import finish, logging_requests
from web.negotiation import BOOLEAN_OFFERS, GRAPH_OFFERS, RESULTS_OFFERS, negotiate, prefers_html
from web.services import Services
from web.sparql_protocol import Operation, read_operation

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Answer = tuple[Response, str]  # the response, and what the request's log line adds
METHODS = ("GET", "HEAD", "POST", "OPTIONS")
DESCRIPTION_OFFERS = {k: GRAPH_OFFERS[k] for k in ("ttl", "nt", "jsonld", "rdfxml")}


class SparqlDoor:
    """Wraps the Flask app's WSGI callable: /sparql is answered here, every other path goes on."""

    def __init__(self, app: WsgiApp, flask_app: Flask) -> None:
        self.app, self.flask_app = app, flask_app
        self.routes: dict[tuple[str, str], Callable[[Request, Operation, Services], Answer]] = {
            ("query", "GET"): self.query, ("query", "HEAD"): self.query, ("query", "POST"): self.query,
            ("update", "POST"): self.update,
            ("none", "GET"): self.describe, ("none", "HEAD"): self.describe,
        }
        self._slots: ClientSlots | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/sparql":
            return self.app(environ, start_response)
        started = time.perf_counter()
        body_limit: int = self.flask_app.config["MAX_CONTENT_LENGTH"]
        request = Request(environ)
        request.max_content_length = body_limit  # as in Flask: a larger body is a 413
        try:
            response, detail = self.dispatch(request)
        except Exception as exc:  # noqa: BLE001 - every failure is answered as problem+json (web.errors)
            response, detail = self._error(request, exc, body_limit), ""
        return finish(response, request.method, request.path, started, detail)(environ, start_response)

    def dispatch(self, request: Request) -> Answer:
        if request.method == "OPTIONS":
            return Response(status=204), ""
        if request.method not in METHODS:
            raise MethodNotAllowed(valid_methods=METHODS)
        op = read_operation(request)
        handler = self.routes.get((op.kind, request.method))
        if handler is None:
            raise MethodNotAllowed(valid_methods=sorted({m for kind, m in self.routes if kind == op.kind} | {"OPTIONS"}))
        return handler(request, op, self.flask_app.extensions["missiekompas"])

    def query(self, request: Request, op: Operation, services: Services) -> Answer:
        role = role_of_request(request.headers.get("Authorization", ""), request.cookies.get(COOKIE, ""),
                               services.settings)
        form = query_form(op.text)
        offers = {"SELECT": RESULTS_OFFERS, "ASK": BOOLEAN_OFFERS}.get(form, GRAPH_OFFERS)
        fmt = negotiate(offers, request.headers.get("Accept"), op.format)
        started = time.perf_counter()
        with self.slots(services).hold(request.remote_addr or "") if role is Role.PUBLIC else nullcontext():
            base = base_url(request)
            functions = services.functions(op.text, role.audience, base)  # encodes texts: inside the client's slot
            asked = QueryRequest(op.text, op.default_graphs, op.named_graphs, base_iri=base, functions=functions)
            result = services.queries.query(asked, fmt, role.audience)
        detail = (f"; {form} as {fmt}, query {(time.perf_counter() - started) * 1000:.1f} ms"
                  f"{' (truncated)' if result.truncated else ''}: {' '.join(op.text.split())[:200]}"
                  if logging_requests() else "")
        response = Response(result.body, content_type=result.media_type)
        response.headers["Vary"] = "Accept"
        if result.truncated:
            response.headers["X-Result-Truncated"] = f"true; max-rows={services.settings.max_rows}"
        return response, detail

    def update(self, request: Request, op: Operation, services: Services) -> Answer:
        who = require_admin(request.headers.get("Authorization", ""), services.settings)
        started = time.perf_counter()
        services.queries.update(op.text, UpdateDataset(op.using, op.using_named), base_iri=base_url(request), who=who,
                                visibility=checked_visibility(op.visibility))
        done = Response(status=204)
        del done.headers["Content-Type"]
        return done, f"; UPDATE in {(time.perf_counter() - started) * 1000:.1f} ms: {' '.join(op.text.split())[:200]}"

    def describe(self, request: Request, op: Operation, services: Services) -> Answer:
        """The YASGUI editor for a browser, else the service description in the negotiated format."""
        accept = request.headers.get("Accept")
        if prefers_html(accept) and not op.format:
            response = self._editor_page(request)
        else:
            fmt = negotiate(DESCRIPTION_OFFERS, accept, op.format)
            writable = bool(services.settings.admin_tokens or services.settings.write_token)
            body, media_type = service_description(base_url(request), fmt, writable=writable)
            response = Response(body, content_type=media_type)
        response.headers["Vary"] = "Accept"
        return response, ""

    def _editor_page(self, request: Request) -> Response:
        """The page shares the site's layout, language and menu: rendered in a Flask request context. Result links
        to entities under the base URI are turned into links to this site's own /id/ pages (web/static/sparql.js)."""
        with self.flask_app.request_context(request.environ):
            self.flask_app.preprocess_request()
            page = render_template("yasgui.html", endpoint=base_url(request), examples=example_queries(),
                                   base_uri=self.flask_app.extensions["missiekompas"].settings.base_uri,
                                   local_base=url_for("linked_data.entity", rest="-").removesuffix("-"))
        return Response(page, content_type="text/html; charset=utf-8")

    def _error(self, request: Request, exc: Exception, body_limit: int) -> Response:
        """problem+json; a browser gets the site's error page, drawn in a Flask request context."""
        if not prefers_html(request.headers.get("Accept")):
            return error_response(exc, body_limit)
        with self.flask_app.request_context(request.environ):
            return error_answer(exc, body_limit)

    def slots(self, services: Services) -> ClientSlots:
        if self._slots is None:  # one folder per store, shared by the server's processes, outside the store
            digest = hashlib.blake2b(str(services.settings.store_path).encode(), digest_size=8).hexdigest()
            folder = Path(tempfile.gettempdir()) / f"missiekompas-{os.getuid()}" / f"clients-{digest}"
            self._slots = ClientSlots(folder, services.settings.client_queries)
        return self._slots


def base_url(request: Request) -> str:
    """The endpoint's own URL as the request names it (the base IRI of its queries): request.base_url,
    built once per host rather than on every request."""
    return _base_url(request.scheme, request.host, request.root_path)


@lru_cache(maxsize=64)
def _base_url(scheme: str, host: str, root_path: str) -> str:
    return get_current_url(scheme, host, root_path, "/sparql")
