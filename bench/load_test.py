"""Bounded load test on loopback: a mix of SPARQL, entity pages, dumps, VoID, the match API, search and
pages against a gunicorn server started like `make run` (or a server you give with --url), for a fixed
time with a fixed number of clients. Reports requests/s, p50/p95/p99 per kind, the 5xx count (the goal
is zero) and the server's memory (RSS of gunicorn and its query workers) at the start, the peak and
the end.

Routes that do not answer 2xx in the warm-up (not there yet, or not set up) are skipped with a note.
Traffic goes to 127.0.0.1 only; every client stops at the deadline.

Usage (from the repository root):
  .venv/bin/python bench/load_test.py [--seconds 60] [--clients 8] [--url http://127.0.0.1:8000] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/load_test.py` puts bench/, not the repository, on the path
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_graph import total_memory  # noqa: E402
from config import load_settings  # noqa: E402
from kg.queries import named_query  # noqa: E402

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON = "application/sparql-results+json"
QUERIES = ("class_counts", "mjps_per_theme", "mjps_per_cluster", "missions_without_programme", "questions_per_cluster")
ENTITIES = ("programme/eccm", "cluster/digital-technologies", "mission/lwv-a-kringlooplandbouw")
PROPOSAL = ("Wij willen onderzoeken hoe restwarmte van datacenters en fabrieken een wijkwarmtenet op lage temperatuur "
            "kan voeden, met slimme meters, warmteopslag en compacte warmtepompen, samen met gemeenten en bewoners.")
SEARCHES = ("waterstof", "quantum sensors", "circulaire landbouw", "batterij opslag")
STABLE_GROWTH = 0.10  # memory counts as stable when the server ends the run less than 10% above its start


@dataclass(frozen=True)
class Kind:
    """One kind of request in the mix, with its share of the traffic."""

    name: str
    weight: int
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    json_body: dict[str, object] | None = None
    form: dict[str, str] | None = None
    variants: tuple[str, ...] = ()  # filled into the path's {} or the form's/JSON's text, in turn


def mix() -> list[Kind]:
    return [
        Kind("sparql", 30, "POST", "/sparql", {"Accept": JSON}, form={"query": "{}"},
             variants=tuple(named_query(n) for n in QUERIES)),
        Kind("entity page", 15, "GET", "/id/{}", {"Accept": HTML}, variants=ENTITIES),
        Kind("entity turtle", 5, "GET", "/id/{}", {"Accept": "text/turtle"}, variants=ENTITIES),
        Kind("dump", 3, "GET", "/dumps/missiekompas.ttl.gz"),
        Kind("void", 4, "GET", "/void", {"Accept": "text/turtle"}),
        Kind("home page", 8, "GET", "/", {"Accept": HTML}),
        Kind("browse page", 5, "GET", "/browse", {"Accept": HTML}),
        Kind("api match", 15, "POST", "/api/match", {"Accept": "application/json"}, json_body={"text": "{}", "top": 5},
             variants=(PROPOSAL,)),
        Kind("api search", 15, "GET", "/api/search?q={}", {"Accept": "application/json"}, variants=SEARCHES),
    ]


def send(session: requests.Session, base: str, kind: Kind, n: int, timeout_s: float) -> requests.Response:
    variant = kind.variants[n % len(kind.variants)] if kind.variants else ""
    path = kind.path.replace("{}", requests.utils.quote(variant)) if "{}" in kind.path and not kind.form else kind.path
    form = {k: v.replace("{}", variant) for k, v in kind.form.items()} if kind.form else None
    body = ({k: (v.replace("{}", variant) if isinstance(v, str) else v) for k, v in kind.json_body.items()}
            if kind.json_body else None)
    return session.request(kind.method, base + path, headers=kind.headers, data=form, json=body, timeout=timeout_s)


# --- the server and its memory -------------------------------------------------------------------

def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (gunicorn, its workers, their query workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_mib(root: int) -> float:
    total = 0
    for pid in process_tree(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass  # the process ended while we looked
    return total / 1024


@contextmanager
def own_server(folder: Path) -> Iterator[tuple[str, int]]:
    """gunicorn as `make run` starts it (workers, threads and limits from the MK_* settings), on the
    default data built into `folder`, with a copy of the built search index when there is one."""
    from kg.build import build
    from kg.cli import configured_store
    from tests.conftest import start_server, stop_server

    settings = load_settings()
    store_path, index_path = folder / "store", folder / "index"
    build(settings.data_dirs, settings.base_uri, configured_store(replace(settings, store_path=store_path), create=True))
    if settings.index_path.is_dir():
        shutil.copytree(settings.index_path, index_path)  # same data and model: loaded, not rebuilt
    env = {"MK_INDEX_PATH": str(index_path), "MK_WORKERS": str(settings.workers), "MK_THREADS": str(settings.threads),
           "MK_PRELOAD": "1" if settings.preload else "0",
           "MK_CLIENT_QUERIES": "64"}  # the simulated users all come from 127.0.0.1: no per-address cap
    proc, url = start_server(store_path, folder / "server.log", **env)
    try:
        yield url, proc.pid
    finally:
        stop_server(proc)


def server_pid(url: str) -> int | None:
    """The gunicorn master listening on the URL's port, when it runs on this machine (for its memory)."""
    port = urlsplit(url).port or 80
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                if int(parts[1].rsplit(":", 1)[1], 16) == port and parts[3] == "0A":  # LISTEN
                    inode = parts[9]
        except OSError:
            continue
    if inode is None:
        return None
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if any(os.readlink(fd) == f"socket:[{inode}]" for fd in (entry / "fd").iterdir()):
                    return int(entry.name)
            except OSError:
                continue
    return None


