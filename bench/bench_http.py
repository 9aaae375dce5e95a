"""SPARQL over HTTP: our gunicorn endpoint against in-process pyoxigraph and `oxigraph serve`,
on the same data in one run: p50/p95 latency per query, then requests/s under concurrent load.

Same work on every side: `oxigraph serve` holds exactly the triples of our public view's default
graph (what the benchmark queries read; past editions are not in it), and before anything is
timed the answers to each query are compared (as sets of rows): unequal answers stop the run.

What each side does: in-process pyoxigraph and `oxigraph serve` read RocksDB folders; our server's
query workers answer from an in-memory copy of the store version (MK_MEMORY_QUADS, on by default for
data of this size), and a second server of ours with MK_MEMORY_QUADS=0 shows the same from disk."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_graph import oxigraph_server, required_oxigraph_binary, total_memory  # noqa: E402
from config import REPO_ROOT, Settings  # noqa: E402
from kg.access import PUBLIC  # noqa: E402
from kg.build import build  # noqa: E402
from kg.queries import named_query  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402
from tests.conftest import start_server, stop_server  # noqa: E402

QUERIES = ("class_counts", "mjps_per_theme", "mjps_per_cluster", "missions_without_programme", "questions_per_cluster")
JSON = "application/sparql-results+json"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def http_call(session: requests.Session, url: str, query: Callable[[], str]) -> Callable[[], object]:
    def call() -> object:
        response = session.post(url, data={"query": query()}, headers={"Accept": JSON}, timeout=30)
        response.raise_for_status()
        return response.content

    return call


def in_process_call(store: ox.Store, query: str) -> Callable[[], object]:
    """pyoxigraph on the public view our server answers from (its default graph is already the union)."""
    return lambda: store.query(query).serialize(format=ox.QueryResultsFormat.JSON)


def load_test(url: str, clients: int, seconds: float, fresh: bool = False) -> tuple[float, float, int]:
    """Bounded load: `clients` threads cycle through the queries for `seconds`; loopback only.
    `fresh`: every request's text is new (see first_seen)."""
    deadline = time.monotonic() + seconds
    texts = [(first_seen if fresh else same)(named_query(n)) for n in QUERIES]

    def client(offset: int) -> tuple[list[float], int]:
        session, spent, errors, i = requests.Session(), [], 0, offset
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = session.post(url, data={"query": texts[i % len(texts)]()}, headers={"Accept": JSON}, timeout=30)
            spent.append((time.perf_counter() - started) * 1000)
            errors += response.status_code >= 500
            i += 1
        return spent, errors

    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client, range(clients)))
    spent = [ms for r in results for ms in r[0]]
    return len(spent) / seconds, percentile(spent, 0.95), sum(r[1] for r in results)


def prepare(folder: Path) -> tuple[Path, list[ox.Quad]]:
    """The built store, and the triples of its public view's default graph (what our server answers from)."""
    store_path = folder / "store"
    store = OxigraphStore(store_path, create=True)
    settings = Settings()
    build(settings.data_dirs, settings.base_uri, store)
    view = store.view(PUBLIC).handle()
    return store_path, list(view.quads_for_pattern(None, None, None, ox.DefaultGraph()))


def check_same_answers(calls: dict[str, Callable[[], object]], name: str) -> int:
    """Every target's JSON answer to the query, as a set of rows, must be the same; the row count."""
    answers = {target: _rows(call()) for target, call in calls.items()}
    first = next(iter(answers.values()))
    differing = [target for target, rows in answers.items() if rows != first]
    if differing:
        raise SystemExit(f"{name}: {', '.join(differing)} answer differently from {next(iter(answers))}; "
                         "the comparison would not be of the same work")
    return len(first)


def _rows(body: object) -> frozenset[str]:
    parsed = json.loads(body if isinstance(body, bytes | str) else bytes(body))  # type: ignore[arg-type]
    return frozenset(json.dumps(row, sort_keys=True) for row in parsed["results"]["bindings"])


def memory_copy(view: Path) -> dict[str, float]:
    """What a query worker's in-memory copy of a view costs (kg.worker, MK_MEMORY_QUADS): the seconds to
    make it and the growth of this process's resident memory, measured the way the worker makes it."""
    from kg.worker import _view

    before = _resident_bytes()
    started = time.perf_counter()
    copy = _view(str(view), {}, memory_quads=2**62)
    spent = time.perf_counter() - started
    return {"seconds": spent, "mib": (_resident_bytes() - before) / 2**20, "quads": len(copy)}


def _resident_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def fill_oxigraph_serve(url: str, quads: list[ox.Quad]) -> None:
    body = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    requests.post(f"{url}/store", data=body, headers={"Content-Type": "application/n-quads"}, timeout=120).raise_for_status()


def same(text: str) -> Callable[[], str]:
    return lambda: text


def first_seen(text: str) -> Callable[[], str]:
    """The query made new on every call (a numbered comment), so nothing the server keeps per text helps."""
    counter = itertools.count()
    return lambda: f"{text}\n# bench run {next(counter)}"


def interleaved(calls: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Time each call `runs` times, taking turns (and alternating who goes first), so that drift in a
    shared machine's speed falls on every target alike."""
    for call in calls.values():
        call()  # warm-up
    spent: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls)
    for i in range(runs):
        for name in order if i % 2 == 0 else reversed(order):
            started = time.perf_counter()
            calls[name]()
            spent[name].append((time.perf_counter() - started) * 1000)
    return spent


