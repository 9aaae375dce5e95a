"""Benchmark of a cold start: how soon `make run`'s server answers its first match, what it holds in
memory then, and how long one `python -m search match --text` takes.

(a) The server. gunicorn is started exactly as `make run` starts it (`.venv/bin/gunicorn --config
    web/gunicorn_conf.py`, the MK_* settings of the environment: the built store, index and model
    under .build/, the default worker count MK_WORKERS and MK_QUERY_WORKERS) on a free loopback port,
    in its own process group. Timed from the launch: the readiness line `make run` shows ("serving on
    ..."), the first answer of GET /api/openapi.json (the socket takes connections), then
    `POST /api/match` with a ~150-word Dutch proposal: the first one, a pair sent at once (each on its
    own connection, so usually one per worker: the other worker's first match), and then one at a time
    up to the tenth. Then the memory of the process tree (the master, its workers, their query workers
    and multiprocessing's resource trackers), from /proc/PID/smaps_rollup: PSS summed (what the tree
    holds: a page shared by n processes counts 1/n in each), RSS summed (a shared page counted in
    every process that maps it) and private memory (USS) summed; once right after the matches and
    once more after SPARQL queries have started the query workers (MK_CLIENT_QUERIES is raised for
    that: they all come from 127.0.0.1). The server is stopped in every case (its whole process
    group: SIGTERM, then SIGKILL), also when something fails or the benchmark is interrupted.

(b) The command line. `python -m search match --text ...` (the same proposal), --cli-runs times, each
    a fresh process: wall clock from start to exit, and the CPU time it used (user + system; on a
    shared machine the wall clock also counts the time spent waiting for a core).

The output goes to stdout and to bench/results/bench_cold_start.txt (--out). Exit 1 when the server
did not come up or an answer was not 200 (the numbers so far are still written).

Usage:
  .venv/bin/python bench/bench_cold_start.py [--cli-runs 3] [--deadline 300] [--out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/bench_cold_start.py` puts bench/, not the repository, on the path
    sys.path.insert(0, str(REPO_ROOT))

from bench.load_test import process_tree  # noqa: E402

RESULTS = REPO_ROOT / "bench" / "results"
READY_LINE = "serving on http://"

PROPOSAL = (
    "Wij willen in drie Nederlandse havens onderzoeken hoe groene waterstof uit wind- en zonne-energie de "
    "aardgas in de zware industrie kan vervangen. Het consortium van kennisinstellingen, netbeheerders en "
    "chemiebedrijven bouwt een demonstratie-elektrolyser van tien megawatt en koppelt die aan opslag in "
    "zoutcavernes. We meten de efficiëntie van de elektrolyse bij wisselend aanbod van duurzame stroom, "
    "ontwikkelen katalysatoren zonder iridium en onderzoeken hoe de warmte van het proces in een "
    "warmtenet kan worden benut. Daarnaast kijken we naar veiligheid, vergunningen en maatschappelijke "
    "acceptatie in de omliggende gemeenten, en naar de businesscase voor kleine en middelgrote bedrijven "
    "die willen overstappen. De resultaten moeten bijdragen aan een klimaatneutrale industrie in 2050 en "
    "aan nieuwe banen in de regio. Studenten van hogescholen en universiteiten werken mee in living labs, "
    "zodat kennis snel in het onderwijs terechtkomt."
)


@dataclass
class Memory:
    processes: int = 0
    roles: dict[str, int] = field(default_factory=dict)
    rss_mib: float = 0.0
    pss_mib: float = 0.0
    uss_mib: float = 0.0

    def line(self) -> str:
        roles = ", ".join(f"{n} {role}" for role, n in self.roles.items())
        return (f"PSS summed {self.pss_mib:.0f} MiB, RSS summed {self.rss_mib:.0f} MiB, private (USS) summed "
                f"{self.uss_mib:.0f} MiB ({self.processes} processes: {roles})")


@dataclass
class Result:
    lines: list[str] = field(default_factory=list)
    failed: bool = False

    def say(self, text: str) -> None:
        print(text, flush=True)
        self.lines.append(text)


# --- the process tree and its memory ----------------------------------------------------------------

def _kib(path: Path, key: str) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "master"
    try:
        command = (Path(f"/proc/{pid}/cmdline").read_bytes()).replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "resource_tracker" in command:
        return "resource trackers"
    return "query workers" if "multiprocessing" in command else "workers"


def tree_memory(root: int) -> Memory:
    memory = Memory()
    for pid in process_tree(root):
        try:
            rss = _kib(Path(f"/proc/{pid}/status"), "VmRSS")
            rollup = Path(f"/proc/{pid}/smaps_rollup")
            pss = _kib(rollup, "Pss")
            uss = _kib(rollup, "Private_Clean") + _kib(rollup, "Private_Dirty")
        except OSError:
            continue  # it ended while we looked
        role = _role(pid, root)
        memory.processes += 1
        memory.roles[role] = memory.roles.get(role, 0) + 1
        memory.rss_mib += rss / 1024
        memory.pss_mib += pss / 1024
        memory.uss_mib += uss / 1024
    return memory


# --- the server ---------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(log_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, float]]:
    """gunicorn as `make run` starts it, on a free port, in its own process group; stopped on leaving,
    whatever happened. Yields the process, its URL and the launch time (time.monotonic())."""
    port = free_port()
    # The SPARQL queries below all come from 127.0.0.1: no per-address cap (MK_CLIENT_QUERIES).
    env = {**os.environ, "MK_HOST": "127.0.0.1", "MK_PORT": str(port), "MK_CLIENT_QUERIES": "64"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with open(log_path, "wb") as log:
        started = time.monotonic()
        proc = subprocess.Popen([str(gunicorn), "--config", "web/gunicorn_conf.py"], cwd=REPO_ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc, f"http://127.0.0.1:{port}", started
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """The whole process group: SIGTERM, 20 s, then SIGKILL for whatever is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def wait_ready(proc: subprocess.Popen[bytes], url: str, log_path: Path, started: float,
               deadline_s: float) -> tuple[float | None, float]:
    """Seconds from the launch to the readiness line in the log (None: not printed) and to the first
    answer over HTTP. RuntimeError with the log's tail when the server exits or never answers."""
    line_s: float | None = None
    while True:
        now = time.monotonic() - started
        if line_s is None and READY_LINE in log_path.read_text(encoding="utf-8", errors="replace"):
            line_s = now
        try:
            requests.get(f"{url}/api/openapi.json", timeout=5)
            if line_s is None and READY_LINE in log_path.read_text(encoding="utf-8", errors="replace"):
                line_s = time.monotonic() - started
            return line_s, time.monotonic() - started
        except requests.RequestException:
            if proc.poll() is not None or now > deadline_s:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
                state = f"exited with {proc.returncode}" if proc.poll() is not None else f"did not answer in {deadline_s:g} s"
                raise RuntimeError(f"the server {state}; the end of its log:\n{tail}") from None
            time.sleep(0.1)


