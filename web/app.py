"""The Flask app factory: settings in, blueprints, error handlers and security headers on."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Settings, load_settings
from kg.store import Store
from web.body_limit import BodyLimit
from web.error_pages import register_error_handlers
from web.finish import finish
from web.headers import SECURITY_HEADERS
from web.i18n import register_i18n
from web.links import iri_link
from web.services import Services
from web.sparql import SparqlDoor
from web.version_pin import VersionPin

if TYPE_CHECKING:  # search loads numpy, FAISS and spaCy: imported when search is first used
    from search.match import Matcher


def create_app(settings: Settings | None = None, *, store: Store | None = None,
               matchers: Mapping[str, Matcher] | None = None) -> Flask:
    """The app over `store` (default: the one settings name, opened when first read) with search by
    audience from `matchers` (default: opened from settings.index_path when first asked; {} for none).
    See web.services.Services for the rule."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["missiekompas"] = Services(settings, store, matchers)

    from web.api import api
    from web.api_analytics import api_analytics
    from web.browse import browse
    from web.dashboard import dashboard
    from web.graph_store import graph_store
    from web.linked_data import linked_data
    from web.login import login
    from web.match_page import match_page
    from web.ontology_page import ontology_page

    for blueprint in (linked_data, ontology_page, graph_store, match_page, browse, dashboard, api, api_analytics, login):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    register_i18n(app)
    app.jinja_env.filters["iri_link"] = lambda iri, label, css_class="": iri_link(iri, label, settings.base_uri, css_class)
    app.context_processor(_audience)
    app.before_request(_start_timer)
    app.after_request(_finish)
    app.add_url_rule("/sparql", endpoint="sparql.endpoint", build_only=True)  # answered by web.sparql.SparqlDoor
    queries = SparqlDoor(app.wsgi_app, app)  # /sparql is answered ahead of Flask
    pinned = VersionPin(queries, app.extensions["missiekompas"]) if settings.store == "shared" else queries
    app.wsgi_app = BodyLimit(pinned, settings.max_body_bytes, SECURITY_HEADERS)  # type: ignore[method-assign]
    if settings.trusted_proxies:  # outermost: everything inside sees the client's scheme and address
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app


def _audience() -> dict[str, str]:
    """Pages say whether they show internal data (a refused token renders its error page as public)."""
    from web.auth import current_audience
    from web.errors import Forbidden, Unauthorized

    try:
        return {"audience": current_audience()}
    except (Forbidden, Unauthorized):
        return {"audience": "public"}


def _start_timer() -> None:
    g.started = time.perf_counter()


def _finish(response: Response) -> Response:
    return finish(response, request.method, request.path, g.get("started", time.perf_counter()), g.get("log_detail", ""))
