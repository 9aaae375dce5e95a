"""Retrieval quality of the semantic search on the labelled proposals (tests/fixtures/eval/proposals.yaml).

Every non-distractor proposal goes through Matcher.match(top=10) under several fusion weightings; the
index (vectors + BM25), the embedder, the concept matcher and the programme members are built ONCE, in
memory, and shared by all configurations (only the Matcher's weights differ):

  dense        dense 1, lexical 0   (embeddings only)
  bm25         dense 0, lexical 1   (BM25 only)
  hybrid       dense 1, lexical 1   (the default: Settings().dense_weight / lexical_weight)
  dense2:lex1  dense 2, lexical 1
  dense1:lex2  dense 1, lexical 2

Per section (questions, programmes, missions = missions + MMIPs, clusters, themes) it prints MRR,
nDCG@10 and recall@10, each averaged over the proposals that list at least one relevant record for that
section, and a macro average (the mean of the five section means). Relevance is BINARY by default: a
record is relevant if its id is listed, whatever its position in the list. `--graded` instead gives the
listed records gains n, n-1, ..., 1 in list order (the labels list the most relevant first); MRR and
recall stay binary. The ideal DCG uses all listed records (capped at 10).

Distractor check: for each distractor, the number of its `not_relevant` records that appear in the top 3
of their section (lower is better), summed per configuration. A recall@3 table follows (clusters and
themes have 8 and 9 records, so recall@10 says nothing there). Diagnostics for the default configuration:
empty sections; how many hits name no shared concept and which concepts explanations name most; the records
that reach the top 3 for the most proposals (hubs); the best dense cosine of proposals vs distractors (can a
score threshold tell them apart?); and the proposal/section pairs with no relevant record in the top 10.

The run is deterministic (fixed inputs, exact FAISS search, RRF ties broken by IRI; torch is set to a
fixed thread count). The winner is the configuration with the best macro nDCG@10 (ties: listed order).

Usage (from the repository root):
  .venv/bin/python bench/eval_search.py [--graded] [--threads 2] [--json FILE] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/eval_search.py` puts bench/, not the repository, on the path
    sys.path.insert(0, str(REPO_ROOT))

import yaml  # noqa: E402

from config import Settings  # noqa: E402
from search.evaluation import ndcg_at, recall_at, reciprocal_rank  # noqa: E402

LABELS = REPO_ROOT / "tests" / "fixtures" / "eval" / "proposals.yaml"
SECTIONS = ("questions", "programmes", "missions", "clusters", "themes")
KINDS = {"questions": ("question",), "programmes": ("programme",), "missions": ("mission", "mmip"),
         "clusters": ("cluster",), "themes": ("theme",)}
CONFIGS: dict[str, dict[str, float]] = {
    "dense": {"dense": 1.0, "lexical": 0.0},
    "bm25": {"dense": 0.0, "lexical": 1.0},
    "hybrid": {"dense": 1.0, "lexical": 1.0},
    "dense2:lex1": {"dense": 2.0, "lexical": 1.0},
    "dense1:lex2": {"dense": 1.0, "lexical": 2.0},
}
TOP = 10
METRICS = ("mrr", "ndcg", "recall", "recall3")
DISTRACTOR_TOP = 3


# ---------------------------------------------------------------------------------------------- labels


@dataclass(frozen=True)
class Proposal:
    id: str
    lang: str
    text: str
    distractor: bool
    relevant: dict[str, tuple[str, ...]]  # section -> IRIs, most relevant first
    not_relevant: dict[str, tuple[str, ...]] = field(default_factory=dict)


def load_proposals(entities: dict[str, Any], path: Path = LABELS) -> list[Proposal]:
    """The labelled proposals with ids resolved to IRIs of the right kind; an unknown id is an error."""
    by_id: dict[tuple[str, str], str] = {}
    for iri, entity in entities.items():
        by_id[(entity.kind, iri.rsplit("/", 1)[1])] = iri

    def resolve(pid: str, section: str, ids: Sequence[str]) -> tuple[str, ...]:
        out = []
        for local in ids:
            found = [by_id[(k, local)] for k in KINDS[section] if (k, local) in by_id]
            if not found:
                raise SystemExit(f"{path.name}: {pid}: {section} id {local!r} is not in the graph")
            out.append(found[0])
        return tuple(out)

    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["proposals"]
    return [
        Proposal(
            id=p["id"], lang=p.get("lang", ""), text=p["text"], distractor=bool(p.get("distractor")),
            relevant={s: resolve(p["id"], s, (p.get("relevant") or {}).get(s) or ()) for s in SECTIONS},
            not_relevant={s: resolve(p["id"], s, v or ()) for s, v in (p.get("not_relevant") or {}).items()},
        )
        for p in raw
    ]


# --------------------------------------------------------------------------------------------- metrics


def ranked_sections(result: Any) -> dict[str, list[str]]:
    """A MatchResult as IRIs per evaluated section, best first."""
    return {s: [h.iri for h in getattr(result, s)] for s in SECTIONS}


def score_proposal(ranked: dict[str, list[str]], proposal: Proposal, graded: bool = False,
                   k: int = TOP) -> dict[str, dict[str, float]]:
    """section -> {mrr, ndcg, recall} for the sections the proposal has relevant records for."""
    out: dict[str, dict[str, float]] = {}
    for section in SECTIONS:
        relevant = proposal.relevant[section]
        if not relevant:
            continue
        got = ranked[section]
        out[section] = {"mrr": reciprocal_rank(got, relevant, k), "ndcg": ndcg_at(got, relevant, k, graded),
                        "recall": recall_at(got, relevant, k), "recall3": recall_at(got, relevant, 3)}
    return out


def aggregate(per_proposal: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Means per section over the proposals that have that section labelled, plus 'macro' (mean of sections)."""
    table: dict[str, dict[str, float]] = {}
    for section in SECTIONS:
        rows = [scores[section] for scores in per_proposal.values() if section in scores]
        if rows:
            table[section] = {m: statistics.fmean(r[m] for r in rows) for m in METRICS}
            table[section]["n"] = len(rows)
    table["macro"] = {m: statistics.fmean(table[s][m] for s in SECTIONS if s in table) for m in METRICS}
    return table


