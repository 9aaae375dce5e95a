"""Benchmark of the dashboard (/dashboard): server time of the page in Dutch and English, through Flask's test
client (no network, no gunicorn: the time the server spends on a request) over the default data.

The app is made as `make run` makes it: the default data built into an embedded store in a temporary folder,
the search model and a copy of the built search index (MK_MODEL, MK_INDEX_PATH: loaded, not rebuilt, when it
matches) opened by the app itself. Three kinds of request, per language:

  process   the first request of the process (in Dutch): it opens the store, the model and the search index;
  first     the first request after a write (each after its own small admin write, which makes a new store
            version): the analytics are computed again for the new version (--writes of them);
  warm      the same page again (--runs of them): the analytics come from the cache of this version.

Goal: warm p50 <= 300 ms. Every page is checked to answer 200 with the blank spots in it before the clock starts.

Usage:
  .venv/bin/python bench/bench_dashboard.py [--runs 30] [--writes 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/bench_dashboard.py` puts bench/, not the repository, on the path
    sys.path.insert(0, str(REPO_ROOT))

from flask.testing import FlaskClient  # noqa: E402

from config import load_settings  # noqa: E402
from kg.build import build  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402
from web.app import create_app  # noqa: E402

LANGUAGES = ("nl", "en")
GOAL_MS = 300.0
WRITE = ('INSERT DATA {{ GRAPH <https://w3id.org/missiekompas/graph/bench-dashboard> {{ '
         '<urn:bench:dashboard> <http://www.w3.org/2004/02/skos/core#note> "write {n}" }} }}')


def timed_get(client: FlaskClient, url: str) -> float:
    """Milliseconds to answer `url`, which must answer 200 with the blank spots table."""
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    body = response.get_data(as_text=True)
    if response.status_code != 200 or 'id="gaps-table"' not in body:
        raise SystemExit(f"{url} answered {response.status_code} without the blank spots: {body[:300]}")
    return elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="warm requests per language")
    parser.add_argument("--writes", type=int, default=5, help="first requests after a write, per language")
    parser.add_argument("--json", type=Path, help="write every timing here")
    args = parser.parse_args()

    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        folder = Path(tmp)
        store = OxigraphStore(folder / "store", create=True)
        build(settings.data_dirs, settings.base_uri, store)
        if settings.index_path.is_dir():
            shutil.copytree(settings.index_path, folder / "index")  # same data and model: loaded, not rebuilt
        app = create_app(replace(settings, store="oxigraph", store_path=folder / "store", index_path=folder / "index"),
                         store=store)
        client = app.test_client()
        timings: dict[str, dict[str, list[float]]] = {lang: {"process": [], "first": [], "warm": []}
                                                      for lang in LANGUAGES}
        # The first of the process (Dutch): opens the store, the model, the index; then English reads its cache.
        timings[LANGUAGES[0]]["process"].append(timed_get(client, f"/dashboard?lang={LANGUAGES[0]}"))
        for n in range(args.writes):
            for lang in LANGUAGES:
                store.update(WRITE.format(n=f"{n}-{lang}"), who="bench")  # a new version: the cache no longer holds
                timings[lang]["first"].append(timed_get(client, f"/dashboard?lang={lang}"))
        for lang in LANGUAGES:
            timings[lang]["warm"] = [timed_get(client, f"/dashboard?lang={lang}") for _ in range(args.runs)]

    print(f"# {time.strftime('%Y-%m-%dT%H:%M:%S%z')} | Python {platform.python_version()} | "
          f"os.cpu_count()={os.cpu_count()} | load {os.getloadavg()[0]:.2f} | store oxigraph (embedded) | "
          f"index {'copied from ' + str(settings.index_path) if settings.index_path.is_dir() else 'built'}")
    print(f"{'lang':5} {'request':8} {'n':>4} {'p50 ms':>9} {'p95 ms':>9}")
    for lang in LANGUAGES:
        for kind, values in timings[lang].items():
            if not values:
                continue
            print(f"{lang:5} {kind:8} {len(values):>4} {statistics.median(values):>9.1f} "
                  f"{percentile(values, 0.95):>9.1f}")
    warm = max(statistics.median(timings[lang]["warm"]) for lang in LANGUAGES)
    print(f"# warm p50 {warm:.1f} ms: {'meets' if warm <= GOAL_MS else 'MISSES'} the goal of <= {GOAL_MS:.0f} ms")
    if args.json:
        args.json.write_text(json.dumps(timings, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
