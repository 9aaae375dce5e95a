"""The SPARQL 1.1 Protocol at /sparql, against the real server (gunicorn, worker processes, on-disk store).

The first part follows the W3C SPARQL 1.1 Protocol test cases (w3c/rdf-tests, sparql/sparql11/protocol),
one test per manifest case, written from the case descriptions. The manifest only asks for a status class
(2xx, 4xx); we also pin the exact code this endpoint gives. Read-only cases use the shared `server`; cases
that need the kasei.us data graphs or that write share one writable server, rolled back after each test.

The second part covers what the protocol leaves to the service: content negotiation, CSV/TSV bodies,
authentication of updates, refused SERVICE/LOAD, the time, size and row limits, and self-description.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import pytest
import requests
from rdflib import Graph, Literal, URIRef

from tests.conftest import WRITE_TOKEN

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"
JSON_RESULTS = "application/sparql-results+json"
XML_RESULTS = "application/sparql-results+xml"
CSV = "text/csv; charset=utf-8"
TSV = "text/tab-separated-values; charset=utf-8"
PROBLEM = "application/problem+json"
AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
# Graphs made by an update are nobody's declared public graphs, so only a token holder reads them
# (kg.access); on the writable server these protocol tests read with the admin token.
READ_AS_ADMIN: set[str] = set()


@pytest.fixture
def writable_server(restored_writable_server: str) -> str:
    READ_AS_ADMIN.add(restored_writable_server)
    return restored_writable_server

KASEI = "http://kasei.us/2009/09/sparql/data/"
DATA0, DATA1, DATA2, DATA3 = (f"{KASEI}data{n}.rdf" for n in range(4))
FOAF = "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"
DC_FOAF = "PREFIX dc: <http://purl.org/dc/terms/>\n" + FOAF
BIBLIO = "<http://purl.org/dc/terms/BibliographicResource>"

PREFIXES = ("PREFIX mk: <https://w3id.org/missiekompas/ontology#>\n"
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n")
CLUSTER_LABELS = PREFIXES + """SELECT ?label WHERE {
  ?c a mk:TechnologyCluster ; skos:prefLabel ?label FILTER(lang(?label) = "en")
} ORDER BY ?label"""
CLUSTER_LABEL_TEXTS = ["Advanced Materials", "Chemical Technologies", "Digital Technologies",
                       "Engineering and Fabrication Technologies", "Life Science Technologies", "Nanotechnologies",
                       "Photonics and Light Technologies", "Quantum Technologies"]
CLUSTER_LABEL_GRAPH = PREFIXES + """CONSTRUCT { ?c skos:prefLabel ?l } WHERE {
  ?c a mk:TechnologyCluster ; skos:prefLabel ?l FILTER(lang(?l) = "en")
}"""
# A 4-way cross join of the ~5,500 default triples: ~10^15 rows to count. COUNT keeps the memory flat,
# so only the time limit can stop it.
EXPLOSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


class Call(NamedTuple):
    """One HTTP request to /sparql."""

    method: str
    params: list[tuple[str, str]]
    body: str | bytes | None = None
    content_type: str | None = None


def send(base: str, call: Call, headers: dict[str, str] | None = None) -> requests.Response:
    all_headers = dict(AUTH if headers is None and base in READ_AS_ADMIN else headers or {})
    if call.content_type:
        all_headers["Content-Type"] = call.content_type
    body = call.body.encode() if isinstance(call.body, str) else call.body
    return requests.request(call.method, f"{base}/sparql", params=call.params, data=body, headers=all_headers,
                            timeout=30)


def post_query(base: str, text: str, params: list[tuple[str, str]] | None = None) -> requests.Response:
    return send(base, Call("POST", params or [], text, QUERY))


def post_update(base: str, text: str, params: list[tuple[str, str]] | None = None,
                headers: dict[str, str] | None = None) -> requests.Response:
    return send(base, Call("POST", params or [], text, UPDATE), AUTH if headers is None else headers)


def boolean_of(response: requests.Response) -> bool:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == JSON_RESULTS
    value = response.json()["boolean"]
    assert isinstance(value, bool)
    return value


def bindings_of(response: requests.Response) -> list[dict[str, dict[str, str]]]:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == JSON_RESULTS
    rows: list[dict[str, dict[str, str]]] = response.json()["results"]["bindings"]
    return rows


def ask(base: str, text: str, params: list[tuple[str, str]] | None = None) -> bool:
    return boolean_of(post_query(base, text, params))


def triple_count(base: str) -> int:
    rows = bindings_of(post_query(base, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"))
    return int(rows[0]["n"]["value"])


def assert_problem(response: requests.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == PROBLEM
    problem: dict[str, object] = response.json()
    assert problem["status"] == status
    assert problem["detail"]
    return problem


def load_kasei_graphs(base: str) -> None:
    """The manifest's data graphs: each of data1..data3 says that it is a foaf:Document."""
    graphs = " ".join(f"GRAPH <{g}> {{ <{g}> a foaf:Document }}" for g in (DATA1, DATA2, DATA3))
    response = post_update(base, FOAF + f"INSERT DATA {{ {graphs} }}")
    assert response.status_code == 204, response.text


