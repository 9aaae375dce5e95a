"""Errors as a browser sees them: an HTML page with the site's menu and title in the reader's language.

A client that prefers HTML (web.negotiation.prefers_html: a browser's Accept) gets the page, with the status and
headers the problem+json answer would carry; every other client, the API's and SPARQL's included, gets
problem+json (web.errors)."""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from web.errors import ErrorAnswer, answer_of, problem
from web.negotiation import prefers_html

log = logging.getLogger("missiekompas.web")
PAGES = (400, 401, 403, 404, 405, 406, 413, 415, 429, 500, 503)  # the statuses with their own words in the catalogue


def wants_page() -> bool:
    """True when this request's client asks for HTML, and names no other format with ?format=."""
    return prefers_html(request.headers.get("Accept")) and request.args.get("format", "html") == "html"


def error_answer(exc: Exception, body_limit: int) -> Response:
    """The answer to an exception a request raised, inside that request's Flask context."""
    answer = answer_of(exc, body_limit)
    response = problem(answer.status, answer.title, answer.detail, answer.headers)
    if wants_page():
        _as_page(response, answer)
    response.vary.add("Accept")
    return response


def _as_page(response: Response, answer: ErrorAnswer) -> None:
    """The problem answer's status and headers (Allow, WWW-Authenticate, Retry-After) with an HTML body instead."""
    try:
        key = f"errorpage.{answer.status}" if answer.status in PAGES else "errorpage"
        page = render_template("error.html", status=answer.status, title=answer.title, detail=answer.detail, key=key)
    except Exception:  # noqa: BLE001 - a page that cannot be drawn leaves the problem+json answer as it is
        log.exception("the error page for %s could not be rendered", answer.status)
        return
    response.set_data(page)
    response.content_type = "text/html; charset=utf-8"


def register_error_handlers(app: Flask) -> None:
    def handle(exc: Exception) -> Response:
        return error_answer(exc, app.config["MAX_CONTENT_LENGTH"])

    for kind in (HTTPException, Exception):
        app.register_error_handler(kind, handle)
