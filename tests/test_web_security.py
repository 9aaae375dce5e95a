"""Web security: headers, HTML escaping of data, a self-contained YASGUI page, safe errors, no token leaks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from kg.build import build
from kg.store import MemoryStore, Store
from tests.conftest import BASE, WRITE_TOKEN
from tests.support import HTML, TRACEBACK_SIGNS, assert_no_injected_markup, parse_html

AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}


@pytest.fixture
def app(make_app: Callable[..., Flask], tiny_store: Store) -> Flask:
    return make_app(tiny_store, write_token=WRITE_TOKEN)


# --- security headers ---------------------------------------------------------------------------

def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def assert_security_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers.get("X-Content-Type-Options") == "nosniff"
    csp = csp_directives(headers.get("Content-Security-Policy", ""))
    assert csp.get("frame-ancestors") == ["'none'"]
    script_src = csp.get("script-src", csp.get("default-src"))
    assert script_src is not None, "no script-src or default-src"
    assert "'self'" in script_src
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert not any(s in ("*", "http:", "https:", "data:") for s in script_src)


@pytest.mark.parametrize(("path", "accept"), [
    ("/id/programme/storage-mjp", HTML),
    ("/sparql", HTML),
    ("/id/programme/storage-mjp", "text/turtle"),
    ("/void", "application/ld+json"),
    ("/sparql", "text/turtle"),  # the service description
    ("/rdf-graph-store?graph=" + BASE + "graph/clusters", "application/n-triples"),
    ("/dumps/missiekompas.nt.gz", "*/*"),
    ("/static/sparql.js", "*/*"),
    ("/id/programme/no-such-thing", "text/turtle"),  # 404 problem
    ("/id/programme/storage-mjp", "image/png"),  # 406 problem
    ("/no/such/path", HTML),
])
def test_security_headers_on_every_kind_of_answer(client: FlaskClient, path: str, accept: str) -> None:
    assert_security_headers(client.get(path, headers={"Accept": accept}))


def test_security_headers_on_write_answers(client: FlaskClient) -> None:
    denied = client.put("/rdf-graph-store?graph=http://example.org/g", data=b"", content_type="text/turtle")
    assert denied.status_code == 401
    assert_security_headers(denied)
    created = client.put("/rdf-graph-store?graph=http://example.org/g", content_type="text/turtle", headers=AUTH,
                         data=b"<http://example.org/a> <http://example.org/p> <http://example.org/b> .")
    assert created.status_code == 201
    assert_security_headers(created)


@pytest.mark.parametrize(("params", "accept"), [
    ({"query": "ASK { ?s ?p ?o }"}, "application/sparql-results+json"),
    ({"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 2"}, "text/csv"),
    ({"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2"}, "text/turtle"),
    ({"query": "SELECT * WHERE {"}, "application/sparql-results+json"),  # 400 problem
])
def test_security_headers_on_sparql_answers_of_the_real_server(server: str, params: dict[str, str], accept: str) -> None:
    response = requests.get(f"{server}/sparql", params=params, headers={"Accept": accept}, timeout=20)
    assert_security_headers(response)


# --- escaping of data in pages ------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
TITLE_BREAK = "</title><script>alert(3)</script>"


@pytest.fixture
def hostile_app(tiny_copy: Path, edit_file: Callable[[Path, str, str], None],
                make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """The tiny dataset with markup in labels and a description, built into memory."""
    edit_file(tiny_copy / "programmes.yaml", "label: Storage programme",
              f"label: \"{SCRIPT}\"\n    description: '{IMG.replace(chr(39), chr(39) * 2)}'")
    edit_file(tiny_copy / "organisations.yaml", "label: Real Institute", f"label: '{IMG}'")
    edit_file(tiny_copy / "clusters.yaml", "en: Alpha technology}", f'en: "{TITLE_BREAK}"}}')
    store = MemoryStore()
    build((tiny_copy,), BASE, store)
    app = make_app(store, data_dirs=(tiny_copy,))
    yield app


def hostile_page(app: Flask, path: str) -> str:
    response = app.test_client().get(path, headers={"Accept": HTML})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_script_in_a_label_is_escaped_on_its_own_page(hostile_app: Flask) -> None:
    page = hostile_page(hostile_app, "/id/programme/storage-mjp")
    assert_no_injected_markup(page)
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; · Missiekompas</title>" in page
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_markup_in_a_description_is_escaped(hostile_app: Flask) -> None:
    page = hostile_page(hostile_app, "/id/programme/storage-mjp")
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert_no_injected_markup(page)


def test_attribute_breakout_in_a_label_is_escaped(hostile_app: Flask) -> None:
    page = hostile_page(hostile_app, "/id/organisation/real-institute")
    assert_no_injected_markup(page)
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in page or "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in page


def test_hostile_labels_of_linked_entities_are_escaped(hostile_app: Flask) -> None:
    # The organisation page shows the programme's label as link text, and the other way round.
    org = hostile_page(hostile_app, "/id/organisation/real-institute")
    assert 'href="/id/programme/storage-mjp">&lt;script&gt;alert(1)&lt;/script&gt;</a>' in org
    programme = hostile_page(hostile_app, "/id/programme/storage-mjp")
    assert re.search(r'href="/id/organisation/real-institute">(&#34;|&quot;)&gt;&lt;img', programme)
    assert_no_injected_markup(programme)


def test_markup_in_a_second_language_label_is_escaped(hostile_app: Flask) -> None:
    page = hostile_page(hostile_app, "/id/cluster/alpha-tech")
    assert_no_injected_markup(page)
    assert page.count("</title>") == 1
    assert "&lt;/title&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in page


def test_hostile_labels_stay_data_in_rdf(hostile_app: Flask) -> None:
    response = hostile_app.test_client().get("/id/programme/storage-mjp", headers={"Accept": "application/ld+json"})
    labels = [v["@value"] for node in json.loads(response.get_data()) if node["@id"] == BASE + "programme/storage-mjp"
              for v in node.get("http://www.w3.org/2004/02/skos/core#prefLabel", [])]
    assert labels == [SCRIPT, SCRIPT]  # the one name, as @nl and @en, unescaped data


# --- the YASGUI page ----------------------------------------------------------------------------

@pytest.fixture
def yasgui_page(client: FlaskClient) -> str:
    response = client.get("/sparql", headers={"Accept": HTML})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def test_yasgui_loads_only_local_scripts_and_styles(yasgui_page: str, client: FlaskClient) -> None:
    tags = parse_html(yasgui_page)
    sources = [attrs.get("src") for tag, attrs in tags.tags if tag == "script" and attrs.get("src")]
    styles = [attrs.get("href") for tag, attrs in tags.tags
              if tag == "link" and "stylesheet" in (attrs.get("rel") or "").split()]
    assert any(s and s.endswith("yasgui.min.js") for s in sources)
    assert any(s and s.endswith("yasgui.min.css") for s in styles)
    for url in sources + styles:
        assert url and url.startswith("/") and not url.startswith("//"), url
        assert client.get(url).status_code == 200, f"{url} is not served locally"
    for tag, attrs in tags.tags:
        if tag in ("script", "link", "img", "iframe"):
            for name in ("src", "href"):
                assert not re.match(r"^(https?:)?//", attrs.get(name) or ""), (tag, attrs)


def test_yasgui_has_no_inline_code(yasgui_page: str) -> None:
    tags = parse_html(yasgui_page)
    for attrs, text in tags.scripts:
        if attrs.get("src"):
            assert text.strip() == "", "a script with src must not also carry code"
        else:
            assert attrs.get("type") == "application/json", f"inline script of type {attrs.get('type')!r}"
            json.loads(text)  # a data block, not code
    handlers = [(t, a) for t, attrs in tags.tags for a in attrs if a.lower().startswith("on")]
    assert handlers == []
    assert "javascript:" not in yasgui_page.lower()


def test_yasgui_json_block_cannot_close_its_script(yasgui_page: str) -> None:
    block = yasgui_page.split('<script type="application/json" id="examples">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block  # '<' is escaped as \u003c, so no '</script>' inside the data


# --- errors without tracebacks ------------------------------------------------------------------

def assert_problem(response: requests.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].split(";")[0] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"] and isinstance(body["detail"], str)
    for sign in TRACEBACK_SIGNS:
        assert sign not in response.text


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), [
    ("GET", "/sparql", {"params": {"query": "SELECT * WHERE {"}}, 400),
    ("GET", "/sparql", {"params": {"query": "SELEC nothing"}}, 400),
    ("POST", "/sparql", {"data": b"\xff\xfe", "headers": {"Content-Type": "application/sparql-query"}}, 400),
    ("POST", "/sparql", {"data": b"x" * 300_000, "headers": {"Content-Type": "application/sparql-query"}}, 413),
    ("GET", "/no/such/path", {}, 404),
    ("PUT", "/sparql", {}, 405),
    ("DELETE", "/id/programme/x", {}, 405),
    ("PATCH", "/rdf-graph-store?default", {}, 405),
    ("GET", "/id/%ff%fe", {"headers": {"Accept": "text/turtle"}}, 400),
    ("GET", "/id/programme/x", {"headers": {"Accept": "image/png"}}, 406),
    ("GET", "/rdf-graph-store", {}, 400),
])
def test_errors_are_problems_without_traceback(server: str, method: str, path: str, kwargs: dict, status: int) -> None:
    assert_problem(requests.request(method, server + path, timeout=20, **kwargs), status)


def test_405_names_the_allowed_methods(server: str) -> None:
    response = requests.put(f"{server}/sparql", timeout=10)
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


def test_a_malformed_dataset_iri_is_a_client_error(server: str) -> None:
    """default-graph-uri that is no IRI: the client's mistake (400), not a failed store (503)."""
    response = requests.get(f"{server}/sparql", timeout=20, params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1",
                                                                     "default-graph-uri": "not an iri"})
    assert_problem(response, 400)


