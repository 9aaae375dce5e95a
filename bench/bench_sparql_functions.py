"""Benchmark of the SPARQL extension functions (fn:similarity, fn:textScore; kg.functions, search.sparql_functions).

(a) The default data: a top-10 fn:similarity query over all knowledge questions, as /sparql answers it:
    the score tables for the query's text (FunctionScorer.context: encoding the text with the model,
    one dot product per indexed document) and the query itself, in a query worker on the embedded
    store and in process on the in-memory store. "cold" clears the remembered query vectors before each
    run, so the text is encoded every time; "warm" asks the same text again. Goal: cold < 2 s.
(b) Cost per row: --entities generated entities with random unit vectors (no model: a stand-in
    embedder returns a random unit vector), a query that binds fn:similarity for every entity and keeps
    the top 10, against the same query binding a built-in expression instead; (difference) / entities
    is the cost of one call. Also the table's build and its pickled size (what a worker receives).

Medians of --runs runs after one warm-up. Prints numbers; asserts nothing about time.

Usage:
  .venv/bin/python bench/bench_sparql_functions.py [--runs 10] [--entities 10000] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/bench_sparql_functions.py` puts bench/, not the repository, on the path
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402
import pyoxigraph as ox  # noqa: E402

from config import Settings  # noqa: E402
from kg.access import INTERNAL, PUBLIC  # noqa: E402
from kg.build import build  # noqa: E402
from kg.endpoint import Limits, QueryService, open_query_service  # noqa: E402
from kg.execute import QueryRequest  # noqa: E402
from kg.store import MemoryStore, OxigraphStore  # noqa: E402
from search.documents import Document, load_entities  # noqa: E402
from search.embedder import shared_embedder  # noqa: E402
from search.index import SearchIndex, build_index  # noqa: E402
from search.lexical_index import LexicalIndex  # noqa: E402
from search.service import set_threads  # noqa: E402
from search.sparql_functions import FunctionScorer, query_vector  # noqa: E402
from search.vector_index import VectorIndex  # noqa: E402

PREFIX = "PREFIX fn: <https://w3id.org/missiekompas/fn#>\nPREFIX mk: <https://w3id.org/missiekompas/ontology#>\n"
QUESTIONS = PREFIX + ('SELECT ?question ?score WHERE { ?question a mk:KnowledgeQuestion '
                      'BIND(fn:similarity(?question, "Storing green electricity as hydrogen or other molecules") AS ?score) '
                      "} ORDER BY DESC(?score) LIMIT 10")
GENERATED = "urn:mk-bench:"
PER_ROW = PREFIX + "SELECT ?e ?score WHERE {{ ?e a <urn:mk-bench:Thing> BIND({} AS ?score) }} ORDER BY DESC(?score) LIMIT 10"
DIMENSION = 384
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def timed(runs: int, fn: Callable[[], Any]) -> float:
    """Median milliseconds of `runs` calls after one warm-up."""
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def report(label: str, ms: float, detail: str = "") -> None:
    print(f"  {label:58s} {ms:9.2f} ms  {detail}")


def services(store: MemoryStore, folder: Path) -> dict[str, QueryService]:
    """The same graph behind a query worker (embedded store) and in process (memory)."""
    embedded = OxigraphStore(folder / "store", create=True)
    embedded.replace_all(list(store.handle().quads_for_pattern(None, None, None, None)))
    return {"worker": open_query_service("oxigraph", embedded, Limits(), workers=1),
            "in process": open_query_service("memory", store, Limits())}


def same_answers(targets: dict[str, QueryService], request: QueryRequest, audience: str) -> None:
    """Every target answers `request` alike (in a worker and in process), checked before anything is timed."""
    answers = {name: json.loads(service.query(request, "json", audience).body)["results"]["bindings"]
               for name, service in targets.items()}
    first = next(iter(answers.values()))
    if not first or any(answer != first for answer in answers.values()):
        raise SystemExit(f"the targets answer differently (or not at all): {answers}")


def bench_default(args: argparse.Namespace, folder: Path) -> None:
    settings = Settings()
    store = MemoryStore()
    build(settings.data_dirs, settings.base_uri, store)
    embedder = shared_embedder(args.model or settings.model).load()
    started = time.perf_counter()
    index = build_index(load_entities(store.view(PUBLIC)), embedder, hnsw_threshold=settings.hnsw_threshold)
    print(f"(a) default data: {len(index.entities)} entities, {len(index.documents)} documents "
          f"(index built in {time.perf_counter() - started:.1f} s, not timed below)")
    scorer = FunctionScorer(index, embedder)
    targets = services(store, folder)
    same_answers(targets, QueryRequest(QUESTIONS, functions=scorer.context(QUESTIONS)), PUBLIC)
    for name, service in targets.items():
        def answer(cold: bool, service: QueryService = service) -> None:
            if cold:
                query_vector.cache_clear()
            service.query(QueryRequest(QUESTIONS, functions=scorer.context(QUESTIONS)), "json")

        report(f"top-10 fn:similarity over the questions, {name}, cold", timed(args.runs, lambda: answer(True)),
               "(goal < 2000 ms)")
        report(f"top-10 fn:similarity over the questions, {name}, warm", timed(args.runs, lambda: answer(False)))
    query_vector.cache_clear()
    report("of which: encoding the text", timed(args.runs, lambda: embedder.encode_queries(["Storing green electricity"])))
    report("of which: the score table (warm)", timed(args.runs, lambda: scorer.context(QUESTIONS)))
    for service in targets.values():
        service.close()


class RandomEmbedder:
    """Stands in for the model: a random unit vector per text."""

    name = "random"

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        vectors = self.rng.normal(size=(len(texts), DIMENSION))
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def generated(entities: int, rng: np.random.Generator) -> tuple[MemoryStore, SearchIndex]:
    iris = [f"{GENERATED}e{i}" for i in range(entities)]
    store = MemoryStore()
    kind, graph = ox.NamedNode(GENERATED + "Thing"), ox.NamedNode(GENERATED + "graph")
    store.replace_all(ox.Quad(ox.NamedNode(iri), RDF_TYPE, kind, graph) for iri in iris)
    vectors = rng.normal(size=(entities, DIMENSION))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    documents = [Document(iri, "question", 0, f"text {i}") for i, iri in enumerate(iris)]
    index = SearchIndex({}, documents, vectors, VectorIndex.build(vectors),
                        LexicalIndex.build([[f"w{i % 97}"] for i in range(entities)]), {"model": "random"})
    return store, index


def bench_rows(args: argparse.Namespace, folder: Path) -> None:
    rng = np.random.default_rng(7)
    store, index = generated(args.entities, rng)
    scorer = FunctionScorer(index, RandomEmbedder(rng))  # type: ignore[arg-type]
    with_function = PER_ROW.format('fn:similarity(?e, "some text")')
    built_in = PER_ROW.format("STRLEN(STR(?e))")
    context = scorer.context(with_function)
    print(f"(b) {args.entities:,} generated entities, random unit vectors")
    report("score table for one text (dot products, best per entity)", timed(args.runs, lambda: scorer.similarity("t")))
    payload = len(pickle.dumps(context))
    report("pickling the table (what a worker receives)", timed(args.runs, lambda: pickle.dumps(context)),
           f"{payload / 1e6:.2f} MB")
    targets = services(store, folder)
    same_answers(targets, QueryRequest(with_function, functions=context), INTERNAL)
    for name, service in targets.items():  # the generated graph is declared nowhere: the Kernteam's view holds it
        rows = json.loads(service.query(QueryRequest(with_function, functions=context), "json", INTERNAL).body)
        assert len(rows["results"]["bindings"]) == 10, "the generated entities are not in the view"
        base = timed(args.runs, lambda service=service: service.query(QueryRequest(built_in), "json", INTERNAL))
        calls = timed(args.runs, lambda service=service: service.query(
            QueryRequest(with_function, functions=context), "json", INTERNAL))
        report(f"{name}: top 10 by a built-in expression", base)
        report(f"{name}: top 10 by fn:similarity", calls,
               f"{(calls - base) * 1000 / args.entities:.2f} us per row more")
    for service in targets.values():
        service.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=2, help="torch and FAISS threads (default 2)")
    parser.add_argument("--model", default="", help="the model (default: MK_MODEL's default)")
    args = parser.parse_args()
    set_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="mk-bench-fn-") as tmp:
        bench_default(args, Path(tmp) / "default")
        bench_rows(args, Path(tmp) / "rows")


if __name__ == "__main__":
    main()
