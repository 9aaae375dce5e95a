"""Every benchmark in one command (`make bench`): runs each script, keeps its full output in
bench/results/ (with --quick: bench/results/quick/), then prints one summary table (markdown) of the
figures the README shows, each a median or a ratio from this one run, with the date and the machine
size, and writes it to summary.txt there.

Steps, in order (skip any with --skip NAME):
  graph      bench_graph.py     graph load and queries: embedded Oxigraph vs memory, `oxigraph serve`, rdflib
  http       bench_http.py      SPARQL over HTTP: ours vs in-process pyoxigraph vs `oxigraph serve`, then load
  writes     bench_writes.py    admin write latency (SPARQL Update, Graph Store POST): ours vs `oxigraph serve`
  search     bench_search.py    index build vs raw encode throughput, match latency vs encoding the text alone
  quality    eval_search.py     search quality on the labelled set (not with --quick)
  faiss      bench_faiss.py     FAISS exact vs HNSW at 10k, 100k and 1M vectors (--quick: 10k only)
  analytics  bench_analytics.py Kernteam analytics at scale (not with --quick)
  load       load_test.py       mixed load on `make run`'s server: requests/s, p50/p95/p99, 5xx, memory

Peak memory is the largest resident set of each step's process tree (os.wait4), and the server's RSS
during the load test. The full run takes about half an hour on 2 cores (the 1M-vector HNSW build is
most of it); --quick is a smoke run of a few minutes whose numbers are not for the README.

Usage (from the repository root):
  .venv/bin/python bench/run_all.py [--quick] [--skip faiss] [--load-seconds 60] [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH = REPO_ROOT / "bench"
STEPS = ("graph", "http", "writes", "search", "quality", "faiss", "analytics", "load")


@dataclass
class Step:
    name: str
    script: str
    args: list[str]
    json: bool = True  # whether the script takes --json FILE
    returncode: int | None = None
    wall_s: float = 0.0
    peak_rss_mib: float = 0.0
    data: Any = None  # the parsed JSON
    output: str = ""


@dataclass
class Row:
    area: str
    figure: str
    value: str
    source: str


@dataclass
class Summary:
    rows: list[Row] = field(default_factory=list)

    def add(self, area: str, figure: str, value: str, source: str) -> None:
        self.rows.append(Row(area, figure, value, source))


def plan(quick: bool, load_seconds: float) -> list[Step]:
    if quick:
        return [
            Step("graph", "bench_graph.py", ["--quick", "--repeat", "2", "--budget-s", "2"]),
            Step("http", "bench_http.py", ["--runs", "10", "--clients", "4", "--seconds", "2"]),
            Step("writes", "bench_writes.py", ["--quick"]),
            Step("search", "bench_search.py", ["--repeat", "1", "--runs", "3"]),
            Step("faiss", "bench_faiss.py", ["--max", "10000", "--queries", "200", "--ef-search", "128",
                                             "--filter-shares", "", "--single", "50", "--budget-s", "1"]),
            Step("load", "load_test.py", ["--seconds", str(load_seconds), "--clients", "4"]),
        ]
    return [
        Step("graph", "bench_graph.py", []),
        Step("http", "bench_http.py", []),
        Step("writes", "bench_writes.py", []),
        Step("search", "bench_search.py", []),
        Step("quality", "eval_search.py", []),
        Step("faiss", "bench_faiss.py", []),
        Step("analytics", "bench_analytics.py", [], json=False),
        Step("load", "load_test.py", ["--seconds", str(load_seconds)]),
    ]


def run_step(step: Step, out: Path, scratch: Path) -> None:
    """Run one script with its output to out/<script>.txt; its JSON (if any) into step.data."""
    args = [sys.executable, str(BENCH / step.script), *step.args]
    raw = scratch / f"{step.name}.json"
    if step.json:
        args += ["--json", str(raw)]
    log = out / step.script.replace(".py", ".txt")
    print(f"[run_all] {step.name}: {' '.join(args[1:])}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as sink:
        proc = subprocess.Popen(args, cwd=REPO_ROOT, stdout=sink, stderr=sys.stderr)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    step.returncode, step.wall_s = proc.returncode, time.perf_counter() - started
    step.peak_rss_mib = usage.ru_maxrss / 1024  # KiB on Linux: the largest process of the step's tree
    step.output = log.read_text(encoding="utf-8")
    if step.json and raw.exists():
        step.data = json.loads(raw.read_text(encoding="utf-8"))
    print(f"[run_all] {step.name}: exit {step.returncode} after {step.wall_s:.0f} s", file=sys.stderr, flush=True)


# --- reading the results -------------------------------------------------------------------------

def ms(value: float) -> str:
    return f"{value:.1f} ms" if value >= 10 else f"{value:.2f} ms"


def median_ms_of(results: list[dict[str, Any]], dataset: str, store: str, steps: set[str] | None = None) -> float:
    return statistics.median(r["median_ms"] for r in results
                             if r["dataset"] == dataset and r["store"] == store and r["step"] != "load"
                             and (steps is None or r["step"] in steps))


def summarise_graph(data: dict[str, Any], s: Summary) -> None:
    results = data["results"]
    by = {(r["dataset"], r["store"], r["step"]): r["median_ms"] for r in results}
    names = [d["name"] for d in data["datasets"]]
    sizes = ", ".join(f"{d['name']} {d['quads']:,} quads" for d in data["datasets"])
    for name in names:
        compiled = by.get((name, "pipeline", "compile total"))
        if compiled is not None:
            s.add("graph load", f"read + convert + SHACL-validate, {name}", ms(compiled), "bench_graph")
        load = by.get((name, "oxigraph-embedded", "load"))
        if load is not None:
            s.add("graph load", f"load into embedded Oxigraph, {name}", ms(load), "bench_graph")
    for name in names:
        reference = median_ms_of(results, name, "oxigraph-embedded")
        s.add("graph queries", f"embedded Oxigraph, median of the 5 query medians, {name}", ms(reference), "bench_graph")
        for store, label in (("rdflib", "rdflib"), ("oxigraph-remote", "`oxigraph serve` (remote store)"),
                             ("memory", "in-memory Oxigraph")):
            ratios = [by[(name, store, r["step"])] / r["median_ms"] for r in results
                      if r["dataset"] == name and r["store"] == "oxigraph-embedded" and r["step"] != "load"
                      and (name, store, r["step"]) in by and r["median_ms"]]
            if ratios:
                s.add("graph queries", f"{label} / embedded, median ratio, {name}", f"{statistics.median(ratios):.2f}x",
                      "bench_graph")
    s.add("graph queries", "datasets", sizes, "bench_graph")


def summarise_http(data: dict[str, Any] | None, s: Summary) -> None:
    if not data:
        s.add("SPARQL over HTTP", "(no results: see bench_http.txt)", "see bench_http.txt", "bench_http")
        return
    q = data["queries"].values()

    def ratio(target: str, to: str) -> str:
        return f"{statistics.median(x[target]['p50'] / x[to]['p50'] for x in q):.2f}x"

    s.add("SPARQL over HTTP", "ours, p50 per query, median of the 5 queries",
          ms(statistics.median(x["ours"]["p50"] for x in q)), "bench_http")
    s.add("SPARQL over HTTP", "ours / in-process pyoxigraph, median of the per-query p50 ratios", ratio("ours", "local"),
          "bench_http")
    s.add("SPARQL over HTTP", "ours / `oxigraph serve`, median of the per-query p50 ratios", ratio("ours", "serve"),
          "bench_http")
    s.add("SPARQL over HTTP", "first-seen query texts / `oxigraph serve`, median of the p50 ratios",
          ratio("ours_first", "serve"), "bench_http")
    for label, load in data["load"].items():
        s.add("SPARQL under load", f"{label}: requests/s, p95, 5xx",
              f"{load['rps']:,.0f}/s, {ms(load['p95'])}, {load['errors']}", "bench_http")


def summarise_writes(data: dict[str, Any], s: Summary) -> None:
    for name, x in data["datasets"].items():
        ours, serve = x["sides"]["ours"], x["sides"]["oxigraph serve"]
        s.add("writes", f"small write, median / p90: ours; `oxigraph serve`; ratio of medians, {name} ({x['quads']:,} quads)",
              f"{ms(ours['median'])} / {ms(ours['p90'])}; {ms(serve['median'])} / {ms(serve['p90'])}; "
              f"{ours['median'] / serve['median']:.1f}x", "bench_writes")


def summarise_search(data: dict[str, Any], s: Summary) -> None:
    build, match = data["build"], data["match"]
    s.add("search", "index build: documents/s; ratio to a raw model.encode of the same texts",
          f"{build['docs_per_s']['build']:.1f}/s; {build['ratio']:.2f}x", "bench_search")
    s.add("search", f"match of a {match['words']}-word proposal: median; ratio to encoding its passages alone",
          f"{ms(match['match_median_ms'])}; {match['ratio']:.2f}x", "bench_search")


def summarise_quality(data: dict[str, Any], s: Summary) -> None:
    default = data["default"]
    macro = data["configs"][default]["table"]["macro"]
    s.add("search quality", f"{default} (the default): MRR / nDCG@10 / recall@10, macro",
          f"{macro['mrr']:.3f} / {macro['ndcg']:.3f} / {macro['recall']:.3f}", "eval_search")


def summarise_faiss(data: dict[str, Any], s: Summary) -> None:
    rows = [r for r in data["rows"] if r["filter_share"] is None]
    for n in sorted({r["n"] for r in rows}):
        exact = next(r for r in rows if r["n"] == n and r["kind"] == "exact")
        hnsw = [r for r in rows if r["n"] == n and r["kind"] == "hnsw"]
        chosen = next((r for r in hnsw if r["ef_search"] == 128), hnsw[0] if hnsw else None)
        if chosen is None:
            continue
        build = next((r["build_s"] for r in hnsw if r["build_s"] is not None), None)
        s.add("FAISS", f"{n:,} vectors: exact p50 / HNSW p50 (efSearch {chosen['ef_search']}) / HNSW recall@10 / "
                       "HNSW build",
              f"{ms(exact['p50_ms'])} / {ms(chosen['p50_ms'])} / {chosen['recall_at_10']:.2f} / "
              f"{build:.1f} s" if build is not None else "", "bench_faiss")


def summarise_load(data: dict[str, Any], s: Summary) -> None:
    s.add("load (mixed, make run's server)",
          f"{data['clients']} clients, {data['seconds']:g} s: requests/s; p50 / p95 / p99; 5xx",
          f"{data['requests_per_s']:.1f}/s; {ms(data['p50_ms'])} / {ms(data['p95_ms'])} / {ms(data['p99_ms'])}; "
          f"{data['errors_5xx']}", "load_test")
    skipped = [k["name"] for k in data["kinds"] if k["note"]]
    if skipped:
        s.add("load (mixed, make run's server)", "kinds skipped (did not answer in the warm-up)", ", ".join(skipped),
              "load_test")
    if data["rss_start_mib"] is not None:
        s.add("memory", "server RSS during the load test: start / peak / end",
              f"{data['rss_start_mib']:.0f} / {data['rss_peak_mib']:.0f} / {data['rss_end_mib']:.0f} MiB", "load_test")


READERS = {"graph": summarise_graph, "http": summarise_http, "writes": summarise_writes, "search": summarise_search,
           "quality": summarise_quality, "faiss": summarise_faiss, "load": summarise_load}


def machine() -> str:
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.1f} GiB memory, Python {platform.python_version()}"


def summary_text(steps: list[Step], quick: bool, started: str, load_before: str) -> str:
    s = Summary()
    for step in steps:
        reader = READERS.get(step.name)
        if step.returncode != 0:
            s.add(step.name, f"{step.script} FAILED (exit {step.returncode})", f"see {step.script[:-3]}.txt", step.name)
        if reader and (step.data is not None or step.name == "http"):
            try:
                reader(step.data, s)
            except (KeyError, TypeError, ValueError, StopIteration, statistics.StatisticsError) as exc:
                s.add(step.name, f"(could not summarise: {type(exc).__name__}: {exc})", "", step.name)
    for step in steps:
        s.add("memory", f"peak RSS, {step.script} (largest process)", f"{step.peak_rss_mib:,.0f} MiB", step.name)
    load_after = " ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"# make bench{' --quick (a smoke run: NOT the figures for the README)' if quick else ''}, {started}",
        f"# {machine()}; load average {load_before} at the start, {load_after} at the end",
        f"# steps: {', '.join(f'{x.name} {x.wall_s:.0f} s' for x in steps)}; full outputs beside this file",
        "",
        "| area | figure | value | from |",
        "| --- | --- | --- | --- |",
        *(f"| {r.area} | {r.figure} | {r.value} | {r.source} |" for r in s.rows),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run with small settings (a few minutes)")
    parser.add_argument("--skip", action="append", default=[], choices=STEPS, metavar="STEP",
                        help=f"leave a step out (repeatable): {', '.join(STEPS)}")
    parser.add_argument("--load-seconds", type=float, default=None, help="load-test duration (default 60, --quick 5)")
    parser.add_argument("--out", type=Path, default=None, help="results folder (default bench/results, --quick: "
                                                               "bench/results/quick)")
    args = parser.parse_args(argv)
    out = args.out or BENCH / "results" / ("quick" if args.quick else "")
    out.mkdir(parents=True, exist_ok=True)
    load_seconds = args.load_seconds or (5.0 if args.quick else 60.0)
    started = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    steps = [step for step in plan(args.quick, load_seconds) if step.name not in args.skip]
    with tempfile.TemporaryDirectory(prefix="mk-bench-") as scratch:
        for step in steps:
            run_step(step, out, Path(scratch))
    text = summary_text(steps, args.quick, started, load_before)
    (out / "summary.txt").write_text(text, encoding="utf-8")
    print(text)
    print(f"[run_all] written to {(out / 'summary.txt').relative_to(REPO_ROOT)}", file=sys.stderr)
    return 0 if all(step.returncode == 0 for step in steps) else 1


if __name__ == "__main__":
    raise SystemExit(main())
