"""Security at the edges: no path traversal out of the static folder or through dumps and entity
URIs, security headers on every kind of answer, and no secret in the server log."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

from config import REPO_ROOT, Settings
from kg.build import build
from kg.store import open_store
from tests.conftest import BASE, TINY, WRITE_TOKEN, app_over, start_server, stop_server

STATIC = REPO_ROOT / "web" / "static"
STATIC_FILES = {p.read_bytes() for p in STATIC.rglob("*") if p.is_file()}

# What a file outside the static folder would show if it leaked.
LEAK_SIGNS = ("root:x:0:0", "def create_app", "MK_WRITE_TOKEN", "[core]", "pyoxigraph==", "PATH=", "BEGIN OPENSSH",
              "import ", "#!/")

TRAVERSALS = [
    "/static/../app.py", "/static/../../config.py", "/static/../../../../../../../etc/passwd",
    "/static/%2e%2e/app.py", "/static/%2e%2e/%2e%2e/config.py", "/static/.%2e/app.py", "/static/%2E%2E/app.py",
    "/static/..%2fapp.py", "/static/..%2f..%2fconfig.py", "/static/%2e%2e%2f%2e%2e%2frequirements.txt",
    "/static/%252e%252e/app.py", "/static/%252e%252e%252fapp.py", "/static/..%252f..%252fconfig.py",
    "/static/..%5capp.py", "/static/..\\..\\config.py", "/static/%2e%2e%5c%2e%2e%5cconfig.py",
    "/static//etc/passwd", "/static/%2fetc%2fpasswd", "/static/%2Fetc/passwd", "/static/file:///etc/passwd",
    "/static/....//....//app.py", "/static/..%00/app.py", "/static/sparql.js%00.txt", "/static/%00../../app.py",
    "/static/%c0%ae%c0%ae/app.py", "/static/%c0%af..%c0%afapp.py", "/static/yasgui/../../app.py",
    "/static/yasgui/%2e%2e/%2e%2e/app.py", "/static/./../app.py", "/static/..;/app.py", "/static/~root/.bashrc",
    "/static/../../.git/config", "/static/../../requirements.txt", "/static/proc/self/environ",
    "/dumps/../../config.py", "/dumps/%2e%2e%2f%2e%2e%2fconfig.py", "/dumps/..%2f..%2f.git%2fconfig",
    "/dumps/missiekompas.nt.gz/../../../etc/passwd", "/dumps//etc/passwd", "/dumps/%252e%252e%252fsettings.py",
    "/dumps/..", "/dumps/.", "/dumps/%2e%2e", "/dumps/missiekompas.nt.gz%00.txt", "/dumps/missiekompas.trig",
    "/id/../../etc/passwd", "/id/%2e%2e/%2e%2e/etc/passwd", "/id/..%2f..%2fconfig.py", "/id//etc/passwd",
    "/id/file:///etc/passwd", "/id/programme/../../../../etc/passwd", "/id/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/..%2f..%2fetc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/static/..", "/static/%2e%2e", "/static/",
    "/browse/../../etc/passwd", "/browse/..%2f..%2fconfig.py", "/browse/%2e%2e", "/browse/%252e%252e",
    "/dashboard/..%2f..%2fkg%2fsettings.csv", "/dashboard/%2e%2e%2f%2e%2e%2fetc%2fpasswd.csv", "/dashboard/%2e%2e.csv",
    "/api/entity?id=../../etc/passwd", "/api/entity?id=%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/api/entity?iri=file:///etc/passwd",
    "/api/../static/../app.py", "/api/%2e%2e/static/%2e%2e/app.py",
]


def assert_no_leak(status: int, headers: dict[str, str], body: bytes, path: str) -> None:
    """Nothing but a file of web/static is ever served, and no redirect leaves the site."""
    if status == 200:
        assert body in STATIC_FILES, f"{path} -> 200 with something that is not a file of web/static: {body[:200]!r}"
    elif body not in STATIC_FILES:
        text = body.decode("utf-8", "replace")
        for sign in LEAK_SIGNS:
            assert sign not in text, f"{path} -> {status} shows {sign!r}: {text[:300]}"
    assert_stays_on_the_site(status, headers, path)


def assert_stays_on_the_site(status: int, headers: dict[str, str], what: str) -> None:
    if 300 <= status < 400:
        location = headers.get("location", "")
        on_site = location.startswith("/") and not location.startswith(("//", "/\\"))
        assert on_site or location.startswith("http://localhost/"), f"{what} redirects off the site: {location!r}"


@pytest.fixture(scope="module")
def client() -> FlaskClient:
    """One app over the tiny dataset for the whole module: these requests only read."""
    return app_over(Settings(data_dirs=(TINY,), store="memory")).test_client()


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_traversal_through_the_app(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "*/*"})
    headers = {k.lower(): v for k, v in response.headers.items()}
    assert_no_leak(response.status_code, headers, response.get_data(), path)
    assert_security_headers(headers, path)


def raw_get(url: str, target: bytes, extra: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send a request line exactly as given (no client library normalising '..' or escapes)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + extra + b"\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:] if ": " in line)}
    if headers.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    return int(lines[0].split()[1]), headers, body


def dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        length = int(size.split(b";")[0], 16)
        if length == 0:
            break
        out, body = out + rest[:length], rest[length + 2:]
    return out


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_traversal_through_the_server(server: str, path: str) -> None:
    status, headers, body = raw_get(server, path.encode())
    assert_no_leak(status, headers, body, path)
    assert status < 500, f"{path} -> {status}"


@pytest.mark.parametrize("target", [b"//example.org/", b"//example.org/static/sparql.js", b"/static//example.org",
                                    b"///example.org/%2e%2e", b"/\\example.org/", b"/id//example.org"])
def test_no_redirect_off_the_site(server: str, target: bytes) -> None:
    status, headers, _ = raw_get(server, target)
    assert status < 500
    assert_stays_on_the_site(status, headers, repr(target))


def test_static_files_are_still_served(client: FlaskClient) -> None:
    response = client.get("/static/sparql.js")
    assert response.status_code == 200
    assert response.get_data() == (STATIC / "sparql.js").read_bytes()


# --- security headers -----------------------------------------------------------------------------

def assert_security_headers(headers: dict[str, str], what: str) -> None:
    """nosniff, a CSP that forbids framing and inline or foreign script (header names in lower case)."""
    assert headers.get("x-content-type-options") == "nosniff", what
    directives = {part.split()[0].lower(): part.split()[1:] for part in headers.get("content-security-policy", "").split(";")
                  if part.split()}
    assert directives.get("frame-ancestors") == ["'none'"], what
    script = directives.get("script-src", directives.get("default-src"))
    assert script and "'self'" in script, what
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(script), what


HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
SELECT = "SELECT * WHERE { ?s ?p ?o } LIMIT 1"
ANSWERS = [  # (method, path, keyword arguments for requests, expected status)
    ("GET", "/", {"headers": {"Accept": HTML}}, 200),  # the match page
    ("GET", "/browse", {"headers": {"Accept": HTML}}, 200),
    ("GET", "/login", {"headers": {"Accept": HTML}}, 200),
    ("GET", "/api/figures", {}, 200),  # the JSON API
    ("GET", "/api/entity", {"params": {"id": "programme/eccm"}}, 200),
    ("GET", "/api/openapi.json", {}, 200),
    ("GET", "/api/entity", {"params": {"id": "programme/no-such-programme"}}, 404),
    ("GET", "/id/programme/eccm", {"headers": {"Accept": HTML}}, 200),  # an entity page
    ("GET", "/sparql", {"headers": {"Accept": HTML}}, 200),  # the YASGUI page
    ("GET", "/sparql", {"params": {"query": SELECT}, "headers": {"Accept": "application/sparql-results+json"}}, 200),
    ("GET", "/sparql", {"params": {"query": SELECT, "format": "csv"}}, 200),
    ("GET", "/sparql", {"params": {"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"}, "headers": {"Accept": "text/turtle"}}, 200),
    ("GET", "/sparql", {"headers": {"Accept": "text/turtle"}}, 200),  # the service description
    ("GET", "/id/programme/eccm", {"headers": {"Accept": "application/ld+json"}}, 200),
    ("GET", "/void", {}, 200),
    ("GET", "/dumps/missiekompas.nt.gz", {}, 200),
    ("GET", "/static/yasgui/yasgui.min.js", {}, 200),
    ("GET", "/rdf-graph-store", {"params": {"graph": BASE + "graph/clusters"}, "headers": {"Accept": "text/turtle"}}, 200),
    ("HEAD", "/id/programme/eccm", {"headers": {"Accept": HTML}}, 200),
    ("OPTIONS", "/sparql", {}, 204),
    ("GET", "/static//sparql.js", {"allow_redirects": False}, 308),  # a redirect
    ("GET", "/sparql", {"params": {"query": "SELECT * WHERE {"}}, 400),
    ("POST", "/sparql", {"data": b"DROP ALL", "headers": {"Content-Type": "application/sparql-update"}}, 401),
    ("POST", "/sparql", {"data": b"DROP ALL", "headers": {"Content-Type": "application/sparql-update",
                                                          "Authorization": "Bearer wrong"}}, 403),
    ("GET", "/id/programme/no-such-programme", {"headers": {"Accept": HTML}}, 404),  # an HTML client, a 404
    ("GET", "/static/../app.py", {}, 404),
    ("PUT", "/sparql", {}, 405),
    ("GET", "/id/programme/eccm", {"headers": {"Accept": "image/png"}}, 406),
    ("POST", "/sparql", {"data": b"x" * 300_000, "headers": {"Content-Type": "application/sparql-query"}}, 413),
    ("POST", "/sparql", {"data": b"ASK {}", "headers": {"Content-Type": "text/plain"}}, 415),
    ("POST", "/sparql", {"data": b"SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
                         "headers": {"Content-Type": "application/sparql-query"}}, 503),  # past the time limit
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), ANSWERS,
                         ids=[f"{m}-{s}-{p.strip('/').split('/')[0] or 'root'}-{i}" for i, (m, p, _, s) in enumerate(ANSWERS)])
def test_security_headers_on_every_kind_of_answer(server: str, method: str, path: str, kwargs: dict, status: int) -> None:
    response = requests.request(method, server + path, timeout=30, **kwargs)
    assert response.status_code == status, response.text[:300]
    assert_security_headers({k.lower(): v for k, v in response.headers.items()}, f"{method} {path} -> {status}")


@pytest.mark.parametrize("target", [b"/sparql?query=\xff", b"/sparql?query=" + b"x" * 20_000])
def test_security_headers_on_answers_of_gunicorn_itself(server: str, target: bytes) -> None:
    status, headers, _ = raw_get(server, target)
    assert 400 <= status < 500
    assert_security_headers(headers, f"{target[:40]!r} -> {status}")


# --- no secrets in the log ------------------------------------------------------------------------

REMOTE_SECRET = "remote-password-5a9e7c"
REMOTE_TOKEN = "remote-token-13f0b2"


@pytest.fixture(scope="module")
def logged_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server on the tiny dataset with a write token and remote-store secrets in its environment; yields
    its URL and its log file."""
    folder = tmp_path_factory.mktemp("logged-server")
    settings = Settings(data_dirs=(TINY,), store_path=folder / "store")
    build(settings.data_dirs, settings.base_uri, open_store(settings.store, settings.store_path, create=True))
    proc, url = start_server(folder / "store", folder / "server.log", MK_REMOTE_PASSWORD=REMOTE_SECRET,
                             MK_REMOTE_TOKEN=REMOTE_TOKEN, MK_REMOTE_USER="someone")
    yield url, folder / "server.log"
    stop_server(proc)


