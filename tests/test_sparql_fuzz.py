"""Fuzzing /sparql: malformed, huge and pathological requests get a clear 4xx (a 503 only for a query
stopped at the time limit), never a 500, never a traceback; the server answers on afterwards.

The malformed queries are seeded mutations of valid ones (the named queries and a few more), so
every run sends the same cases."""

from __future__ import annotations

import json
import random
import socket
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from config import Settings
from kg.queries import named_query, query_names
from kg.store import Store
from tests.conftest import TINY, app_over

SEED = 20261128
CASES = 200
JSON = "application/sparql-results+json"
TRACEBACK_SIGNS = ("Traceback (most recent call last)", 'File "/', "site-packages", "werkzeug.exceptions",
                   "gunicorn.http", "pyoxigraph")
ASK = "ASK { ?s ?p ?o }"

HANDWRITTEN = [
    "SELECT * WHERE { ?s ?p ?o } LIMIT 5",
    "ASK { ?s a <https://w3id.org/missiekompas/ontology#Programme> }",
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
    "CONSTRUCT { ?s skos:prefLabel ?l } WHERE { ?s skos:prefLabel ?l FILTER(LANG(?l) = \"en\") } LIMIT 10",
    "DESCRIBE <https://w3id.org/missiekompas/id/programme/storage-mjp>",
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
    "SELECT ?s (COUNT(?o) AS ?n) WHERE { GRAPH ?g { ?s skos:broader*/skos:prefLabel ?o } } GROUP BY ?s HAVING (?n > 0)",
    "SELECT ?x ?y WHERE { VALUES (?x ?y) { (1 \"a\"@nl) (2 'b') (UNDEF <http://example.org/c>) } BIND(STR(?x) AS ?z) }",
    "SELECT * WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 2 } UNION { ?s a ?type } OPTIONAL { ?s <http://x/p> ?q } "
    "MINUS { ?s <http://x/q> 1 } FILTER(REGEX(STR(?s), \"^https\", \"i\") && !BOUND(?q)) } ORDER BY DESC(?s) OFFSET 1",
    '# a comment\nSELECT ("""multi\nline""" AS ?t) ("tab\\t" AS ?u) (1.5e3 AS ?v) (true AS ?w) {}',
]

# Pieces a mutation inserts: syntax, keywords, bad IRIs and strings, control and odd Unicode characters.
PIECES = ["{", "}", "{{", "}}", "(", ")", "[", "]", "<", ">", '"', "'", '"""', "\\", "\\u", "?", "$", ".", ";", ",",
          "*", "#", "^^", "@", "@@", "_:", "_:b .", "a", "|", "/", "^", "!", "&&", "||", "=", "+", "-1", "1e", "0x1",
          "SELECT", "WHERE", "FILTER(", "OPTIONAL {", "UNION", "GRAPH", "BIND(", "AS", "VALUES ?x {", "PREFIX x: <",
          "BASE <", "FROM <", "LIMIT", "OFFSET -1", "GROUP BY", "ORDER BY", "SERVICE <http://example.org/sparql> {",
          "LOAD <http://example.org/>", "INSERT DATA {", "DROP ALL", "<http://exa mple.org/>", "<javascript:alert(1)>",
          "<urn:>", "<>", "<//evil>", '"unterminated', "'\\'", "\x00", "\x07", "\r\n", "\t", "\u202e", "\ufeff",
          "\u00e9", "\U0001f600", "%", "%zz", "%ff", "&query=", "+", "ASK", "CONSTRUCT {", "DESCRIBE", "<<(", ")>>"]


def valid_queries() -> list[str]:
    return [named_query(n) for n in query_names()] + HANDWRITTEN


