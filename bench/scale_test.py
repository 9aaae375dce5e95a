"""Scale-out test (issue #21): replicas of one shared store behind nginx, under load, one killed, a version published.

Every request of a mixed read load must be answered whole while one replica is killed and a new store
version is published.

Everything runs on 127.0.0.1, in a temporary folder, each process in its own process group:
  - four SPARQL servers: the public and the internal audience's two slots each (blue/green);
    `oxigraph serve` (.venv/bin/oxigraph, from the PyPI `oxigraph` package), then, where Debian's
    virtuoso-opensource is installed, the whole test again on four Virtuoso servers (--engine: one)
  - the publisher: `python -m kg build`, then `python -m search build`, with MK_STORE=shared (the
    MK_SHARED_* settings below); the first version is published before the replicas start
  - --replicas servers, gunicorn as `make run` starts it (web/gunicorn_conf.py), on the shared store
    and the shared search index (MK_INDEX_PATH in the shared folder)
  - nginx in front, retrying a GET (and POST /api/match, a read-only search: safe to repeat) on
    another replica when one refuses, fails or times out; it names the replica that answered in
    an X-Upstream header. nginx comes from Debian (nginx-light): as root it is installed with
    apt-get when missing, otherwise the script says what to install and exits 2.
Then --clients threads, each a requests.Session, send a mix of reads through nginx for --seconds:
SPARQL GETs, entity pages, /api/search, /api/figures, /dashboard and POST /api/match. At a third
of the time one replica's process group is SIGKILLed (not with --no-kill or one replica); at half
the publisher publishes a new version beside the load (not with --no-publish). Every answer is
checked whole: status 200, the body as long as its Content-Length, and well-formed (JSON that
parses, SPARQL results with "results", HTML that ends with </html>). Each answer's
X-Missiekompas-Version header names the store version it came from. After the load, the surviving
replicas must answer from the newly published version.

The closing line is `N requests, F failed, V versions seen, R replicas` (R: replicas that answered);
the exit status is 0 only when F is 0, and, when publishing, the survivors answer from the new
version (V >= 2), and, when killing, the killed replica had answered before it was killed. A
deadline (--deadline-s) bounds the whole run; every process is stopped and the temporary folder
removed at the end, on Ctrl-C and on SIGTERM too (its logs are kept when the test failed).
--compare then runs the load again on the same shared store, fresh replicas each time: as many
replicas without the kill, then one replica without the kill, for the requests/s of one replica
against several on the same machine (a table at the end; the closing line counts every run).

All the load comes from 127.0.0.1 through nginx, so the replicas run with MK_CLIENT_QUERIES=64
(anonymous SPARQL clients are otherwise held to 2 queries at once per IP address: 429 above) and
MK_TRUSTED_PROXIES=1 (they read the client's address from nginx's X-Forwarded-For).

Usage (from the repository root; `make scale-test` builds the search model first):
  .venv/bin/python bench/scale_test.py [--seconds 60] [--replicas 2] [--clients 8] [--no-kill] [--no-publish]
                                       [--compare] [--engine oxigraph|virtuoso] [--deadline-s S]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from urllib.parse import quote, unquote

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/scale_test.py` puts bench/, not the repository, on the path
    sys.path.insert(0, str(REPO_ROOT))

from config import Settings  # noqa: E402
from tests.conftest import free_port, start_virtuoso, stop_server  # noqa: E402

BIN = Path(sys.executable).parent
PYTHON, GUNICORN, OXIGRAPH = str(Path(sys.executable)), str(BIN / "gunicorn"), str(BIN / "oxigraph")
NGINX_PACKAGE = "nginx-light"
VERSION_HEADER = "X-Missiekompas-Version"
UPSTREAM_HEADER = "X-Upstream"
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SPARQL_JSON = "application/sparql-results+json"
READY_S = 180  # a replica loads the model and opens the indexes before it answers; a loaded 2-core machine is slow
PUBLISH_S = 600  # the most one publish command may take
NEW_VERSION_S = 60  # how long a surviving replica has to answer from a version published meanwhile
REQUEST_TIMEOUT_S = (5.0, 90.0)  # connect, read: nginx's own timeouts (below) answer first
FAILURES_SHOWN = 10
WORKERS, THREADS = 2, 4  # per replica

PREFIXES = ("PREFIX mk: <https://w3id.org/missiekompas/ontology#> "
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> ")
QUERIES = (
    "SELECT (COUNT(DISTINCT ?mjp) AS ?mjps) WHERE { ?mjp a mk:MJP }",
    "SELECT ?s ?label WHERE { ?s skos:prefLabel ?label } ORDER BY ?s STR(?label) LANG(?label) LIMIT 50",
    "SELECT ?programme ?label WHERE { ?programme a mk:Programme ; skos:prefLabel ?label } "
    "ORDER BY ?programme STR(?label) LANG(?label) LIMIT 20",
    "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?n) ?class LIMIT 20",
)  # every answer in a total order: the same rows on every engine (checked, see `compared_answers`)
ENTITY_QUERY = "SELECT DISTINCT ?s WHERE { ?s a ?class . FILTER(STRSTARTS(STR(?class), STR(mk:))) } ORDER BY ?s"
ENTITIES_USED = 24
SEARCHES = ("waterstof", "quantum sensors", "circulaire landbouw", "batterij opslag", "zorg dichtbij huis")
PROPOSALS = (
    "Wij willen onderzoeken hoe restwarmte van datacenters en fabrieken een wijkwarmtenet op lage temperatuur kan "
    "voeden, met slimme meters, warmteopslag en compacte warmtepompen, samen met gemeenten en bewoners.",
    "We develop photonic chips for quantum-safe communication and test them with telecom operators in a living lab.",
)

started_at = time.monotonic()
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
halt = threading.Event()  # set on SIGINT, SIGTERM or the deadline: the load threads and the events stop early


def say(message: str) -> None:
    """A progress line, with the seconds since the script started."""
    print(f"[{time.monotonic() - started_at:6.1f}s] {message}", flush=True)


class Stop(BaseException):
    """SIGINT, SIGTERM or the deadline: stop, clean up, fail."""


# --- processes -----------------------------------------------------------------------------------

@dataclass
class Started:
    """One process this script started, leader of its own process group, and its log."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 15) -> str:
        """The end of its log, indented, for a failure message."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "    (no log)"
        return "\n".join(f"    {line}" for line in text.splitlines()[-lines:])


class Processes:
    """Every process group this script started; stop_all ends them all, the last started first."""

    def __init__(self) -> None:
        self.running: list[Started] = []
        self.lock = threading.Lock()

    def start(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> Started:
        """Start `argv` from the repository root in a new session (its own process group), output to `log`."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:  # the child keeps its own handle
            proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        return self.adopt(name, proc, log)

    def adopt(self, name: str, proc: subprocess.Popen[bytes], log: Path) -> Started:
        """Take on a process group started elsewhere (a Virtuoso server from tests.conftest)."""
        started = Started(name, proc, log)
        with self.lock:
            self.running.append(started)
        return started

    def stop(self, started: Started) -> None:
        """SIGTERM its process group, then SIGKILL what is left after 20 s, and reap it."""
        stop_server(started.proc)
        with self.lock:
            if started in self.running:
                self.running.remove(started)

    def kill(self, started: Started) -> None:
        """SIGKILL its whole process group at once (a crash, not a shutdown) and reap the leader."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(started.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            started.proc.wait(timeout=10)

    def stop_all(self) -> None:
        """Stop every process group still running, the last started first."""
        with self.lock:
            running = list(reversed(self.running))
        for started in running:
            self.stop(started)


def group_cpu_s(groups: set[int]) -> float:
    """CPU seconds (user + system, with reaped children's) of every process now in these process groups,
    from /proc: a query worker or gunicorn worker counts with its group."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = text.rsplit(")", 1)[1].split()  # after the command name: state, ppid, pgrp, ...
        if int(fields[2]) in groups:
            total += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return total / CLOCK_TICKS