def distractor_hits(ranked: dict[str, list[str]], proposal: Proposal, k: int = DISTRACTOR_TOP) -> list[str]:
    """The proposal's not_relevant records found in the top k of their section."""
    return [iri for section, iris in proposal.not_relevant.items() for iri in iris if iri in ranked.get(section, [])[:k]]


# ------------------------------------------------------------------------------------------ the search


@dataclass
class Engine:
    """Everything a Matcher needs, built once; `matcher(weights)` makes a Matcher over it."""

    index: Any
    embedder: Any
    concepts: Any
    members: dict[str, Any]
    build_s: float

    def matcher(self, weights: dict[str, float]) -> Any:
        from search.match import Matcher

        return Matcher(self.index, self.embedder, self.concepts, self.members, dict(weights))


def ensure_model(path: str) -> str:
    from tools.model_build import ensure_model_folder

    return str(ensure_model_folder(Path(path)))


def build_engine(settings: Settings | None = None, store: Any = None) -> Engine:
    """The default graph in memory, the search index built in memory (not saved) from it."""
    from kg.build import build
    from kg.store import MemoryStore
    from search.documents import load_entities
    from search.embedder import Embedder
    from search.index import build_index
    from search.service import concept_matcher, programme_members

    settings = settings or Settings(store="memory")
    if store is None:
        store = MemoryStore()
        build(settings.data_dirs, settings.base_uri, store)
    embedder = Embedder(ensure_model(settings.model))
    started = time.perf_counter()
    index = build_index(load_entities(store), embedder, hnsw_threshold=settings.hnsw_threshold)
    build_s = time.perf_counter() - started
    return Engine(index, embedder, concept_matcher(store), programme_members(store), build_s)


