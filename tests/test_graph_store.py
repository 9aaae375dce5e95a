"""The SPARQL 1.1 Graph Store HTTP Protocol at /rdf-graph-store (indirect identification)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

from config import Settings
from kg.access import PUBLIC
from kg.store import GraphView, Store
from tests.conftest import BASE, TINY, WRITE_TOKEN
from web.app import create_app

pytestmark = pytest.mark.filterwarnings("ignore:.*ConjunctiveGraph.*:DeprecationWarning")

GSP = "/rdf-graph-store"
CLUSTERS = BASE + "graph/clusters"
NEW = "http://example.org/graph/new"
AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
ONE = b"<http://example.org/a> <http://example.org/p> <http://example.org/b> ."
TWO = b"<http://example.org/a> <http://example.org/p> <http://example.org/c> ."
A, P = URIRef("http://example.org/a"), URIRef("http://example.org/p")


@pytest.fixture
def writable_server(restored_writable_server: str) -> str:
    """The HTTP tests share one server; what each writes is rolled back after it."""
    return restored_writable_server


@pytest.fixture
def app(make_app: Callable[..., Flask], tiny_store: Store) -> Flask:
    return make_app(tiny_store, write_token=WRITE_TOKEN, max_body_bytes=5000)


def store_of(app: Flask) -> Store:
    return app.extensions["missiekompas"].store


def triples_of(store: Store, graph: str) -> set[tuple[str, str, str]]:
    rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return {(str(r["s"]), str(r["p"]), str(r["o"])) for r in rows}


def distinct_triples(store: GraphView) -> int:
    rows = store.select("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }")
    return int(rows[0]["n"])


# --- reading ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("accept", "fmt"), [("text/turtle", "turtle"), ("application/n-triples", "nt"),
                                             ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")])
def test_get_a_named_graph(client: FlaskClient, tiny_store: Store, accept: str, fmt: str) -> None:
    response = client.get(GSP, query_string={"graph": CLUSTERS}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == accept
    graph = Graph().parse(data=response.get_data(), format=fmt)
    assert len(graph) == len(triples_of(tiny_store, CLUSTERS))
    assert (URIRef(BASE + "cluster/alpha-tech"), SKOS.prefLabel, Literal("Alpha technology", lang="en")) in graph
    # only that graph: a programme's label lives in another graph
    assert (URIRef(BASE + "programme/storage-mjp"), None, None) not in graph


def test_get_default_is_the_union_of_all_graphs(client: FlaskClient, tiny_store: Store) -> None:
    response = client.get(GSP + "?default", headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/n-triples"
    graph = Graph().parse(data=response.get_data(), format="nt")
    assert len(graph) == distinct_triples(tiny_store.view(PUBLIC))
    assert (URIRef(BASE + "cluster/alpha-tech"), SKOS.prefLabel, Literal("Alpha technology", lang="en")) in graph
    assert (URIRef(BASE + "programme/storage-mjp"), SKOS.prefLabel, Literal("Storage programme", lang="en")) in graph


def test_get_without_accept_is_turtle(client: FlaskClient) -> None:
    response = client.get(GSP, query_string={"graph": CLUSTERS})
    assert response.headers["Content-Type"] == "text/turtle"


def test_get_unknown_graph_is_404(client: FlaskClient) -> None:
    response = client.get(GSP, query_string={"graph": BASE + "graph/no-such-graph"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_get_with_an_unacceptable_type_is_406(client: FlaskClient) -> None:
    response = client.get(GSP, query_string={"graph": CLUSTERS}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.mimetype == "application/problem+json"


def test_head_is_a_read_like_get(client: FlaskClient) -> None:
    """HEAD is GET without a body (GSP 5.5): no token needed, same status and type."""
    response = client.head(GSP, query_string={"graph": CLUSTERS}, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/turtle"


@pytest.mark.parametrize("query", ["", "?graph=" + CLUSTERS + "&default", "?graph=" + CLUSTERS + "&graph=" + NEW])
@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
def test_missing_or_conflicting_parameters_are_400(client: FlaskClient, method: str, query: str) -> None:
    response = client.open(GSP + query, method=method, data=ONE, content_type="text/turtle", headers=AUTH)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("graph", ["relative/graph", "http://example.org/g> } ; DROP ALL ; INSERT DATA { <x",
                                   "http://example.org/g with space"])
def test_graph_parameter_must_be_a_safe_absolute_iri(client: FlaskClient, app: Flask, graph: str) -> None:
    before = store_of(app).count()
    response = client.put(GSP, query_string={"graph": graph}, data=ONE, content_type="text/turtle", headers=AUTH)
    assert response.status_code == 400
    assert store_of(app).count() == before


# --- writes without the right token -------------------------------------------------------------

@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_write_without_token_is_401_with_a_challenge(client: FlaskClient, app: Flask, method: str) -> None:
    before = triples_of(store_of(app), CLUSTERS)
    response = client.open(GSP, method=method, query_string={"graph": CLUSTERS}, data=ONE, content_type="text/turtle")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
    assert triples_of(store_of(app), CLUSTERS) == before


@pytest.mark.parametrize("header", ["Bearer wrong-token", f"Bearer {WRITE_TOKEN}x", f"Basic {WRITE_TOKEN}"])
@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_write_with_a_wrong_token_changes_nothing(client: FlaskClient, app: Flask, method: str, header: str) -> None:
    before = triples_of(store_of(app), CLUSTERS), store_of(app).count()
    response = client.open(GSP, method=method, query_string={"graph": CLUSTERS}, data=ONE, content_type="text/turtle",
                           headers={"Authorization": header})
    assert response.status_code in (401, 403)
    if header.startswith("Bearer"):
        assert response.status_code == 403
    assert (triples_of(store_of(app), CLUSTERS), store_of(app).count()) == before


def test_new_graph_is_not_created_without_a_token(client: FlaskClient, app: Flask) -> None:
    response = client.put(GSP, query_string={"graph": NEW}, data=ONE, content_type="text/turtle",
                          headers={"Authorization": "Bearer nope"})
    assert response.status_code == 403
    assert client.get(GSP, query_string={"graph": NEW}).status_code == 404


def test_writes_are_off_without_a_configured_token(tiny_store: Store) -> None:
    settings = Settings(data_dirs=(TINY,), store="memory", write_token="")
    app = create_app(settings, store=tiny_store, matchers={})
    response = app.test_client().put(GSP, query_string={"graph": NEW}, data=ONE, content_type="text/turtle",
                                     headers={"Authorization": "Bearer "})
    assert response.status_code in (401, 403)
    response = app.test_client().put(GSP, query_string={"graph": NEW}, data=ONE, content_type="text/turtle",
                                     headers={"Authorization": "Bearer anything"})
    assert response.status_code == 403
    assert not tiny_store.ask(f"ASK {{ GRAPH <{NEW}> {{ ?s ?p ?o }} }}")


# --- writes with the token, in process ----------------------------------------------------------

def test_bad_content_type_is_415(client: FlaskClient, app: Flask) -> None:
    for content_type in ("text/plain", "application/json", "application/x-www-form-urlencoded"):
        response = client.put(GSP, query_string={"graph": NEW}, data=ONE, content_type=content_type, headers=AUTH)
        assert response.status_code == 415, content_type
        assert response.mimetype == "application/problem+json"
    assert client.put(GSP, query_string={"graph": NEW}, data=ONE, headers=AUTH).status_code == 415  # none at all
    assert client.get(GSP, query_string={"graph": NEW}).status_code == 404


@pytest.mark.parametrize(("content_type", "body"), [
    ("text/turtle", b"<http://example.org/a> <http://example.org/p> "),
    ("application/n-triples", b"<http://example.org/a> <http://example.org/p> ."),
    ("application/rdf+xml", b'<?xml version="1.0"?><rdf:RDF'),
    ("application/ld+json", b'{"@id": '),
    ("text/turtle", b'<http://example.org/a> <http://example.org/p> "\xff" .'),
])
def test_malformed_body_is_400(client: FlaskClient, app: Flask, content_type: str, body: bytes) -> None:
    before = store_of(app).count()
    response = client.put(GSP, query_string={"graph": CLUSTERS}, data=body, content_type=content_type, headers=AUTH)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert store_of(app).count() == before


def test_quads_in_a_graph_body_are_refused(client: FlaskClient) -> None:
    body = b'{"@id": "http://example.org/g", "@graph": [{"@id": "http://example.org/a", "http://example.org/p": "x"}]}'
    response = client.put(GSP, query_string={"graph": NEW}, data=body, content_type="application/ld+json", headers=AUTH)
    assert response.status_code == 400


def test_too_large_body_is_413(client: FlaskClient) -> None:
    body = b"\n".join([ONE] * 200)
    response = client.put(GSP, query_string={"graph": NEW}, data=body, content_type="text/turtle", headers=AUTH)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_literals_survive_a_round_trip(client: FlaskClient) -> None:
    body = '<http://example.org/a> <http://example.org/p> "quote \\" backslash \\\\ newline \\n é 😀"@nl .'
    response = client.put(GSP, query_string={"graph": NEW}, data=body.encode(), content_type="text/turtle; charset=utf-8",
                          headers=AUTH)
    assert response.status_code == 201
    # a graph written by an admin is internal until the metadata declares it public: read it with the token
    graph = Graph().parse(data=client.get(GSP, query_string={"graph": NEW}, headers=AUTH).get_data(), format="turtle")
    assert set(graph) == {(A, P, Literal('quote " backslash \\ newline \n é 😀', lang="nl"))}


def test_post_to_the_default_graph_with_the_token(client: FlaskClient) -> None:
    """GSP 5.5: POST ?default merges the body into the default graph; a valid request must not be 'malformed'."""
    response = client.post(GSP + "?default", data=ONE, content_type="text/turtle", headers=AUTH)
    assert response.status_code in (200, 201, 204), response.get_data(as_text=True)
    graph = Graph().parse(data=client.get(GSP + "?default", headers={"Accept": "text/turtle", **AUTH}).get_data(),
                          format="turtle")
    assert (A, P, URIRef("http://example.org/b")) in graph


# --- writes with the token, on the real server --------------------------------------------------

def nt(url: str, graph: str) -> requests.Response:
    return requests.get(f"{url}{GSP}", params={"graph": graph}, headers={"Accept": "application/n-triples", **AUTH},
                        timeout=10)


def put(url: str, graph: str, body: bytes, method: str = "PUT", content_type: str = "text/turtle",
        headers: dict[str, str] | None = None) -> requests.Response:
    return requests.request(method, f"{url}{GSP}", params={"graph": graph}, data=body, timeout=10,
                            headers={"Content-Type": content_type, **(AUTH if headers is None else headers)})


def parse_nt(response: requests.Response) -> Graph:
    assert response.status_code == 200
    return Graph().parse(data=response.content, format="nt")


def test_put_creates_then_replaces(writable_server: str) -> None:
    assert put(writable_server, NEW, ONE).status_code == 201
    assert set(parse_nt(nt(writable_server, NEW))) == {(A, P, URIRef("http://example.org/b"))}
    assert put(writable_server, NEW, TWO).status_code == 204
    assert set(parse_nt(nt(writable_server, NEW))) == {(A, P, URIRef("http://example.org/c"))}


def test_put_on_an_existing_graph_replaces_only_that_graph(writable_server: str) -> None:
    programmes_before = parse_nt(nt(writable_server, BASE + "graph/programmes"))
    assert put(writable_server, CLUSTERS, ONE, content_type="application/n-triples").status_code == 204
    assert set(parse_nt(nt(writable_server, CLUSTERS))) == {(A, P, URIRef("http://example.org/b"))}
    assert len(parse_nt(nt(writable_server, BASE + "graph/programmes"))) == len(programmes_before)


def test_post_merges(writable_server: str) -> None:
    assert put(writable_server, NEW, ONE, method="POST").status_code == 201
    assert put(writable_server, NEW, TWO, method="POST").status_code == 204
    assert set(parse_nt(nt(writable_server, NEW))) == {(A, P, URIRef("http://example.org/b")),
                                                       (A, P, URIRef("http://example.org/c"))}


def test_post_into_an_existing_graph_keeps_its_content(writable_server: str) -> None:
    before = parse_nt(nt(writable_server, CLUSTERS))
    assert put(writable_server, CLUSTERS, TWO, method="POST").status_code == 204
    after = parse_nt(nt(writable_server, CLUSTERS))
    assert set(after) == set(before) | {(A, P, URIRef("http://example.org/c"))}


def test_delete_removes_the_graph(writable_server: str) -> None:
    assert put(writable_server, NEW, ONE).status_code == 201
    response = requests.delete(f"{writable_server}{GSP}", params={"graph": NEW}, headers=AUTH, timeout=10)
    assert response.status_code == 204
    assert nt(writable_server, NEW).status_code == 404
    union = parse_nt(requests.get(f"{writable_server}{GSP}?default", headers={"Accept": "application/n-triples"},
                                  timeout=10))
    assert (A, P, None) not in union


def test_delete_a_data_graph_takes_its_entities_away(writable_server: str) -> None:
    response = requests.delete(f"{writable_server}{GSP}", params={"graph": CLUSTERS}, headers=AUTH, timeout=10)
    assert response.status_code == 204
    assert nt(writable_server, CLUSTERS).status_code == 404
    gone = requests.get(f"{writable_server}/id/cluster/alpha-tech", headers={"Accept": "text/turtle"}, timeout=10)
    assert gone.status_code == 404


def test_delete_unknown_graph_is_404(writable_server: str) -> None:
    response = requests.delete(f"{writable_server}{GSP}", params={"graph": NEW}, headers=AUTH, timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"


def test_bad_content_type_and_malformed_body_on_the_real_server(writable_server: str) -> None:
    before = set(parse_nt(nt(writable_server, CLUSTERS)))
    assert put(writable_server, CLUSTERS, ONE, content_type="text/plain").status_code == 415
    assert put(writable_server, CLUSTERS, b"<http://example.org/a> <http://example.org/p> ").status_code == 400
    assert set(parse_nt(nt(writable_server, CLUSTERS))) == before


def test_real_server_refuses_writes_without_or_with_a_wrong_token(writable_server: str) -> None:
    before = set(parse_nt(nt(writable_server, CLUSTERS)))
    no_token = put(writable_server, CLUSTERS, ONE, headers={})
    assert no_token.status_code == 401
    assert no_token.headers["WWW-Authenticate"].lower().startswith("bearer")
    assert put(writable_server, CLUSTERS, ONE, headers={"Authorization": "Bearer wrong"}).status_code == 403
    denied = requests.delete(f"{writable_server}{GSP}", params={"graph": CLUSTERS},
                             headers={"Authorization": "Bearer wrong"}, timeout=10)
    assert denied.status_code == 403
    assert set(parse_nt(nt(writable_server, CLUSTERS))) == before