def wait_until(check: Callable[[], bool], started: Started, timeout_s: float, what: str) -> None:
    """Poll `check` until it is true; fail with the log's tail if the process exits or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if started.proc.poll() is not None:
            raise RuntimeError(f"{started.name} exited with {started.proc.returncode} before {what}; "
                               f"the end of {started.log}:\n{started.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{started.name}: no {what} within {timeout_s:.0f} s; the end of {started.log}:\n"
                               f"{started.tail()}")
        time.sleep(0.3)


def answers(url: str, ok_only: bool = False) -> bool:
    """Whether `url` answers a GET at all (with `ok_only`: with a 200)."""
    try:
        response = requests.get(url, timeout=10)
    except requests.RequestException:
        return False
    return response.status_code == 200 or not ok_only


# --- nginx ---------------------------------------------------------------------------------------

def find_nginx() -> str:
    """The nginx binary; as root Debian's nginx-light is installed when there is none, otherwise exit 2."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if found:
        return found
    command = f"apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {NGINX_PACKAGE}"
    if os.geteuid() != 0:
        print(f"scale-test needs nginx: the Debian package {NGINX_PACKAGE} is missing; run: sudo sh -c '{command}'",
              file=sys.stderr)
        raise SystemExit(2)
    say(f"nginx is missing: installing {NGINX_PACKAGE} (apt-get)")
    subprocess.run(command, shell=True, check=True)
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(found, os.X_OK):
        raise SystemExit(f"apt-get installed {NGINX_PACKAGE}, yet there is no nginx binary")
    return found


NGINX_CONF = """\
# generated by bench/scale_test.py: a foreground nginx on loopback, everything in {prefix}
{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstream '$remote_addr "$request" $status $body_bytes_sent $request_time '
                        'upstream=[$upstream_addr] status=[$upstream_status] time=[$upstream_response_time]';
    access_log {prefix}/nginx-access.log upstream;
    client_body_temp_path {prefix}/nginx-temp/body;
    proxy_temp_path {prefix}/nginx-temp/proxy;
    fastcgi_temp_path {prefix}/nginx-temp/fastcgi;
    uwsgi_temp_path {prefix}/nginx-temp/uwsgi;
    scgi_temp_path {prefix}/nginx-temp/scgi;
    client_max_body_size 2m;

    upstream replicas {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        # which replica answered: after a retry nginx lists every one it tried, the last answered
        add_header {upstream_header} $upstream_addr always;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_connect_timeout 1s;
        proxy_send_timeout 60s;
        proxy_read_timeout 60s;
        # a replica that refuses, fails or times out: the request goes to the next one (GET, HEAD)
        proxy_next_upstream error timeout http_502 http_503 http_504;
        proxy_next_upstream_tries 3;
        proxy_next_upstream_timeout 60s;
        location / {{
            proxy_pass http://replicas;
        }}
        # a match is a read-only search: safe to send again although it is a POST
        location = /api/match {{
            proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;
            proxy_pass http://replicas;
        }}
    }}
}}
"""


