"""SPARQL over HTTP: our gunicorn endpoint against in-process pyoxigraph and `oxigraph serve`,
on the same data in one run: p50/p95 latency per query, then requests/s under concurrent load."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pyoxigraph as ox
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_graph import oxigraph_binary, oxigraph_server, total_memory  # noqa: E402
from kg.access import PUBLIC  # noqa: E402
from kg.build import build  # noqa: E402
from kg.queries import named_query  # noqa: E402
from kg.settings import REPO_ROOT, Settings  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402
from tests.conftest import start_server, stop_server  # noqa: E402

QUERIES = ("class_counts", "mjps_per_theme", "mjps_per_cluster", "missions_without_programme", "questions_per_cluster")
JSON = "application/sparql-results+json"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm-up
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def http_call(session: requests.Session, url: str, query: str) -> Callable[[], object]:
    def call() -> object:
        response = session.post(url, data={"query": query}, headers={"Accept": JSON}, timeout=30)
        response.raise_for_status()
        return response.content

    return call


def in_process_call(store: ox.Store, query: str) -> Callable[[], object]:
    """pyoxigraph on the public view our server answers from (its default graph is already the union)."""
    return lambda: store.query(query).serialize(format=ox.QueryResultsFormat.JSON)


def load_test(url: str, clients: int, seconds: float) -> tuple[float, float, int]:
    """Bounded load: `clients` threads cycle through the queries for `seconds`; loopback only."""
    deadline = time.monotonic() + seconds
    texts = [named_query(n) for n in QUERIES]

    def client(offset: int) -> tuple[list[float], int]:
        session, spent, errors, i = requests.Session(), [], 0, offset
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = session.post(url, data={"query": texts[i % len(texts)]}, headers={"Accept": JSON}, timeout=30)
            spent.append((time.perf_counter() - started) * 1000)
            errors += response.status_code >= 500
            i += 1
        return spent, errors

    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client, range(clients)))
    spent = [ms for r in results for ms in r[0]]
    return len(spent) / seconds, percentile(spent, 0.95), sum(r[1] for r in results)


def prepare(folder: Path) -> tuple[Path, list[ox.Quad]]:
    store_path = folder / "store"
    store = OxigraphStore(store_path, create=True)
    build(Settings(store_path=store_path), store)
    return store_path, list(store.view(PUBLIC).quads())


def fill_oxigraph_serve(url: str, quads: list[ox.Quad]) -> None:
    body = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    requests.post(f"{url}/store", data=body, headers={"Content-Type": "application/n-quads"}, timeout=120).raise_for_status()


def run(runs: int, clients: int, seconds: float) -> None:
    binary = oxigraph_binary()
    if binary is None:
        raise SystemExit("the oxigraph binary (PyPI package 'oxigraph') is needed")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        store_path, quads = prepare(folder)
        proc, ours = start_server(store_path, folder / "server.log", MK_WORKERS=str(os.cpu_count() or 2))
        stack.callback(stop_server, proc)
        (folder / "serve").mkdir()
        theirs = stack.enter_context(oxigraph_server(binary, folder / "serve"))
        fill_oxigraph_serve(theirs, quads)
        in_process = ox.Store.read_only(str(store_path.resolve() / PUBLIC))
        session = requests.Session()
        print(f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC | {os.cpu_count()} cores | memory {total_memory()} "
              f"| {len(quads):,} quads (default data) | {runs} runs per query after one warm-up")
        print(f"{'query':<28} {'in-process p50/p95':>20} {'oxigraph serve p50/p95':>24} {'ours p50/p95':>16} "
              f"{'ours / serve (p50)':>19}")
        ratios = []
        for name in QUERIES:
            text = named_query(name)
            local = timed(in_process_call(in_process, text), runs)
            serve = timed(http_call(session, f"{theirs}/query", text), runs)
            mine = timed(http_call(session, f"{ours}/sparql", text), runs)
            ratios.append(statistics.median(mine) / statistics.median(serve))
            print(f"{name:<28} {_pair(local):>20} {_pair(serve):>24} {_pair(mine):>16} {ratios[-1]:>18.2f}x")
        print(f"{'median of ratios':<28} {'':>20} {'':>24} {'':>16} {statistics.median(ratios):>18.2f}x")
        print(f"\n# load: {clients} concurrent clients for {seconds:g} s each, the five queries in turn (loopback)")
        for label, url in (("oxigraph serve", f"{theirs}/query"), ("ours (gunicorn)", f"{ours}/sparql")):
            rps, p95, errors = load_test(url, clients, seconds)
            print(f"{label:<28} {rps:8.0f} requests/s   p95 {p95:6.1f} ms   5xx: {errors}")


def _pair(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}/{percentile(values, 0.95):.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50, help="timed runs per query and target (default 50)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients in the load test (default 8)")
    parser.add_argument("--seconds", type=float, default=10, help="load-test duration per target (default 10)")
    args = parser.parse_args(argv)
    os.chdir(REPO_ROOT)
    run(args.runs, args.clients, args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
