"""What every answer gets on its way out, from Flask (web.app) or the SPARQL query path
(web.sparql): the security headers where the route set none, CORS on reads, one log line."""

from __future__ import annotations

import logging
import time

from werkzeug.wrappers import Response

from web.headers import SECURITY_HEADERS

log = logging.getLogger("missiekompas.web")

_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Accept, Content-Type, Authorization",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
}
_READ_HEADERS = tuple({**SECURITY_HEADERS, **_CORS}.items())  # reads and /sparql: the security headers and CORS
_OTHER_HEADERS = tuple(SECURITY_HEADERS.items())


def logging_requests() -> bool:
    """Whether request lines are logged (so a route need not build the detail it would add)."""
    return log.isEnabledFor(logging.INFO)


def finish(response: Response, method: str, path: str, started: float, detail: str = "") -> Response:
    headers = response.headers
    defaults = _READ_HEADERS if method in ("GET", "HEAD", "OPTIONS") or path == "/sparql" else _OTHER_HEADERS
    present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - iterating Headers gives pairs
    headers.extend([(name, value) for name, value in defaults if name.lower() not in present])
    if logging_requests():  # queries are logged with their duration, never with a header
        log.info("%s %s %s %.1f ms %s bytes%s", method, path, response.status_code, (time.perf_counter() - started) * 1000,
                 response.content_length if response.content_length is not None else "-", detail)
    return response
