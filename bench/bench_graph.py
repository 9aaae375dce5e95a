"""Benchmark of the graph layer: time load and five representative queries, per store.

Two datasets go through the real build pipeline (read_files -> compile_dataset, SHACL included):
the default graph (data/) and a generated graph of about 200k triples (about 20k with --quick).
Each is loaded into every store and queried:

  memory              kg.store.MemoryStore (in-process pyoxigraph, in memory)
  oxigraph-embedded   kg.store.OxigraphStore (in-process pyoxigraph on RocksDB, in a temp folder)
  oxigraph-remote     kg.remote.RemoteStore against a local `oxigraph serve` over HTTP
  rdflib              rdflib.Dataset(default_union=True) with rdflib's own SPARQL engine (the baseline)

Load is replace_all (rdflib: parsing N-Quads). Each query runs once to warm up, then up to
--repeat times; a step stops repeating once it has spent --budget-s seconds, so the slow rdflib
baseline gets a few runs only. The table shows the median in milliseconds and the ratio to
oxigraph-embedded on the same dataset and step.

Usage (from the repository root):
  .venv/bin/python bench/bench_graph.py [--quick] [--repeat N] [--budget-s S] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from unittest.mock import patch

import pyoxigraph as ox
import rdflib
import requests
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/bench_graph.py` puts bench/, not the repository, on the path
    sys.path.insert(0, str(REPO_ROOT))

import kg.build as kg_build  # noqa: E402
from config import load_settings  # noqa: E402
from kg.build import compile_dataset, read_files  # noqa: E402
from kg.errors import KgError  # noqa: E402
from kg.queries import named_query  # noqa: E402
from kg.remote import RemoteStore  # noqa: E402
from kg.store import MemoryStore, OxigraphStore, Store  # noqa: E402

REFERENCE_STORE = "oxigraph-embedded"
SEED = 20240917
NAMED_QUERIES = ("class_counts", "mjps_per_theme", "mjps_per_cluster", "missions_without_programme")
ORGANISATION_REACH = """\
# Organisations by the number of MJPs they lead or join, with their leads and the clusters covered.
PREFIX mk: <https://w3id.org/missiekompas/ontology#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?organisation (SAMPLE(?name) AS ?label) (COUNT(DISTINCT ?programme) AS ?programmes)
       (COUNT(DISTINCT ?led) AS ?leads) (COUNT(DISTINCT ?cluster) AS ?clusters)
