"""Benchmark of the vector index: FAISS exact (IndexFlatIP) vs HNSW on synthetic unit vectors.

For each size (10k, 100k, 1M; --quick: 10k and 100k; --max N: sizes up to N) it generates synthetic
unit vectors of dimension 384 (the e5-small dimension) and 1,000 unit queries (fixed seeds), then
measures, in one run, through search.vector_index.VectorIndex:

  build s     VectorIndex.build (input checks + FAISS add; for HNSW, the graph construction)
  p50/p95 ms  latency of single-query searches (one query per call) with FAISS on 1 OpenMP thread,
              as a web worker should run it; after 3 warm-up calls, at most --single calls or
              --budget-s seconds per row, whichever comes first
  p50 ms Nt   the same p50 with FAISS's default thread count N (on a busy machine OpenMP can add
              milliseconds per call here)
  batch qps   queries per second for one call with all 1,000 queries, default thread count
  recall@10   share of the exact top 10 found, per query, averaged. The ground truth is the
              exact index's own batch answer (FAISS flat, computed in batches), with the same filter

Rows with a filter restrict the search to a random share of the ids (`allowed`, filtered inside the
search). HNSW is built with M=--hnsw-m and efConstruction=--ef-construction (64 by default, lower
than the library default of 200, so that the 1M build fits in a few minutes on 2 cores) and
searched with each --ef-search value. FAISS uses its default thread count (printed).
--data uniform (the default) draws vectors uniformly on the sphere: the hard case for HNSW, since in
384 dimensions all points are about equally far apart, so recall there is a lower bound for real
embeddings. --data lowrank draws them near a random 32-dimensional subspace (x = z W + noise, with
z of dimension 32, noise 0.3 of the signal norm, then normalised): closer to text embeddings,
whose intrinsic dimension is far below 384.

Usage (from the repository root):
  .venv/bin/python bench/bench_faiss.py [--quick] [--max N] [--data uniform|lowrank] [--ef-search 64,128,256]
      [--filter-shares 0.02,0.2] [--ef-construction 64] [--hnsw-m 32] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/bench_faiss.py` puts bench/, not the repository, on the path
    sys.path.insert(0, str(REPO_ROOT))

from search.vector_index import EXACT_FILTER_SHARE, VectorIndex  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
SEED = 20240917
K = 10
LATENT_DIM = 32
LATENT_NOISE = 0.3


@dataclass
class Row:
    n: int
    kind: str
    ef_search: int | None
    filter_share: float | None
    build_s: float | None
    p50_ms: float
    p95_ms: float
    singles: int
    p50_ms_all_threads: float
    batch_qps: float
    recall_at_10: float


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def unit_vectors(count: int, dimension: int, seed: int, data: str = "uniform", chunk: int = 100_000) -> np.ndarray:
    """Synthetic unit vectors (see --data), generated in float32 chunks to bound memory."""
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(SEED - 1).standard_normal((LATENT_DIM, dimension), dtype=np.float32) / np.sqrt(LATENT_DIM)
    out = np.empty((count, dimension), dtype=np.float32)
    for start in range(0, count, chunk):
        size = min(chunk, count - start)
        block = rng.standard_normal((size, dimension), dtype=np.float32)
        if data == "lowrank":
            block *= LATENT_NOISE / np.sqrt(dimension)
            block += rng.standard_normal((size, LATENT_DIM), dtype=np.float32) @ basis
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + size] = block
    return out


@contextmanager
def omp_threads(count: int | None) -> Iterator[None]:
    """FAISS on ``count`` OpenMP threads for the block (None: leave as is)."""
    before = faiss.omp_get_max_threads()
    if count is not None:
        faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = [len(np.intersect1d(a[a >= 0], b[b >= 0])) / max(1, int((b >= 0).sum())) for a, b in zip(found, truth, strict=True)]
    return float(np.mean(hits))


def single_latencies(index: VectorIndex, queries: np.ndarray, args: argparse.Namespace, **kw: object) -> list[float]:
    """Milliseconds per one-query call: 3 warm-ups, then up to --single calls or --budget-s seconds."""
    for i in range(3):
        index.search(queries[i : i + 1], K, **kw)
    times: list[float] = []
    deadline = time.perf_counter() + args.budget_s
    for i in range(min(args.single, len(queries))):
        start = time.perf_counter()
        index.search(queries[i : i + 1], K, **kw)
        times.append((time.perf_counter() - start) * 1000)
        if time.perf_counter() > deadline and len(times) >= 5:
            break
    return times


Measured = tuple[np.ndarray, float, list[float], list[float]]


def measure(index: VectorIndex, queries: np.ndarray, args: argparse.Namespace, **kw: object) -> Measured:
    """(ids of the batch answer, batch queries per second, single-query ms on 1 thread and on all).

    One warm-up batch of 25 queries (enough for FAISS's BLAS path), then the full batch; a batch
    that takes under 0.2 s is run up to 5 times and the median counts.
    """
    index.search(queries[:25], K, **kw)
    seconds: list[float] = []
    while len(seconds) < 5 and (not seconds or sum(seconds) < 0.2 * len(seconds)):
        start = time.perf_counter()
        _, ids = index.search(queries, K, **kw)
        seconds.append(time.perf_counter() - start)
    qps = len(queries) / statistics.median(seconds)
    with omp_threads(1):
        one_thread = single_latencies(index, queries, args, **kw)
    return ids, qps, one_thread, single_latencies(index, queries, args, **kw)


def make_row(n: int, index: VectorIndex, ef: int | None, share: float | None, build_s: float | None,
             measured: Measured, truth: np.ndarray) -> Row:
    ids, qps, singles, all_threads = measured
    p50, p95 = statistics.median(singles), float(np.percentile(singles, 95))
    return Row(n, index.kind, ef, share, build_s, p50, p95, len(singles), statistics.median(all_threads), qps, recall(ids, truth))


def filters(n: int, shares: list[float]) -> list[tuple[float | None, np.ndarray | None]]:
    rng = np.random.default_rng(SEED + n)
    chosen = [(share, np.sort(rng.choice(n, max(1, round(share * n)), replace=False))) for share in shares]
    return [(None, None), *chosen]


def bench_size(n: int, queries: np.ndarray, args: argparse.Namespace) -> list[Row]:
    """Exact rows (which are also the ground truth), then HNSW rows, for one size."""
    log(f"n={n:,}: generating {n:,} x {args.dim} unit vectors ({args.data})")
    data = unit_vectors(n, args.dim, SEED + 1, args.data)
    modes, rows, truth = filters(n, args.filter_shares), [], {}
    start = time.perf_counter()
    exact = VectorIndex.build(data, hnsw_threshold=n + 1)
    build_s = time.perf_counter() - start
    log(f"n={n:,}: exact built in {build_s:.1f} s")
    for share, allowed in modes:
        measured = measure(exact, queries, args, allowed=allowed)
        truth[share] = measured[0]
        rows.append(make_row(n, exact, None, share, build_s if share is None else None, measured, measured[0]))
    del exact
    gc.collect()
    log(f"n={n:,}: building HNSW (M={args.hnsw_m}, efConstruction={args.ef_construction})")
    start = time.perf_counter()
    hnsw = VectorIndex.build(data, hnsw_threshold=0, hnsw_m=args.hnsw_m, ef_construction=args.ef_construction)
    build_s = time.perf_counter() - start
    log(f"n={n:,}: HNSW built in {build_s:.1f} s")
    del data
    for ef in args.ef_search:
        for share, allowed in modes:
            measured = measure(hnsw, queries, args, allowed=allowed, ef_search=ef)
            first = share is None and ef == args.ef_search[0]
            rows.append(make_row(n, hnsw, ef, share, build_s if first else None, measured, truth[share]))
    return rows


def memory_gib() -> str:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        return f"{pages * size / 2**30:.1f} GiB"
    except (ValueError, OSError):
        return "unknown"


def header(args: argparse.Namespace, sizes: list[int]) -> list[str]:
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"# {now} | Python {platform.python_version()} | os.cpu_count()={os.cpu_count()} | "
        f"faiss.omp_get_max_threads()={faiss.omp_get_max_threads()} | memory {memory_gib()} | "
        f"faiss {faiss.__version__} | numpy {np.__version__} | load average at start {load}",
        f"# data {args.data} | sizes {', '.join(f'{n:,}' for n in sizes)} | dim {args.dim} | k {K} | {args.queries:,} queries | "
        f"HNSW M={args.hnsw_m} efConstruction={args.ef_construction} | filters: random share of ids allowed "
        f"(HNSW searches shares under {EXACT_FILTER_SHARE:.0%} exactly)",
    ]


def table(rows: list[Row]) -> list[str]:
    all_threads = f"p50 ms {faiss.omp_get_max_threads()}t"
    lines = [f"{'n':>9}  {'kind':5}  {'efSearch':>8}  {'filter':>6}  {'build s':>8}  {'p50 ms':>8}  {'p95 ms':>8}"
             f"  {'singles':>7}  {all_threads:>10}  {'batch qps':>10}  {'recall@10':>9}"]
    lines.append("-" * len(lines[0]))
    for r in rows:
        ef = "" if r.ef_search is None else str(r.ef_search)
        share = "none" if r.filter_share is None else f"{r.filter_share:.0%}"
        build = "" if r.build_s is None else f"{r.build_s:.1f}"
        lines.append(f"{r.n:>9,}  {r.kind:5}  {ef:>8}  {share:>6}  {build:>8}  {r.p50_ms:>8.2f}  {r.p95_ms:>8.2f}"
                     f"  {r.singles:>7}  {r.p50_ms_all_threads:>10.2f}  {r.batch_qps:>10,.0f}  {r.recall_at_10:>9.3f}")
    return lines


def numbers(text: str, kind: type) -> list:
    return [kind(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k only")
    parser.add_argument("--max", type=int, default=None, metavar="N", help="only sizes up to N (N itself if below 10k)")
    parser.add_argument("--data", choices=("uniform", "lowrank"), default="uniform", help="see the module docstring")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--hnsw-m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=64)
    parser.add_argument("--ef-search", type=lambda s: numbers(s, int), default=[64, 128, 256], help="comma-separated")
    parser.add_argument("--filter-shares", type=lambda s: numbers(s, float), default=[0.02, 0.2], help="comma-separated")
    parser.add_argument("--single", type=int, default=200, help="most single-query calls per row")
    parser.add_argument("--budget-s", type=float, default=5.0, help="most seconds of single-query calls per row")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    return parser.parse_args(argv)


def sizes_for(args: argparse.Namespace) -> list[int]:
    sizes = list(QUICK_SIZES if args.quick else SIZES)
    if args.max is not None:
        sizes = [n for n in sizes if n <= args.max] or [args.max]
    return sizes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes, started = sizes_for(args), time.perf_counter()
    lines = header(args, sizes)
    queries = unit_vectors(args.queries, args.dim, SEED, args.data)
    rows: list[Row] = []
    for n in sizes:
        rows += bench_size(n, queries, args)
        gc.collect()
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines += table(rows)
    wall = time.perf_counter() - started
    lines.append(f"# total wall time {wall:.1f} s | peak RSS {peak_gib:.1f} GiB | load average at end {load}")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({"header": lines[:2], "rows": [asdict(r) for r in rows]}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