def mutate(text: str, rng: random.Random) -> str:
    """One to three random edits: cut, delete, repeat, insert a piece, replace or swap characters."""
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randint(1, 40))
        edit = rng.choice(("truncate", "delete", "repeat", "insert", "insert", "replace", "swap"))
        if edit == "truncate":
            text = text[:i]
        elif edit == "delete":
            text = text[:i] + text[j:]
        elif edit == "repeat":
            text = text[:j] + text[i:j] * rng.randint(2, 5) + text[j:]
        elif edit == "insert":
            text = text[:i] + rng.choice(PIECES) + text[i:]
        elif edit == "replace":
            text = text[:i] + chr(rng.choice((rng.randrange(32, 127), rng.randrange(0x80, 0x2FFF)))) + text[i + 1:]
        elif i + 1 < len(text):
            text = text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text


def fuzz_cases() -> list[str]:
    queries = valid_queries()
    cases = []
    for n in range(CASES):
        rng = random.Random(SEED + n)
        original = rng.choice(queries)
        mutated = mutate(original, rng)
        while mutated == original:  # a swap of two equal characters changes nothing
            mutated = mutate(original, rng)
        cases.append(mutated)
    return cases


FUZZ = fuzz_cases()


def assert_clear(status: int, content_type: str, body: str, *, allow_timeout: bool = False) -> None:
    """A success, or a client error as problem+json with a title and a detail; a 503 only when
    the query ran past the time limit; never a traceback."""
    for sign in TRACEBACK_SIGNS:
        assert sign not in body, f"{status}: the body shows internals ({sign!r}): {body[:500]}"
    if status < 400:
        return
    if allow_timeout and status == 503:
        assert "time limit" in json.loads(body)["detail"], body
    else:
        assert 400 <= status < 500, f"{status}: {body[:500]}"
    if content_type.split(";")[0].strip() == "application/problem+json":
        problem = json.loads(body)
        assert problem["status"] == status and problem["title"] and problem["detail"], body
    else:  # only gunicorn's own answers to requests that are not HTTP are allowed to be plain pages
        assert status in (400, 414, 431) and body.strip(), body[:500]


def send(client: FlaskClient, query: str, how: int, **headers: str) -> TestResponse:
    """GET, form POST or direct POST, in turn."""
    if how == 0:
        return client.get("/sparql", query_string={"query": query}, headers=headers)
    if how == 1:
        return client.post("/sparql", data={"query": query}, headers=headers)
    return client.post("/sparql", data=query.encode(), headers=headers, content_type="application/sparql-query")


def check(response: TestResponse) -> None:
    assert_clear(response.status_code, response.headers.get("Content-Type", ""), response.get_data(as_text=True))


# --- the Flask app, in process ------------------------------------------------------------------

@pytest.fixture(scope="module")
def client() -> FlaskClient:
    """One app over the tiny dataset for the whole module: these requests only read (writes have no token)."""
    return app_over(Settings(data_dirs=(TINY,), store="memory")).test_client()


def test_the_valid_queries_are_valid(client: FlaskClient) -> None:
    for query in valid_queries():
        response = client.post("/sparql", data={"query": query}, headers={"Accept": "*/*"})
        assert response.status_code == 200, (query, response.get_data(as_text=True))


@pytest.mark.parametrize("case", range(CASES), ids=lambda n: f"mutation-{n:03d}")
def test_mutated_queries_get_a_clear_answer(client: FlaskClient, case: int) -> None:
    check(send(client, FUZZ[case], case % 3, Accept=JSON if case % 2 else "*/*"))


def test_most_mutated_queries_are_refused_as_malformed(client: FlaskClient) -> None:
    statuses = [send(client, query, n % 3).status_code for n, query in enumerate(FUZZ)]
    assert statuses.count(400) > CASES // 2, sorted(set(statuses))


# Deep enough to be odd, small enough for this process: the parser crashes on deeper nesting and the
# in-process store has no time limit (the server tests below send the big ones).
NESTED = 500

