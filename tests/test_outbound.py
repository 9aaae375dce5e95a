"""No request leaves the machine for SERVICE or LOAD, however the call is disguised.

A local listener records every request it gets. Generated queries and updates hide a call to it
behind escapes, comments, case, codepoint escapes, prefixed and variable targets, glued keywords,
the engine's own reading quirks, nesting and SILENT. Three layers are checked on their own:
- the engine itself, unguarded: whenever it reached the listener, our check had refused the text;
- the real server, anonymous and with an admin token: the listener hears nothing;
- the query workers' network fence, with the checks bypassed: the listener hears nothing."""

from __future__ import annotations

import contextlib
import random
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from kg.endpoint import Limits, QueryRejected, QueryService, open_query_service
from kg.errors import KgError
from kg.execute import QueryRequest
from kg.store import MemoryStore, OxigraphStore
from kg.worker import QueryJob, UpdateJob, WorkerPool
from tests.conftest import WRITE_TOKEN

EMPTY_RESULTS = b'{"head":{"vars":[]},"results":{"bindings":[]}}'


class Listener(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Record)
        self.heard: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def markers(self) -> set[int]:
        return {int(m) for path in self.heard for m in re.findall(r"/m(\d+)(?!\d)", path)}


class _Record(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.server.heard.append(self.path)  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        turtle = "sparql" not in (self.headers.get("Accept") or "")
        body = b"" if turtle else EMPTY_RESULTS
        self.send_response(200)
        self.send_header("Content-Type", "text/turtle" if turtle else "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _target(rng: random.Random, base: str, i: int) -> tuple[str, str]:
    """(prologue, what follows the keyword) naming <base/m{i}> in one of many spellings."""
    host = base.removeprefix("http://")
    return rng.choice([
        ("", f" <{base}/m{i}>"),
        (f"PREFIX p: <{base}/>\n", f" p:m{i}"),
        (f"PREFIX : <{base}/>\n", f":m{i}"),  # SERVICE:m1, read by the engine as SERVICE :m1
        (f"PREFIX ex: <{base}/>\n", f"ex:m{i}"),  # SERVICEex:m1
        (f"PREFIX ex: <{base}/>\n", f" ex:m{i}\\.x"),
        (f"BASE <{base}/>\n", f" <m{i}>"),
        ("", f" <\\u0068ttp://{host}/m{i}>"),
        ("", f"<{base}/m{i}>"),
        ("", f"#>\n<{base}/m{i}>"),
        ("", f"\t\r\n<{base}/m{i}>"),
    ])


_KEYWORD = ["SERVICE", "service", "SeRvIcE", "SERVICE SILENT", "service silent", "SERVICE\nSILENT", "SERVICE#c\nSILENT"]
_CAMOUFLAGE = [  # (before the call, after it): texts a careless reader takes for strings, comments or IRIs
    ("BIND(q:a\\' AS ?v) ", " FILTER(?v != \"'\")"),
    ("FILTER(?s<?o)", ""),
    ("?s ?p q:a.b.", ""),
    ('BIND("a#b\\"c" AS ?t) ', ""),
    ("BIND('''it's '' ''' AS ?t) ", ""),
    ('# "\n', ""),
    ('BIND("\\u0022" AS ?t) ', ' FILTER(?t != "\\u0022")'),
    ("BIND(<http://x/#> AS ?t) ", ""),
    ("", ""),
]
_NESTING = ["{}", "OPTIONAL {{ {} }}", "{{ {} }} UNION {{ ?s ?p ?o }}", "FILTER EXISTS {{ {} }}",
            "{{ SELECT * WHERE {{ {} }} }}", "MINUS {{ ?x ?y ?z {} }}"]


def disguised_queries(base: str, count: int, seed: int = 13) -> list[str]:
    rng = random.Random(seed)
    made = []
    for i in range(count):
        prologue, target = _target(rng, base, i)
        before, after = rng.choice(_CAMOUFLAGE)
        keyword = rng.choice(_KEYWORD)
        if rng.random() < 0.1:  # a variable target bound in the query
            prologue, target = "", " ?svc"
            before = f"VALUES ?svc {{ <{base}/m{i}> }} {before}"
        call = f"{keyword}{target} {{ ?a ?b ?c }}"
        body = rng.choice(_NESTING).format(call)
        made.append(f"{prologue}PREFIX q: <http://q/>\nSELECT * WHERE {{ ?s ?p ?o . {before}{body}{after} }}")
    return made


def disguised_updates(base: str, count: int, seed: int = 29) -> list[str]:
    rng = random.Random(seed)
    made = []
    for i in range(count):
        prologue, target = _target(rng, base, i)
        keyword = rng.choice(["LOAD", "load", "LoAd", "LOAD SILENT", "load\tsilent", "LOAD#x\n"])
        into = rng.choice(["", " INTO GRAPH <urn:g>", " into graph <urn:g>"])
        before = rng.choice(["", 'INSERT DATA { <urn:a> <urn:b> "x#\\" ;" } ;\n', "# LOAD <urn:nothing>\n",
                             "CLEAR SILENT GRAPH <urn:h> ;\n"])
        made.append(f"{prologue}{before}{keyword}{target}{into}")
    return made


def _refused(service: QueryService, text: str, base: str | None = None) -> bool:
    try:
        service.check(text, base)
    except KgError:  # QueryRejected, or a text the lexer cannot read
        return True
    return False


def test_whenever_the_engine_calls_out_the_check_refuses(listener: Listener) -> None:
    """The engine, unguarded and in this process, against the listener: every text that reached it
    is one the service refuses. Many must reach it, or the disguises prove nothing."""
    service = open_query_service("memory", MemoryStore(), Limits())
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.NamedNode("urn:o")))
    queries = disguised_queries(listener.url, 240)
    for text in queries:
        with contextlib.suppress(SyntaxError, OSError, RuntimeError, ValueError):
            list(store.query(text, base_iri="http://127.0.0.1:1/sparql"))
    reached = listener.markers()
    assert len(reached) > len(queries) // 3
    assert [queries[i] for i in sorted(reached) if not _refused(service, queries[i], "http://127.0.0.1:1/sparql")] == []