def read_log(log: Path) -> str:
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "GET /sparql" in text or "POST /sparql" in text, "the server log shows no requests: wrong file?"
    return text


def assert_no_secret(text: str) -> None:
    for secret in (WRITE_TOKEN, REMOTE_SECRET, REMOTE_TOKEN, base64.b64encode(f"x:{WRITE_TOKEN}".encode()).decode()):
        assert secret not in text, f"a secret is in the server log: {secret[:6]}..."


def test_no_secret_in_the_log_of_requests_with_tokens(logged_server: tuple[str, Path]) -> None:
    url, log = logged_server
    update = "INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/a> <http://example.org/p> 1 } }"
    basic = base64.b64encode(f"x:{WRITE_TOKEN}".encode()).decode()
    answers = [
        requests.post(f"{url}/sparql", data=update.encode(), headers={"Content-Type": "application/sparql-update", **AUTH},
                      timeout=20),
        requests.post(f"{url}/sparql", data=b"DROP ALL", timeout=20,
                      headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {WRITE_TOKEN}-wrong"}),
        requests.post(f"{url}/sparql", data=b"DROP ALL", timeout=20,
                      headers={"Content-Type": "application/sparql-update", "Authorization": f"Basic {basic}"}),
        requests.post(f"{url}/sparql", data=b"INSERT DATA {", timeout=20,
                      headers={"Content-Type": "application/sparql-update", **AUTH}),
        requests.get(f"{url}/sparql", params={"query": SELECT}, headers=AUTH, timeout=20),
        requests.get(f"{url}/sparql", params={"query": "SELECT * WHERE {"}, headers=AUTH, timeout=20),
        requests.get(f"{url}/id/programme/storage-mjp", headers={**AUTH, "Accept": HTML}, timeout=20),
        requests.get(f"{url}/no/such/page", headers=AUTH, timeout=20),
        requests.put(f"{url}/rdf-graph-store", params={"graph": "http://example.org/h"}, timeout=20,
                     data=b"<http://example.org/a> <http://example.org/p> 2 .", headers={"Content-Type": "text/turtle", **AUTH}),
        requests.put(f"{url}/rdf-graph-store", params={"graph": "http://example.org/h"}, timeout=20,
                     data=b"<http://example.org/a> <http://example.org/p> .", headers={"Content-Type": "text/turtle", **AUTH}),
    ]
    assert [a.status_code for a in answers] == [204, 403, 401, 400, 200, 400, 200, 404, 201, 400]
    for answer in answers:
        assert_no_secret(answer.text)
    assert_no_secret(read_log(log))


def test_no_token_in_the_log_from_a_malformed_authorization_header(logged_server: tuple[str, Path]) -> None:
    url, log = logged_server
    status, _, _ = raw_get(url, b"/sparql?query=ASK%7B%7D", b"Authorization Bearer " + WRITE_TOKEN.encode() + b"\r\n")
    assert status == 400
    assert_no_secret(read_log(log))