MALFORMED = {
    "unbalanced open brace": "SELECT * WHERE { ?s ?p ?o ",
    "unbalanced close brace": "SELECT * WHERE { ?s ?p ?o } }",
    "only braces": "{" * 50 + "}" * 49,
    "iri with a space": "SELECT * WHERE { <http://exa mple.org/> ?p ?o }",
    "iri with a quote": 'SELECT * WHERE { <http://example.org/"> ?p ?o }',
    "relative iri in FROM": "SELECT * FROM <not an iri> WHERE { ?s ?p ?o }",
    "unterminated string": 'SELECT * WHERE { ?s ?p "open }',
    "bad escape": 'SELECT * WHERE { ?s ?p "\\q" }',
    "bad unicode escape": 'SELECT * WHERE { ?s ?p "\\uZZZZ" }',
    "bad language tag": 'SELECT * WHERE { ?s ?p "x"@1- }',
    "nul byte": "SELECT * WHERE { ?s ?p ?o }\x00",
    "no form keyword": "WHERE { ?s ?p ?o }",
    "empty": "",
    "only a comment": "# SELECT * WHERE { ?s ?p ?o }",
    "an update as query": "INSERT DATA { <http://a> <http://b> <http://c> }",
    "two queries": "ASK {} ASK {}",
    "limit overflow": "SELECT * WHERE { ?s ?p ?o } LIMIT 99999999999999999999999",
    "negative offset": "SELECT * WHERE { ?s ?p ?o } OFFSET -1",
    "select star with group by": "SELECT * WHERE { ?s ?p ?o } GROUP BY ?s",
    "values arity": "SELECT * WHERE { ?s ?p ?o } VALUES (?s ?p) { (1) }",
    "rebound variable": "SELECT ?x WHERE { BIND(1 AS ?x) BIND(2 AS ?x) }",
    "service": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "service to a variable": "SELECT * WHERE { SERVICE ?x { ?s ?p ?o } }",
    f"groups nested {NESTED} deep": "SELECT * WHERE " + "{" * NESTED + " ?s ?p ?o " + "}" * NESTED,
    f"parentheses nested {NESTED} deep": "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * NESTED + "1" + ")" * NESTED + ") }",
    "property path of 100 steps": "SELECT * WHERE { ?s " + "/".join(["<http://x/p>"] * 100) + " ?o }",
    "1000 unions": "SELECT * WHERE { " + " UNION ".join(["{ ?s <http://x/p> ?o }"] * 1000) + " }",
    "huge literal": 'SELECT * WHERE { ?s ?p "' + "x" * 200_000 + '" }',
    "300 variables": "SELECT " + " ".join(f"?v{i}" for i in range(300)) + " WHERE { ?s ?p ?o }",
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_and_odd_queries_get_a_clear_answer(client: FlaskClient, name: str) -> None:
    for how in range(3):
        check(send(client, MALFORMED[name], how))


@pytest.mark.parametrize(("path", "params"), [
    ("/sparql?query=%ff%fe", {}),  # not UTF-8
    ("/sparql?query=ASK%7B%7D%C0%AF", {}),  # an overlong encoding of '/'
    ("/sparql?query=ASK%7B%7D%ED%A0%80", {}),  # a UTF-16 surrogate
    ("/sparql?query=ASK%7B%7D%E2%82", {}),  # a cut-off sequence
    ("/sparql?query=%", {}),
    ("/sparql?query=%zz%7B", {}),
    ("/sparql?query=ASK%7B%7D&query=ASK%7B%7D", {}),
    ("/sparql?query=ASK%7B%7D&default-graph-uri=not%20an%20iri", {}),
    ("/sparql?query=ASK%7B%7D&named-graph-uri=%3A%3A", {}),
    ("/sparql?update=DROP%20ALL", {}),
])
def test_bad_parameters_get_a_client_error(client: FlaskClient, path: str, params: dict[str, str]) -> None:
    response = client.get(path)
    assert 400 <= response.status_code < 500
    check(response)