# --- W3C protocol cases: queries that need no data --------------------------------------------------------

ASK_EMPTY = "ASK%20%7B%7D"  # "ASK {}", percent-encoded as in a form body

BOOLEAN_QUERIES = {
    "query_post_form": Call("POST", [("default-graph-uri", DATA0)], f"query={ASK_EMPTY}", FORM),
    "query_get": Call("GET", [("query", "ASK {}"), ("default-graph-uri", DATA0)]),
    "query_post_direct": Call("POST", [], "ASK {}", QUERY),
    "query_content_type_ask": Call("POST", [("default-graph-uri", DATA0)], "ASK {}", QUERY),
}


@pytest.mark.parametrize("call", BOOLEAN_QUERIES.values(), ids=BOOLEAN_QUERIES.keys())
def test_w3c_query_answers_true(server: str, call: Call) -> None:
    assert boolean_of(send(server, call)) is True


def test_w3c_query_content_type_select(server: str) -> None:
    response = post_query(server, "SELECT (1 AS ?value) {}", [("default-graph-uri", DATA0)])
    assert bindings_of(response) == [
        {"value": {"type": "literal", "value": "1", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]


def test_w3c_query_content_type_describe(server: str) -> None:
    response = post_query(server, "DESCRIBE <http://example.org/>", [("default-graph-uri", DATA0)])
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/turtle"
    assert len(Graph().parse(data=response.content, format="turtle")) == 0


def test_w3c_query_content_type_construct(server: str) -> None:
    """The manifest's query uses relative IRIs (<s>, <p>): the service resolves them against its base IRI."""
    response = post_query(server, "CONSTRUCT { <s> <p> 1 } WHERE {}", [("default-graph-uri", DATA0)])
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/turtle"
    [(subject, _, value)] = Graph().parse(data=response.content, format="turtle")
    assert str(subject).endswith("s") and "://" in str(subject)
    assert value == Literal(1)


BAD_QUERIES = {
    "bad_query_method_put": (Call("PUT", [("query", "ASK {}"), ("default-graph-uri", DATA0)], None, FORM), 405),
    "bad_query_method_delete": (Call("DELETE", [("query", "ASK {}")]), 405),
    "bad_multiple_queries": (Call("GET", [("query", "ASK {}"), ("query", "SELECT * {}")]), 400),
    "bad_query_wrong_media_type": (Call("POST", [], "ASK {}", "text/plain"), 415),
    "bad_query_missing_form_type": (Call("POST", [], f"query={ASK_EMPTY}"), 400),
    "bad_query_missing_direct_type": (Call("POST", [], "ASK {}"), 400),
    "bad_query_non_utf8": (Call("POST", [], "ASK {}".encode("utf-16"), QUERY + "; charset=UTF-16"), 400),
    "bad_query_non_utf8_bytes": (Call("POST", [], b'ASK { FILTER("caf\xe9" != "") }', QUERY), 400),
    "bad_query_non_utf8_form_charset": (Call("POST", [], f"query={ASK_EMPTY}", FORM + "; charset=ISO-8859-1"), 400),
    "bad_query_syntax": (Call("GET", [("query", "ASK {")]), 400),
}


@pytest.mark.parametrize(("call", "status"), BAD_QUERIES.values(), ids=BAD_QUERIES.keys())
def test_w3c_bad_query_is_refused(server: str, call: Call, status: int) -> None:
    assert_problem(send(server, call), status)


def test_bad_query_method_names_the_allowed_methods(server: str) -> None:
    response = send(server, Call("PUT", [("query", "ASK {}")], None, FORM))
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


LATIN1_ASK = "ASK%20%7B%20FILTER(%22caf%E9%22%20%3D%20%22caf%E9%22)%20%7D"  # %E9: Latin-1, not UTF-8


@pytest.mark.parametrize("in_body", [False, True], ids=["query_string", "form_body"])
def test_query_with_percent_encoded_non_utf8_bytes_is_refused(server: str, in_body: bool) -> None:
    """The protocol's parameters are percent-encoded UTF-8; a byte sequence that is not UTF-8 is a bad
    request, not a query about some other text."""
    if in_body:
        response = requests.post(f"{server}/sparql", data=f"query={LATIN1_ASK}", headers={"Content-Type": FORM},
                                 timeout=30)
    else:
        response = requests.get(f"{server}/sparql?query={LATIN1_ASK}", timeout=30)
    assert_problem(response, 400)


# --- W3C protocol cases: the protocol dataset (default-graph-uri / named-graph-uri) ---------------------

BOTH_ARE_DOCUMENTS = f"ASK {{ <{DATA1}> a ?type . <{DATA2}> a ?type . }}"
IN_NAMED_GRAPHS = f"ASK {{ GRAPH ?g1 {{ <{DATA1}> a ?type }} GRAPH ?g2 {{ <{DATA2}> a ?type }} }}"
DEFAULT_1_2 = [("default-graph-uri", DATA1), ("default-graph-uri", DATA2)]
NAMED_1_2 = [("named-graph-uri", DATA1), ("named-graph-uri", DATA2)]

DATASET_QUERIES = {
    "query_dataset_default_graphs_get": (Call("GET", [("query", BOTH_ARE_DOCUMENTS), *DEFAULT_1_2]), True),
    "query_dataset_default_graphs_post": (Call("POST", DEFAULT_1_2, BOTH_ARE_DOCUMENTS, QUERY), True),
    "query_dataset_named_graphs_post": (Call("POST", NAMED_1_2, IN_NAMED_GRAPHS, QUERY), True),
    "query_dataset_named_graphs_get": (Call("GET", [("query", IN_NAMED_GRAPHS), *NAMED_1_2]), True),
    "query_dataset_full": (Call("POST", [("default-graph-uri", DATA3), *NAMED_1_2], f"""ASK {{
  <{DATA3}> a ?type
  GRAPH ?g1 {{ <{DATA1}> a ?type }}
  GRAPH ?g2 {{ <{DATA2}> a ?type }}
}}""", QUERY), True),
    # The query's FROM <data3> (no FROM NAMED: no named graphs) is replaced by the protocol's named graphs.
    "query_multiple_dataset": (Call("POST", NAMED_1_2, IN_NAMED_GRAPHS.replace("ASK", f"ASK FROM <{DATA3}>", 1),
                                    QUERY), True),
    # Controls: the protocol dataset really limits what the query sees.
    "default_graph_is_only_data1": (Call("GET", [("query", BOTH_ARE_DOCUMENTS), ("default-graph-uri", DATA1)]),
                                    False),
    "named_graphs_are_not_in_the_default_graph": (Call("GET", [("query", BOTH_ARE_DOCUMENTS), *NAMED_1_2]), False),
    "protocol_default_graph_replaces_from": (Call("POST", [("default-graph-uri", DATA1)],
                                                  f"ASK FROM <{DATA3}> {{ <{DATA1}> a ?type }}", QUERY), True),
}


@pytest.mark.parametrize(("call", "expected"), DATASET_QUERIES.values(), ids=DATASET_QUERIES.keys())
def test_w3c_query_dataset(writable_server: str, call: Call, expected: bool) -> None:
    load_kasei_graphs(writable_server)
    assert boolean_of(send(writable_server, call)) is expected


def test_query_from_clause_is_used_without_a_protocol_dataset(writable_server: str) -> None:
    """SPARQL 1.1 Query 13.2: FROM <data3> makes data3 the default graph; data1's triple is not in it."""
    load_kasei_graphs(writable_server)
    assert ask(writable_server, f"ASK FROM <{DATA3}> {{ <{DATA3}> a ?type }}") is True
    assert ask(writable_server, f"ASK FROM <{DATA3}> {{ <{DATA1}> a ?type }}") is False


@pytest.mark.parametrize("parameter", ["default-graph-uri", "named-graph-uri"])
def test_invalid_dataset_iri_is_a_bad_request(server: str, parameter: str) -> None:
    assert_problem(send(server, Call("GET", [("query", "ASK {}"), (parameter, "not an iri")])), 400)
    assert boolean_of(send(server, Call("GET", [("query", "ASK {}")]))) is True


# --- W3C protocol cases: updates ---------------------------------------------------------------------------

def documents_in(*graphs: str) -> str:
    return "\n".join(f"  GRAPH <{g}> {{ <{g}> a foaf:Document }}" for g in graphs)


RESET_AND_LOAD = f"DROP ALL ;\nINSERT DATA {{\n{documents_in(DATA1, DATA2, DATA3)}\n}} ;\n"


def marked(graph: str, *, present: tuple[str, ...], absent: str) -> str:
    """ASK that `present` are dc:BibliographicResource in `graph`, and `absent` is not."""
    triples = " ".join(f"<{g}> a {BIBLIO} ." for g in present)
    return (f"ASK {{ GRAPH <{graph}> {{ {triples} }} "
            f"FILTER NOT EXISTS {{ GRAPH <{graph}> {{ <{absent}> a {BIBLIO} }} }} }}")


OUT = "http://example.org/protocol-update-dataset-test/"
OUT_GRAPHS = "http://example.org/protocol-update-dataset-graphs-test/"
OUT_NAMED = "http://example.org/protocol-update-dataset-named-graphs-test/"
OUT_FULL = "http://example.org/protocol-update-dataset-full-test/"

DATASET_UPDATES = {
    "update_dataset_default_graph": (
        [("using-graph-uri", DATA1)],
        DC_FOAF + f"CLEAR ALL ;\nINSERT DATA {{\n{documents_in(DATA1)}\n}} ;\n"
        f"INSERT {{ GRAPH <{OUT}> {{ ?s a dc:BibliographicResource }} }}\nWHERE {{ ?s a foaf:Document }}",
        f"ASK {{ GRAPH <{OUT}> {{ <{DATA1}> a {BIBLIO} }} }}"),
    "update_dataset_default_graphs": (
        [("using-graph-uri", DATA1), ("using-graph-uri", DATA2)],
        DC_FOAF + RESET_AND_LOAD +
        f"INSERT {{ GRAPH <{OUT_GRAPHS}> {{ ?s a dc:BibliographicResource }} }}\nWHERE {{ ?s a foaf:Document }}",
        marked(OUT_GRAPHS, present=(DATA1, DATA2), absent=DATA3)),
    "update_dataset_named_graphs": (
        [("using-named-graph-uri", DATA1), ("using-named-graph-uri", DATA2)],
        DC_FOAF + RESET_AND_LOAD + f"INSERT {{ GRAPH <{OUT_NAMED}> {{ ?s a dc:BibliographicResource }} }}\n"
        "WHERE { GRAPH ?g { ?s a foaf:Document } }",
        marked(OUT_NAMED, present=(DATA1, DATA2), absent=DATA3)),
    "update_dataset_full": (
        [("using-graph-uri", DATA1), ("using-named-graph-uri", DATA2)],
        DC_FOAF + RESET_AND_LOAD + f"INSERT {{ GRAPH <{OUT_FULL}> {{ ?s <http://example.org/in> ?in }} }}\n"
        'WHERE { { GRAPH ?g { ?s a foaf:Document } BIND(?g AS ?in) } UNION '
        '{ ?s a foaf:Document . BIND("default" AS ?in) } }',
        f'ASK {{ GRAPH <{OUT_FULL}> {{ <{DATA1}> <http://example.org/in> "default" . '
        f"<{DATA2}> <http://example.org/in> <{DATA2}> . }} "
        f"FILTER NOT EXISTS {{ GRAPH <{OUT_FULL}> {{ <{DATA3}> ?p ?o }} }} }}"),
}


@pytest.mark.parametrize(("params", "update", "check"), DATASET_UPDATES.values(), ids=DATASET_UPDATES.keys())
def test_w3c_update_dataset(writable_server: str, params: list[tuple[str, str]], update: str, check: str) -> None:
    response = post_update(writable_server, update, params)
    assert response.status_code == 204, response.text
    assert ask(writable_server, check) is True


@pytest.mark.parametrize("call", [
    Call("POST", [], "update=CLEAR+ALL", FORM),
    Call("POST", [], "CLEAR ALL", UPDATE),
], ids=["update_post_form", "update_post_direct"])
def test_w3c_update_post(writable_server: str, call: Call) -> None:
    assert triple_count(writable_server) > 0
    response = send(writable_server, call, AUTH)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert triple_count(writable_server) == 0


def test_w3c_update_base_uri(writable_server: str) -> None:
    """<test> is relative: the service resolves it against a base IRI of its own (e.g. the endpoint)."""
    graph = "http://example.org/protocol-base-test/"
    response = post_update(writable_server, f"CLEAR GRAPH <{graph}> ;\nINSERT DATA {{ GRAPH <{graph}> "
                                            "{ <http://example.org/s> <http://example.org/p> <test> } }")
    assert response.status_code == 204, response.text
    rows = bindings_of(post_query(writable_server, f"SELECT ?o WHERE {{ GRAPH <{graph}> "
                                                   "{ <http://example.org/s> <http://example.org/p> ?o } }"))
    assert len(rows) == 1
    assert rows[0]["o"]["type"] == "uri"
    assert rows[0]["o"]["value"] != "test" and rows[0]["o"]["value"].endswith("test")


WITH_ADDRESSES = FOAF + """WITH <http://example/addresses>
DELETE { ?person foaf:givenName 'Bill' }
INSERT { ?person foaf:givenName 'William' }
WHERE { ?person foaf:givenName 'Bill' }"""
USING_ADDRESSES = FOAF + """DELETE { ?person foaf:givenName 'Bill' }
USING <http://example/addresses>
WHERE { ?person foaf:givenName 'Bill' }"""

BAD_UPDATES = {
    "bad_update_get": (Call("GET", [("update", "CLEAR ALL")]), 400),
    "bad_multiple_updates": (Call("POST", [], "update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", FORM), 400),
    "bad_update_wrong_media_type": (Call("POST", [], "CLEAR NAMED", "text/plain"), 415),
    "bad_update_missing_form_type": (Call("POST", [], "update=CLEAR%20NAMED"), 400),
    "bad_update_non_utf8": (Call("POST", [], "CLEAR NAMED".encode("utf-16"), UPDATE + "; charset=UTF-16"), 400),
    "bad_update_non_utf8_bytes": (Call("POST", [], b'CLEAR NAMED ; INSERT DATA { <urn:x> <urn:p> "caf\xe9" }',
                                       UPDATE), 400),
    "bad_update_syntax": (Call("POST", [], "update=CLEAR%20XYZ", FORM), 400),
    "bad_update_dataset_conflict": (Call("POST", [("using-named-graph-uri", "http://example/people")],
                                         WITH_ADDRESSES, UPDATE), 400),
    "bad_update_dataset_conflict_using": (Call("POST", [("using-graph-uri", "http://example/people")],
                                               USING_ADDRESSES, UPDATE), 400),
}


@pytest.mark.parametrize(("call", "status"), BAD_UPDATES.values(), ids=BAD_UPDATES.keys())
def test_w3c_bad_update_is_refused_and_changes_nothing(writable_server: str, call: Call, status: int) -> None:
    before = triple_count(writable_server)
    assert_problem(send(writable_server, call, AUTH), status)
    assert triple_count(writable_server) == before


def test_bad_update_dataset_conflict_names_the_reason(writable_server: str) -> None:
    response = post_update(writable_server, WITH_ADDRESSES, [("using-named-graph-uri", "http://example/people")])
    detail = str(assert_problem(response, 400)["detail"])
    assert "USING/WITH" in detail and "using-graph-uri" in detail


@pytest.mark.parametrize("where", ["?s foaf:knows ?with", "?s foaf:using ?o"], ids=["variable", "local_name"])
def test_with_or_using_as_a_name_is_no_dataset_conflict(writable_server: str, where: str) -> None:
    """Only a USING/WITH clause conflicts with using-graph-uri, not a variable or a prefixed name spelled so."""
    update = FOAF + f"INSERT {{ GRAPH <urn:out> {{ ?s a foaf:Person }} }} WHERE {{ {where} }}"
    response = post_update(writable_server, update, [("using-graph-uri", DATA1)])
    assert response.status_code == 204, response.text


def test_using_graph_uri_cannot_inject_update_operations(writable_server: str) -> None:
    """A using-graph-uri value is one IRI; one with '>' in it must not add operations (here: DROP ALL)."""
    before = triple_count(writable_server)
    injected = "urn:g> WHERE {} ; DROP ALL ; INSERT { <urn:x> <urn:y> <urn:z> } USING <urn:g"
    response = post_update(writable_server, "INSERT { <urn:a> <urn:b> <urn:c> } WHERE { }",
                           [("using-graph-uri", injected)])
    assert_problem(response, 400)
    assert triple_count(writable_server) == before


def test_update_with_percent_encoded_non_utf8_bytes_is_refused(writable_server: str) -> None:
    """%E9 is Latin-1, not UTF-8: the update is refused and nothing is stored (no mangled 'caf' literal)."""
    body = "update=INSERT%20DATA%20%7B%20GRAPH%20%3Curn%3Ag%3E%20%7B%20%3Curn%3Ax%3E%20%3Curn%3Ap%3E%20%22caf%E9%22%20%7D%20%7D"
    response = send(writable_server, Call("POST", [], body, FORM), AUTH)
    assert_problem(response, 400)
    assert ask(writable_server, "ASK { GRAPH <urn:g> { ?s ?p ?o } }") is False


# --- Updates need the token ------------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ({"Authorization": "Bearer not-the-token"}, 403),
], ids=["no_token", "basic_auth", "wrong_token"])
def test_update_without_the_token_is_refused_and_changes_nothing(writable_server: str, headers: dict[str, str],
                                                                 status: int) -> None:
    before = triple_count(writable_server)
    response = post_update(writable_server, "CLEAR ALL", headers=headers)
    assert_problem(response, status)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert triple_count(writable_server) == before


