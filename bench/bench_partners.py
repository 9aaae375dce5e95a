"""Benchmark of partner suggestions (search.partners): latency on the default data, and on 10,000 generated
organisations.

(a) Default data: data/ built into a MemoryStore, the configured search index (MK_INDEX_PATH, rebuilt when
    stale) and model; PartnerFinder.suggest(OFFSHORE, have=("TU Delft",), top=10), the whole answer: reading
    the text, encoding its passages, resolving the names, ranking and explaining. The first call (which loads
    the organisation profiles) is timed apart; then --runs calls, median. Also the ranking alone
    (suggest_for with the query vector ready), median.
(b) Generated: --orgs organisations (default 10,000), each lead or partner of 1 to 8 of --consortia generated
    consortia (default 20,000, one document each, random unit vectors, random clusters and missions of the
    real ones), kinds drawn from the real ones; the ranking alone (suggest_for) for the offshore query
    vector with 3 members, median of --runs. Nothing generated is written to disk.

Numbers only, no goals checked (the issue's goal for (a): under 1 s).

Usage:
  .venv/bin/python bench/bench_partners.py [--runs 10] [--orgs 10000] [--consortia 20000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/bench_partners.py` puts bench/, not the repository, on the path
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402

from config import REPO_ROOT as ROOT  # noqa: E402
from config import load_settings  # noqa: E402
from kg.build import build  # noqa: E402
from kg.cooperation import Role  # noqa: E402
from kg.store import MemoryStore  # noqa: E402
from search.documents import Document  # noqa: E402
from search.hubness import match_passages, mean_vector  # noqa: E402
from search.partners import PartnerFinder  # noqa: E402
from search.portfolio import Portfolio  # noqa: E402
from search.profiles import Profile, Profiles  # noqa: E402
from search.service import open_matcher, open_partner_finder, set_threads  # noqa: E402

OFFSHORE = "Nieuwe funderingen voor offshore windturbines op zee: monopiles, geluidsarm installeren, corrosie en levensduur"


def timed(call, runs: int) -> float:  # noqa: ANN001 - any callable
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def generated_finder(finder: PartnerFinder, orgs: int, consortia: int, seed: int = 7) -> PartnerFinder:
    """A finder over `orgs` generated organisations in `consortia` generated consortia (random unit vectors)."""
    rng = np.random.default_rng(seed)
    real = finder.profiles()
    index = finder.matcher.index
    dim = index.doc_vectors.shape[1]
    names = [f"urn:bench:consortium/{i}" for i in range(consortia)]
    vectors = rng.standard_normal((consortia, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    clusters = sorted({t for m in real.portfolio.members for t in real.portfolio.linked(m, "cluster")})
    missions = sorted({t for m in real.portfolio.members for t in real.portfolio.linked(m, "mission")})
    links = {c: {"cluster": frozenset(rng.choice(clusters, 2)), "mission": frozenset(rng.choice(missions, 1))}
             for c in names}
    portfolio = Portfolio(tuple(names), dict.fromkeys(names, "project"), {c: c for c in names}, links, frozenset(),
                          tuple(names))
    kinds = sorted({p.kind for p in real.profiles.values()})
    profiles = {}
    for i in range(orgs):
        iri = f"urn:bench:organisation/{i}"
        worked = rng.choice(consortia, int(rng.integers(1, 9)), replace=False)
        roles = tuple(Role(iri, names[c], "lead" if j == 0 else "partner") for j, c in enumerate(worked))
        profiles[iri] = Profile(iri, {"nl": f"Organisatie {i}"}, (f"Organisatie {i}",), str(rng.choice(kinds)), False,
                                roles)
    iris = tuple(profiles)
    org_vectors = np.vstack([vectors[[int(r.consortium.rsplit("/", 1)[1])
                                      for r in profiles[o].roles]].mean(axis=0) for o in iris])
    org_vectors /= np.linalg.norm(org_vectors, axis=1, keepdims=True)
    documents = [Document(c, "project", 0, "") for c in names]
    bench_index = replace(index, documents=documents, doc_vectors=vectors,
                          hub_penalty=np.zeros(consortia, dtype=np.float32))
    matcher = SimpleNamespace(index=bench_index, hubness_weight=finder.matcher.hubness_weight,
                              strength=finder.matcher.strength, encode_passages=finder.matcher.encode_passages)
    generated = Profiles(profiles, portfolio, iris, org_vectors.astype(np.float32), np.zeros(len(iris), np.float32))
    return PartnerFinder(matcher, finder.view, finder.base, profiles=generated)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--consortia", type=int, default=20_000)
    args = parser.parse_args()
    settings = load_settings()
    set_threads(1)  # as `python -m search` matches: a few passages are too little work to share out
    store = MemoryStore()
    build((ROOT / "data",), settings.base_uri, store)
    matcher = open_matcher(store, model=settings.model, index_path=settings.index_path,
                           hnsw_threshold=settings.hnsw_threshold, dense_weight=settings.dense_weight,
                           lexical_weight=settings.lexical_weight, hubness_weight=settings.hubness_weight)
    matcher.embedder.load()
    matcher.encode_passages(match_passages(OFFSHORE))  # the model's first call is slower
    finder = open_partner_finder(store, matcher, base=settings.base_uri)
    have = ("TU Delft",)
    started = time.perf_counter()
    finder.suggest(OFFSHORE, have)
    first = time.perf_counter() - started
    whole = timed(lambda: finder.suggest(OFFSHORE, have), args.runs)
    query = mean_vector(matcher.encode_passages(match_passages(OFFSHORE)))
    members = finder.names().resolve(have)
    ranking = timed(lambda: finder.suggest_for(query, members), args.runs)
    profiles = finder.profiles()
    print(f"default data: {len(profiles.profiles)} organisations, {len(profiles.iris)} with a vector, "
          f"{len(profiles.portfolio.with_text)} consortia with text")
    print(f"  first suggestion (loads the profiles): {first * 1000:.0f} ms")
    print(f"  suggestion, median of {args.runs}: {whole * 1000:.0f} ms (the ranking alone: {ranking * 1000:.1f} ms)")
    generated = generated_finder(finder, args.orgs, args.consortia)
    members = generated.profiles().iris[:3]
    ranking = timed(lambda: generated.suggest_for(query, members), args.runs)
    print(f"generated: {args.orgs} organisations in {args.consortia} consortia: the ranking, median of {args.runs}: "
          f"{ranking * 1000:.0f} ms (plus encoding the proposal, as above)")


if __name__ == "__main__":
    main()
