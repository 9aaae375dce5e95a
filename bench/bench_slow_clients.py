"""Slow clients: the server as `make run` served it before (gunicorn's gthread worker) and now (the
asgi worker with web.asgi), on the same store in one run. First the p50/p95 of a cheap SPARQL GET,
with `oxigraph serve` for scale (the targets take turns); then how long a cheap ASK waits while
connections hold stalled request bodies (headers and a few bytes of a promised body, then nothing).
Loopback only; every loop is bounded."""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_graph import oxigraph_server, required_oxigraph_binary  # noqa: E402
from bench.bench_http import fill_oxigraph_serve, interleaved, percentile, prepare  # noqa: E402
from tests.conftest import start_server, stop_server  # noqa: E402

ASK = "ASK { ?s ?p ?o }"
JSON = "application/sparql-results+json"
# What `make run` was: four threads per worker, gunicorn's 2 s keep-alive, the plain WSGI app.
BEFORE = ("--worker-class", "gthread", "--threads", "4", "--keep-alive", "2", "web.wsgi:app")


def get_call(session: requests.Session, url: str) -> Callable[[], object]:
    def call() -> object:
        response = session.get(url, params={"query": ASK}, headers={"Accept": JSON}, timeout=60)
        response.raise_for_status()
        return response.content

    return call


def stall(address: tuple[str, int]) -> socket.socket:
    """A connection that promises a 1,000-byte body, sends 10 bytes of it and then nothing."""
    conn = socket.create_connection(address, timeout=5)
    conn.sendall(b"POST /sparql HTTP/1.1\r\nHost: bench\r\nContent-Type: application/sparql-query\r\n"
                 b"Content-Length: 1000\r\n\r\nASK { ?s ?")
    return conn


def ask_while_stalled(url: str, stalled: int, stall_s: float) -> float:
    """Seconds a cheap ASK on a new connection waits while `stalled` connections stall their bodies;
    the stalled connections are closed after `stall_s` whatever happens."""
    host, port = url.removeprefix("http://").split(":")
    conns = [stall((host, int(port))) for _ in range(stalled)]
    release = threading.Timer(stall_s, lambda: [c.close() for c in conns])
    release.start()
    try:
        time.sleep(0.5)  # the stalled requests reach the server first
        started = time.perf_counter()
        requests.get(f"{url}/sparql", params={"query": ASK}, headers={"Accept": JSON}, timeout=stall_s + 60)
        return time.perf_counter() - started
    finally:
        release.cancel()
        for conn in conns:
            conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300, help="cheap GETs per target")
    parser.add_argument("--stalled", type=int, default=16, help="connections with a stalled body")
    parser.add_argument("--stall-s", type=float, default=20.0, help="how long they stall")
    args = parser.parse_args()
    binary = required_oxigraph_binary()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        store_path, quads = prepare(folder)
        servers = {}
        for label, gunicorn_args in (("before (gthread)", BEFORE), ("now (asgi + web.asgi)", ())):
            proc, url = start_server(store_path, folder / f"{len(servers)}.log", gunicorn_args)
            stack.callback(stop_server, proc)
            servers[label] = url
        (folder / "serve").mkdir()
        serve = stack.enter_context(oxigraph_server(binary, folder / "serve"))
        fill_oxigraph_serve(serve, quads)
        session = requests.Session()
        calls = {"oxigraph serve": get_call(session, f"{serve}/query")}
        calls.update({label: get_call(session, f"{url}/sparql") for label, url in servers.items()})
        answers = {label: json.loads(call())["boolean"] for label, call in calls.items()}
        if len(set(answers.values())) != 1:
            raise SystemExit(f"the targets answer {ASK} differently ({answers}): not the same work")
        spent = interleaved(calls, args.runs)
        serve_p50 = statistics.median(spent["oxigraph serve"])
        print(f"# cheap SPARQL GET ({ASK}), {args.runs} runs per target taking turns, one keep-alive session, "
              f"1 gunicorn worker; every target answered {answers['oxigraph serve']} before timing (same triples)")
        print(f"{'target':<24} {'p50 ms':>8} {'p95 ms':>8} {'p50 / serve':>12}")
        for label, values in spent.items():
            p50 = statistics.median(values)
            print(f"{label:<24} {p50:8.2f} {percentile(values, 0.95):8.2f} {p50 / serve_p50:11.2f}x")
        print(f"\n# a cheap ASK on a new connection while {args.stalled} connections stall their bodies "
              f"(released after {args.stall_s:g} s)")
        for label, url in servers.items():
            print(f"{label:<24} answered after {ask_while_stalled(url, args.stalled, args.stall_s):6.2f} s")


if __name__ == "__main__":
    main()