def test_update_with_the_token_answers_204_without_a_body(writable_server: str) -> None:
    response = post_update(writable_server, "INSERT DATA { GRAPH <urn:g> { <urn:s> <urn:p> 'o' } }")
    assert response.status_code == 204
    assert response.content == b""
    assert ask(writable_server, "ASK { GRAPH <urn:g> { <urn:s> <urn:p> 'o' } }") is True


# --- No outbound calls ------------------------------------------------------------------------------------

def test_service_to_another_endpoint_is_refused(server: str) -> None:
    query = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    detail = str(assert_problem(send(server, Call("GET", [("query", query)])), 400)["detail"])
    assert "SERVICE" in detail and "not allowed" in detail and "http://example.org/sparql" in detail


def test_service_to_this_endpoint_is_refused(server: str) -> None:
    query = f"SELECT * WHERE {{ SERVICE <{server}/sparql> {{ ?s ?p ?o }} }}"
    detail = str(assert_problem(post_query(server, query), 400)["detail"])
    assert "SERVICE" in detail and f"{server}/sparql" in detail


def test_load_is_refused_and_changes_nothing(writable_server: str) -> None:
    before = triple_count(writable_server)
    response = post_update(writable_server, "LOAD <http://example.org/data.ttl> INTO GRAPH <urn:loaded>")
    detail = str(assert_problem(response, 400)["detail"])
    assert "LOAD" in detail and "http://example.org/data.ttl" in detail
    assert triple_count(writable_server) == before