def nginx_conf(prefix: Path, port: int, replica_ports: list[int]) -> str:
    """nginx's configuration: every path in `prefix`; as root its workers stay root (they write its temp folders,
    which only root may enter)."""
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in replica_ports)
    user = "user root;\n" if os.geteuid() == 0 else ""
    return NGINX_CONF.format(prefix=prefix, user=user, port=port, servers=servers, upstream_header=UPSTREAM_HEADER)


def start_nginx(procs: Processes, binary: str, folder: Path, replica_ports: list[int]) -> tuple[Started, str]:
    """nginx in the foreground in front of the replicas; (the process, its base URL) once it passes a request on."""
    prefix = folder / "nginx"
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "nginx-temp" / name).mkdir(parents=True, exist_ok=True)
    port = free_port()
    (prefix / "nginx.conf").write_text(nginx_conf(prefix, port, replica_ports), encoding="utf-8")
    started = procs.start("nginx", [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                          prefix / "nginx.log")
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: answers(f"{url}/api/figures", ok_only=True), started, 60, "answer through nginx")
    return started, url


# --- the shared store, the publisher and the replicas --------------------------------------------

@dataclass
class Store:
    """The shared store: its four oxigraph servers and the settings every publisher and replica gets."""

    env: dict[str, str]
    servers: list[Started]


def start_oxigraph(procs: Processes, folder: Path, name: str) -> tuple[Started, str]:
    """One `oxigraph serve` on a free loopback port, with its data in `folder/name`; (process, base URL)."""
    port = free_port()
    argv = [OXIGRAPH, "serve", "--location", str(folder / name), "--bind", f"127.0.0.1:{port}", "--timeout-s", "10"]
    started = procs.start(name, argv, folder / f"{name}.log")
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: answers(f"{url}/query?query={quote('ASK {}')}"), started, 60, "answer")
    return started, url


def start_virtuoso_server(procs: Processes, folder: Path, name: str) -> tuple[Started, str]:
    """One Virtuoso (Debian's virtuoso-opensource, as the store tests start it) with its database in
    `folder/name`; (process, its SPARQL URL, for queries and updates)."""
    (folder / name).mkdir(parents=True)
    proc, url = start_virtuoso(folder / name)
    return procs.adopt(name, proc, folder / name / "serve.log"), f"{url}/sparql"


ENGINES = {"oxigraph": start_oxigraph, "virtuoso": start_virtuoso_server}


def start_store(procs: Processes, folder: Path, engine: str = "oxigraph") -> Store:
    """The four SPARQL servers of `engine` (public and internal, slots A and B) and the MK_* settings that point
    at them."""
    servers, urls = [], {}
    for name in ("public-a", "public-b", "internal-a", "internal-b"):
        started, urls[name] = ENGINES[engine](procs, folder / engine, name)
        servers.append(started)
    shared = folder / "shared"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MK_")}  # nothing of the caller's set-up
    env.update({
        "MK_STORE": "shared",
        "MK_SHARED_PATH": str(shared),
        "MK_SHARED_PUBLIC_URLS": f"{urls['public-a']} {urls['public-b']}",
        "MK_SHARED_INTERNAL_URLS": f"{urls['internal-a']} {urls['internal-b']}",
        "MK_INDEX_PATH": str(shared / "index"),
        "MK_SHARED_GRACE_S": "2",
        "MK_STORE_PATH": str(folder / "local-store"),  # not used in shared mode: kept away from .build
    })
    return Store(env, servers)


@dataclass(frozen=True)
class Published:
    """How one publish went."""

    ok: bool
    seconds: float
    detail: str


def publish(procs: Processes, store: Store, log: Path) -> Published:
    """Publish a store version: `kg build`, then `search build`, as the operator would; never raises."""
    began = time.monotonic()
    for argv in ([PYTHON, "-m", "kg", "build"], [PYTHON, "-m", "search", "build"]):
        try:
            started = procs.start("publisher", argv, log, store.env)
            try:
                code = started.proc.wait(timeout=PUBLISH_S)
            finally:
                procs.stop(started)
        except (OSError, subprocess.SubprocessError) as exc:
            return Published(False, time.monotonic() - began, f"{' '.join(argv[1:])}: {exc}")
        if code != 0:
            return Published(False, time.monotonic() - began,
                             f"`{' '.join(argv[1:])}` exited with {code}; the end of {log}:\n{started.tail()}")
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return Published(True, time.monotonic() - began, lines[-1] if lines else "")


@dataclass
class Replica:
    """One server of the shared store."""

    name: str
    started: Started
    address: str  # host:port, as nginx's $upstream_addr names it

    @property
    def url(self) -> str:
        return f"http://{self.address}"