WHERE {
  ?membership org:member ?organisation ; org:organization ?programme .
  ?programme a mk:MJP .
  ?organisation skos:prefLabel ?name .
  OPTIONAL { ?membership org:role mk:LeadRole ; org:organization ?led }
  OPTIONAL { ?programme mk:cluster ?cluster }
}
GROUP BY ?organisation
ORDER BY DESC(?programmes) ?organisation
LIMIT 20
"""


def queries() -> dict[str, str]:
    """The five timed queries: four named queries of kg/queries plus one join-heavy query."""
    found = {name: named_query(name) for name in NAMED_QUERIES}
    found["organisation_reach (join)"] = ORGANISATION_REACH
    return found


# ---------------------------------------------------------------------------------------------
# Results and timing


@dataclass
class Result:
    """One timed step of one store on one dataset; times in milliseconds."""

    dataset: str
    store: str
    step: str
    times_ms: list[float]
    rows: int | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)


def measure(fn: Callable[[], int | None], runs: int, budget_s: float, *, warm_up: bool) -> tuple[list[float], int | None]:
    """Run fn up to `runs` times (after one untimed warm-up if asked), stopping once `budget_s` is spent."""
    if warm_up:
        fn()
    times: list[float] = []
    rows = None
    for _ in range(max(runs, 1)):
        started = time.perf_counter()
        rows = fn()
        times.append((time.perf_counter() - started) * 1000)
        if sum(times) / 1000 >= budget_s:
            break
    return times, rows


@contextmanager
def timing(module: Any, attr: str, step: str, spent: dict[str, float]) -> Iterator[None]:
    """Record how long each call of module.attr takes, under `step`, while the block runs."""
    original = getattr(module, attr)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[step] = (time.perf_counter() - started) * 1000

    with patch.object(module, attr, timed):
        yield


# ---------------------------------------------------------------------------------------------
# Datasets, built through the same pipeline as `python -m kg build`


@dataclass
class Dataset:
    name: str
    quads: list[ox.Quad]
    records: int
    pipeline_ms: dict[str, float] = field(default_factory=dict)


def compile_timed(name: str, data_dirs: tuple[Path, ...], base: str) -> Dataset:
    """read_files + compile_dataset, with reading, conversion and SHACL validation timed apart."""
    spent: dict[str, float] = {}
    started = time.perf_counter()
    files = read_files(data_dirs)
    spent["read files"] = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    with timing(kg_build, "convert_files", "convert", spent), \
            timing(kg_build, "validate_conversion", "validate (pyshacl)", spent):
        compiled = compile_dataset(files, base)
    spent["compile total"] = (time.perf_counter() - started) * 1000
    return Dataset(name, compiled.quads, compiled.records, spent)


def default_dataset(base: str) -> Dataset | None:
    """The default graph of data/; None (with the reason printed) when it does not validate yet."""
    settings = load_settings()
    try:
        return compile_timed("default", settings.data_dirs, base)
    except KgError as exc:
        print(f"! default graph skipped, it does not build: {exc}", file=sys.stderr)
        return None


@dataclass(frozen=True)
class Scale:
    """How many records of each type the generated graph holds."""

    clusters: int = 8
    themes: int = 9
    missions: int = 60
    mmips: int = 40
    organisations: int = 800
    questions: int = 3000
    programmes: int = 5600


FULL = Scale()
QUICK = Scale(organisations=200, questions=300, programmes=600)


def generated_dataset(scale: Scale, base: str, name: str) -> Dataset:
    """Write synthetic YAML data files to a temp folder and build them like real data."""
    with tempfile.TemporaryDirectory(prefix="mk-bench-data-") as tmp:
        folder = Path(tmp)
        for file_name, (type_name, records) in synthetic_files(scale, random.Random(SEED)).items():
            doc = {"type": type_name, "visibility": "public", "records": records}
            (folder / file_name).write_text(yaml.dump(doc, Dumper=YAML_DUMPER, sort_keys=False), encoding="utf-8")
        return compile_timed(name, (folder,), base)


YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
SOURCE_ID = "bench-synthetic"
CONFIDENCES = ("high", "medium", "low")
ORG_KINDS = ("university", "research_institute", "company", "government", "foundation", "network", "other")


def record(rng: random.Random, prefix: str, i: int, *, bilingual: bool = False) -> dict[str, Any]:
    """The fields every sourced record has.

    Records are not marked `sample: true`: with thousands of sample programmes the SHACL-SPARQL
    rule mksh:SampleMembership becomes quadratic (see bench/README.md). The data lives in a temp
    folder only and its descriptions say it is not real.
    """
    words = f"{prefix} {i}"
    label: Any = {"nl": f"Synthetisch {words}", "en": f"Synthetic {words}"} if bilingual else f"Synthetic {words}"
    return {
        "id": f"{prefix}-{i:05d}",
        "label": label,
        "description": f"Generated {words} for the benchmark; not real.",
        "source": f"{SOURCE_ID}#{prefix}",
        "confidence": rng.choice(CONFIDENCES),
    }


def synthetic_files(scale: Scale, rng: random.Random) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """File name -> (entity type, records) of a consistent synthetic dataset."""
    ids = {
        kind: [f"{kind}-{i:05d}" for i in range(count)]
        for kind, count in (("cluster", scale.clusters), ("theme", scale.themes), ("mission", scale.missions),
                            ("mmip", scale.mmips), ("organisation", scale.organisations),
                            ("question", scale.questions))
    }
    source = {"id": SOURCE_ID, "label": "Synthetic benchmark data", "title": "Synthetic benchmark data",
              "description": "Records generated by bench/bench_graph.py; none of them is real."}
    return {
        "sources.yaml": ("source", [source]),
        "clusters.yaml": ("cluster", [record(rng, "cluster", i, bilingual=True) for i in range(scale.clusters)]),
        "themes.yaml": ("theme", [record(rng, "theme", i, bilingual=True) for i in range(scale.themes)]),
        "missions.yaml": ("mission", [mission(rng, i, ids) for i in range(scale.missions)]),
        "mmips.yaml": ("mmip", [mmip(rng, i, ids) for i in range(scale.mmips)]),
        "organisations.yaml": ("organisation", [organisation(rng, i) for i in range(scale.organisations)]),
        "questions.yaml": ("question", [question(rng, i, ids) for i in range(scale.questions)]),
        "programmes.yaml": ("programme", [programme(rng, i, ids) for i in range(scale.programmes)]),
    }


def some(rng: random.Random, pool: list[str], low: int, high: int) -> list[str]:
    return rng.sample(pool, min(len(pool), rng.randint(low, high)))


def mission(rng: random.Random, i: int, ids: dict[str, list[str]]) -> dict[str, Any]:
    return {**record(rng, "mission", i), "themes": some(rng, ids["theme"], 1, 2), "generation": "2024"}


def mmip(rng: random.Random, i: int, ids: dict[str, list[str]]) -> dict[str, Any]:
    # MMIPs serve the first 52 missions only; programmes below reach the first 48 directly,
    # so missions_without_programme has a few answers.
    return {**record(rng, "mmip", i), "missions": some(rng, ids["mission"][:52], 1, 2)}


def organisation(rng: random.Random, i: int) -> dict[str, Any]:
    return {**record(rng, "organisation", i), "kind": rng.choice(ORG_KINDS)}


def question(rng: random.Random, i: int, ids: dict[str, list[str]]) -> dict[str, Any]:
    return {
        **record(rng, "question", i),
        "number": i + 1,
        "clusters": some(rng, ids["cluster"], 1, 2),
        "themes": some(rng, ids["theme"], 0, 1),
        "missions": some(rng, ids["mission"], 0, 1),
    }


def programme(rng: random.Random, i: int, ids: dict[str, list[str]]) -> dict[str, Any]:
    lead, *partners = rng.sample(ids["organisation"], rng.randint(3, 5))
    total = rng.randrange(1_000_000, 50_000_000, 1000)
    public = rng.randrange(0, total, 1000)
    return {
        **record(rng, "programme", i),
        "kind": "mjp",
        "clusters": some(rng, ids["cluster"], 1, 3),
        "themes": some(rng, ids["theme"], 1, 2),
        "missions": some(rng, ids["mission"][:48], 0, 1),
        "mmips": some(rng, ids["mmip"], 0, 1),
        "questions": some(rng, ids["question"], 1, 2),
        "lead": lead,
        "partners": partners,
        "budget": {"total_eur": total, "public_eur": public, "private_eur": total - public},
    }


# ---------------------------------------------------------------------------------------------
# Stores


class Backend(Protocol):
    name: str

    def prepare(self, quads: list[ox.Quad]) -> Any:
        """What load() takes, made outside the timing."""

    def load(self, payload: Any) -> None: ...

    def rows(self, sparql: str) -> int: ...


class KgBackend:
    """A kg Store: load is replace_all, a query is select() (rows converted to Python values)."""

    def __init__(self, name: str, store: Store) -> None:
        self.name, self.store = name, store

    def prepare(self, quads: list[ox.Quad]) -> list[ox.Quad]:
        return quads

    def load(self, payload: list[ox.Quad]) -> None:
        self.store.replace_all(payload)

    def rows(self, sparql: str) -> int:
        return len(self.store.select(sparql))


class RdflibBackend:
    """The baseline: an rdflib Dataset whose default graph is the union, parsed from N-Quads."""

    name = "rdflib"

    def __init__(self) -> None:
        self.dataset = rdflib.Dataset(default_union=True)

    def prepare(self, quads: list[ox.Quad]) -> bytes:
        return ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""

    def load(self, payload: bytes) -> None:
        dataset = rdflib.Dataset(default_union=True)
        dataset.parse(data=payload, format="nquads")
        self.dataset = dataset

    def rows(self, sparql: str) -> int:
        return len(list(self.dataset.query(sparql)))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def oxigraph_binary() -> str | None:
    return shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")


def required_oxigraph_binary() -> str:
    """The `oxigraph` binary, or the run stops saying where it comes from."""
    binary = oxigraph_binary()
    if binary is None:
        raise SystemExit("the oxigraph binary (PyPI package 'oxigraph') is needed")
    return binary


@contextmanager
def oxigraph_server(binary: str, folder: Path) -> Iterator[str]:
    """`oxigraph serve` on a free loopback port, with the union default graph; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [binary, "serve", "--location", str(folder / "data"), "--bind", f"127.0.0.1:{port}",
             "--union-default-graph"],
            stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(process, url, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_up(process: subprocess.Popen[bytes], url: str, log_path: Path, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"oxigraph serve exited ({process.returncode}): {log_path.read_text()[-500:]}")
        try:
            if requests.get(f"{url}/query", params={"query": "ASK {}"}, timeout=1).ok:
                return
        except requests.ConnectionError:
            pass  # not listening yet
        time.sleep(0.1)
    raise RuntimeError(f"oxigraph serve did not answer on {url} within {timeout_s:g} s")


# ---------------------------------------------------------------------------------------------
# Running


def bench_backend(backend: Backend, dataset: Dataset, repeat: int, budget_s: float) -> list[Result]:
    """Load the dataset into one store (timed once), then time each query."""
    payload = backend.prepare(dataset.quads)
    times, _ = measure(lambda: backend.load(payload), 1, budget_s, warm_up=False)
    results = [Result(dataset.name, backend.name, "load", times)]
    for step, sparql in queries().items():
        times, rows = measure(lambda q=sparql: backend.rows(q), repeat, budget_s, warm_up=True)
        results.append(Result(dataset.name, backend.name, step, times, rows))
    print(f"  {dataset.name:<10} {backend.name:<18} done ({sum(sum(r.times_ms) for r in results) / 1000:.1f} s timed)",
          file=sys.stderr)
    return results


def pipeline_results(dataset: Dataset) -> list[Result]:
    return [Result(dataset.name, "pipeline", step, [ms]) for step, ms in dataset.pipeline_ms.items()]


def make_backends(folder: Path, base: str, server_url: str | None) -> list[Backend]:
    backends: list[Backend] = [
        KgBackend("memory", MemoryStore()),
        KgBackend(REFERENCE_STORE, OxigraphStore(folder / "embedded" / "store", create=True)),
    ]
    if server_url:
        remote = RemoteStore(f"{server_url}/query", f"{server_url}/update", f"{base}graph/", timeout_s=600)
        backends.append(KgBackend("oxigraph-remote", remote))
    backends.append(RdflibBackend())
    return backends


def run_all(datasets: list[Dataset], base: str, repeat: int, budget_s: float) -> list[Result]:
    """Every dataset on every store; the remote server lives for the whole run and is always stopped."""
    results = [r for d in datasets for r in pipeline_results(d)]
    binary = oxigraph_binary()
    with tempfile.TemporaryDirectory(prefix="mk-bench-stores-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        server_url = None
        if binary:
            (folder / "server").mkdir()
            server_url = stack.enter_context(oxigraph_server(binary, folder / "server"))
        else:
            print("! no oxigraph binary found: the oxigraph-remote store is skipped", file=sys.stderr)
        backends = make_backends(folder, base, server_url)
        for dataset in datasets:
            for backend in backends:
                results += bench_backend(backend, dataset, repeat, budget_s)
    return results


# ---------------------------------------------------------------------------------------------
# Report


def total_memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 ** 2:.1f} GiB"
    except OSError:
        pass  # not Linux
    return "unknown"


def environment() -> dict[str, Any]:
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "memory": total_memory(),
        "pyoxigraph": ox.__version__,
        "rdflib": rdflib.__version__,
    }


