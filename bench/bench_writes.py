"""Write latency (issue #14): small admin writes to our server against `oxigraph serve`, on the same
data, in one run.

Sides, both on a free loopback port, loaded with the same quads:
  ours            gunicorn with web/gunicorn_conf.py as `make run` starts it (tests.conftest.start_server:
                  MK_STORE_PATH in a temporary folder, MK_ADMIN_TOKENS set, MK_PRELOAD=0, workers and
                  threads from the MK_* settings), writes with `Authorization: Bearer <admin token>`
  oxigraph serve  the `oxigraph` binary of the PyPI package (bench.bench_graph.oxigraph_server)

Workload, the same on both sides, into <g>: the largest public data graph of the built store (declared
public by kg/build.py, so every write changes what the public reads too): one untimed warm-up round,
then --writes writes in a cycle of three:
  INSERT DATA { GRAPH <g> { 3 new triples } }   SPARQL Update, application/sparql-update
  DELETE DATA { GRAPH <g> { those 3 } }         SPARQL Update
  POST 3 new triples as Turtle                   Graph Store Protocol (?graph=<g>)
The sides take turns on every write (alternating who goes first). A write's time is its HTTP round
trip; right after it, an ASK on the same side must show it (present after an insert or a POST, gone
after a delete; ours is asked with the admin token and as the public). A side that does not show its
write, or answers a write with an error, stops the run with exit 1: the comparison is of the same work.

Size growth: the same on the default data and on bench_graph's generated ~200k-quad graph (its seeded
records written as YAML data files; not with --quick), each built with `python -m kg build` into a
temporary MK_STORE_PATH (its write journal and search index there too). `oxigraph serve` gets every
named graph of that built store.

--protocol-tests also times the W3C part of tests/test_sparql_protocol.py (its test_w3c_* tests,
which start our server themselves) as one pytest subprocess.

Usage (from the repository root):
  .venv/bin/python bench/bench_writes.py [--quick] [--writes 30] [--protocol-tests] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import requests
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/bench_writes.py` puts bench/, not the repository, on the path
    sys.path.insert(0, str(REPO_ROOT))

from bench import bench_graph  # noqa: E402
from bench.bench_http import fill_oxigraph_serve, percentile  # noqa: E402
from config import load_settings  # noqa: E402
from kg.access import INTERNAL, read_policy  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402
from ontology import MK  # noqa: E402
from tests.conftest import start_server, stop_server  # noqa: E402

UPDATE = "application/sparql-update"
JSON = "application/sparql-results+json"
WRITE_TIMEOUT_S = 300  # one write on the 200k graph: generous, a hung server still ends the run
KINDS = ("INSERT DATA", "DELETE DATA", "GSP POST")
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DATA_GRAPH = ox.NamedNode(str(MK.DataGraph))


class BenchFailure(Exception):
    """A side answered a write with an error, or does not show a write it accepted."""


# --- the two sides -------------------------------------------------------------------------------

@dataclass
class Side:
    """One server: where it takes updates, Graph Store POSTs and queries, and how it is asked."""

    name: str
    update_url: str
    gsp_url: str
    query_url: str
    auth: dict[str, str]
    readers: dict[str, dict[str, str]]  # label -> headers of the ASKs that must see every write
    session: requests.Session = field(default_factory=requests.Session)

    def update(self, text: str) -> None:
        response = self.session.post(self.update_url, data=text.encode(), timeout=WRITE_TIMEOUT_S,
                                     headers={**self.auth, "Content-Type": UPDATE})
        self._check(response, f"SPARQL update {' '.join(text.split())[:120]}")

    def gsp_post(self, graph: str, turtle: str) -> None:
        response = self.session.post(self.gsp_url, params={"graph": graph}, data=turtle.encode(),
                                     timeout=WRITE_TIMEOUT_S, headers={**self.auth, "Content-Type": "text/turtle"})
        self._check(response, f"Graph Store POST to {graph}")

    def ask(self, text: str, headers: dict[str, str]) -> bool:
        response = self.session.post(self.query_url, data={"query": text}, timeout=60,
                                     headers={**headers, "Accept": JSON})
        self._check(response, f"ASK {' '.join(text.split())[:120]}")
        return bool(response.json()["boolean"])

    def quads_in(self, graph: str) -> int:
        """How many quads the graph holds on this side (read as the side's writer)."""
        response = self.session.post(self.query_url, timeout=60, headers={**self.auth, "Accept": JSON},
                                     data={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"})
        self._check(response, f"the quads of <{graph}>")
        return int(response.json()["results"]["bindings"][0]["n"]["value"])

    def _check(self, response: requests.Response, what: str) -> None:
        if not response.ok:
            raise BenchFailure(f"{self.name}: {what} answered {response.status_code}: {response.text[:500]}")


def ours_side(url: str, token: str) -> Side:
    auth = {"Authorization": f"Bearer {token}"}
    return Side("ours", f"{url}/sparql", f"{url}/rdf-graph-store", f"{url}/sparql", auth,
                {"with the admin token": auth, "as the public": {}})


def serve_side(url: str) -> Side:
    return Side("oxigraph serve", f"{url}/update", f"{url}/store", f"{url}/query", {}, {"": {}})


# --- the workload --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Write:
    kind: str
    apply: Callable[[Side], None]
    check: str  # an ASK that answers `expected` once the write is visible
    expected: bool


def triples(base: str, tag: str, i: int) -> str:
    subject = f"<{base}bench-writes/{tag}-{i}>"
    return (f'{subject} <{RDFS}label> "bench write {tag} {i}" .\n'
            f'{subject} <{RDFS}comment> "written by bench/bench_writes.py; not real" .\n'
            f"{subject} <http://www.w3.org/1999/02/22-rdf-syntax-ns#value> {i} .\n")


def workload(base: str, graph: str, tag: str, count: int) -> list[Write]:
    """`count` writes: INSERT DATA of 3 new triples, DELETE DATA of those, a GSP POST of 3 new ones, ..."""
    writes = []
    for i in range(count):
        kind = KINDS[i % 3]
        data = triples(base, tag, i - 1 if kind == "DELETE DATA" else i)
        lines = [line.rstrip(" .") for line in data.splitlines()]
        all_there = f"ASK {{ GRAPH <{graph}> {{ {' . '.join(lines)} }} }}"
        any_there = "ASK { " + " UNION ".join(f"{{ GRAPH <{graph}> {{ {line} }} }}" for line in lines) + " }"
        if kind == "GSP POST":
            writes.append(Write(kind, lambda side, d=data: side.gsp_post(graph, d), all_there, True))
        else:
            text = f"{kind} {{ GRAPH <{graph}> {{ {data}}} }}"
            writes.append(Write(kind, lambda side, t=text: side.update(t), any_there if kind == "DELETE DATA" else all_there,
                                kind == "INSERT DATA"))
    return writes


def verify(side: Side, write: Write, which: str) -> None:
    for label, headers in side.readers.items():
        if side.ask(write.check, headers) != write.expected:
            shown = "still shows" if not write.expected else "does not show"
            raise BenchFailure(f"{side.name} {shown} {which} ({write.kind}) right after it answered"
                               f"{' ' + label if label else ''}: {write.check}")


def run_writes(sides: list[Side], base: str, graph: str, count: int) -> dict[str, dict[str, list[float]]]:
    """One untimed warm-up round, then `count` timed writes into `graph`, the sides taking turns; ms per side and kind."""
    for side in sides:
        for n, write in enumerate(workload(base, graph, "warm-up", 3)):
            write.apply(side)
            verify(side, write, f"warm-up write {n + 1}")
    spent: dict[str, dict[str, list[float]]] = {s.name: {kind: [] for kind in KINDS} for s in sides}
    for i, write in enumerate(workload(base, graph, f"run{time.time_ns()}", count)):
        for side in sides if i % 2 == 0 else reversed(sides):
            started = time.perf_counter()
            write.apply(side)
            spent[side.name][write.kind].append((time.perf_counter() - started) * 1000)
            verify(side, write, f"timed write {i + 1}")
    return spent


# --- the data and the servers --------------------------------------------------------------------

def isolated(folder: Path) -> dict[str, str]:
    """Settings that keep the store, its write journal and the search index in the temporary `folder`
    (never the checkout's .build/, whatever the environment says)."""
    return {"MK_STORE": "oxigraph", "MK_STORE_PATH": str(folder / "store"),
            "MK_JOURNAL_PATH": str(folder / "store.journal.jsonl"), "MK_INDEX_PATH": str(folder / "index")}


def build_store(folder: Path, data_dirs: tuple[Path, ...] | None) -> Path:
    """`python -m kg build` into folder/store, from `data_dirs` (None: the configured data, data/)."""
    env = {**os.environ, **isolated(folder)}
    if data_dirs is not None:
        env["MK_DATA_DIRS"] = os.pathsep.join(str(d) for d in data_dirs)
    proc = subprocess.run([sys.executable, "-m", "kg", "build"], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        raise BenchFailure(f"python -m kg build failed (exit {proc.returncode}): {(proc.stderr or proc.stdout)[-2000:]}")
    return folder / "store"


def default_data(folder: Path) -> tuple[Path, ...] | None:
    return None


def generated_data(folder: Path) -> tuple[Path, ...]:
    """bench_graph's seeded ~200k-quad dataset (its full scale), written as YAML data files to `folder`/data."""
    target = folder / "data"
    target.mkdir()
    files = bench_graph.synthetic_files(bench_graph.FULL, random.Random(bench_graph.SEED))
    for file_name, (type_name, records) in files.items():
        doc = {"type": type_name, "visibility": "public", "records": records}
        text = yaml.dump(doc, Dumper=bench_graph.YAML_DUMPER, sort_keys=False)
        (target / file_name).write_text(text, encoding="utf-8")
    return (target,)


DATASETS: dict[str, Callable[[Path], tuple[Path, ...] | None]] = {"default": default_data, "gen-200k": generated_data}


def named_graph_quads(store_path: Path) -> tuple[list[ox.Quad], str, int]:
    """Every named graph of the built store as written (what `oxigraph serve` gets: its union default
    graph then answers like our views), and the graph the writes go to with its size: the largest public
    data graph (declared by kg/build.py), so every write changes what the public reads too, and a
    write whose cost grows with its graph shows it."""
    handle = OxigraphStore(store_path).view(INTERNAL).handle()
    quads = [q for q in handle.quads_for_pattern(None, None, None, None) if not isinstance(q.graph_name, ox.DefaultGraph)]
    policy = read_policy(handle)
    data_graphs = {q.subject.value for q in quads if q.predicate == RDF_TYPE and q.object == DATA_GRAPH}
    sizes = Counter(q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode))
    public = sorted((data_graphs & policy.public) - policy.editions, key=lambda g: (-sizes[g], g))
    if not public:
        raise BenchFailure(f"the store at {store_path} has no public data graph to write to")
    return quads, public[0], sizes[public[0]]


@contextmanager
def both_sides(folder: Path, data: Callable[[Path], tuple[Path, ...] | None],
               binary: str) -> Iterator[tuple[list[Side], int, str, int]]:
    """Our server on a store built in `folder` from `data`, and `oxigraph serve` holding the same
    quads; both are always stopped."""
    store_path = build_store(folder, data(folder))
    quads, graph, graph_size = named_graph_quads(store_path)
    settings = load_settings()
    token = f"bench-writes-{secrets.token_hex(16)}"
    with ExitStack() as stack:
        proc, ours = start_server(store_path, folder / "server.log", **isolated(folder), MK_ADMIN_TOKENS=token,
                                  MK_WRITE_TOKEN="", MK_PRELOAD="0", MK_WORKERS=str(settings.workers),
                                  MK_THREADS=str(settings.threads))
        stack.callback(stop_server, proc)
        (folder / "serve").mkdir()
        theirs = stack.enter_context(bench_graph.oxigraph_server(binary, folder / "serve"))
        fill_oxigraph_serve(theirs, quads)
        sides = [ours_side(ours, token), serve_side(theirs)]
        held = {side.name: side.quads_in(graph) for side in sides}
        if set(held.values()) != {graph_size}:  # the same graph on both sides, before anything is timed
            raise BenchFailure(f"the sides do not hold the same <{graph}> ({graph_size:,} quads): {held}")
        yield sides, len(quads), graph, graph_size


def measure(datasets: list[str], count: int) -> dict[str, Any]:
    binary = bench_graph.required_oxigraph_binary()
    base = load_settings().base_uri
    results: dict[str, Any] = {
        "when": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", "cores": os.cpu_count(),
        "memory": bench_graph.total_memory(), "pyoxigraph": ox.__version__, "writes": count, "datasets": {},
    }
    for name in datasets:
        print(f"  {name}: building the store and starting both servers", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="mk-bench-writes-") as tmp, \
                both_sides(Path(tmp), DATASETS[name], binary) as (sides, quads, graph, graph_size):
            started = time.perf_counter()
            spent = run_writes(sides, base, graph, count)
            print(f"  {name}: {quads:,} quads, {count} writes per side in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr, flush=True)
        sides_summary = {side: summary(kinds) for side, kinds in spent.items()}
        results["datasets"][name] = {"quads": quads, "graph": graph, "graph_quads": graph_size, "sides": sides_summary}
    return results


def summary(kinds: dict[str, list[float]]) -> dict[str, Any]:
    every = [ms for values in kinds.values() for ms in values]
    return {"median": statistics.median(every), "p90": percentile(every, 0.9), "max": max(every),
            "kinds": {kind: statistics.median(values) for kind, values in kinds.items() if values}, "ms": kinds}


# --- the W3C protocol tests ----------------------------------------------------------------------

PROTOCOL_TESTS = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_sparql_protocol.py",
                  "-k", "test_w3c_"]  # the W3C part: test_w3c_* (one test per manifest case)


def protocol_tests() -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run(PROTOCOL_TESTS, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return {"wall_s": wall, "returncode": proc.returncode, "summary": lines[-1] if lines else proc.stderr[-300:]}


# --- the report ----------------------------------------------------------------------------------

def report(results: dict[str, Any]) -> None:
    count = results["writes"]
    print(f"# {results['when']} | {results['cores']} cores | memory {results['memory']} | pyoxigraph "
          f"{results['pyoxigraph']} | {count} timed writes per side after 3 untimed warm-up writes")
    print("# writes in turn: INSERT DATA of 3 new triples, DELETE DATA of them, GSP POST of 3 new triples, "
          "into an existing public data graph;")
    print("# the sides take turns on every write; each write was seen (ASK) right after on its side "
          "(ours: with the admin token and as the public)")
    for name, data in results["datasets"].items():
        sides = data["sides"]
        ours, serve = sides["ours"], sides["oxigraph serve"]
        print(f"\n## {name}: {data['quads']:,} quads in the store; writes into <{data['graph']}> "
              f"({data['graph_quads']:,} quads), the largest public data graph")
        print(f"{'side':<16} {'median ms':>10} {'p90 ms':>10} {'max ms':>10}   "
              f"median ms per kind ({' / '.join(KINDS)})")
        for label, x in sides.items():
            per_kind = " / ".join(f"{x['kinds'][k]:.1f}" for k in KINDS if k in x["kinds"])
            print(f"{label:<16} {x['median']:>10.1f} {x['p90']:>10.1f} {x['max']:>10.1f}   {per_kind}")
        print(f"{'ours / serve':<16} {ours['median'] / serve['median']:>9.1f}x {ours['p90'] / serve['p90']:>9.1f}x "
              f"{ours['max'] / serve['max']:>9.1f}x")
    print("\n## size growth (median write)")
    print("| dataset | quads in store | quads in the written graph | ours ms | oxigraph serve ms | ours / serve |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, data in results["datasets"].items():
        ours, serve = data["sides"]["ours"]["median"], data["sides"]["oxigraph serve"]["median"]
        print(f"| {name} | {data['quads']:,} | {data['graph_quads']:,} | {ours:.1f} | {serve:.1f} | {ours / serve:.1f}x |")
    if "protocol_tests" in results:
        p = results["protocol_tests"]
        state = "passed" if p["returncode"] == 0 else f"FAILED (exit {p['returncode']})"
        print(f"\n# W3C protocol tests ({' '.join(PROTOCOL_TESTS[2:])}): {p['wall_s']:.1f} s wall, {state}: "
              f"{p['summary']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=None, help="timed writes per side and dataset (default 30, "
                                                                 "--quick 5)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5 writes, default data only")
    parser.add_argument("--protocol-tests", action="store_true",
                        help="also time the W3C part of tests/test_sparql_protocol.py (a while)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the numbers as JSON")
    args = parser.parse_args(argv)
    count = args.writes or (5 if args.quick else 30)
    if count < 1:
        parser.error("--writes must be at least 1")
    os.chdir(REPO_ROOT)
    try:
        results = measure(["default"] if args.quick else ["default", "gen-200k"], count)
    except BenchFailure as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    if args.protocol_tests:
        results["protocol_tests"] = protocol_tests()
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if results.get("protocol_tests", {}).get("returncode", 0) == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