def match_once(url: str, timeout_s: float) -> float:
    """Seconds for one POST /api/match on a connection of its own; RuntimeError unless 200."""
    began = time.perf_counter()
    answer = requests.post(f"{url}/api/match", json={"text": PROPOSAL, "top": 5}, timeout=timeout_s,
                           headers={"Connection": "close"})
    took = time.perf_counter() - began
    if answer.status_code != 200:
        raise RuntimeError(f"POST /api/match answered {answer.status_code}: {answer.text[:300]}")
    return took


def at_once(n: int, work: Callable[[], float]) -> list[float]:
    """`work` run `n` times at once, each on a thread of its own: the seconds each took."""
    results: list[float | BaseException] = [0.0] * n

    def run(i: int) -> None:
        try:
            results[i] = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return [float(r) for r in results]  # type: ignore[arg-type]


def sparql_once(url: str) -> float:
    began = time.perf_counter()
    answer = requests.get(f"{url}/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                          headers={"Accept": "application/sparql-results+json", "Connection": "close"}, timeout=60)
    if answer.status_code != 200:
        raise RuntimeError(f"GET /sparql answered {answer.status_code}: {answer.text[:300]}")
    return time.perf_counter() - began


def bench_server(result: Result, deadline_s: float, match_timeout_s: float) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as folder:
        log_path = Path(folder) / "server.log"
        try:
            with server(log_path) as (proc, url, started):
                line_s, http_s = wait_ready(proc, url, log_path, started, deadline_s)
                said = "not printed" if line_s is None else f"{line_s:.1f} s"
                result.say(f"server: readiness line ({READY_LINE}...) after {said}; "
                           f"first HTTP answer after {http_s:.1f} s")
                first = match_once(url, match_timeout_s)
                result.say(f"server: first POST /api/match {first:.2f} s "
                           f"(answered {time.monotonic() - started:.1f} s after the launch)")
                pair = at_once(2, lambda: match_once(url, match_timeout_s))
                result.say(f"server: two matches at once (one per worker, usually): {pair[0]:.2f} s and {pair[1]:.2f} s")
                rest = [match_once(url, match_timeout_s) for _ in range(7)]  # matches 4..10
                result.say(f"server: 10th match {rest[-1]:.2f} s (matches 4-10: median {statistics.median(rest):.2f} s, "
                           f"max {max(rest):.2f} s)")
                after_match = tree_memory(proc.pid)
                result.say(f"server memory after the matches: {after_match.line()}")
                settings = _settings()
                for _ in range(3):  # several at once, so that the workers start their query workers
                    at_once(settings.workers * settings.query_workers + 1, lambda: sparql_once(url))
                time.sleep(0.5)
                result.say(f"server memory after SPARQL queries too: {tree_memory(proc.pid).line()}")
                log_text = log_path.read_text(encoding="utf-8", errors="replace")
        except (RuntimeError, requests.RequestException) as exc:
            result.failed = True
            result.say(f"server: FAILED: {exc}")
            return
    warnings = [line for line in log_text.splitlines() if "WARNING" in line or "Traceback" in line]
    if warnings:
        result.say(f"server log: {len(warnings)} warning line(s), the first: {warnings[0][:200]}")


def _settings():  # noqa: ANN202 - config is imported once the repository is on the path
    from config import load_settings

    return load_settings()


# --- the command line ---------------------------------------------------------------------------------

def bench_cli(result: Result, runs: int) -> None:
    """Wall clock from start to exit, and the CPU time (user + system) the process used: on a shared
    machine the wall clock also counts waiting for a core."""
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "search", "match", "--text", PROPOSAL], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=600, check=False)
        times.append(time.perf_counter() - began)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            result.failed = True
            result.say(f"cli: FAILED (exit {done.returncode}): {done.stderr[-500:]}")
            return
    shown = ", ".join(f"{t:.1f}" for t in times)
    result.say(f"cli: python -m search match --text ...: median {statistics.median(times):.1f} s wall, "
               f"{statistics.median(cpu):.1f} s CPU (runs: {shown} s wall)")


def header() -> list[str]:
    settings = _settings()
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [f"bench_cold_start {dt.datetime.now().isoformat(timespec='seconds')}",
            f"machine: {os.cpu_count()} cores, {cpu}; load average at the start {load}",
            f"settings: MK_WORKERS={settings.workers}, MK_THREADS={settings.threads}, "
            f"MK_QUERY_WORKERS={settings.query_workers}, model {settings.model}, index {settings.index_path}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cli-runs", type=int, default=3, help="timed `python -m search match` runs (default 3)")
    parser.add_argument("--deadline", type=float, default=300, help="seconds the server may take to answer at all")
    parser.add_argument("--match-timeout", type=float, default=300, help="seconds one match may take")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_cold_start.txt")
    args = parser.parse_args(argv)
    # A SIGTERM (a timeout, a CI cancel) unwinds like Ctrl-C, so the server is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = Result()
    for line in header():
        result.say(line)
    try:
        bench_server(result, args.deadline, args.match_timeout)
        if args.cli_runs > 0:
            bench_cli(result, args.cli_runs)
        result.say(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(result.lines) + "\n", encoding="utf-8")
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