# --- the load ------------------------------------------------------------------------------------

@dataclass
class KindResult:
    name: str
    requests: int = 0
    errors_5xx: int = 0
    errors_4xx: int = 0
    failures: int = 0  # no answer at all (connection error, client timeout)
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    note: str = ""


@dataclass
class LoadResult:
    date: str
    machine: str
    url: str
    seconds: float
    clients: int
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors_5xx: int
    failures: int
    rss_start_mib: float | None
    rss_peak_mib: float | None
    rss_end_mib: float | None
    kinds: list[KindResult]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def warm_up(base: str, kinds: list[Kind]) -> tuple[list[Kind], dict[str, str]]:
    """Each kind once (a slow first answer loads the model or the index); those that fail are skipped."""
    session, usable, skipped = requests.Session(), [], {}
    for kind in kinds:
        try:
            response = send(session, base, kind, 0, timeout_s=300)
        except requests.RequestException as exc:
            skipped[kind.name] = f"skipped: {type(exc).__name__}"
            continue
        if response.ok:
            usable.append(kind)
        else:
            skipped[kind.name] = f"skipped: warm-up answered {response.status_code}"
    return usable, skipped


def settle(base: str, kinds: list[Kind], parallel: int, pid: int | None, rounds: int = 10) -> None:
    """Rounds of every kind `parallel` times at once, until no answer takes a second and the server's
    memory stops growing: then every gunicorn worker has loaded the model and the index (a worker
    only loads them on its first such request, and which worker accepts a request is up to chance)."""
    before = rss_mib(pid) if pid else 0.0

    def timed(pair: tuple[Kind, int]) -> float:
        started = time.perf_counter()
        send(requests.Session(), base, pair[0], pair[1], timeout_s=300)
        return time.perf_counter() - started

    with ThreadPoolExecutor(parallel) as pool:
        for _ in range(rounds):
            slowest = max(pool.map(timed, [(kind, n) for kind in kinds for n in range(parallel)]))
            after = rss_mib(pid) if pid else 0.0
            if slowest < 1.0 and after - before <= 0.02 * before:
                return
            before = after


def run_load(base: str, kinds: list[Kind], clients: int, seconds: float, seed: int = 7) -> tuple[dict[str, list], float]:
    """`clients` threads, each sending a seeded random mix until the deadline; (status, ms) per kind."""
    weights = [k.weight for k in kinds]
    deadline = time.monotonic() + seconds

    def client(number: int) -> dict[str, list[tuple[int, float]]]:
        rng, session, n = random.Random(seed + number), requests.Session(), number
        seen: dict[str, list[tuple[int, float]]] = {k.name: [] for k in kinds}
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            started = time.perf_counter()
            try:
                status = send(session, base, kind, n, timeout_s=max(5.0, deadline - time.monotonic() + 30)).status_code
            except requests.RequestException:
                status = 0
            seen[kind.name].append((status, (time.perf_counter() - started) * 1000))
            n += 1
        return seen

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        parts = list(pool.map(client, range(clients)))
    elapsed = time.monotonic() - started
    merged: dict[str, list] = {k.name: [] for k in kinds}
    for part in parts:
        for name, values in part.items():
            merged[name].extend(values)
    return merged, elapsed


