"""Hardening from the security review: deeply nested JSON, an index folder that cannot be written, IRIs that must
not become links, IRIs from a request that cannot be IRIs, and a TLS proxy in front (MK_TRUSTED_PROXIES)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import requests
from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import TestResponse

from config import Settings, SettingsError, load_settings
from kg.build import build
from kg.store import MemoryStore, OxigraphStore, Store
from kg.uris import InvalidIri, checked_iri, entity_iri
from search.index import IndexNotWritable, SearchIndex
from search.lexical_index import LexicalIndex
from search.vector_index import VectorIndex
from tests.conftest import BASE, TINY
from tests.support import HTML, parse_html
from web.api_io import MAX_JSON_DEPTH, check_json_depth
from web.app import create_app
from web.body_limit import BodyLimit
from web.errors import BadRequest
from web.links import iri_link, local_href


def assert_problem(response: TestResponse, status: int, *fragments: str) -> dict[str, object]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    for fragment in fragments:
        assert fragment in body["detail"], body["detail"]
    assert "Traceback" not in body["detail"]
    return body


# --- 1. deeply nested JSON ----------------------------------------------------------------------

def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


@pytest.mark.parametrize("body", [
    nested(100_000),
    '{"text": ' + nested(100_000, '"x"') + "}",
    '{"text": "solar cells", "cluster": ' + nested(5_000, '"alpha-tech"') + "}",
    '{"a": ' * 50_000 + "1" + "}" * 50_000,
], ids=["array", "text", "filter", "objects"])
@pytest.mark.parametrize("path", ["/api/match", "/api/plan-gaps"])
def test_deeply_nested_json_is_a_400(client: FlaskClient, path: str, body: str) -> None:
    response = client.post(path, data=body, content_type="application/json")
    assert_problem(response, 400, f"nested more than {MAX_JSON_DEPTH} levels")


def test_json_depth_counts_brackets_outside_strings_only() -> None:
    check_json_depth(nested(MAX_JSON_DEPTH).encode())
    check_json_depth(('{"text": "' + "[{" * 1000 + '\\" [[[[", "top": 5}').encode())
    check_json_depth(("[" + ", ".join(["[1]"] * 1000) + "]").encode())  # long, but two levels deep
    with pytest.raises(BadRequest, match="nested"):
        check_json_depth(nested(MAX_JSON_DEPTH + 1).encode())
    with pytest.raises(BadRequest, match="nested"):
        check_json_depth(('{"a": "]]]", "b": ' + nested(MAX_JSON_DEPTH) + "}").encode())


def test_json_within_the_limit_is_read_as_before(client: FlaskClient) -> None:
    response = client.post("/api/match", json={"text": "solar cells", "kind": [nested(3, '"banana"')]})
    assert_problem(response, 400, "banana")


# --- 2. an index folder that cannot be written --------------------------------------------------

def blocked_index_path(tmp_path: Path) -> Path:
    """An index folder below a plain file: it cannot be created whoever runs the tests (root included, for whom a
    read-only mode is no obstacle)."""
    blocker = tmp_path / "build"
    blocker.write_text("a file where the index folder should be")
    return blocker / "index" / "public"


def small_index() -> SearchIndex:
    """An index of three random unit vectors and no model: saving is all that is tested."""
    vectors = np.random.default_rng(7).normal(size=(3, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    lexical = LexicalIndex.build([["storage"], ["hydrogen"], ["care"]])
    return SearchIndex({}, [], vectors, VectorIndex.build(vectors, hnsw_threshold=100), lexical, {})


def test_saving_into_a_folder_that_cannot_be_written_names_the_folder(tmp_path: Path) -> None:
    folder = blocked_index_path(tmp_path)
    with pytest.raises(IndexNotWritable, match=f"search index folder {folder.parent} is not writable"):
        small_index().save(folder)


def test_a_stale_index_that_cannot_be_rebuilt_is_a_clear_503(model_path: Path, tmp_path: Path) -> None:
    settings = Settings(data_dirs=(TINY,), store_path=tmp_path / "store", model=str(model_path),
                        index_path=blocked_index_path(tmp_path).parent)
    build(settings.data_dirs, settings.base_uri, OxigraphStore(settings.store_path, create=True))
    app = create_app(settings)  # with its own store and search, as a server runs
    response = app.test_client().post("/api/match", json={"text": "cheap storage of electricity"})
    body = assert_problem(response, 503, "search index folder", "is not writable")
    assert body["title"] == "Search index not writable"


# --- 3. only http(s) IRIs and our own become links ----------------------------------------------

HOSTILE_IRIS = ("javascript:alert(document.cookie)", "JaVaScRiPt:alert(2)", "vbscript:msgbox(3)",
                "data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==")
MK = "https://w3id.org/missiekompas/ontology#"
SKOS = "http://www.w3.org/2004/02/skos/core#"


@pytest.fixture(scope="module")
def hostile_iri_client() -> FlaskClient:
    """The tiny dataset plus a cluster whose IRI is javascript:, linked from a programme that also has a javascript:
    source, a vbscript: type and a data: link."""
    settings = Settings(data_dirs=(TINY,), store="memory")
    store = MemoryStore()
    build(settings.data_dirs, settings.base_uri, store)
    evil, vb, data = HOSTILE_IRIS[0], HOSTILE_IRIS[2], HOSTILE_IRIS[3]
    programme = f"<{BASE}programme/storage-mjp>"
    store.update(f"""INSERT DATA {{ GRAPH <{BASE}graph/clusters> {{
        <{evil}> a <{MK}TechnologyCluster> ; <{SKOS}prefLabel> "Evil cluster"@en, "Kwade cluster"@nl ;
                 <{SKOS}inScheme> <{MK}clusters> . }}
      GRAPH <{BASE}graph/programmes> {{
        {programme} <{MK}cluster> <{evil}> ; <http://www.w3.org/ns/prov#wasDerivedFrom> <{HOSTILE_IRIS[1]}> ;
                    a <{vb}> ; <{MK}contributesToMMIP> <{data}> . }} }}""")
    return create_app(settings, store=store, matchers={}).test_client()


def page_links(client: FlaskClient, path: str) -> tuple[str, list[str]]:
    response = client.get(path, headers={"Accept": HTML, "Accept-Language": "en"})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    page = response.get_data(as_text=True)
    return page, [attrs.get("href") or "" for tag, attrs in parse_html(page).tags if tag == "a"]


@pytest.mark.parametrize(("path", "shown"), [
    # the vbscript: IRI is an rdf:type the ontology does not know: the page shows kinds, not raw types
    ("/id/programme/storage-mjp", (HOSTILE_IRIS[0], HOSTILE_IRIS[1], HOSTILE_IRIS[3])),
    ("/browse/clusters", ("Evil cluster",)),
    ("/browse/programmes", (HOSTILE_IRIS[0],)),
    ("/dashboard", ("Evil cluster",)),
])
def test_an_iri_that_is_not_http_is_shown_as_text(hostile_iri_client: FlaskClient, path: str,
                                                   shown: tuple[str, ...]) -> None:
    page, links = page_links(hostile_iri_client, path)
    assert links, "no links at all on the page"
    for href in links:
        assert href.startswith(("/", "#", "?", "http://", "https://")), href
    for text in shown:
        assert text in page


def test_links_go_to_our_pages_and_to_http_only() -> None:
    assert local_href(BASE + "programme/eccm", BASE) == "/id/programme/eccm"
    assert local_href("https://example.org/a", BASE) == "https://example.org/a"
    assert local_href("HTTP://example.org/a", BASE) == "HTTP://example.org/a"
    for iri in (*HOSTILE_IRIS, "urn:isbn:123", " javascript:alert(1)", "http:alert(1)", "//evil.example/"):
        assert local_href(iri, BASE) is None, iri
    assert iri_link("javascript:alert(1)", "<b>x</b>", BASE) == "&lt;b&gt;x&lt;/b&gt;"
    assert iri_link('https://example.org/"a', "<b>", BASE, "concept") == (
        '<a class="concept" href="https://example.org/&#34;a">&lt;b&gt;</a>')


# --- 4. IRIs from a request ---------------------------------------------------------------------

BAD_CHARACTERS = ["\n", "\r", "\t", "\x00", "\x01", "\x7f", " ", "<", ">", '"', "{", "}", "|", "^", "`", "\\"]


@pytest.mark.parametrize("bad", BAD_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_an_iri_a_request_gives_is_checked_before_any_query(client: FlaskClient, bad: str) -> None:
    for params in ({"iri": f"http://x/a{bad}"}, {"iri": f"{BASE}programme/storage-mjp{bad}"},
                   {"id": f"programme/storage-mjp{bad}x"}):
        body = assert_problem(client.get("/api/entity", query_string=params), 400, "not a valid IRI")
        assert body["title"] == "Invalid IRI"


def test_the_reported_newline_iri_is_a_clear_400(client: FlaskClient) -> None:
    assert_problem(client.get("/api/entity?iri=http://x/a%0A"), 400, "control character U+000A")


@pytest.mark.parametrize("escaped", ["%01", "%7B", "%5C", "%60", "%22", "%3C"])
def test_an_entity_path_that_cannot_be_an_iri_is_a_400(client: FlaskClient, escaped: str) -> None:
    assert_problem(client.get(f"/id/programme/storage-mjp{escaped}", headers={"Accept": "text/turtle"}), 400,
                   "not a valid IRI")
    page = client.get(f"/id/programme/storage-mjp{escaped}", headers={"Accept": HTML})  # a browser: the error page
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert "not a valid IRI" in page.get_data(as_text=True)


def test_valid_iris_and_ids_still_name_entities(client: FlaskClient) -> None:
    assert entity_iri(BASE, "programme/storage-mjp") == BASE + "programme/storage-mjp"
    assert entity_iri(BASE, "/programme/storage-mjp/") == BASE + "programme/storage-mjp"
    assert entity_iri(BASE, "https://example.org/a?b=c#d") == "https://example.org/a?b=c#d"
    assert checked_iri("urn:isbn:123") == "urn:isbn:123"
    with pytest.raises(InvalidIri, match="absolute"):
        checked_iri("no-scheme/at-all")
    assert client.get("/api/entity", query_string={"id": "programme/storage-mjp"}).status_code == 200
    assert client.get("/id/programme/storage-mjp", headers={"Accept": "text/turtle"}).status_code == 200


# --- 5. a TLS proxy in front --------------------------------------------------------------------

KERNTEAM = "kernteam-token-behind-a-proxy"
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


@pytest.fixture
def proxied_app(make_app: Callable[..., Flask], tiny_store: Store) -> Callable[[int], Flask]:
    def make(proxies: int) -> Flask:
        app = make_app(tiny_store, internal_tokens=(KERNTEAM,), trusted_proxies=proxies)
        app.add_url_rule("/test-client", "test_client", lambda: f"{request.scheme} {request.remote_addr}")
        return app

    return make


def login_cookie(app: Flask, headers: dict[str, str]) -> str:
    response = app.test_client().post("/login", data={"token": KERNTEAM}, headers=headers)
    assert response.status_code == 303
    return response.headers["Set-Cookie"]


def test_behind_a_trusted_proxy_the_forwarded_scheme_and_address_count(proxied_app: Callable[[int], Flask]) -> None:
    app = proxied_app(1)
    assert isinstance(app.wsgi_app, ProxyFix) and isinstance(app.wsgi_app.app, BodyLimit)  # outermost
    assert app.test_client().get("/test-client", headers=FORWARDED).get_data(as_text=True) == "https 203.0.113.7"
    assert "Secure" in login_cookie(app, FORWARDED)
    assert "Secure" not in login_cookie(app, {"X-Forwarded-Proto": "http"})


def test_without_trusted_proxies_forwarded_headers_are_ignored(proxied_app: Callable[[int], Flask]) -> None:
    app = proxied_app(0)
    assert not isinstance(app.wsgi_app, ProxyFix)
    assert app.test_client().get("/test-client", headers=FORWARDED).get_data(as_text=True) == "http 127.0.0.1"
    assert "Secure" not in login_cookie(app, FORWARDED)
    assert "Secure" in app.test_client().post("/login", data={"token": KERNTEAM},
                                              base_url="https://localhost").headers["Set-Cookie"]


def test_trusted_proxies_is_read_from_the_environment() -> None:
    assert load_settings({}).trusted_proxies == 0
    assert load_settings({"MK_TRUSTED_PROXIES": "0"}).trusted_proxies == 0
    assert load_settings({"MK_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    for bad in ("-1", "one"):
        with pytest.raises(SettingsError, match="MK_TRUSTED_PROXIES"):
            load_settings({"MK_TRUSTED_PROXIES": bad})


def test_the_real_server_ignores_forwarded_headers_by_default(server: str) -> None:
    """gunicorn would believe X-Forwarded-Proto from loopback; it is told not to (MK_TRUSTED_PROXIES=0)."""
    described = requests.get(f"{server}/sparql", headers={"Accept": "application/n-triples",
                                                           "X-Forwarded-Proto": "https"}, timeout=30)
    assert described.status_code == 200
    assert f"<{server}/sparql>" in described.text
    assert server.replace("http://", "https://") not in described.text