def start_replicas(procs: Processes, store: Store, folder: Path, count: int, first: int = 1) -> list[Replica]:
    """`count` servers as `make run` starts them (the model loaded before the workers fork), all started
    before the first is waited for; ready when /api/figures answers 200."""
    replicas = []
    for number in range(first, first + count):
        port = free_port()
        env = {**store.env, "MK_HOST": "127.0.0.1", "MK_PORT": str(port), "MK_WORKERS": str(WORKERS),
               "MK_THREADS": str(THREADS), "MK_PRELOAD": "1", "MK_TRUSTED_PROXIES": "1",
               "MK_CLIENT_QUERIES": "64"}  # every simulated user comes from 127.0.0.1 through nginx
        name = f"replica-{number}"
        started = procs.start(name, [GUNICORN, "--config", "web/gunicorn_conf.py"], folder / f"{name}.log", env)
        replicas.append(Replica(name, started, f"127.0.0.1:{port}"))
    for replica in replicas:
        wait_until(lambda r=replica: answers(f"{r.url}/api/figures", ok_only=True), replica.started, READY_S,
                   "answer 200 to /api/figures")
        say(f"{replica.name} ready on {replica.url} (pid {replica.started.proc.pid})")
    return replicas


def version_of(url: str) -> str:
    """The store version a server answers from now (its version header on /api/figures); '' when none."""
    try:
        return requests.get(f"{url}/api/figures", timeout=30).headers.get(VERSION_HEADER, "")
    except requests.RequestException:
        return ""


# --- the load ------------------------------------------------------------------------------------

Check = Callable[[requests.Response], str]  # what is wrong with a 200 answer's body, '' when nothing


@dataclass(frozen=True)
class Kind:
    """One kind of request in the mix: its share, and the requests it sends in turn."""

    name: str
    weight: int
    method: str
    paths: tuple[str, ...]
    accept: str
    check: Check
    bodies: tuple[dict[str, object], ...] = ()

    def request(self, n: int) -> tuple[str, dict[str, object] | None]:
        """The n-th path and JSON body of this kind."""
        return self.paths[n % len(self.paths)], (self.bodies[n % len(self.bodies)] if self.bodies else None)


def json_with(*keys: str) -> Check:
    """A body check: a JSON object with these keys."""

    def check(response: requests.Response) -> str:
        try:
            data = json.loads(response.content)
        except ValueError as exc:
            return f"not JSON ({exc})"
        missing = [k for k in keys if not isinstance(data, dict) or k not in data]
        return f"JSON without {', '.join(missing)}" if missing else ""

    return check


def sparql_results(response: requests.Response) -> str:
    """A body check: SPARQL JSON results with a list of bindings."""
    problem = json_with("results")(response)
    if problem:
        return problem
    bindings = json.loads(response.content)["results"].get("bindings")
    return "" if isinstance(bindings, list) else "SPARQL results without a list of bindings"


def html_page(response: requests.Response) -> str:
    """A body check: an HTML page, whole (it ends with </html>)."""
    return "" if response.content.rstrip().lower().endswith(b"</html>") else "HTML page without its </html> end"


def mix(entity_paths: tuple[str, ...]) -> list[Kind]:
    """The requests of the load, by weight: what users of the site and the endpoint read."""
    sparql = tuple(f"/sparql?query={quote(PREFIXES + q)}" for q in QUERIES)
    searches = tuple(f"/api/search?q={quote(q)}&top=5" for q in SEARCHES)
    return [
        Kind("sparql", 25, "GET", sparql, SPARQL_JSON, sparql_results),
        Kind("entity page", 15, "GET", entity_paths, HTML, html_page),
        Kind("api search", 15, "GET", searches, "application/json", json_with("hits")),
        Kind("api figures", 10, "GET", ("/api/figures",), "application/json", json_with("figures")),
        Kind("dashboard", 10, "GET", ("/dashboard",), HTML, html_page),
        Kind("api match", 15, "POST", ("/api/match",), "application/json", json_with("questions"),
             tuple({"text": text, "top": 5} for text in PROPOSALS)),
    ]


@dataclass(frozen=True)
class Outcome:
    """One request of the load: when it started (seconds into the load), how long it took, and how it went."""

    at_s: float
    kind: str
    ms: float
    failure: str  # '' when the answer was whole
    version: str
    replica: str  # host:port of the replica that answered ('' when none did)
    tries: int  # replicas nginx tried


def send(session: requests.Session, base: str, kind: Kind, n: int) -> tuple[str, str, str, int]:
    """Send the n-th request of `kind` and check the answer whole; (failure, version, replica, tries)."""
    path, body = kind.request(n)
    where = f"{kind.method} {path[:70]}"
    try:
        response = session.request(kind.method, base + path, json=body, timeout=REQUEST_TIMEOUT_S,
                                   headers={"Accept": kind.accept, "Accept-Encoding": "identity"})
    except requests.RequestException as exc:  # no answer, or a body cut short (urllib3 checks Content-Length)
        return f"{where} -> no whole answer: {type(exc).__name__}: {str(exc)[:160]}", "", "", 0
    upstreams = [u.strip() for u in response.headers.get(UPSTREAM_HEADER, "").split(",") if u.strip()]
    problem = answer_problem(response, kind)
    via = f" (via {', '.join(upstreams) or 'no replica'})"
    return (f"{where} -> {problem}{via}" if problem else "", response.headers.get(VERSION_HEADER, ""),
            upstreams[-1] if upstreams else "", len(upstreams))


