"""SPARQL queries at /sparql answered in plain WSGI, ahead of Flask: the path partner tools and
YASGUI hit hardest, so it skips Flask's request machinery (routing, contexts, hooks). It reads the
request with the same code as the Flask route (web.sparql_protocol), answers errors through
web.errors and finishes the answer through web.finish. Everything that is not a query (updates,
the service description and YASGUI, OPTIONS, HEAD) and every other path goes on to Flask."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.wrappers import Request, Response

from web.auth import COOKIE, role_of_request
from web.errors import error_response
from web.finish import finish
from web.services import Services
from web.sparql_protocol import answer_query, read_operation

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class SparqlQueries:
    """Wraps the Flask app's own WSGI callable (`app`); `flask_app` gives the services and the body
    limit at request time, so a test that swaps the services is answered from the new ones."""

    def __init__(self, app: WsgiApp, flask_app: Flask) -> None:
        self.app, self.flask_app = app, flask_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/sparql" or environ.get("REQUEST_METHOD") not in ("GET", "POST"):
            return self.app(environ, start_response)
        started = time.perf_counter()
        services: Services = self.flask_app.extensions["missiekompas"]
        body_limit: int = self.flask_app.config["MAX_CONTENT_LENGTH"]
        request = Request(environ)
        request.max_content_length = body_limit  # as in Flask: a larger body is a 413
        detail = ""
        try:
            op = read_operation(request)
            if op.query is None:  # an update, or no operation at all (the description, YASGUI): Flask's route
                environ["wsgi.input"] = io.BytesIO(request.get_data(cache=True))  # the body was read here
                return self.app(environ, start_response)
            role = role_of_request(request.headers.get("Authorization", ""), request.cookies.get(COOKIE, ""),
                                   services.settings)
            response, detail = answer_query(request, op, services, role.audience)
        except Exception as exc:  # noqa: BLE001 - every failure is answered as problem+json, as Flask's handlers do
            response = error_response(exc, body_limit)
        answer: Response = finish(response, request.method, request.path, started, detail)
        return answer(environ, start_response)