def test_whenever_an_update_loads_the_check_refuses(listener: Listener) -> None:
    service = open_query_service("memory", MemoryStore(), Limits())
    updates = disguised_updates(listener.url, 80)
    for text in updates:
        with contextlib.suppress(SyntaxError, OSError, RuntimeError, ValueError):
            ox.Store().update(text, base_iri="http://127.0.0.1:1/sparql")
    reached = listener.markers()
    assert len(reached) > len(updates) // 3
    assert [updates[i] for i in sorted(reached) if not _refused(service, updates[i])] == []


def test_the_public_server_never_calls_out(server: str, listener: Listener) -> None:
    statuses = set()
    for text in disguised_queries(listener.url, 240):
        answer = requests.post(f"{server}/sparql", data={"query": text}, timeout=60)
        statuses.add((answer.status_code, answer.json()["title"]))
    assert listener.heard == []
    assert statuses <= {(400, "Query refused"), (400, "Malformed query")}


def test_an_admin_update_never_loads(writable_server: str, listener: Listener) -> None:
    token = {"Authorization": f"Bearer {WRITE_TOKEN}"}
    for text in disguised_updates(listener.url, 80):
        answer = requests.post(f"{writable_server}/sparql", data={"update": text}, headers=token, timeout=60)
        assert answer.status_code == 400, (text, answer.text)
    assert listener.heard == []


def test_the_fence_holds_when_the_checks_are_bypassed(tmp_path: Path, listener: Listener) -> None:
    """A worker given a SERVICE query and a LOAD update directly: the engine tries, the fence stops it."""
    store = OxigraphStore(tmp_path / "store", create=True)
    store.update("INSERT DATA { <urn:s> <urn:p> <urn:o> }")
    pool = WorkerPool(1, fenced=True)
    try:
        query = QueryRequest(f"SELECT * {{ ?s ?p ?o SERVICE <{listener.url}/m1> {{ ?a ?b ?c }} }}")
        with pytest.raises(KgError, match="Permission denied|not permitted"):
            pool.run(QueryJob(str(store.view("internal").path), query, "json", 10), timeout_s=60)
        previous, target = store.current(), tmp_path / "new"
        target.mkdir()  # kg.publish.publish_version makes the version folder the worker fills
        with pytest.raises(KgError, match="Permission denied|not permitted"):
            pool.run(UpdateJob(str(previous), str(target), f"LOAD <{listener.url}/m2>", None), timeout_s=60)
    finally:
        pool.close()
    assert listener.heard == []


def test_allowed_prefixes_are_the_only_way_out() -> None:
    service = open_query_service("memory", MemoryStore(), Limits(outbound_allow=("http://partner.example/",)))
    service.check("SELECT * { SERVICE <http://partner.example/sparql> { ?s ?p ?o } }")
    for text in ("SELECT * { SERVICE <http://partner.example.evil/sparql> { ?s ?p ?o } }",
                 "SELECT * { SERVICE ?x { ?s ?p ?o } }",
                 "PREFIX ex: <http://partner.example/> SELECT * { SERVICEex:x { ?s ?p ?o } }"):
        with pytest.raises(QueryRejected):
            service.check(text)