@pytest.mark.parametrize("query", [
    "PREFIX schema: <http://schema.org/> SELECT ?s WHERE { ?s a schema:Service }",
    "SELECT ?service WHERE { VALUES ?service { 1 } }",
], ids=["class_named_service", "variable_named_service"])
def test_the_word_service_alone_is_no_outbound_call(server: str, query: str) -> None:
    response = send(server, Call("GET", [("query", query)]))
    assert response.status_code == 200, response.text


# --- Content negotiation ----------------------------------------------------------------------------------

def select_labels(server: str, accept: str | None = None, fmt: str | None = None) -> requests.Response:
    params = [("query", CLUSTER_LABELS)] + ([("format", fmt)] if fmt else [])
    return requests.get(f"{server}/sparql", params=params, headers={"Accept": accept}, timeout=30)


@pytest.mark.parametrize(("accept", "media_type"), [
    (None, JSON_RESULTS),
    ("*/*", JSON_RESULTS),
    ("application/json", JSON_RESULTS),
    ("application/sparql-results+xml", XML_RESULTS),
    ("text/csv", CSV),
    ("text/tab-separated-values", TSV),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", XML_RESULTS),
    ("application/sparql-results+json;q=0, text/csv", CSV),
    ("image/png;q=1.0, text/tab-separated-values;q=0.1", TSV),
])
def test_select_follows_accept_and_its_q_values(server: str, accept: str | None, media_type: str) -> None:
    response = select_labels(server, accept)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == media_type
    assert "Accept" in response.headers["Vary"]
    assert "Quantum Technologies" in response.text