@pytest.mark.parametrize("body", [b"query=%ff", b"query=ASK%7B%7D%C0%AF", b"query=%E2%82", b"\xff\xfe=\xff"])
def test_bad_form_bodies_get_a_client_error(client: FlaskClient, body: bytes) -> None:
    response = client.post("/sparql", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    check(response)


@pytest.mark.parametrize(("body", "content_type"), [
    (b"ASK {} \xff", "application/sparql-query"),
    (b"ASK {}", "application/sparql-query; charset=latin-1"),
    (b"ASK {}", "application/sparql-query; charset=\""),
    (b"ASK {}", "text/plain"),
    (b"ASK {}", "multipart/form-data; boundary=x"),
    (b"ASK {}", "application/json"),
    (b"ASK {}", ""),
])
def test_odd_bodies_get_a_clear_answer(client: FlaskClient, body: bytes, content_type: str) -> None:
    check(client.post("/sparql", data=body, content_type=content_type))


@pytest.mark.parametrize("fmt", ["foo", "", "\x00", "json,xml", "../../etc/passwd", "ttl", "x" * 5000])
def test_an_unknown_format_gets_a_clear_answer(client: FlaskClient, fmt: str) -> None:
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "format": fmt})
    check(response)
    if fmt not in ("", "json,xml"):
        assert response.status_code == 406


@pytest.mark.parametrize("accept", ["image/png", ";;;,,q=abc", "text/html;q=x, */*;q=nan", "*/*;q=-1", "\u00ff\u00fe",
                                    "application/sparql-results+json;q=0", "a/b;" * 2000, ""])
def test_a_bad_accept_gets_a_clear_answer(client: FlaskClient, accept: str) -> None:
    for query in ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", ASK):
        check(client.get("/sparql", query_string={"query": query}, headers={"Accept": accept}))


@pytest.fixture
def small_app(make_app: Callable[..., Flask], tiny_store: Store) -> Flask:
    return make_app(tiny_store, max_body_bytes=10_000)


@pytest.mark.parametrize("content_type", ["application/sparql-query", "application/x-www-form-urlencoded"])
def test_a_body_over_the_limit_gets_413(small_app: Flask, content_type: str) -> None:
    body = b"query=" + b"ASK%7B%7D%23" + b"x" * 20_000 if "form" in content_type else b"ASK {} #" + b"x" * 20_000
    response = small_app.test_client().post("/sparql", data=body, content_type=content_type)
    assert response.status_code == 413
    check(response)
    assert "10000" in response.get_json()["detail"]


def test_rdf_12_triple_terms_as_json_ld_get_a_client_error(client: FlaskClient) -> None:
    query = "CONSTRUCT { ?s <http://x/p> <<( ?s ?p ?o )>> } WHERE { ?s ?p ?o } LIMIT 2"
    check(client.get("/sparql", query_string={"query": query, "format": "jsonld"}))


# --- the real server (gunicorn, query worker processes, the session's `server` fixture) ---------

def post(url: str, query: str | bytes | Iterator[bytes], content_type: str = "application/sparql-query") -> requests.Response:
    body = query.encode() if isinstance(query, str) else query
    return requests.post(f"{url}/sparql", data=body, headers={"Content-Type": content_type, "Accept": JSON}, timeout=60)


def assert_answers_on(url: str) -> None:
    response = requests.get(f"{url}/sparql", params={"query": ASK}, headers={"Accept": JSON}, timeout=10)
    assert response.status_code == 200 and response.json()["boolean"] is True


@pytest.mark.parametrize("case", range(0, CASES, 5), ids=lambda n: f"mutation-{n:03d}")
def test_mutated_queries_get_a_clear_answer_from_the_server(server: str, case: int) -> None:
    response = post(server, FUZZ[case])
    assert_clear(response.status_code, response.headers.get("Content-Type", ""), response.text, allow_timeout=True)


