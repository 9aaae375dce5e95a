"""/sparql has one door (web.sparql): every operation is read once and dispatched from one table
ahead of Flask, with the same headers, errors and log lines as Flask's pages; the protocol's
rules on where an operation may come from, the `version` parameter, the service description,
and the per-client cap on running queries."""

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


def test_every_operation_skips_flask_but_the_editor_page(counted: tuple[FlaskClient, list[str]]) -> None:
    client, seen = counted
    assert client.get("/sparql", query_string={"query": SELECT}).status_code == 200
    assert client.post("/sparql", data={"query": SELECT}).status_code == 200
    assert client.post("/sparql", data=SELECT, content_type="application/sparql-query").status_code == 200
    assert client.get("/sparql", headers={"Accept": "text/turtle"}).status_code == 200  # the service description
    assert client.options("/sparql").status_code == 204
    assert client.post("/sparql", data={"update": "CLEAR ALL"}).status_code == 401
    assert seen == []
    page = client.get("/sparql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "yasgui" in page.get_data(as_text=True)
    assert seen == ["GET /sparql"]  # rendered in Flask's request context: the site's language and menu


def test_an_update_in_a_form_body_is_run_once(counted: tuple[FlaskClient, list[str]]) -> None:
    client, _ = counted
    update = 'INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> "form body" } }'
    refused = client.post("/sparql", data={"update": update})
    assert refused.status_code == 401
    done = client.post("/sparql", data={"update": update}, headers={"Authorization": f"Bearer {WRITE_TOKEN}"})
    assert done.status_code == 204, done.get_data(as_text=True)
    ask = client.post("/sparql", data={"query": 'ASK { GRAPH ?g { <urn:a> <urn:b> "form body" } }'},
                      headers={"Authorization": f"Bearer {WRITE_TOKEN}", "Accept": "application/sparql-results+json"})
    assert ask.json == {"head": {}, "boolean": True}


@pytest.mark.parametrize("ask", [
    {"path": "/sparql?update=CLEAR+ALL", "data": b"", "content_type": FORM},  # the operation is in the URL
    {"path": "/sparql?query=ASK{}", "data": b"", "content_type": FORM},
    {"path": "/sparql", "data": b"", "content_type": FORM},  # no operation at all
    {"path": "/sparql?query=ASK{}", "data": "ASK {}", "content_type": "application/sparql-query"},
    {"path": "/sparql?update=CLEAR+ALL", "data": "CLEAR ALL", "content_type": "application/sparql-update"},
])
def test_a_post_takes_its_operation_only_from_where_the_protocol_puts_it(counted: tuple[FlaskClient, list[str]],
                                                                          ask: dict[str, object]) -> None:
    client, _ = counted
    response = client.post(headers={"Authorization": f"Bearer {WRITE_TOKEN}"}, **ask)  # type: ignore[arg-type]
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("versions, status", [
    (["1.1"], 200), (["1.2"], 200), ([], 200), (["1.2", "1.2"], 400), (["2.0"], 400), ([""], 400),
])
def test_the_version_parameter_is_checked_for_queries(counted: tuple[FlaskClient, list[str]], versions: list[str],
                                                      status: int) -> None:
    client, _ = counted
    query = [("query", "ASK {}"), *[("version", v) for v in versions]]
    assert client.get("/sparql?" + urlencode(query)).status_code == status
    assert client.post("/sparql", data=urlencode(query), content_type=FORM).status_code == status


@pytest.mark.parametrize("versions, status", [(["1.1"], 204), (["1.2", "1.1"], 400), (["1.3"], 400)])
def test_the_version_parameter_is_checked_for_updates(counted: tuple[FlaskClient, list[str]], versions: list[str],
                                                      status: int) -> None:
    client, _ = counted
    token = {"Authorization": f"Bearer {WRITE_TOKEN}"}
    form = urlencode([("update", "CLEAR SILENT GRAPH <urn:none>"), *[("version", v) for v in versions]])
    assert client.post("/sparql", data=form, content_type=FORM, headers=token).status_code == status
    direct = "/sparql?" + urlencode([("version", v) for v in versions])
    assert client.post(direct, data="CLEAR SILENT GRAPH <urn:none>", content_type="application/sparql-update",
                       headers=token).status_code == status


def test_the_service_description_offers_update_only_where_writes_are_possible(make_app: Callable[..., Flask],
                                                                               tiny_store: Store) -> None:
    for admin, languages in ((WRITE_TOKEN, {"SPARQL11Query", "SPARQL11Update"}), ("", {"SPARQL11Query"})):
        client = make_app(tiny_store, write_token=admin).test_client()
        turtle = client.get("/sparql", headers={"Accept": "application/n-triples"}).get_data(as_text=True)
        found = {line.split("#")[-1].rstrip("> .") for line in turtle.splitlines() if "supportedLanguage" in line}
        assert found == languages


def test_a_client_past_its_running_queries_gets_429(make_app: Callable[..., Flask], tiny_store: Store) -> None:
    app = make_app(tiny_store, client_queries=1, write_token=WRITE_TOKEN)
    door = app.wsgi_app.app  # BodyLimit -> SparqlDoor
    with door.slots(app.extensions["missiekompas"]).hold("127.0.0.1"):
        busy = app.test_client().get("/sparql", query_string={"query": "ASK {}"})
        other = app.test_client().get("/sparql", query_string={"query": "ASK {}"},
                                      environ_base={"REMOTE_ADDR": "10.0.0.7"})
        kernteam = app.test_client().get("/sparql", query_string={"query": "ASK {}"},
                                         headers={"Authorization": f"Bearer {WRITE_TOKEN}"})
    assert busy.status_code == 429 and busy.headers["Retry-After"] == "1"
    assert "1 SPARQL queries running" in busy.json["detail"]
    assert other.status_code == 200 and kernteam.status_code == 200  # tokens are not capped
    assert app.test_client().get("/sparql", query_string={"query": "ASK {}"}).status_code == 200  # released


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
    client, _ = counted
    query = client.get("/sparql", query_string={"query": SELECT, "format": "csv"})
    page = client.get("/browse")
    for name in ("X-Content-Type-Options", "Content-Security-Policy", "Referrer-Policy", "Access-Control-Allow-Origin",
                 "Access-Control-Allow-Headers", "Access-Control-Allow-Methods"):
        assert query.headers[name] == page.headers[name], name
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


def test_each_app_answers_from_its_own_store(make_app: Callable[..., Flask], tiny_store: Store,
                                             default_store: Store) -> None:
    """Two apps in one process, the same query text: nothing on the query path is shared between stores."""
    count = {"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", "format": "csv"}
    tiny, default, tiny_again = (make_app(store).test_client().get("/sparql", query_string=count).get_data()
                                 for store in (tiny_store, default_store, tiny_store))
    assert tiny == tiny_again != default