def evaluate(engine: Engine, proposals: list[Proposal], configs: dict[str, dict[str, float]],
             graded: bool = False) -> dict[str, Any]:
    """Per configuration: per-proposal scores, the aggregate table, distractor hits, raw rankings and diagnostics.

    The Matchers share one Explainer (it only caches each entity's concepts, independent of the weights),
    so the entity fingerprints are computed once instead of once per configuration."""
    out: dict[str, Any] = {}
    explainer = None
    for name, weights in configs.items():
        matcher = engine.matcher(weights)
        if explainer is None:
            explainer = matcher.explainer
        matcher.explainer = explainer
        per_proposal: dict[str, dict[str, dict[str, float]]] = {}
        rankings: dict[str, dict[str, list[str]]] = {}
        distractors: dict[str, list[str]] = {}
        top_cosine: dict[str, float | None] = {}
        empty: Counter[str] = Counter()
        shared: Counter[str] = Counter()
        hits = unexplained = 0
        started = time.perf_counter()
        for proposal in proposals:
            result = matcher.match(proposal.text, top=TOP)
            ranked = ranked_sections(result)
            ranked["kem_categories"] = [h.iri for h in result.kem_categories]
            rankings[proposal.id] = ranked
            for section, iris in ranked.items():
                if not iris:
                    empty[section] += 1
            cosines = []
            for section in ("questions", "programmes", "missions", "kem_categories"):
                for hit in getattr(result, section):
                    hits += 1
                    unexplained += not hit.explanation.shared_concepts
                    shared.update({c.label for c in hit.explanation.shared_concepts})
                    if hit.explanation.dense_score is not None and section in ("questions", "programmes"):
                        cosines.append(hit.explanation.dense_score)
            top_cosine[proposal.id] = max(cosines) if cosines else None
            if proposal.distractor:
                distractors[proposal.id] = distractor_hits(ranked, proposal)
            else:
                per_proposal[proposal.id] = score_proposal(ranked, proposal, graded)
        out[name] = {
            "weights": weights, "seconds": time.perf_counter() - started, "per_proposal": per_proposal,
            "table": aggregate(per_proposal), "distractor_hits": distractors,
            "distractor_total": sum(len(v) for v in distractors.values()),
            "distractor_possible": sum(min(DISTRACTOR_TOP, len(v)) for p in proposals if p.distractor
                                       for v in p.not_relevant.values()),
            "empty_sections": dict(empty), "explained_hits": hits, "hits_without_shared_concepts": unexplained,
            "shared_concepts": shared.most_common(), "top_dense_cosine": top_cosine, "rankings": rankings,
        }
    return out


def hubs(rankings: dict[str, dict[str, list[str]]], section: str, k: int = 3, most: int = 3) -> list[tuple[str, int]]:
    """The records that appear in the top k of `section` for the most proposals."""
    return Counter(iri for ranked in rankings.values() for iri in ranked[section][:k]).most_common(most)


def winner(results: dict[str, Any]) -> str:
    return max(results, key=lambda name: (results[name]["table"]["macro"]["ndcg"], -list(results).index(name)))


# ------------------------------------------------------------------------------------------- reporting


def short(iri: str) -> str:
    return "/".join(iri.rsplit("/", 2)[1:])