def answer_problem(response: requests.Response, kind: Kind) -> str:
    """What is wrong with an answer ('' when nothing): its status, its length, its body, a missing version."""
    if response.status_code != 200:
        return f"{response.status_code}: {response.text[:120]!r}"
    length = response.headers.get("Content-Length")
    if length is not None and int(length) != len(response.content):
        return f"200 with {len(response.content)} of its {length} bytes"
    problem = kind.check(response)
    if problem:
        return f"200, {problem}"
    if not response.headers.get(VERSION_HEADER):
        return f"200 without {VERSION_HEADER}"
    return ""


def discover_entities(base: str, base_uri: str) -> tuple[str, ...]:
    """Entity page paths (/id/...) of entities of every kind, from a SPARQL query through the proxy."""
    response = requests.get(f"{base}/sparql", params={"query": PREFIXES + ENTITY_QUERY},
                            headers={"Accept": SPARQL_JSON}, timeout=60)
    response.raise_for_status()
    iris = [b["s"]["value"] for b in response.json()["results"]["bindings"]]
    paths = [f"/id/{iri[len(base_uri):]}" for iri in iris if iri.startswith(base_uri) and "#" not in iri]
    if not paths:
        raise RuntimeError(f"no entity under {base_uri} in the shared store")
    step = max(1, len(paths) // ENTITIES_USED)
    return tuple(paths[::step][:ENTITIES_USED])


def warm_up(base: str, kinds: list[Kind], rounds: int) -> list[str]:
    """Every request of every kind `rounds` times through the proxy (not counted); the failures."""
    session, failures = requests.Session(), []
    for _ in range(rounds):
        for kind in kinds:
            for n in range(max(len(kind.paths), len(kind.bodies))):
                failure = send(session, base, kind, n)[0]
                if failure:
                    failures.append(failure)
    return failures


def compared_answers(base: str, kinds: list[Kind]) -> dict[str, list[str]]:
    """What the SPARQL queries and the searches of the mix answer, as rows (sorted) and hit IRIs: every run,
    on every engine, must get the same before its load is timed."""
    found = {}
    for kind in kinds:
        if kind.name not in ("sparql", "api search"):
            continue
        for path in kind.paths:
            response = requests.get(base + path, headers={"Accept": kind.accept}, timeout=60)
            response.raise_for_status()
            data = response.json()
            found[path] = (sorted(json.dumps(row, sort_keys=True) for row in data["results"]["bindings"])
                           if kind.name == "sparql" else [hit["iri"] for hit in data["hits"]])
    return found


def run_clients(base: str, kinds: list[Kind], clients: int, seconds: float, began: float,
                outcomes: list[list[Outcome]]) -> None:
    """`clients` threads, each its own session and a seeded random mix, until `seconds` after `began`;
    each appends to its own list in `outcomes` (read while they run for progress)."""
    deadline, weights = began + seconds, [k.weight for k in kinds]

    def client(number: int) -> None:
        rng, session, mine = random.Random(7 + number), requests.Session(), outcomes[number]
        n = number
        while time.monotonic() < deadline and not halt.is_set():
            kind = rng.choices(kinds, weights)[0]
            at = time.monotonic()
            failure, version, replica, tries = send(session, base, kind, n)
            mine.append(Outcome(at - began, kind.name, (time.monotonic() - at) * 1000, failure, version, replica, tries))
            n += 1

    with ThreadPoolExecutor(clients, thread_name_prefix="client") as pool:
        for future in [pool.submit(client, i) for i in range(clients)]:
            future.result()


# --- one run: replicas, nginx, the load and what happens during it --------------------------------

@dataclass
class RunResult:
    """What one load run saw."""

    label: str
    replicas: int
    seconds: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what failed the test besides the requests
    extra_versions: set[str] = field(default_factory=set)  # seen after the load, on the survivors
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds during the load, by part (no kill only)
    answers: dict[str, list[str]] = field(default_factory=dict)  # compared_answers before the load
    plan: Plan | None = None

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failure]

    @property
    def versions(self) -> set[str]:
        return {o.version for o in self.outcomes if o.version} | self.extra_versions

    @property
    def answered_by(self) -> set[str]:
        return {o.replica for o in self.outcomes if o.replica}


@dataclass
class Plan:
    """What one run does."""

    label: str
    replicas: int
    kill: bool
    publish: bool
    seconds: float
    clients: int


