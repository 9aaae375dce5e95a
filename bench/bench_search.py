"""Benchmark of the semantic search: index-build throughput and match latency, each against the bare model.

In one run (from the repository root), with torch fixed to --threads threads (default 2) for every step:

(a) Index build. search.index.build_index(batch_size=32) on the default graph (data/, built into a
    MemoryStore), which chunks the entities into documents, encodes them all (Embedder.encode_passages),
    builds BM25 (spaCy analysis of every document) and the FAISS index. Its documents/s is compared with
    raw sentence-transformers throughput on exactly the same texts:
    SentenceTransformer.encode(texts, prompt=<the passage prompt>, batch_size=32) in one call, on a model
    loaded separately. ratio = build docs/s / raw docs/s (goal >= 0.9). Also shown, to say where a gap
    comes from: raw encode called once per slice of 32 texts (sentence-transformers sorts texts by length
    only within one call, so small slices pad more; build_index encoded that way until it got ENCODE_SLICE),
    and the BM25 analysis on its own. Each round runs raw, build, raw per slice, BM25 analysis, after one
    untimed warm-up encode; medians of --repeat rounds, and the ratio of the fastest runs (steadier when
    other work shares the machine).

(b) Match latency. Matcher.match(text, top=10) on a ~300-word Dutch proposal (below) with the default
    weights (Settings().dense_weight / lexical_weight), against encoding exactly the passages the match
    encodes (Matcher.encode_passages(match_passages(text)): the same model work), so the ratio is what
    matching adds to that encoding. One warm-up call of each, then --runs timed calls of each,
    interleaved; medians. ratio = match / encode (goal <= 1.2). For context only: encoding the whole
    text as one sequence (which the model truncates at its max_tokens).
    The breakdown of one match times the same steps as Matcher.match, called one by one from here
    (language detection + passage split, passage encoding, dense search, lexical analysis + BM25,
    fusion, concept fingerprint, sections with explanations, cluster/theme suggestions), through the
    Matcher's public step methods; the line "sum of steps" vs the median match shows whether it still
    follows search/match.py.

Usage:
  .venv/bin/python bench/bench_search.py [--threads 2] [--repeat 3] [--runs 10] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/bench_search.py` puts bench/, not the repository, on the path
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402

from config import Settings  # noqa: E402

BATCH = 32
TOP = 10

# A made-up research proposal of about 300 words, in Dutch, in the style of the labelled set.
PROPOSAL_NL = (
    "In veel Nederlandse steden gaat restwarmte van datacenters, supermarkten en kleine fabrieken nog steeds "
    "verloren, terwijl duizenden rijtjeshuizen en portiekflats van het aardgas af moeten. Wij willen onderzoeken "
    "hoe zulke verspreide warmtebronnen samen een wijkwarmtenet op lage temperatuur kunnen voeden, en wat daarvoor "
    "nodig is aan techniek, organisatie en regelgeving. Het project richt zich op drie proefwijken in Utrecht, "
    "Eindhoven en Groningen, waar de gemeente, de netbeheerder en een woningcorporatie al samenwerken.\n\n"
    "In het eerste werkpakket ontwikkelen we een digitaal model van de wijk dat meetgegevens van slimme meters, "
    "weersverwachtingen en het gedrag van bewoners combineert. Met dat model voorspellen we per uur de vraag naar "
    "warmte en bepalen we hoeveel buffercapaciteit in ondergrondse opslag of in grote watervaten nodig is. "
    "Het tweede werkpakket test nieuwe warmtewisselaars en compacte warmtepompen die de temperatuur van de "
    "restwarmte verhogen zonder veel elektriciteit te gebruiken. We meten het rendement gedurende twee "
    "stookseizoenen en vergelijken de resultaten met individuele luchtwarmtepompen.\n\n"
    "Het derde werkpakket gaat over de mensen in de wijk. Bewoners maken zich zorgen over de kosten, over "
    "geluid en over de afhankelijkheid van één leverancier. Met interviews, bewonersavonden en een keuze-experiment "
    "onderzoeken we welke tariefstructuur en welke vorm van zeggenschap zij eerlijk vinden. Daarnaast bekijken we "
    "met juristen hoe de nieuwe warmtewet ruimte laat voor coöperaties van bewoners en lokale bedrijven.\n\n"
    "Het vierde werkpakket vertaalt de uitkomsten naar een handreiking voor gemeenten die hun transitievisie warmte "
    "uitwerken. We leveren open software, een rekenmodel voor de businesscase en een opleiding voor installateurs, "
    "omdat het tekort aan vakmensen nu een van de grootste knelpunten is. Het consortium bestaat uit twee "
    "universiteiten, een hogeschool, drie installatiebedrijven, de netbeheerder en twee woningcorporaties. "
    "Zo willen we laten zien dat een betaalbare, betrouwbare en duurzame warmtevoorziening in bestaande wijken "
    "binnen tien jaar haalbaar is, en dat bewoners daar zelf aan kunnen bijdragen."
)


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def environment(threads: int) -> dict[str, Any]:
    import sentence_transformers
    import torch

    mem_gib = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_gib = int(line.split()[1]) / 1024**2
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cores": os.cpu_count(), "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu, "memory_gib": mem_gib, "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(), "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__, "torch_threads": threads,
    }


def ensure_model(path: str) -> str:
    from tools.model_build import ensure_model_folder

    return str(ensure_model_folder(Path(path)))


# ------------------------------------------------------------------------------------------ (a) build


def bench_build(settings: Settings, store: Any, repeat: int) -> dict[str, Any]:
    from sentence_transformers import SentenceTransformer

    from search.documents import load_entities, to_documents
    from search.embedder import DEFAULT_PROMPTS, Embedder
    from search.index import build_index, lexical_terms

    entities = load_entities(store)
    texts = [d.text for d in to_documents(entities)]
    raw = SentenceTransformer(settings.model, device="cpu", local_files_only=True)
    prompt = (getattr(raw, "prompts", None) or {}).get("passage") or DEFAULT_PROMPTS["passage"]
    embedder = Embedder(settings.model)

    def raw_encode() -> np.ndarray:
        return raw.encode(texts, prompt=prompt, batch_size=BATCH, convert_to_numpy=True, normalize_embeddings=True,
                          show_progress_bar=False)

    def raw_sliced() -> np.ndarray:
        return np.vstack([raw.encode(texts[i:i + BATCH], prompt=prompt, batch_size=BATCH, convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=False)
                          for i in range(0, len(texts), BATCH)])

    def build() -> Any:
        return build_index(entities, embedder, hnsw_threshold=settings.hnsw_threshold, batch_size=BATCH)

    raw.encode(texts[:BATCH], prompt=prompt, batch_size=BATCH, show_progress_bar=False)  # warm-up
    embedder.encode_passages(texts[:BATCH], batch_size=BATCH)
    lexical_terms(texts[0])  # loads the spaCy pipelines
    times: dict[str, list[float]] = {"raw": [], "build": [], "raw_sliced": [], "bm25_analysis": []}
    index = vectors = None
    for i in range(repeat):
        print(f"  build run {i + 1}/{repeat}", file=sys.stderr)
        t, vectors = timed(raw_encode)
        times["raw"].append(t)
        t, index = timed(build)
        times["build"].append(t)
        t, _ = timed(raw_sliced)
        times["raw_sliced"].append(t)
        t, _ = timed(lambda: [lexical_terms(x) for x in texts])
        times["bm25_analysis"].append(t)
    n = len(texts)
    rate = {k: n / statistics.median(v) for k, v in times.items()}
    diff = float(np.abs(index.doc_vectors - vectors).max())
    tokens = [embedder.token_count(t) for t in texts]
    return {"documents": n, "entities": len(entities), "batch_size": BATCH, "times_s": times, "docs_per_s": rate,
            "ratio": rate["build"] / rate["raw"], "ratio_vs_sliced": rate["build"] / rate["raw_sliced"],
            "max_abs_vector_diff": diff, "tokens_median": statistics.median(tokens), "tokens_max": max(tokens),
            "index": index, "embedder": embedder}


# ------------------------------------------------------------------------------------------ (b) match


def step_breakdown(matcher: Any, text: str) -> dict[str, float]:
    """The steps of Matcher.match, timed one by one: the same public calls in the same order (search/match.py)."""
    from search.index import lexical_terms
    from search.match import SECTIONS, Evidence, match_passages
    from search.readers import read_text_input
    from search.text import detect_language

    steps: dict[str, float] = {}

    def step(name: str, fn: Callable[[], Any]) -> Any:
        t, value = timed(fn)
        steps[name] = t
        return value

    def prepare() -> tuple[str, str, list[str]]:
        plain = read_text_input(text)
        return plain, detect_language(plain), match_passages(plain)

    text, language, passages = step("read + detect language + split", prepare)
    vectors = step(f"encode {len(passages)} passages", lambda: matcher.encode_passages(passages))
    dense = step("dense search (mean vector, FAISS, by entity)", lambda: matcher.rank_dense(vectors, None))
    terms = step("lexical analysis (spaCy, nl+en)", lambda: lexical_terms(text))
    lexical = step("BM25 search (+ by entity)", lambda: matcher.rank_lexical(terms, None))
    fused = step("fusion (RRF)", lambda: matcher.fuse(dense, lexical))
    fingerprint = step("concept fingerprint of the text", lambda: matcher.explainer.fingerprint(text, language))
    evidence = Evidence(passages, vectors, fingerprint, dense, lexical)
    step("sections + explanations", lambda: {name: matcher.section(fused, kinds, TOP, evidence)
                                             for name, kinds in SECTIONS.items()})
    step("cluster/theme suggestions", lambda: (matcher.suggest(fused, "cluster", TOP, fingerprint),
                                               matcher.suggest(fused, "theme", TOP, fingerprint)))
    return steps


def bench_match(settings: Settings, store: Any, index: Any, embedder: Any, runs: int) -> dict[str, Any]:
    from search.match import Matcher, match_passages
    from search.service import concept_matcher, programme_members

    weights = {"dense": settings.dense_weight, "lexical": settings.lexical_weight}
    matcher = Matcher(index, embedder, concept_matcher(store), programme_members(store), weights)
    text = PROPOSAL_NL
    passages = match_passages(text)
    matcher.match(text, top=TOP)  # warm-up: spaCy pipelines, concept matchers, entity fingerprints
    matcher.encode_passages(passages)
    embedder.encode_query(text)
    match_t: list[float] = []
    encode_t: list[float] = []
    whole_t: list[float] = []
    for _ in range(runs):  # the baseline encodes exactly the passages a match encodes: the same model work
        match_t.append(timed(lambda: matcher.match(text, top=TOP))[0])
        encode_t.append(timed(lambda: matcher.encode_passages(passages))[0])
        whole_t.append(timed(lambda: embedder.encode_query(text))[0])
    try:
        breakdowns = [step_breakdown(matcher, text) for _ in range(3)]
        steps = {k: statistics.median(b[k] for b in breakdowns) for k in breakdowns[0]}
        breakdown_error = None
    except (TypeError, AttributeError, ValueError) as exc:  # Matcher's steps changed: see the docstring
        steps, breakdown_error = {}, f"{type(exc).__name__}: {exc}"
    return {
        "words": len(text.split()), "tokens_query": embedder.token_count(text, "query"), "max_tokens": embedder.max_tokens,
        "passages": len(passages), "passage_tokens": [embedder.token_count(p, "query") for p in passages],
        "runs": runs, "weights": weights, "match_s": match_t, "encode_s": encode_t,
        "match_median_ms": median_ms(match_t), "encode_median_ms": median_ms(encode_t),
        "whole_text_encode_median_ms": median_ms(whole_t),
        "ratio": statistics.median(match_t) / statistics.median(encode_t), "steps_ms": {k: v * 1000 for k, v in steps.items()},
        "breakdown_error": breakdown_error,
    }


# ------------------------------------------------------------------------------------------- report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads for every step (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each build variant (default 3)")
    parser.add_argument("--runs", type=int, default=10, help="timed match / encode calls (default 10)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the raw numbers as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from kg.build import build
    from kg.store import MemoryStore

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    settings = Settings(store="memory")
    ensure_model(settings.model)
    store = MemoryStore()
    build(settings.data_dirs, settings.base_uri, store)
    env = environment(args.threads)
    a = bench_build(settings, store, args.repeat)

    mem = f"{env['memory_gib']:.1f} GiB" if env["memory_gib"] else "?"
    print("# Semantic search benchmark")
    print(f"{env['date']}; {env['cores']} cores ({env['cores_usable']} usable), {env['cpu']}; {mem} memory; "
          f"Python {env['python']}, torch {env['torch']}, sentence-transformers {env['sentence_transformers']}")
    print(f"torch.set_num_threads({args.threads}) for every step; CPU; load average at start "
          f"{' '.join(f'{x:.1f}' for x in env['load_average'])}")
    print(f"model {Path(settings.model).name}")
    print()
    print(f"(a) index build, default graph: {a['documents']} documents from {a['entities']} entities, batch size "
          f"{BATCH}, document tokens median {a['tokens_median']:.0f} / max {a['tokens_max']}; median of {args.repeat} runs")
    print(f"  {'step':<52} {'median s':>9} {'docs/s':>8}")
    rows = [("build_index (encode + BM25 + FAISS)", "build"),
            ("raw SentenceTransformer.encode, one call", "raw"),
            (f"raw SentenceTransformer.encode, per slice of {BATCH}", "raw_sliced"),
            ("(BM25 analysis alone: lexical_terms of every doc)", "bm25_analysis")]
    for label, key in rows:
        print(f"  {label:<52} {statistics.median(a['times_s'][key]):>9.2f} {a['docs_per_s'][key]:>8.1f}")
    verdict = "meets" if a["ratio"] >= 0.9 else "MISSES"
    print(f"  ratio build / raw = {a['ratio']:.2f}x ({verdict} the goal >= 0.9x); build / raw per slice = "
          f"{a['ratio_vs_sliced']:.2f}x; ratio of the minima {min(a['times_s']['raw']) / min(a['times_s']['build']):.2f}x; "
          f"vectors equal to raw within {a['max_abs_vector_diff']:.1e}")
    print(flush=True)
    b = bench_match(settings, store, a["index"], a["embedder"], args.runs)
    env["load_average_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"(b) match latency, {b['words']}-word Dutch proposal ({b['tokens_query']} tokens as one query, model reads "
          f"at most {b['max_tokens']}; {b['passages']} passages of {min(b['passage_tokens'])}-{max(b['passage_tokens'])} "
          f"tokens), weights {b['weights']}, top={TOP}; median of {b['runs']} runs after a warm-up")
    print(f"  Matcher.match                         {b['match_median_ms']:8.1f} ms  "
          f"(min {min(b['match_s']) * 1000:.1f}, max {max(b['match_s']) * 1000:.1f})")
    print(f"  encode the match's passages           {b['encode_median_ms']:8.1f} ms  "
          f"(min {min(b['encode_s']) * 1000:.1f}, max {max(b['encode_s']) * 1000:.1f}): the same model work")
    print(f"  (context: the whole text as one query {b['whole_text_encode_median_ms']:8.1f} ms, truncated by the model)")
    verdict = "meets" if b["ratio"] <= 1.2 else "MISSES"
    print(f"  ratio match / encode = {b['ratio']:.2f}x ({verdict} the goal <= 1.2x); ratio of the minima "
          f"{min(b['match_s']) / min(b['encode_s']):.2f}x (less sensitive to other load on the machine)")
    print()
    if b["breakdown_error"]:
        print(f"  breakdown of one match: not measured, the Matcher's steps changed ({b['breakdown_error']})")
    else:
        print("  breakdown of one match (steps timed separately, median of 3):")
        total = sum(b["steps_ms"].values())
        for name, ms in b["steps_ms"].items():
            print(f"    {name:<40} {ms:8.1f} ms  {ms / total:5.1%}")
        print(f"    {'sum of steps':<40} {total:8.1f} ms  (median match above: {b['match_median_ms']:.1f} ms)")
    wall = time.perf_counter() - started
    print(f"\n(total {wall:.0f} s; load average at end {' '.join(f'{x:.1f}' for x in env['load_average_end'])})")
    if args.json:
        doc = {"environment": env, "build": {k: v for k, v in a.items() if k not in ("index", "embedder")},
               "match": b, "wall_s": wall}
        args.json.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