def test_unexpected_errors_are_a_generic_problem(client: FlaskClient, app: Flask) -> None:
    @app.route("/boom-for-test")
    def boom() -> str:
        raise RuntimeError("secret internals /srv/app.py line 12")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    text = response.get_data(as_text=True)
    assert "secret internals" not in text and "RuntimeError" not in text
    for sign in TRACEBACK_SIGNS:
        assert sign not in text


# --- the write token never leaks ----------------------------------------------------------------

def test_write_token_never_reaches_the_server_log(writable_server: str, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    assert log.exists(), "writable_server should log to tmp_path/server.log"
    update = "INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/a> <http://example.org/p> 1 } }"
    answers = [
        requests.post(f"{writable_server}/sparql", data=update.encode(), timeout=20,
                      headers={"Content-Type": "application/sparql-update", **AUTH}),
        requests.put(f"{writable_server}/rdf-graph-store", params={"graph": "http://example.org/h"}, timeout=20,
                     data=b"<http://example.org/a> <http://example.org/p> 2 .",
                     headers={"Content-Type": "text/turtle", **AUTH}),
        requests.post(f"{writable_server}/sparql", data=b"DROP ALL", timeout=20,  # a bad token near the real one
                      headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {WRITE_TOKEN}x"}),
        requests.post(f"{writable_server}/sparql", data=b"INSERT DATA {", timeout=20,  # a failing update
                      headers={"Content-Type": "application/sparql-update", **AUTH}),
        requests.get(f"{writable_server}/sparql", timeout=20, headers=AUTH,  # a failing query, with the header
                     params={"query": "SELECT * { ?s ?p ?o }", "default-graph-uri": "not an iri"}),
    ]
    assert [a.status_code for a in answers[:3]] == [204, 201, 403]
    for answer in answers:
        assert WRITE_TOKEN not in answer.text
    ask = requests.get(f"{writable_server}/sparql", timeout=20,
                       params={"query": "ASK { GRAPH <http://example.org/g> { ?s ?p 1 } }"},
                       headers={"Accept": "application/sparql-results+json", **AUTH})
    assert ask.json()["boolean"] is True  # the update really ran (an undeclared graph: only a token reads it)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert text.strip(), "the server log is empty: are we reading the right file?"
    assert WRITE_TOKEN not in text
