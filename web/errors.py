"""Errors to HTTP in one place: specific exceptions become status codes and problem+json."""

from __future__ import annotations

import json
import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from kg.editions import UnknownEdition
from kg.endpoint import QueryRejected
from kg.errors import DataFileError, InvalidRecord, KgError, QueryError, StoreError, UnsupportedResultFormat
from kg.uris import InvalidIri
from kg.worker import QueryTimeout
from search.embedder import ModelUnavailable
from search.index import IndexNotWritable
from search.plan_gaps import UnknownProgramme
from search.readers import ReadersBusy
from web.client_slots import TooManyQueries

log = logging.getLogger("missiekompas.web")


class NotAcceptableFormat(KgError):
    """No format we can produce matches what the client accepts."""


class Unauthorized(KgError):
    """A write without a bearer token."""


class Forbidden(KgError):
    """A write with a wrong token, or writes switched off."""


class NotFound(KgError):
    """No such entity, graph or file."""


class BadRequest(KgError):
    """The request breaks the protocol (missing or repeated parameter, bad encoding)."""


class UnsupportedMediaType(KgError):
    """A request body in a media type this endpoint does not take."""


class PayloadTooLarge(KgError):
    """An input (a proposal text or file) over its size limit."""


class SearchUnavailable(KgError):
    """Search (the model or its index) is not available on this server."""


STATUS: list[tuple[type[Exception], int, str]] = [
    (NotAcceptableFormat, 406, "Not Acceptable"),
    (UnsupportedResultFormat, 406, "Not Acceptable"),
    (Unauthorized, 401, "Unauthorized"),
    (Forbidden, 403, "Forbidden"),
    (NotFound, 404, "Not Found"),
    (UnknownEdition, 404, "Not Found"),
    (UnknownProgramme, 404, "Not Found"),
    (BadRequest, 400, "Bad Request"),
    (InvalidIri, 400, "Invalid IRI"),
    (UnsupportedMediaType, 415, "Unsupported Media Type"),
    (PayloadTooLarge, 413, "Content Too Large"),
    (SearchUnavailable, 503, "Search unavailable"),
    (IndexNotWritable, 503, "Search index not writable"),
    (QueryRejected, 400, "Query refused"),
    (QueryError, 400, "Malformed query"),
    (InvalidRecord, 400, "Invalid data"),
    (DataFileError, 400, "Unreadable data"),
    (QueryTimeout, 503, "Query timeout"),
    (TooManyQueries, 429, "Too Many Requests"),
    (ReadersBusy, 503, "Busy"),
    (StoreError, 503, "Store unavailable"),
]


def status_of(exc: Exception) -> tuple[int, str]:
    """The status code and title of a known error; 400 for any other KgError."""
    return next(((status, title) for kind, status, title in STATUS if isinstance(exc, kind)), (400, "Bad Request"))


def problem(status: int, title: str, detail: str) -> Response:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}, sort_keys=True)
    response = Response(body, status=status, content_type="application/problem+json")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="missiekompas"'
    if status == 429:
        response.headers["Retry-After"] = "1"
    return response


def error_response(exc: Exception, body_limit: int) -> Response:
    """The problem+json answer to any exception a request raised (Flask's handlers and the SPARQL
    door, web.sparql, both answer through here)."""
    if isinstance(exc, KgError):
        status, title = status_of(exc)
        if status >= 500:
            log.warning("%s: %s", title, exc)
        return problem(status, title, str(exc))
    if isinstance(exc, ModelUnavailable):
        log.warning("Search unavailable: %s", exc)
        return problem(503, "Search unavailable", str(exc))
    if isinstance(exc, HTTPException):
        detail = exc.description or exc.name
        if exc.code == 413:
            detail = f"the request body is larger than the limit of {body_limit} bytes"
        response = problem(exc.code or 500, exc.name, detail)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response
    log.error("unexpected error", exc_info=exc)
    return problem(500, "Internal Server Error", "something went wrong on our side; it has been logged")


def register_error_handlers(app: Flask) -> None:
    def handle(exc: Exception) -> Response:
        return error_response(exc, app.config["MAX_CONTENT_LENGTH"])

    for kind in (KgError, ModelUnavailable, HTTPException, Exception):
        app.register_error_handler(kind, handle)