class Events:
    """The mid-run events, on their own thread: the kill at a third, the publish at half of the load."""

    def __init__(self, procs: Processes, store: Store, folder: Path, plan: Plan, replicas: list[Replica]) -> None:
        self.procs, self.store, self.folder, self.plan, self.replicas = procs, store, folder, plan, replicas
        self.killed: Replica | None = None
        self.killed_at_s = 0.0
        self.published: Published | None = None
        self.thread = threading.Thread(target=self.run, name="events", daemon=True)
        self.began = 0.0

    def start(self, began: float) -> None:
        self.began = began
        self.thread.start()

    def sleep_until(self, share: float) -> bool:
        """Wait until `share` of the load has passed; False when the test is stopping."""
        return not halt.wait(max(0.0, self.began + share * self.plan.seconds - time.monotonic()))

    def run(self) -> None:
        if self.plan.kill and self.sleep_until(1 / 3):
            self.killed, self.killed_at_s = self.replicas[0], time.monotonic() - self.began
            self.procs.kill(self.killed.started)
            say(f"killed {self.killed.name} ({self.killed.address}): SIGKILL to its process group "
                f"at {self.killed_at_s:.1f} s into the load")
        if self.plan.publish and self.sleep_until(1 / 2):
            say(f"publishing a new store version ({time.monotonic() - self.began:.1f} s into the load)")
            self.published = publish(self.procs, self.store, self.folder / "publish.log")
            result = "done" if self.published.ok else "FAILED"
            say(f"publish {result} in {self.published.seconds:.1f} s: {self.published.detail}")

    def wait(self) -> None:
        """Until the publish has ended (it is bounded by PUBLISH_S per command)."""
        self.thread.join()


def progress(outcomes: list[list[Outcome]], began: float, stop: threading.Event) -> None:
    """A progress line every 10 s of the load: requests and failures so far."""
    while not stop.wait(10):
        done = [o for part in outcomes for o in list(part)]
        failed = sum(1 for o in done if o.failure)
        say(f"load {time.monotonic() - began:5.1f} s: {len(done)} requests, {failed} failed, "
            f"versions {sorted({o.version for o in done if o.version})}")


def run_once(procs: Processes, store: Store, folder: Path, nginx: str, plan: Plan, first: int) -> RunResult:
    """Start the replicas and nginx, load them through nginx with the events of `plan`, check the survivors,
    stop the replicas and nginx."""
    result = RunResult(plan.label, plan.replicas, plan=plan)
    say(f"{plan.label}: starting {plan.replicas} replica(s), {WORKERS} workers x {THREADS} threads each")
    replicas = start_replicas(procs, store, folder, plan.replicas, first)
    proxy, base = start_nginx(procs, nginx, folder / f"run-{first}", [int(r.address.rsplit(":", 1)[1]) for r in replicas])
    try:
        say(f"nginx on {base} in front of {', '.join(r.address for r in replicas)}")
        kinds = mix(discover_entities(base, Settings().base_uri))
        result.problems += [f"warm-up: {f}" for f in warm_up(base, kinds, rounds=plan.replicas)]
        result.answers = compared_answers(base, kinds)
        before = {version_of(r.url) for r in replicas}
        say(f"warmed up; the replicas answer from version(s) {sorted(before)}; "
            f"{plan.clients} clients for {plan.seconds:g} s")
        events = Events(procs, store, folder, plan, replicas)
        parts = {"replicas": {r.started.proc.pid for r in replicas}, "store servers": {s.proc.pid for s in store.servers},
                 "nginx": {proxy.proc.pid}}
        before_cpu = {name: group_cpu_s(groups) for name, groups in parts.items()}
        client_before = sum(os.times()[:2])
        load(base, kinds, plan, events, result)
        if not plan.kill:  # a killed replica takes its CPU time with it
            result.cpu_s = {name: group_cpu_s(groups) - before_cpu[name] for name, groups in parts.items()}
            result.cpu_s["load client"] = sum(os.times()[:2]) - client_before
        events.wait()
        check_events(events, replicas, before, result)
    finally:
        procs.stop(proxy)
        for replica in replicas:
            procs.stop(replica.started)
    return result


def load(base: str, kinds: list[Kind], plan: Plan, events: Events, result: RunResult) -> None:
    """The timed load with the events beside it; fills result.outcomes and result.seconds."""
    outcomes: list[list[Outcome]] = [[] for _ in range(plan.clients)]
    stop = threading.Event()
    began = time.monotonic()
    reporter = threading.Thread(target=progress, args=(outcomes, began, stop), daemon=True)
    reporter.start()
    events.start(began)
    try:
        run_clients(base, kinds, plan.clients, plan.seconds, began, outcomes)
    finally:
        stop.set()
    result.seconds = time.monotonic() - began
    result.outcomes = sorted((o for part in outcomes for o in part), key=lambda o: o.at_s)
    say(f"load done: {len(result.outcomes)} requests in {result.seconds:.1f} s; load average {os.getloadavg()[0]:.2f}")


def check_events(events: Events, replicas: list[Replica], before: set[str], result: RunResult) -> None:
    """The killed replica had answered before its kill; the publish worked and every survivor answers from
    the new version (it has NEW_VERSION_S to take it up)."""
    if events.killed is not None:
        answered = [o for o in result.outcomes if o.replica == events.killed.address and o.at_s < events.killed_at_s]
        if not answered:
            result.problems.append(f"the killed {events.killed.name} answered nothing before its kill")
        say(f"{events.killed.name} answered {len(answered)} requests before its kill")
    if events.published is None:
        return
    if not events.published.ok:
        result.problems.append(f"the publish failed: {events.published.detail}")
        return
    for replica in replicas:
        if replica is events.killed:
            continue
        deadline, version = time.monotonic() + NEW_VERSION_S, version_of(replica.url)
        while (not version or version in before) and time.monotonic() < deadline:
            time.sleep(1)
            version = version_of(replica.url)
        if version:
            result.extra_versions.add(version)
        if not version or version in before:
            result.problems.append(f"{replica.name} still answers from {version or 'no version'} "
                                   f"{NEW_VERSION_S} s after the publish (before it: {sorted(before)})")
        else:
            say(f"{replica.name} answers from the new version {version}")