@pytest.mark.parametrize(("fmt", "media_type"), [("csv", CSV), ("tsv", TSV), ("xml", XML_RESULTS),
                                                 ("json", JSON_RESULTS), ("text/csv", CSV)])
def test_format_parameter_wins_over_accept(server: str, fmt: str, media_type: str) -> None:
    accept = "text/tab-separated-values" if fmt != "tsv" else "application/sparql-results+xml"
    response = select_labels(server, accept, fmt)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == media_type


@pytest.mark.parametrize(("query", "accept"), [
    (CLUSTER_LABELS, "image/png"),
    ("ASK {}", "text/turtle"),
    (CLUSTER_LABEL_GRAPH, "application/sparql-results+json"),
])
def test_unsatisfiable_accept_is_406(server: str, query: str, accept: str) -> None:
    response = requests.get(f"{server}/sparql", params={"query": query}, headers={"Accept": accept}, timeout=30)
    detail = str(assert_problem(response, 406)["detail"])
    assert accept in detail


def test_unknown_format_parameter_is_406(server: str) -> None:
    assert_problem(select_labels(server, None, "png"), 406)


@pytest.mark.parametrize(("accept", "media_type", "rdflib_format"), [
    (None, "text/turtle", "turtle"),
    ("text/turtle", "text/turtle", "turtle"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("application/rdf+xml;q=0.2, text/turtle;q=0.8", "text/turtle", "turtle"),
])
def test_construct_follows_accept(server: str, accept: str | None, media_type: str, rdflib_format: str) -> None:
    response = requests.get(f"{server}/sparql", params={"query": CLUSTER_LABEL_GRAPH}, headers={"Accept": accept},
                            timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == media_type
    graph = Graph().parse(data=response.content, format=rdflib_format)
    assert len(graph) == 8
    assert Literal("Quantum Technologies", lang="en") in set(graph.objects())


# --- Exact CSV and TSV bodies -----------------------------------------------------------------------------

def test_select_as_csv_exact_body(server: str) -> None:
    response = select_labels(server, "text/csv")
    assert response.headers["Content-Type"] == CSV
    assert response.content == ("label\r\n" + "".join(f"{label}\r\n" for label in CLUSTER_LABEL_TEXTS)).encode()


def test_select_as_tsv_exact_body(server: str) -> None:
    response = select_labels(server, "text/tab-separated-values")
    assert response.headers["Content-Type"] == TSV
    assert response.content == ("?label\n" + "".join(f'"{label}"@en\n' for label in CLUSTER_LABEL_TEXTS)).encode()


TERMS = r"""SELECT ?x ?y WHERE { VALUES (?x ?y) {
  (1 "a,b") (<http://example.org/s> UNDEF) ("c\"d"@en 2.5) ("line\nbreak" true) ("tab\there" "plain")
} }"""


def test_values_as_csv_exact_body(server: str) -> None:
    response = requests.get(f"{server}/sparql", params={"query": TERMS, "format": "csv"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.content == (b'x,y\r\n1,"a,b"\r\nhttp://example.org/s,\r\n"c""d",2.5\r\n'
                                b'"line\nbreak",true\r\ntab\there,plain\r\n')


def test_values_as_tsv_exact_body(server: str) -> None:
    response = requests.get(f"{server}/sparql", params={"query": TERMS, "format": "tsv"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.content == (b'?x\t?y\n1\t"a,b"\n<http://example.org/s>\t\n"c\\"d"@en\t2.5\n'
                                b'"line\\nbreak"\ttrue\n"tab\\there"\t"plain"\n')


# --- Limits: time, body size, rows ------------------------------------------------------------------------

def test_explosive_query_is_stopped_at_the_time_limit(server: str) -> None:
    started = time.monotonic()
    response = requests.get(f"{server}/sparql", params={"query": EXPLOSIVE}, timeout=60)
    elapsed = time.monotonic() - started
    detail = str(assert_problem(response, 503)["detail"])
    assert "time limit" in detail
    assert 2.5 <= elapsed < 15
    assert boolean_of(send(server, Call("GET", [("query", "ASK { ?s ?p ?o }")]))) is True


@pytest.mark.parametrize("call", [
    Call("POST", [], "ASK {} #" + "x" * 200_001, QUERY),
    Call("POST", [], "query=ASK%20%7B%7D%20%23" + "x" * 200_001, FORM),
], ids=["direct", "form"])
def test_oversize_body_is_413(server: str, call: Call) -> None:
    detail = str(assert_problem(send(server, call), 413)["detail"])
    assert "200000" in detail
    assert boolean_of(send(server, Call("POST", [], "ASK {}", QUERY))) is True


def test_select_past_the_row_limit_is_cut_and_flagged(server: str) -> None:
    response = requests.get(f"{server}/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"}, timeout=30)
    assert len(bindings_of(response)) == 500
    assert response.headers["X-Result-Truncated"] == "true; max-rows=500"


def test_select_at_the_row_limit_is_not_flagged(server: str) -> None:
    response = requests.get(f"{server}/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 500"},
                            timeout=30)
    assert len(bindings_of(response)) == 500
    assert "X-Result-Truncated" not in response.headers


def test_construct_past_the_row_limit_is_cut_and_flagged(server: str) -> None:
    response = requests.get(f"{server}/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                            headers={"Accept": "application/n-triples"}, timeout=30)
    assert response.status_code == 200
    assert len(Graph().parse(data=response.content, format="nt")) == 500
    assert response.headers["X-Result-Truncated"] == "true; max-rows=500"


# --- Self-description, the editor page, CORS --------------------------------------------------------------

SD = "http://www.w3.org/ns/sparql-service-description#"


@pytest.mark.parametrize(("accept", "rdflib_format"), [
    ("text/turtle", "turtle"), ("application/rdf+xml", "xml"), ("application/ld+json", "json-ld"),
    ("application/n-triples", "nt"),
])
def test_service_description(server: str, accept: str, rdflib_format: str) -> None:
    response = requests.get(f"{server}/sparql", headers={"Accept": accept}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == accept
    graph = Graph().parse(data=response.content, format=rdflib_format)
    endpoint = URIRef(f"{server}/sparql")
    assert (None, URIRef(SD + "endpoint"), endpoint) in graph
    assert (None, URIRef(SD + "supportedLanguage"), URIRef(SD + "SPARQL11Query")) in graph


def test_browser_gets_the_query_editor(server: str) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = requests.get(f"{server}/sparql", headers={"Accept": accept}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert f'data-endpoint="{server}/sparql"' in response.text
    assert 'id="yasgui"' in response.text


def test_get_answers_allow_any_origin(server: str) -> None:
    response = requests.get(f"{server}/sparql", params={"query": "ASK {}"},
                            headers={"Origin": "https://elsewhere.example"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_preflight(server: str) -> None:
    response = requests.options(f"{server}/sparql", timeout=30, headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()
