"""Errors to HTTP (web/errors.py): WebErrors answer with their own status, domain errors with STATUS's, and any
other error, a domain error missing from STATUS included, is a logged 500 that says nothing of it."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kg.errors import KgError, QueryError
from kg.listing import UnknownList
from search.index import EmptyCorpus
from search.plan_gaps import UnknownProgramme
from web.errors import BadRequest, NotFound, PayloadTooLarge, SearchUnavailable, Unauthorized, WebError, status_of
from web.proposal import EmptyProposal, FileTooDemanding, ProposalTooLong, WrongFileType


class UnmappedDomainError(KgError):
    """A graph-layer error that nobody added to STATUS."""


@pytest.mark.parametrize(("error", "status"), [
    (BadRequest("x"), 400), (Unauthorized("x"), 401), (NotFound("x"), 404), (PayloadTooLarge("x"), 413),
    (SearchUnavailable("x"), 503), (EmptyProposal(), 400), (ProposalTooLong(length=3, limit=2), 413),
    (WrongFileType(suffix=".exe", allowed=".txt"), 415), (FileTooDemanding(reason="x"), 413),
    (QueryError("x"), 400), (UnknownProgramme("x"), 404), (UnknownList("x"), 404), (EmptyCorpus("x"), 503),
    (UnmappedDomainError("x"), 500), (KgError("x"), 500), (RuntimeError("x"), 500),
])
def test_each_error_has_one_status(error: Exception, status: int) -> None:
    assert status_of(error)[0] == status


def test_web_errors_are_not_domain_errors() -> None:
    assert not issubclass(WebError, KgError)
    assert issubclass(EmptyProposal, BadRequest) and issubclass(FileTooDemanding, PayloadTooLarge)


def test_an_unmapped_domain_error_is_a_logged_generic_500(app: Flask, client: FlaskClient,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    @app.route("/unmapped-for-test")
    def unmapped() -> str:
        raise UnmappedDomainError("internal detail /srv/kg/thing.py")

    with caplog.at_level(logging.ERROR, logger="missiekompas.web"):
        response = client.get("/unmapped-for-test")
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    assert response.get_json() == {"type": "about:blank", "title": "Internal Server Error", "status": 500,
                                   "detail": "something went wrong on our side; it has been logged"}
    assert any(record.exc_info and isinstance(record.exc_info[1], UnmappedDomainError) for record in caplog.records)


def test_a_web_error_answers_with_its_status_and_message(app: Flask, client: FlaskClient) -> None:
    @app.route("/unauthorized-for-test")
    def unauthorized() -> str:
        raise Unauthorized("send a bearer token")

    response = client.get("/unauthorized-for-test")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="missiekompas"'
    assert response.get_json()["detail"] == "send a bearer token"