# --- the report ----------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


def report(result: RunResult) -> list[str]:
    """Throughput, latency, the per-kind table, the failures and the problems of one run."""
    ms = [o.ms for o in result.outcomes]
    rate = len(result.outcomes) / result.seconds if result.seconds else 0.0
    retried = sum(1 for o in result.outcomes if o.tries > 1)
    lines = [f"## {result.label}: {result.replicas} replica(s), {len(result.outcomes)} requests in {result.seconds:.1f} s",
             f"throughput {rate:.1f} requests/s; latency p50 {percentile(ms, 0.5):.0f} ms, p95 {percentile(ms, 0.95):.0f} ms; "
             f"{retried} retried by nginx on another replica",
             "", "| kind | requests | failed | p50 ms | p95 ms |", "| --- | ---: | ---: | ---: | ---: |"]
    for kind in sorted({o.kind for o in result.outcomes}):
        mine = [o for o in result.outcomes if o.kind == kind]
        times = [o.ms for o in mine]
        lines.append(f"| {kind} | {len(mine)} | {sum(1 for o in mine if o.failure)} | {percentile(times, 0.5):.0f} | "
                     f"{percentile(times, 0.95):.0f} |")
    if result.cpu_s and result.outcomes:
        lines += ["", "CPU per request during the load (ms; the publisher's own processes are not counted): " + ", ".join(
            f"{name} {1000 * cpu / len(result.outcomes):.1f}" for name, cpu in result.cpu_s.items())]
    by_replica = {r: sum(1 for o in result.outcomes if o.replica == r) for r in sorted(result.answered_by)}
    lines += ["", f"answered by (replica: requests): {by_replica}", "versions (requests, first and last sent at):"]
    for version in sorted(result.versions, key=lambda v: min((o.at_s for o in result.outcomes if o.version == v),
                                                             default=float("inf"))):
        mine = [o.at_s for o in result.outcomes if o.version == version]
        span = f"{min(mine):.1f} s to {max(mine):.1f} s into the load" if mine else "after the load only"
        lines.append(f"  {version}: {len(mine)} requests, {span}")
    stale = stale_answers(result.outcomes)
    if stale:
        lines.append(f"WARNING: {stale} answers came from an older version after a newer one had been served")
    for o in result.failed[:FAILURES_SHOWN]:
        lines.append(f"FAILED at {o.at_s:.1f} s ({o.ms:.0f} ms): {o.failure}")
    if len(result.failed) > FAILURES_SHOWN:
        lines.append(f"... and {len(result.failed) - FAILURES_SHOWN} more failed requests")
    lines += [f"PROBLEM: {p}" for p in result.problems]
    return lines


def stale_answers(outcomes: list[Outcome]) -> int:
    """Answers from an older version to requests sent after a newer version had been served (a replica
    reads the live version per request, so once one answer came from the new version no later
    request should get the old one); versions are ordered by their first answer."""
    first_done: dict[str, float] = {}
    for o in outcomes:
        if o.version:
            first_done[o.version] = min(first_done.get(o.version, o.at_s + o.ms / 1000), o.at_s + o.ms / 1000)
    order = sorted(first_done, key=first_done.__getitem__)
    newer_from = {v: min((first_done[w] for w in order[i + 1:]), default=float("inf")) for i, v in enumerate(order)}
    return sum(1 for o in outcomes if o.version and o.at_s > newer_from[o.version])


def closing_line(results: list[RunResult]) -> str:
    """`N requests, F failed, V versions seen, R replicas`, over every run."""
    n = sum(len(r.outcomes) for r in results)
    f = sum(len(r.failed) for r in results)
    versions = set().union(*(r.versions for r in results))
    replicas = set().union(*(r.answered_by for r in results))
    return f"{n} requests, {f} failed, {len(versions)} versions seen, {len(replicas)} replicas"


def comparison(results: list[RunResult]) -> list[str]:
    """One row per run: replicas, kill, publish, requests/s, p50, p95, failed."""
    lines = ["", "| run | replicas | kill | publish | requests/s | p50 ms | p95 ms | failed |",
             "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: |"]
    for result in results:
        plan = result.plan
        assert plan is not None
        ms = [o.ms for o in result.outcomes]
        rate = len(result.outcomes) / result.seconds if result.seconds else 0.0
        lines.append(f"| {plan.label} | {plan.replicas} | {'yes' if plan.kill else 'no'} | "
                     f"{'yes' if plan.publish else 'no'} | {rate:.1f} | {percentile(ms, 0.5):.0f} | "
                     f"{percentile(ms, 0.95):.0f} | {len(result.failed)} |")
    return lines


def passed(results: list[RunResult]) -> bool:
    """No failed request and no problem in any run (a failed publish, a survivor not on the new version, a killed
    replica that had answered nothing, a failed warm-up request are problems)."""
    return all(not r.failed and not r.problems for r in results)


# --- the whole test ------------------------------------------------------------------------------