def ratio(result: Result, by_key: dict[tuple[str, str, str], Result]) -> str:
    reference = by_key.get((result.dataset, REFERENCE_STORE, result.step))
    if result.store == "pipeline" or reference is None or reference.median_ms == 0:
        return ""
    return f"{result.median_ms / reference.median_ms:.2f}x"


def table(results: list[Result], env: dict[str, Any], datasets: list[Dataset]) -> str:
    by_key = {(r.dataset, r.store, r.step): r for r in results}
    lines = [
        f"# {env['date']} | Python {env['python']} | os.cpu_count()={env['cpu_count']} | memory {env['memory']}"
        f" | pyoxigraph {env['pyoxigraph']} | rdflib {env['rdflib']}",
        "# " + " | ".join(f"{d.name}: {len(d.quads):,} quads from {d.records:,} records" for d in datasets),
        f"{'dataset':<10} {'store':<18} {'step':<28} {'runs':>4} {'rows':>6} {'median ms':>11} {'x vs ' + REFERENCE_STORE:>22}",
    ]
    lines.append("-" * len(lines[-1]))
    for r in results:
        rows = "" if r.rows is None else str(r.rows)
        lines.append(f"{r.dataset:<10} {r.store:<18} {r.step:<28} {len(r.times_ms):>4} {rows:>6} "
                     f"{r.median_ms:>11.1f} {ratio(r, by_key):>22}")
    return "\n".join(lines)


