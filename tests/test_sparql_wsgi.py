"""SPARQL queries are answered ahead of Flask (web.sparql_wsgi); everything else at /sparql still
reaches Flask's route, and both give the same headers, errors and log lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from kg.store import Store
from tests.conftest import WRITE_TOKEN

SELECT = "SELECT ?s WHERE { ?s a <https://w3id.org/missiekompas/ontology#MJP> } ORDER BY ?s"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def counted(make_app: Callable[..., Flask], tiny_store: Store) -> tuple[FlaskClient, list[str]]:
    """A client, and the requests that went through Flask's request handling."""
    app = make_app(tiny_store, write_token=WRITE_TOKEN, max_body_bytes=2000)
    seen: list[str] = []
    app.before_request(lambda: seen.append(f"{request.method} {request.path}"))
    return app.test_client(), seen


def test_queries_skip_flask_and_the_rest_reaches_it(counted: tuple[FlaskClient, list[str]]) -> None:
    client, seen = counted
    assert client.get("/sparql", query_string={"query": SELECT}).status_code == 200
    assert client.post("/sparql", data={"query": SELECT}).status_code == 200
    assert client.post("/sparql", data=SELECT, content_type="application/sparql-query").status_code == 200
    assert seen == []
    assert client.get("/sparql", headers={"Accept": "text/turtle"}).status_code == 200  # the service description
    assert client.options("/sparql").status_code == 204
    assert seen == ["GET /sparql", "OPTIONS /sparql"]


def test_an_update_in_a_form_body_reaches_flask_whole(counted: tuple[FlaskClient, list[str]]) -> None:
    client, seen = counted
    update = 'INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> "form body" } }'
    refused = client.post("/sparql", data={"update": update})
    assert refused.status_code == 401
    done = client.post("/sparql", data={"update": update}, headers={"Authorization": f"Bearer {WRITE_TOKEN}"})
    assert done.status_code == 204, done.get_data(as_text=True)
    ask = client.post("/sparql", data={"query": 'ASK { GRAPH ?g { <urn:a> <urn:b> "form body" } }'},
                      headers={"Authorization": f"Bearer {WRITE_TOKEN}", "Accept": "application/sparql-results+json"})
    assert ask.json == {"head": {}, "boolean": True}
    assert seen == ["POST /sparql", "POST /sparql"]


@pytest.mark.parametrize("ask, status, title", [
    ({"data": {"query": "SELECT ?s WHERE {"}}, 400, "Malformed query"),
    ({"data": {"query": SELECT}, "headers": {"Accept": "image/png"}}, 406, "Not Acceptable"),
    ({"data": {"query": [SELECT, SELECT]}}, 400, "Bad Request"),
    ({"data": {"query": SELECT}, "headers": {"Authorization": "Bearer not-a-token"}}, 403, "Forbidden"),
    ({"data": {"query": "SELECT * { SERVICE <http://evil.example/> { ?s ?p ?o } }"}}, 400, "Query refused"),
    ({"data": "x=" + "a" * 3000, "content_type": FORM}, 413, "Request Entity Too Large"),
])
def test_errors_on_the_query_path_are_problems_with_the_usual_headers(counted: tuple[FlaskClient, list[str]],
                                                                      ask: dict[str, object], status: int,
                                                                      title: str) -> None:
    client, _ = counted
    response = client.post("/sparql", **ask)  # type: ignore[arg-type]
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    problem = json.loads(response.get_data())
    assert problem["status"] == status and problem["title"] == title and problem["detail"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_answers_carry_the_same_headers_as_flasks(counted: tuple[FlaskClient, list[str]]) -> None:
    client, seen = counted
    query = client.get("/sparql", query_string={"query": SELECT, "format": "csv"})
    description = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert seen == ["GET /sparql"]
    for name in ("X-Content-Type-Options", "Content-Security-Policy", "Referrer-Policy", "Access-Control-Allow-Origin",
                 "Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Vary"):
        assert query.headers[name] == description.headers[name], name
    assert query.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert query.get_data(as_text=True).splitlines()[0] == "s"


def test_head_of_a_query_has_the_headers_and_no_body(counted: tuple[FlaskClient, list[str]]) -> None:
    client, _ = counted
    url = "/sparql?" + urlencode({"query": SELECT})
    got, head = client.get(url), client.head(url)
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert head.headers["Content-Length"] == got.headers["Content-Length"]


def test_one_log_line_per_query_with_its_duration(counted: tuple[FlaskClient, list[str]],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    client, _ = counted
    with caplog.at_level(logging.INFO, logger="missiekompas"):
        client.post("/sparql", data={"query": SELECT}, headers={"Authorization": f"Bearer {WRITE_TOKEN}"})
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("missiekompas")]
    assert len(lines) == 1
    assert lines[0].startswith("POST /sparql 200 ")
    assert "SELECT as json, query " in lines[0] and " ms" in lines[0]
    assert WRITE_TOKEN not in lines[0]


def test_a_swapped_service_answers_the_query_path(make_app: Callable[..., Flask], tiny_store: Store,
                                                  default_store: Store) -> None:
    from web.services import Services

    app = make_app(tiny_store)
    before = app.test_client().get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
                                                             "format": "csv"}).get_data()
    app.extensions["missiekompas"] = Services(app.extensions["missiekompas"].settings, default_store)
    after = app.test_client().get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
                                                            "format": "csv"}).get_data()
    assert before != after