def summarise(merged: dict[str, list], skipped: dict[str, str], all_kinds: list[Kind]) -> list[KindResult]:
    results = []
    for kind in all_kinds:
        if kind.name in skipped:
            results.append(KindResult(kind.name, note=skipped[kind.name]))
            continue
        values = merged.get(kind.name, [])
        ms = [t for _, t in values]
        results.append(KindResult(
            kind.name, len(values), sum(s >= 500 for s, _ in values), sum(400 <= s < 500 for s, _ in values),
            sum(s == 0 for s, _ in values), percentile(ms, 0.5), percentile(ms, 0.95), percentile(ms, 0.99)))
    return results


def run(url: str | None, clients: int, seconds: float) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="mk-load-") as tmp:
        if url is None:
            with own_server(Path(tmp)) as (base, pid):
                return measure(base, pid, clients, seconds)
        return measure(url.rstrip("/"), server_pid(url), clients, seconds)


def measure(base: str, pid: int | None, clients: int, seconds: float) -> LoadResult:
    kinds, skipped = warm_up(base, mix())
    if not kinds:
        raise SystemExit(f"no route answered at {base}: {skipped}")
    settle(base, kinds, max(clients, 2 * load_settings().workers), pid)
    rss_start = rss_mib(pid) if pid else None
    peak = [rss_start or 0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            peak.append(rss_mib(pid))  # type: ignore[arg-type]

    sampler = threading.Thread(target=sample, daemon=True)
    if pid:
        sampler.start()
    merged, elapsed = run_load(base, kinds, clients, seconds)
    stop.set()
    rss_end = rss_mib(pid) if pid else None
    everything = [v for values in merged.values() for v in values]
    ms = [t for _, t in everything]
    return LoadResult(
        dt.datetime.now().astimezone().isoformat(timespec="seconds"), f"{os.cpu_count()} cores, {total_memory()}", base,
        round(elapsed, 1), clients, len(everything) / elapsed, percentile(ms, 0.5), percentile(ms, 0.95),
        percentile(ms, 0.99), sum(s >= 500 for s, _ in everything), sum(s == 0 for s, _ in everything),
        rss_start, max(peak) if pid else None, rss_end, summarise(merged, skipped, mix()))


def table(result: LoadResult) -> str:
    memory = "server RSS: not measured (the server is not a process on this machine)"
    if result.rss_start_mib is not None and result.rss_end_mib is not None:
        growth = result.rss_end_mib - result.rss_start_mib
        stable = "stable" if growth <= STABLE_GROWTH * result.rss_start_mib else "NOT stable"
        memory = (f"server RSS (gunicorn + query workers) {stable}: {result.rss_start_mib:.0f} MiB at the start, "
                  f"{result.rss_peak_mib:.0f} MiB at the peak, {result.rss_end_mib:.0f} MiB at the end "
                  f"({growth:+.0f} MiB, {growth / result.rss_start_mib:+.1%})")
    lines = [
        f"# load test {result.date} | {result.machine} | {result.clients} clients for {result.seconds:g} s | {result.url}",
        "",
        "| kind | requests | req/s | p50 ms | p95 ms | p99 ms | 5xx | 4xx | no answer |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for k in result.kinds:
        if k.note:
            lines.append(f"| {k.name} | {k.note} | | | | | | | |")
        else:
            lines.append(f"| {k.name} | {k.requests:,} | {k.requests / result.seconds:.1f} | {k.p50_ms:.1f} | "
                         f"{k.p95_ms:.1f} | {k.p99_ms:.1f} | {k.errors_5xx} | {k.errors_4xx} | {k.failures} |")
    total = sum(k.requests for k in result.kinds)
    lines.append(f"| **all** | {total:,} | {result.requests_per_s:.1f} | {result.p50_ms:.1f} | {result.p95_ms:.1f} | "
                 f"{result.p99_ms:.1f} | {result.errors_5xx} | {sum(k.errors_4xx for k in result.kinds)} | "
                 f"{result.failures} |")
    verdict = "zero 5xx" if result.errors_5xx == 0 and result.failures == 0 else \
        f"NOT CLEAN: {result.errors_5xx} answers 5xx, {result.failures} without an answer"
    lines += ["", f"{verdict}; {memory}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long the load runs (default 60)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--url", help="load this server (loopback) instead of starting one on the default data")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the numbers as JSON")
    args = parser.parse_args(argv)
    if args.url and urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--url must be a loopback address (127.0.0.1, localhost or ::1)")
    os.chdir(REPO_ROOT)
    result = run(args.url, args.clients, args.seconds)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    return 0 if result.errors_5xx == 0 and result.failures == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