PATHOLOGICAL = {  # each one crashes pyoxigraph's parser (stack overflow) in a query worker
    "groups nested 5000 deep": "SELECT * WHERE " + "{" * 5000 + " ?s ?p ?o " + "}" * 5000,
    "parentheses nested 5000 deep": "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }",
    "subqueries nested 5000 deep": "SELECT * WHERE " + "{ SELECT * WHERE " * 5000 + "{ ?s ?p ?o }" + " }" * 5000,
    "property path of 20000 steps": "PREFIX x: <http://x/> SELECT * WHERE { ?s " + "/".join(["x:p"] * 20_000) + " ?o }",
    "sum of 20000 terms": "SELECT * WHERE { ?s ?p ?o FILTER(" + "+".join(["1"] * 20_000) + " > 0) }",
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_the_server_survives_pathological_queries(server: str, name: str) -> None:
    response = post(server, PATHOLOGICAL[name])
    assert response.status_code != 500
    for sign in TRACEBACK_SIGNS:
        assert sign not in response.text
    assert_answers_on(server)


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_queries_get_a_client_error(server: str, name: str) -> None:
    response = post(server, PATHOLOGICAL[name])
    assert_clear(response.status_code, response.headers.get("Content-Type", ""), response.text)
    assert response.status_code == 400


@pytest.mark.parametrize("query", [
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",  # a cross product
], ids=["cross-product"])
def test_a_query_past_the_time_limit_gets_503_and_the_server_answers_on(server: str, query: str) -> None:
    response = post(server, query)
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "the query was stopped after 3 s (the time limit)" in response.json()["detail"]
    assert_clear(response.status_code, response.headers["Content-Type"], response.text, allow_timeout=True)
    assert_answers_on(server)


@pytest.mark.parametrize("content_type", ["application/sparql-query", "application/x-www-form-urlencoded"])
def test_a_body_over_the_limit_gets_413_from_the_server(server: str, content_type: str) -> None:
    body = b"query=ASK%7B%7D%23" + b"x" * 300_000 if "form" in content_type else b"ASK {} #" + b"x" * 300_000
    response = post(server, body, content_type)
    assert response.status_code == 413
    assert_clear(413, response.headers["Content-Type"], response.text)


def test_ten_thousand_variables_are_answered_within_the_limit(server: str) -> None:
    """Cheap to compute, and (values are written by position, not looked up by name) cheap to write."""
    query = "SELECT " + " ".join(f"?v{i}" for i in range(10_000)) + " WHERE { ?s ?p ?o } LIMIT 200"
    response = post(server, query)
    assert response.status_code == 200, response.text[:300]
    assert len(response.json()["head"]["vars"]) == 10_000


def chunks(body: bytes, size: int = 50_000) -> Iterator[bytes]:
    """A generator body: requests sends it with Transfer-Encoding: chunked and no Content-Length."""
    for i in range(0, len(body), size):
        yield body[i:i + size]


def test_a_chunked_body_over_the_limit_gets_413(server: str) -> None:
    response = post(server, chunks(b"ASK { " + b" " * 300_000 + b"}"))
    assert response.status_code == 413, response.text[:300]


def raw_request(url: str, data: bytes) -> tuple[int, str, str]:
    """Send bytes as they are (no client library fixing them up); (status, content type, body)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers.get("Content-Type", ""), body.decode("utf-8", "replace")


def test_a_malformed_chunked_body_gets_a_client_error(server: str) -> None:
    request = (b"POST /sparql HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
               b"Content-Type: application/sparql-query\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"3\r\nASK {}\r\n0\r\n\r\n")  # the chunk says 3 bytes and carries 6
    assert_clear(*raw_request(server, request))


@pytest.mark.parametrize("target", [
    b"/sparql?query=ASK%7B%7D\xff\xfe",  # raw bytes that are not UTF-8 in the request line
    b"/sparql?query=ASK%7B%7D%ED%A0%80",
    b"/sparql?query=ASK%7B%7D%C0%AF",
    b"/sparql?query=" + quote("SELECT * WHERE { ?s ?p ?o } #" + "x" * 20_000).encode(),  # over gunicorn's line limit
])
def test_bad_request_lines_get_a_client_error_from_the_server(server: str, target: bytes) -> None:
    status, content_type, body = raw_request(server, b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\n"
                                                                        b"Connection: close\r\n\r\n")
    assert 400 <= status < 500
    assert_clear(status, content_type, body)
    assert_answers_on(server)
