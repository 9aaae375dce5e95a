"""The Flask app factory: settings in, blueprints, error handlers and security headers on."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from kg.settings import Settings, load_settings
from web.body_limit import BodyLimit
from web.errors import register_error_handlers
from web.finish import finish
from web.headers import SECURITY_HEADERS
from web.i18n import register_i18n
from web.services import Services
from web.sparql_wsgi import SparqlQueries


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["missiekompas"] = Services(settings)

    from web.api import api
    from web.api_analytics import api_analytics
    from web.browse import browse
    from web.dashboard import dashboard
    from web.graph_store import graph_store
    from web.linked_data import linked_data
    from web.login import login
    from web.match_page import match_page
    from web.sparql import sparql

    for blueprint in (sparql, linked_data, graph_store, match_page, browse, dashboard, api, api_analytics, login):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    register_i18n(app)
    app.jinja_env.filters["local_link"] = lambda iri: _local_link(iri, settings.base_uri)
    app.context_processor(_audience)
    app.before_request(_start_timer)
    app.after_request(_finish)
    queries = SparqlQueries(app.wsgi_app, app)  # SPARQL queries are answered ahead of Flask
    app.wsgi_app = BodyLimit(queries, settings.max_body_bytes, SECURITY_HEADERS)  # type: ignore[method-assign]
    return app


def _audience() -> dict[str, str]:
    """Pages say whether they show internal data (a refused token renders its error page as public)."""
    from web.auth import current_audience
    from web.errors import Forbidden, Unauthorized

    try:
        return {"audience": current_audience()}
    except (Forbidden, Unauthorized):
        return {"audience": "public"}


def _local_link(iri: str, base: str) -> str:
    """Our own entity IRIs open on this server (/id/...); others link out as they are."""
    return "/id/" + iri[len(base):] if iri.startswith(base) else iri


def _start_timer() -> None:
    g.started = time.perf_counter()


def _finish(response: Response) -> Response:
    return finish(response, request.method, request.path, g.get("started", time.perf_counter()), g.get("log_detail", ""))