@contextlib.contextmanager
def stoppable(deadline_s: float) -> Iterator[None]:
    """SIGINT, SIGTERM and the deadline (SIGALRM) raise Stop in the main thread, so every `finally` runs."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        halt.set()
        reason = f"the deadline ({deadline_s:.0f} s) passed" if signum == signal.SIGALRM else \
            f"{signal.Signals(signum).name} received"
        raise Stop(reason)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)}
    signal.alarm(int(deadline_s))
    try:
        yield
    finally:
        signal.alarm(0)
        for s, handler in previous.items():
            signal.signal(s, handler)


def plans(args: argparse.Namespace) -> list[Plan]:
    main = Plan("scale test", args.replicas, not args.no_kill and args.replicas > 1, not args.no_publish,
                args.seconds, args.clients)
    if not args.compare:
        return [main]
    same = [] if not main.kill else [Plan(f"{args.replicas} replicas, no kill", args.replicas, False, main.publish,
                                          args.seconds, args.clients)]
    return [main, *same, Plan("1 replica, no kill", 1, False, main.publish, args.seconds, args.clients)]


def engines(args: argparse.Namespace) -> list[str]:
    """The SPARQL servers to test on: Oxigraph server, and Virtuoso where it is installed (--engine: one)."""
    if args.engine:
        return [args.engine]
    if shutil.which("virtuoso-t") and shutil.which("isql-vt"):
        return ["oxigraph", "virtuoso"]
    say("Virtuoso is not installed (Debian's virtuoso-opensource; `make system` installs it as root): "
        "testing on Oxigraph server only")
    return ["oxigraph"]


def run(args: argparse.Namespace, nginx: str, folder: Path, procs: Processes) -> list[RunResult]:
    """Per engine: the shared store, its first version, then each planned run."""
    say(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {args.clients} clients, {args.seconds:g} s "
        f"per run; temporary folder {folder}")
    results, number, chosen = [], 1, engines(args)
    for engine in chosen:
        say(f"starting the shared store (4 {engine} servers)")
        store = start_store(procs, folder / engine, engine)
        say("publishing the first store version (kg build, search build)")
        first = publish(procs, store, folder / engine / "publish.log")
        if not first.ok:
            raise RuntimeError(f"the first publish failed: {first.detail}")
        say(f"first version published in {first.seconds:.1f} s: {first.detail}")
        for plan in plans(args):
            if len(chosen) > 1:
                plan = replace(plan, label=f"{plan.label} on {engine}")
            results.append(run_once(procs, store, folder / engine, nginx, plan, number))
            number += plan.replicas
            differ = [path for path, answer in results[-1].answers.items() if results[0].answers.get(path) != answer]
            if differ:
                results[-1].problems.append(f"{len(differ)} answers differ from those of {results[0].label}: "
                                            f"{', '.join(unquote(p)[:80] for p in differ[:3])}")
            else:
                say(f"the {len(results[-1].answers)} compared answers are those of {results[0].label}")
        for server in store.servers:
            procs.stop(server)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long the load runs (default 60)")
    parser.add_argument("--replicas", type=int, default=2, help="replicas behind nginx (default 2)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent load threads (default 8)")
    parser.add_argument("--no-kill", action="store_true", help="do not kill a replica during the load")
    parser.add_argument("--no-publish", action="store_true", help="do not publish a new version during the load")
    parser.add_argument("--compare", action="store_true",
                        help="then, on the same store, the same replicas without a kill and one replica, for the "
                             "requests/s of each")
    parser.add_argument("--engine", choices=sorted(ENGINES),
                        help="the SPARQL servers of the shared store (default: oxigraph, then virtuoso where installed)")
    parser.add_argument("--deadline-s", type=float, help="stop everything after this long (default: "
                        "300 s plus the load and 300 s per run)")
    args = parser.parse_args(argv)
    if args.replicas < 1 or args.clients < 1 or args.seconds <= 0:
        parser.error("--replicas and --clients must be 1 or more, --seconds more than 0")
    if not Path(OXIGRAPH).is_file():
        parser.error(f"{OXIGRAPH} is missing: `make install` installs the PyPI package oxigraph")
    deadline = args.deadline_s or 2 * (300 + len(plans(args)) * (args.seconds + 300))  # two engines at most
    nginx = find_nginx()
    folder, procs, results, ok, finished = Path(tempfile.mkdtemp(prefix="mk-scale-")), Processes(), [], False, False
    try:
        with stoppable(deadline):
            try:
                results = run(args, nginx, folder, procs)
            finally:
                procs.stop_all()
        print()
        for result in results:
            print("\n".join(report(result)), end="\n\n")
        if len(results) > 1:
            print("\n".join(comparison(results)), end="\n\n")
        ok, finished = passed(results), True
    except (Stop, RuntimeError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
    except Exception:  # anything else: its traceback, then the cleanup and the closing line
        traceback.print_exc()
    finally:
        procs.stop_all()
        finish(folder, ok)
    if finished:  # a run stopped halfway has no closing line: its "0 failed" would say nothing
        print(closing_line(results), flush=True)
    return 0 if ok else 1


def finish(folder: Path, ok: bool) -> None:
    """Remove the temporary folder; keep it (its logs) when the test failed, and say where."""
    if ok:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"logs kept in {folder} (replica-*.log, publish.log, run-*/nginx/nginx-access.log, oxigraph/*.log)",
              file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