def row_mismatches(results: list[Result]) -> list[str]:
    """Queries whose row count differs between stores: a sign that a store answers differently."""
    counts: dict[tuple[str, str], set[int]] = {}
    for r in results:
        if r.rows is not None:
            counts.setdefault((r.dataset, r.step), set()).add(r.rows)
    return [f"{d} / {step}: row counts {sorted(c)}" for (d, step), c in counts.items() if len(c) > 1]


def write_json(path: Path, env: dict[str, Any], datasets: list[Dataset], results: list[Result], wall_s: float) -> None:
    doc = {
        "environment": env,
        "wall_s": wall_s,
        "datasets": [{"name": d.name, "quads": len(d.quads), "records": d.records} for d in datasets],
        "results": [{**asdict(r), "median_ms": r.median_ms} for r in results],
    }
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a ~20k-triple generated graph instead of ~200k")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per query after the warm-up (default 5)")
    parser.add_argument("--budget-s", type=float, default=10.0,
                        help="stop repeating a step once it has spent this many seconds (default 10)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the raw numbers as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    base = load_settings().base_uri
    datasets = [d for d in (default_dataset(base),) if d is not None]
    scale, name = (QUICK, "gen-20k") if args.quick else (FULL, "gen-200k")
    datasets.append(generated_dataset(scale, base, name))
    print(f"  datasets ready: {', '.join(f'{d.name} {len(d.quads):,} quads' for d in datasets)}", file=sys.stderr)
    results = run_all(datasets, base, args.repeat, args.budget_s)
    env = environment()
    print(table(results, env, datasets))
    for problem in row_mismatches(results):
        print(f"! {problem}")
    wall_s = time.perf_counter() - started
    print(f"# total wall time {wall_s:.1f} s")
    if args.json:
        write_json(args.json, env, datasets, results, wall_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