def print_report(results: dict[str, Any], proposals: list[Proposal], engine: Engine, graded: bool,
                 default: str, verbose: bool) -> None:
    labelled = [p for p in proposals if not p.distractor]
    print(f"# Search quality on {LABELS.relative_to(REPO_ROOT)}")
    print(f"{len(labelled)} proposals ({Counter(p.lang for p in labelled)}), {len(proposals) - len(labelled)} distractors; "
          f"index {len(engine.index.documents)} documents / {len(engine.index.entities)} entities, built once in "
          f"{engine.build_s:.1f} s; match(top={TOP}); relevance {'GRADED (n..1 by list order)' if graded else 'BINARY'}")
    counts = {s: sum(1 for p in labelled if p.relevant[s]) for s in SECTIONS}
    print("proposals with labels per section: " + ", ".join(f"{s} {n}" for s, n in counts.items()))
    print()
    header = f"{'config':<12} {'weights d/l':>11} | " + " | ".join(f"{s:^20}" for s in (*SECTIONS, "macro"))
    sub = f"{'':<12} {'':>11} | " + " | ".join(f"{'MRR':>6} {'nDCG':>6} {'R@10':>6}" for _ in (*SECTIONS, "macro"))
    print(header)
    print(sub)
    print("-" * len(sub))
    for name, res in results.items():
        w = res["weights"]
        cells = []
        for s in (*SECTIONS, "macro"):
            row = res["table"].get(s)
            cells.append(f"{row['mrr']:6.3f} {row['ndcg']:6.3f} {row['recall']:6.3f}" if row else f"{'-':>20}")
        print(f"{name:<12} {w['dense']:>5g}/{w['lexical']:<5g} | " + " | ".join(cells))
    print()
    print("recall@3 per section (clusters and themes have only 8 and 9 records, so their recall@10 is ~1 by construction)")
    print(f"{'config':<12} " + " ".join(f"{s:>10}" for s in (*SECTIONS, "macro")))
    for name, res in results.items():
        print(f"{name:<12} " + " ".join(f"{res['table'][s]['recall3']:>10.3f}" for s in (*SECTIONS, "macro")))
    print()
    print(f"Distractors: not_relevant records in the top {DISTRACTOR_TOP} of their section (lower is better)")
    names = list(results)
    print(f"{'distractor':<28} " + " ".join(f"{n:>12}" for n in names))
    for p in proposals:
        if p.distractor:
            print(f"{p.id:<28} " + " ".join(f"{len(results[n]['distractor_hits'][p.id]):>12}" for n in names))
    print(f"{'total (of possible)':<28} " + " ".join(
        f"{str(results[n]['distractor_total']) + ' / ' + str(results[n]['distractor_possible']):>12}" for n in names))
    print()
    best = winner(results)
    macro = results[best]["table"]["macro"]
    print(f"Winner by macro nDCG@10: {best} (weights {results[best]['weights']}), macro nDCG@10 {macro['ndcg']:.3f}, "
          f"MRR {macro['mrr']:.3f}, recall@10 {macro['recall']:.3f}")
    print()
    res = results[default]
    print(f"Diagnostics ({default}):")
    empty = res["empty_sections"]
    print("  empty sections (of {} proposals): {}".format(
        len(proposals), ", ".join(f"{s} {n}" for s, n in empty.items()) or "none"))
    hits = res["explained_hits"]
    common = ", ".join(f"{label} {n / hits:.0%}" for label, n in res["shared_concepts"][:6])
    print(f"  explanations: {res['hits_without_shared_concepts'] / hits:.0%} of {hits} hits name no shared concept; "
          f"most frequent shared concepts (share of hits): {common or 'none'}")
    n = len(proposals)
    for section in SECTIONS:
        top = ", ".join(f"{short(iri)} {count}/{n}" for iri, count in hubs(res["rankings"], section))
        print(f"  most frequent in the top 3 of {section}: {top}")
    real = [v for k, v in res["top_dense_cosine"].items() if v is not None and k in {p.id for p in labelled}]
    fake = {k: v for k, v in res["top_dense_cosine"].items() if v is not None and k not in {p.id for p in labelled}}
    if real and fake:
        print(f"  best dense cosine among question/programme hits: proposals median {statistics.median(real):.3f} "
              f"(min {min(real):.3f}); distractors " + ", ".join(f"{k.split('-')[0]} {v:.3f}" for k, v in fake.items()))
    misses = []
    for p in labelled:
        for s in SECTIONS:
            if p.relevant[s] and not set(p.relevant[s]) & set(res["rankings"][p.id][s]):
                misses.append(f"{p.id.split('-')[0]}:{s}")
    print(f"  proposal/section pairs with no relevant record in the top {TOP}: {len(misses)}"
          + (f" ({', '.join(misses)})" if misses else ""))
    if verbose:
        print()
        for p in proposals:
            print(f"{p.id}{' (distractor)' if p.distractor else ''}")
            for s in SECTIONS:
                got = res["rankings"][p.id][s][:5]
                marks = ["*" + short(i) if i in p.relevant[s] else ("!" + short(i) if i in p.not_relevant.get(s, ()) else
                                                                      short(i)) for i in got]
                print(f"  {s:<10} {' '.join(marks)}")
        print("  (* relevant, ! not_relevant)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graded", action="store_true", help="graded nDCG by list order instead of binary relevance")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the raw numbers as JSON")
    parser.add_argument("--verbose", action="store_true", help="print the top 5 per section of every proposal (default config)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    engine = build_engine()
    proposals = load_proposals(engine.index.entities)
    defaults = Settings()
    configs = dict(CONFIGS)
    default = next((n for n, w in configs.items()
                    if w == {"dense": defaults.dense_weight, "lexical": defaults.lexical_weight}), None)
    if default is None:
        default = "default"
        configs[default] = {"dense": defaults.dense_weight, "lexical": defaults.lexical_weight}
    results = evaluate(engine, proposals, configs, graded=args.graded)
    print_report(results, proposals, engine, args.graded, default, args.verbose)
    print(f"\n(total {time.perf_counter() - started:.1f} s, torch threads {args.threads}, default config: {default})")
    if args.json:
        doc = {"labels": str(LABELS.relative_to(REPO_ROOT)), "graded": args.graded, "top": TOP,
               "distractor_top": DISTRACTOR_TOP, "default": default, "winner": winner(results),
               "index": {"documents": len(engine.index.documents), "entities": len(engine.index.entities),
                         "build_s": engine.build_s},
               "configs": results}
        args.json.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
