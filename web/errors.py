"""Errors to HTTP in one place: specific exceptions become status codes and problem+json.

The HTTP layer's own errors are WebErrors and carry their status; the errors of the layers below are mapped in
STATUS. Any other exception, a domain error missing from STATUS included, is a logged 500 with a generic message.
A browser gets the same answer as an HTML page (web.error_pages).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

from flask import Response
from werkzeug.exceptions import HTTPException

from kg.editions import UnknownEdition
from kg.endpoint import QueryRejected
from kg.errors import DataFileError, InvalidRecord, QueryError, StoreError, UnsupportedResultFormat
from kg.listing import UnknownList, UnknownSort
from kg.uris import InvalidIri
from kg.worker import QueryTimeout
from search.embedder import ModelUnavailable
from search.index import EmptyCorpus, IndexNotWritable
from search.organisation_names import UnknownOrganisation
from search.plan_gaps import UnknownProgramme
from search.readers import ReadersBusy
from web.problems import build_problem

log = logging.getLogger("missiekompas.web")


class WebError(Exception):
    """An error of the HTTP exchange itself, not of the graph or search below; answered with `status` and `title`,
    which a subclass names in its class line."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad Request"

    def __init_subclass__(cls, *, status: int | None = None, title: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None and title is not None:
            cls.status, cls.title = status, title


class NotAcceptableFormat(WebError, status=406, title="Not Acceptable"):
    """No format we can produce matches what the client accepts."""


class Unauthorized(WebError, status=401, title="Unauthorized"):
    """A write without a bearer token."""


class Forbidden(WebError, status=403, title="Forbidden"):
    """A write with a wrong token, or writes switched off."""


class NotFound(WebError, status=404, title="Not Found"):
    """No such entity, graph or file."""


class Gone(WebError, status=410, title="Gone"):
    """An entity only a past edition holds (a dropped MJP), asked for as RDF: the detail names the edition."""


class BadRequest(WebError, status=400, title="Bad Request"):
    """The request breaks the protocol (missing or repeated parameter, bad encoding)."""


class UnsupportedMediaType(WebError, status=415, title="Unsupported Media Type"):
    """A request body in a media type this endpoint does not take."""


class PayloadTooLarge(WebError, status=413, title="Content Too Large"):
    """An input (a proposal text or file) over its size limit."""


class TooManyQueries(WebError, status=429, title="Too Many Requests"):
    """This client already has as many SPARQL queries running as it may (web.client_slots)."""


class SearchUnavailable(WebError, status=503, title="Search unavailable"):
    """Search (the model or its index) is not available on this server."""


# The errors of the layers below web: the first entry the error is an instance of gives its answer.
STATUS: list[tuple[type[Exception], int, str]] = [
    (UnsupportedResultFormat, 406, "Not Acceptable"),
    (UnknownEdition, 404, "Not Found"),
    (UnknownProgramme, 404, "Not Found"),
    (UnknownList, 404, "Not Found"),
    (UnknownSort, 400, "Bad Request"),
    (UnknownOrganisation, 400, "Unknown organisation"),
    (InvalidIri, 400, "Invalid IRI"),
    (ModelUnavailable, 503, "Search unavailable"),
    (EmptyCorpus, 503, "Search unavailable"),
    (IndexNotWritable, 503, "Search index not writable"),
    (QueryRejected, 400, "Query refused"),
    (QueryError, 400, "Malformed query"),
    (InvalidRecord, 400, "Invalid data"),
    (DataFileError, 400, "Unreadable data"),
    (QueryTimeout, 503, "Query timeout"),
    (ReadersBusy, 503, "Busy"),
    (StoreError, 503, "Store unavailable"),
]
UNEXPECTED = (500, "Internal Server Error")


def status_of(exc: Exception) -> tuple[int, str]:
    """The status code and title of an error: a WebError's own, else STATUS's; 500 for any other."""
    if isinstance(exc, WebError):
        return exc.status, exc.title
    return next(((status, title) for kind, status, title in STATUS if isinstance(exc, kind)), UNEXPECTED)


def problem(status: int, title: str, detail: str, extra_headers: tuple[tuple[str, str], ...] = ()) -> Response:
    answer = build_problem(status, title, detail, extra_headers)
    return Response(answer.body, status=status, headers=list(answer.headers))


@dataclass(frozen=True)
class ErrorAnswer:
    """What an error answers, in any format: the status, its title, what went wrong, and the headers the status
    needs besides those of problem+json (Allow on a 405)."""

    status: int
    title: str
    detail: str
    headers: tuple[tuple[str, str], ...] = ()


def answer_of(exc: Exception, body_limit: int) -> ErrorAnswer:
    """The answer to any exception a request raised; an unexpected one is logged with its traceback and told
    to the client in general words only."""
    if isinstance(exc, HTTPException):
        detail = exc.description or exc.name
        if exc.code == 413:
            detail = f"the request body is larger than the limit of {body_limit} bytes"
        allow = (("Allow", ", ".join(exc.valid_methods)),) if exc.code == 405 and exc.valid_methods else ()
        return ErrorAnswer(exc.code or 500, exc.name, detail, allow)
    status, title = status_of(exc)
    if (status, title) == UNEXPECTED:
        log.error("unexpected error", exc_info=exc)
        return ErrorAnswer(*UNEXPECTED, "something went wrong on our side; it has been logged")
    if status >= 500:
        log.warning("%s: %s", title, exc)
    return ErrorAnswer(status, title, str(exc))


def error_response(exc: Exception, body_limit: int) -> Response:
    """The problem+json answer to any exception a request raised (web.error_pages makes a browser's page of it)."""
    answer = answer_of(exc, body_limit)
    return problem(answer.status, answer.title, answer.detail, answer.headers)