def measure(runs: int, clients: int, seconds: float) -> dict[str, Any]:
    binary = required_oxigraph_binary()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        store_path, quads = prepare(folder)
        proc, ours = start_server(store_path, folder / "server.log", MK_WORKERS=str(os.cpu_count() or 2),
                                  MK_CLIENT_QUERIES=str(clients * 2))  # the load test's clients share one address
        stack.callback(stop_server, proc)
        disk_proc, ours_disk = start_server(store_path, folder / "server-disk.log", MK_WORKERS=str(os.cpu_count() or 2),
                                            MK_CLIENT_QUERIES=str(clients * 2), MK_MEMORY_QUADS="0")
        stack.callback(stop_server, disk_proc)
        (folder / "serve").mkdir()
        theirs = stack.enter_context(oxigraph_server(binary, folder / "serve"))
        fill_oxigraph_serve(theirs, quads)
        in_process = ox.Store.read_only(str(store_path.resolve() / PUBLIC))
        copy = memory_copy(store_path.resolve() / PUBLIC)
        session = requests.Session()
        results: dict[str, Any] = {
            "when": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", "cores": os.cpu_count(), "memory": total_memory(),
            "quads": len(quads), "runs": runs, "queries": {}, "load": {}, "clients": clients, "seconds": seconds,
            "copy": copy,
        }
        for name in QUERIES:
            text = named_query(name)
            fresh = first_seen(text)
            calls = {
                "local": in_process_call(in_process, text),
                "serve": http_call(session, f"{theirs}/query", same(text)),
                "ours": http_call(session, f"{ours}/sparql", same(text)),
                "ours_first": http_call(session, f"{ours}/sparql", fresh),
                "ours_disk": http_call(session, f"{ours_disk}/sparql", same(text)),
            }
            rows = check_same_answers(calls, name)
            spent = interleaved(calls, runs)
            results["queries"][name] = {target: {"p50": statistics.median(v), "p95": percentile(v, 0.95)}
                                        for target, v in spent.items()}
            results["queries"][name]["rows"] = rows
        for label, url, texts in (("oxigraph serve", f"{theirs}/query", None), ("ours", f"{ours}/sparql", None),
                                  ("ours, first-seen queries", f"{ours}/sparql", "fresh")):
            rps, p95, errors = load_test(url, clients, seconds, fresh=texts == "fresh")
            results["load"][label] = {"rps": rps, "p95": p95, "errors": errors}
        return results


def report(results: dict[str, Any]) -> None:
    q = results["queries"]
    print(f"# {results['when']} | {results['cores']} cores | memory {results['memory']} | {results['quads']:,} quads "
          f"(default data) | {results['runs']} runs per query and target, taking turns, after one warm-up")
    print("# every side answers from the same triples (our public view's default graph), and the answers were")
    print("# compared equal before timing; every query of ours runs in a query worker under the timeout;")
    print("# in-process and oxigraph serve read RocksDB folders; ours = from the in-memory copy of the store")
    print("# version (MK_MEMORY_QUADS), the same text each time; first-seen = a new text each time (a numbered")
    print("# comment); disk = a second server of ours with MK_MEMORY_QUADS=0")
    print(f"{'query':<28} {'in-process':>13} {'oxigraph serve':>15} {'ours':>13} {'first-seen':>13} {'disk':>13} "
          f"{'ours/serve':>11} {'first-seen/serve':>17} {'disk/serve':>11}   (p50/p95 ms)")
    for name, x in q.items():
        print(f"{name:<28} {_pair(x['local']):>13} {_pair(x['serve']):>15} {_pair(x['ours']):>13} "
              f"{_pair(x['ours_first']):>13} {_pair(x['ours_disk']):>13} {_ratio(x, 'ours'):>10.2f}x "
              f"{_ratio(x, 'ours_first'):>16.2f}x {_ratio(x, 'ours_disk'):>10.2f}x")
    print(f"{'median of ratios':<28} {'':>13} {'':>15} {'':>13} {'':>13} {'':>13} "
          f"{statistics.median(_ratio(x, 'ours') for x in q.values()):>10.2f}x "
          f"{statistics.median(_ratio(x, 'ours_first') for x in q.values()):>16.2f}x "
          f"{statistics.median(_ratio(x, 'ours_disk') for x in q.values()):>10.2f}x")
    copy = results["copy"]
    print(f"# a query worker's in-memory copy of the public view ({copy['quads']:,} quads): made in "
          f"{copy['seconds'] * 1000:.0f} ms, resident memory +{copy['mib']:.1f} MiB "
          f"({copy['mib'] * 2**20 / max(copy['quads'], 1):.0f} bytes a quad)")
    print(f"\n# load: {results['clients']} concurrent clients for {results['seconds']:g} s each, the five queries "
          "in turn (loopback)")
    for label, load in results["load"].items():
        print(f"{label:<28} {load['rps']:8.0f} requests/s   p95 {load['p95']:6.1f} ms   5xx: {load['errors']}")


def _ratio(x: dict[str, dict[str, float]], target: str) -> float:
    return x[target]["p50"] / x["serve"]["p50"]


def _pair(values: dict[str, float]) -> str:
    return f"{values['p50']:.2f}/{values['p95']:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200, help="timed runs per query and target (default 200)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients in the load test (default 8)")
    parser.add_argument("--seconds", type=float, default=10, help="load-test duration per target (default 10)")
    parser.add_argument("--json", type=Path, help="also write the results to this file as JSON")
    args = parser.parse_args(argv)
    os.chdir(REPO_ROOT)
    results = measure(args.runs, args.clients, args.seconds)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
