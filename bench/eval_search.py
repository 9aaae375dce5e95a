"""Retrieval quality of the semantic search on the labelled proposals (tests/fixtures/eval/proposals.yaml),
reported apart for the TUNING part (where every choice is made) and the HELD-OUT part (only measured).

The proposals: originals (p*), cross-domain ones (x*: a technology of one field applied in another),
proposals the graph has no answer for (n*, `no_answer: true`) and near-miss distractors (d*). Each is
marked `split: tuning` or `split: held-out` by a fixed rule, stratified by language (the file's header;
`expected_splits` checks the marks). The index (vectors, BM25, hubness penalties), the embedder, the
concept matcher and the consortium members are built ONCE, in memory, and shared by every configuration:

  before        dense 1, lexical 0, no hubness correction   (the default before issue 16)
  hybrid        dense 1, lexical 1, no hubness correction
  bm25          dense 0, lexical 1
  hub           dense 1, lexical 0,    hubness weight 1
  hub+lex0.1    dense 1, lexical 0.1,  hubness weight 1
  hub+lex0.25   dense 1, lexical 0.25, hubness weight 1
  hub+lex1      dense 1, lexical 1,    hubness weight 1
  hub0.5        dense 1, lexical 0,    hubness weight 0.5

The hubness penalties come from the reference proposals of search/hubness_reference.yaml, which ARE the
tuning proposals as first drawn (not group t, added later: with it the best tuning macro nDCG@10 was
0.693, without it 0.699): a tuning proposal of the reference set is therefore matched with penalties
computed without itself (leave one out), so the tuning figures are not flattered by the proposal having
shaped its own penalties. Held-out proposals are matched with the index as it ships.

Per part and configuration it prints MRR, nDCG@10 and recall@10 per section (questions; consortia =
programmes and projects; missions = missions and MMIPs; clusters; themes), each averaged over the labelled
proposals that list a relevant record for that section, with a macro average over the five sections;
recall@3 and rank-1 accuracy of the suggested clusters and themes (the first suggestion is a labelled one);
the distractors' tempting records in the top 3; and hubness: for each record, the share of the part's
proposals (all of them: labelled, distractors, no answer) that have it in the top 3 of its section.

The winner is the configuration with the best macro nDCG@10 on the TUNING part; the shipped default
(config.Settings) should be it. The strength thresholds (search.strength) are calibrated on the tuning
part's hits (the top 10 of questions, consortia and missions of every tuning proposal, with the default
configuration) and then checked on the held-out part: the precision of each label (the share of its hits
that are labelled relevant) and how often the answer says no_strong_match, for labelled proposals and for
those without an answer. Relevance is binary (`--graded`: gains n..1 in list order for nDCG).

The run is deterministic (fixed inputs, exact FAISS search, ties broken by IRI; torch on a fixed number of
threads). It prints the report and writes it to bench/results/eval_search.txt (--out).

Usage (from the repository root):
  .venv/bin/python bench/eval_search.py [--graded] [--threads 2] [--out FILE] [--json FILE] [--verbose]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/eval_search.py` puts bench/, not the repository, on the path
    sys.path.insert(0, str(REPO_ROOT))

import yaml  # noqa: E402

from config import Settings  # noqa: E402
from search.evaluation import ndcg_at, recall_at, reciprocal_rank  # noqa: E402

LABELS = REPO_ROOT / "tests" / "fixtures" / "eval" / "proposals.yaml"
OUT = REPO_ROOT / "bench" / "results" / "eval_search.txt"
SECTIONS = ("questions", "programmes", "missions", "clusters", "themes")
RANKED = ("questions", "programmes", "missions")  # the hit sections that are labelled
HUB_SECTIONS = ("questions", "programmes", "missions", "kem_categories", "clusters", "themes")
KINDS = {"questions": ("question",), "programmes": ("programme", "project"), "missions": ("mission", "mmip"),
         "clusters": ("cluster",), "themes": ("theme",)}
SPLITS = ("tuning", "held-out")
CONFIGS: dict[str, dict[str, float]] = {
    "before": {"dense": 1.0, "lexical": 0.0, "hubness": 0.0},
    "hybrid": {"dense": 1.0, "lexical": 1.0, "hubness": 0.0},
    "bm25": {"dense": 0.0, "lexical": 1.0, "hubness": 0.0},
    "hub": {"dense": 1.0, "lexical": 0.0, "hubness": 1.0},
    "hub+lex0.1": {"dense": 1.0, "lexical": 0.1, "hubness": 1.0},
    "hub+lex0.25": {"dense": 1.0, "lexical": 0.25, "hubness": 1.0},
    "hub+lex1": {"dense": 1.0, "lexical": 1.0, "hubness": 1.0},
    "hub0.5": {"dense": 1.0, "lexical": 0.0, "hubness": 0.5},
}
BEFORE = "before"
TOP = 10
METRICS = ("mrr", "ndcg", "recall", "recall3", "acc1")
DISTRACTOR_TOP = 3
HUB_TOP = 3
HUB_GOAL = 0.25  # issue 16: no record in the top 3 of its section for more than a quarter of the proposals


# ---------------------------------------------------------------------------------------------- labels


@dataclass(frozen=True)
class Proposal:
    id: str
    lang: str
    text: str
    distractor: bool
    relevant: dict[str, tuple[str, ...]]  # section -> IRIs, most relevant first
    not_relevant: dict[str, tuple[str, ...]] = field(default_factory=dict)
    split: str = "held-out"
    no_answer: bool = False

    @property
    def labelled(self) -> bool:
        """Scored by the retrieval metrics: neither a distractor nor a proposal without an answer."""
        return not (self.distractor or self.no_answer)

    @property
    def group(self) -> str:
        return self.id[0]


def expected_splits(raw: Sequence[dict[str, Any]]) -> dict[str, str]:
    """The split the rule gives each proposal (the fixture's header): per group (the id's first letter) and
    language, in id order, the originals (p) alternate tuning, held-out, ...; group t (added to the tuning
    part) is all tuning; of every other group only the first is tuning."""
    members: dict[tuple[str, str], list[str]] = defaultdict(list)
    for p in raw:
        members[(p["id"][0], p.get("lang", ""))].append(p["id"])
    out: dict[str, str] = {}
    for (group, _), ids in members.items():
        for i, pid in enumerate(sorted(ids)):
            tuning = i % 2 == 0 if group == "p" else group == "t" or i == 0
            out[pid] = "tuning" if tuning else "held-out"
    return out


def load_proposals(entities: dict[str, Any], path: Path = LABELS) -> list[Proposal]:
    """The labelled proposals with ids resolved to IRIs of the right kind; an unknown id, or a split mark
    that breaks the rule (expected_splits), is an error."""
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
    splits = expected_splits(raw)
    for p in raw:
        if p.get("split") != splits[p["id"]]:
            raise SystemExit(f"{path.name}: {p['id']}: split {p.get('split')!r}, the rule gives {splits[p['id']]!r}")
    return [
        Proposal(
            id=p["id"], lang=p.get("lang", ""), text=p["text"], distractor=bool(p.get("distractor")),
            relevant={s: resolve(p["id"], s, (p.get("relevant") or {}).get(s) or ()) for s in SECTIONS},
            not_relevant={s: resolve(p["id"], s, v or ()) for s, v in (p.get("not_relevant") or {}).items()},
            split=p["split"], no_answer=bool(p.get("no_answer")),
        )
        for p in raw
    ]


# --------------------------------------------------------------------------------------------- metrics


def ranked_sections(result: Any) -> dict[str, list[str]]:  # noqa: ANN401 - a search.result.MatchResult
    """A MatchResult as IRIs per evaluated section (and KEM categories), best first."""
    out = {s: [h.iri for h in getattr(result, s)] for s in SECTIONS}
    out["kem_categories"] = [h.iri for h in result.kem_categories]
    return out


def score_proposal(ranked: dict[str, list[str]], proposal: Proposal, graded: bool = False,
                   k: int = TOP) -> dict[str, dict[str, float]]:
    """section -> {mrr, ndcg, recall, recall3, acc1} for the sections the proposal has relevant records for;
    acc1: whether the first record is a relevant one (the rank-1 accuracy of a suggestion)."""
    out: dict[str, dict[str, float]] = {}
    for section in SECTIONS:
        relevant = proposal.relevant[section]
        if not relevant:
            continue
        got = ranked[section]
        out[section] = {"mrr": reciprocal_rank(got, relevant, k), "ndcg": ndcg_at(got, relevant, k, graded),
                        "recall": recall_at(got, relevant, k), "recall3": recall_at(got, relevant, 3),
                        "acc1": float(bool(got) and got[0] in relevant)}
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


def top_shares(rankings: dict[str, dict[str, list[str]]], section: str, k: int = HUB_TOP) -> list[tuple[str, float]]:
    """Every record in the top k of `section` for some proposal, with the share of the proposals that have
    it there, most frequent first (ties by IRI)."""
    counts = Counter(iri for ranked in rankings.values() for iri in ranked[section][:k])
    n = len(rankings) or 1
    return sorted(((iri, c / n) for iri, c in counts.items()), key=lambda kv: (-kv[1], kv[0]))


def max_top_share(rankings: dict[str, dict[str, list[str]]], sections: Sequence[str] = RANKED) -> float:
    """The largest share of proposals any one record is in the top 3 for, over `sections`."""
    return max((top_shares(rankings, s)[0][1] for s in sections if top_shares(rankings, s)), default=0.0)


def strength_rows(result: Any, proposal: Proposal) -> list[tuple[str, float | None, str, bool, bool]]:  # noqa: ANN401
    """(section, strength score, label, relevant, best of its section) of every hit of the labelled sections."""
    rows = []
    for s in RANKED:
        hits = getattr(result, s)
        best = max((h.strength_score for h in hits if h.strength_score is not None), default=None)
        if proposal.labelled and not proposal.relevant[s]:
            continue  # a section nobody labelled for this proposal: its hits are neither right nor wrong
        rows += [(s, h.strength_score, h.strength, h.iri in proposal.relevant[s], h.strength_score == best)
                 for h in hits]
    return rows


def label_precision(rows: Sequence[tuple[Any, ...]]) -> dict[str, tuple[int, int]]:
    """label -> (hits, relevant hits), from rows (section, score, label, relevant, ...)."""
    out = {label: (0, 0) for label in ("strong", "fair", "weak")}
    for row in rows:
        label, relevant = row[2], row[3]
        n, r = out[label]
        out[label] = (n + 1, r + relevant)
    return out


# ------------------------------------------------------------------------------------------ the search


@dataclass
class Engine:
    """Everything a Matcher needs, built once; `matcher(weights)` makes a Matcher over it."""

    index: Any
    embedder: Any
    concepts: Any
    members: dict[str, Any]
    build_s: float
    _explainer: Any = None

    def matcher(self, weights: dict[str, float], hubness_weight: float | None = None, index: Any = None) -> Any:  # noqa: ANN401
        """A Matcher with these fusion weights (and, when given, this hubness weight, else the default one;
        this index, else the engine's). Every Matcher shares one Explainer: it caches each entity's
        concepts, which do not depend on the weights."""
        from search.match import Matcher
        from search.strength import StrengthThresholds

        defaults = Settings()
        matcher = Matcher(self.index if index is None else index, self.embedder, self.concepts, self.members,
                          {"dense": weights["dense"], "lexical": weights["lexical"]},
                          hubness_weight=defaults.hubness_weight if hubness_weight is None else hubness_weight,
                          strength=StrengthThresholds(defaults.strong_threshold, defaults.fair_threshold))
        if self._explainer is None:
            self._explainer = matcher.explainer
        matcher.explainer = self._explainer
        return matcher


def ensure_model(path: str) -> str:
    from tools.model_build import ensure_model_folder

    return str(ensure_model_folder(Path(path)))


def build_engine(settings: Settings | None = None, store: Any = None) -> Engine:  # noqa: ANN401
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


def leave_one_out(index: Any, proposals: Sequence[Proposal]) -> dict[str, Any]:  # noqa: ANN401
    """For each proposal that is one of the index's reference proposals: the index with penalties (and the
    clusters' and themes' average vote shares, search.match) computed from the other reference proposals."""
    import numpy as np

    from search.hubness import NEAREST, REFERENCE_FILE, hub_penalties

    ids = [p["id"] for p in yaml.safe_load(REFERENCE_FILE.read_text(encoding="utf-8"))["proposals"]]
    vectors = index.reference_vectors
    if vectors is None or len(vectors) != len(ids):
        return {}
    out = {}
    for p in proposals:
        if p.id in ids:
            rest = np.delete(vectors, ids.index(p.id), axis=0)
            out[p.id] = replace(index, hub_penalty=hub_penalties(index.doc_vectors, rest, NEAREST), reference_vectors=rest)
    return out


def legacy_suggest(matcher: Any, text: str, facet: str, top: int = TOP) -> list[str]:  # noqa: ANN401
    """The cluster/theme suggestion before issue 16, for the `before` row: the best ten hits of the fused
    ranking each split their fused score over their links, a direct hit on the cluster's text counts
    double, and a cluster the proposal names gets the top score."""
    from search.index import lexical_terms
    from search.match import match_passages
    from search.readers import read_text_input
    from search.text import detect_language

    text = read_text_input(text)
    vectors = matcher.encode_passages(match_passages(text))
    fused = matcher.fuse(matcher.rank_dense(vectors, None), matcher.rank_lexical(lexical_terms(text), None))
    entities = matcher.index.entities
    votes: dict[str, float] = defaultdict(float)
    voters = ("question", "programme", "project", "mission", "mmip")  # the kinds that voted then
    for iri in [iri for iri in fused if entities[iri].kind in voters][:10]:
        values = entities[iri].facets.get(facet, ())
        for value in values:
            votes[value] += fused[iri] / len(values)
    for iri, score in fused.items():
        if entities[iri].kind == facet:
            votes[iri] += 2 * score
    top_score = max(fused.values(), default=0.0)
    for concept in matcher.explainer.fingerprint(text, detect_language(text)):
        if concept.iri in entities and entities[concept.iri].kind == facet:
            votes[concept.iri] += top_score
    return [iri for iri, _ in sorted(votes.items(), key=lambda kv: -kv[1])[:top]]


def evaluate(engine: Engine, proposals: list[Proposal], configs: dict[str, dict[str, float]],
             graded: bool = False) -> dict[str, Any]:
    """Per configuration and split: per-proposal scores, the aggregate table, distractor hits, rankings,
    strength rows and no_strong_match flags."""
    loo = leave_one_out(engine.index, proposals)
    out: dict[str, Any] = {}
    for name, weights in configs.items():
        shipped = engine.matcher(weights, weights["hubness"])
        started = time.perf_counter()
        res: dict[str, Any] = {split: {"per_proposal": {}, "rankings": {}, "distractors": {}, "strength": [],
                                       "no_strong": {}, "top_cosine": {}} for split in SPLITS}
        for proposal in proposals:
            matcher = engine.matcher(weights, weights["hubness"], loo[proposal.id]) if proposal.id in loo else shipped
            result = matcher.match(proposal.text, top=TOP)
            ranked = ranked_sections(result)
            if name == BEFORE:
                ranked["clusters"] = legacy_suggest(matcher, proposal.text, "cluster")
                ranked["themes"] = legacy_suggest(matcher, proposal.text, "theme")
            part = res[proposal.split]
            part["rankings"][proposal.id] = ranked
            part["strength"] += [(proposal.id, *row) for row in strength_rows(result, proposal)]
            part["no_strong"][proposal.id] = result.no_strong_match
            cosines = [h.explanation.dense_score for s in RANKED for h in getattr(result, s)
                       if h.explanation.dense_score is not None]
            part["top_cosine"][proposal.id] = max(cosines, default=None)
            if proposal.distractor:
                part["distractors"][proposal.id] = distractor_hits(ranked, proposal)
            if proposal.labelled:
                part["per_proposal"][proposal.id] = score_proposal(ranked, proposal, graded)
        for split in SPLITS:
            res[split]["table"] = aggregate(res[split]["per_proposal"])
            res[split]["distractor_total"] = sum(len(v) for v in res[split]["distractors"].values())
        out[name] = {"weights": weights, "seconds": time.perf_counter() - started, **res}
    return out


# The shipped configuration stays while it is within this much macro nDCG@10 of the tuning winner: one
# relevant record moving one rank in one proposal's section moves the macro by 0.001 to 0.004, so a
# smaller lead is no evidence (issue 16: hub led hub+lex0.1 by 0.001 once the tuning part grew).
TIE = 0.005


def winner(results: dict[str, Any]) -> str:
    """The configuration with the best macro nDCG@10 on the tuning part (ties: listed order)."""
    return max(results, key=lambda name: (results[name]["tuning"]["table"]["macro"]["ndcg"], -list(results).index(name)))


def _kept(results: dict[str, Any], best: str, default: str) -> str:
    if best == default:
        return ""
    lead = results[best]["tuning"]["table"]["macro"]["ndcg"] - results[default]["tuning"]["table"]["macro"]["ndcg"]
    return (f" ({lead:.3f} behind, within the tie margin of {TIE}: kept)" if lead <= TIE
            else f"  <-- NOT the winner ({lead:.3f} behind)")


def default_config(configs: dict[str, dict[str, float]]) -> tuple[str, dict[str, dict[str, float]]]:
    """The name of the configuration config.Settings ships (added when none of CONFIGS is it)."""
    s = Settings()
    shipped = {"dense": s.dense_weight, "lexical": s.lexical_weight, "hubness": s.hubness_weight}
    name = next((n for n, w in configs.items() if w == shipped), None)
    if name is None:
        name, configs = "default", {**configs, "default": shipped}
    return name, configs


# ------------------------------------------------------------------------------------------- reporting


def short(iri: str) -> str:
    return "/".join(iri.rsplit("/", 2)[1:])


def calibration_rows(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The tuning hits the strength thresholds are calibrated on: not those of group t, whose questions,
    consortia and missions were labelled only where the writer was sure (it was written for the cluster
    suggestion), so that a right but unlabelled hit would count as a wrong one."""
    return [row for row in rows if not row[0].startswith("t")]


def calibration(rows: Sequence[tuple[Any, ...]]) -> dict[str, float | None]:
    """The strength thresholds the tuning hits give (search.strength.calibrate)."""
    from search.strength import FAIR_PRECISION, STRONG_PRECISION, calibrate

    scored = [(row[2], row[4]) for row in calibration_rows(rows) if row[2] is not None]
    return {"strong": calibrate(scored, STRONG_PRECISION), "fair": calibrate(scored, FAIR_PRECISION)}


def best_precision(rows: Sequence[tuple[Any, ...]], fair: float) -> tuple[int, int]:
    """(hits, relevant hits) among the best hits of their section scoring at least `fair`."""
    chosen = [row[4] for row in rows if row[5] and row[2] is not None and row[2] >= fair]
    return len(chosen), sum(chosen)


def print_table(results: dict[str, Any], split: str) -> None:
    header = f"{'config':<12} {'d/l/hub':>11} | " + " | ".join(f"{s:^20}" for s in (*SECTIONS, "macro"))
    sub = f"{'':<12} {'':>11} | " + " | ".join(f"{'MRR':>6} {'nDCG':>6} {'R@10':>6}" for _ in (*SECTIONS, "macro"))
    print(header)
    print(sub)
    print("-" * len(sub))
    for name, res in results.items():
        w = res["weights"]
        cells = []
        for s in (*SECTIONS, "macro"):
            row = res[split]["table"].get(s)
            cells.append(f"{row['mrr']:6.3f} {row['ndcg']:6.3f} {row['recall']:6.3f}" if row else f"{'-':>20}")
        print(f"{name:<12} {w['dense']:>3g}/{w['lexical']:<4g}/{w['hubness']:<3g} | " + " | ".join(cells))


def print_report(results: dict[str, Any], proposals: list[Proposal], engine: Engine, graded: bool,
                 default: str, verbose: bool) -> None:
    from search.strength import FAIR_PRECISION, STRONG_PRECISION

    settings = Settings()
    print(f"# Search quality on {LABELS.relative_to(REPO_ROOT)}")
    print(f"index {len(engine.index.documents)} documents / {len(engine.index.entities)} entities, "
          f"{len(engine.index.reference_vectors)} reference proposals, built once in {engine.build_s:.1f} s; "
          f"match(top={TOP}); relevance {'GRADED (n..1 by list order)' if graded else 'BINARY'}")
    for split in SPLITS:
        part = [p for p in proposals if p.split == split]
        groups = Counter({"p": "original", "x": "cross-domain", "n": "no answer", "d": "distractor",
                          "t": "added tuning"}[p.group]
                         for p in part)
        labelled = [p for p in part if p.labelled]
        print(f"{split}: {len(part)} proposals ({', '.join(f'{g} {n}' for g, n in groups.items())}; "
              f"{', '.join(f'{lang} {n}' for lang, n in sorted(Counter(p.lang for p in part).items()))}); "
              f"labelled per section: " + ", ".join(f"{s} {sum(1 for p in labelled if p.relevant[s])}" for s in SECTIONS))
    print("(tuning proposals are matched with hubness penalties computed without themselves: leave one out)")
    for split in SPLITS:
        print()
        print(f"## {split.upper()}: MRR / nDCG@10 / recall@10 per section (consortia = programmes and projects)")
        print_table(results, split)
        print()
        print(f"{'config':<12} " + " ".join(f"{h:>14}" for h in ("clusters acc@1", "clusters R@3", "themes acc@1",
                                                                  "themes R@3", "distractor hits", "max top-3 share")))
        for name, res in results.items():
            t = res[split]["table"]
            possible = sum(min(DISTRACTOR_TOP, len(v)) for p in proposals if p.distractor and p.split == split
                           for v in p.not_relevant.values())
            print(f"{name:<12} " + " ".join(f"{v:>14}" for v in (
                f"{t['clusters']['acc1']:.3f}", f"{t['clusters']['recall3']:.3f}", f"{t['themes']['acc1']:.3f}",
                f"{t['themes']['recall3']:.3f}", f"{res[split]['distractor_total']} / {possible}",
                f"{max_top_share(res[split]['rankings']):.2f}")))
    best = winner(results)
    macro = results[best]["tuning"]["table"]["macro"]
    print()
    print(f"Winner by macro nDCG@10 on the TUNING part: {best} (weights {results[best]['weights']}), nDCG@10 "
          f"{macro['ndcg']:.3f}, MRR {macro['mrr']:.3f}, recall@10 {macro['recall']:.3f}. Shipped default "
          f"(config.Settings): {default}" + _kept(results, best, default))
    for split in SPLITS:
        n = len(results[default][split]["rankings"])
        print()
        print(f"## Hubness, {split}: records in the top {HUB_TOP} of their section for the most of the {n} proposals "
              f"(goal: none above {HUB_GOAL:.0%})")
        for section in HUB_SECTIONS:
            for name in (BEFORE, default):
                top = ", ".join(f"{short(iri)} {share:.0%}" for iri, share in top_shares(results[name][split]["rankings"],
                                                                                         section)[:3])
                print(f"  {section:<15} {name:<8} {top}")
        print("  (KEM categories, clusters and themes have 5, 8 and 9 records, so some are in most tops 3; the goal is "
              "for questions, consortia and missions)")
    res = results[default]
    print()
    print(f"## Strength labels ({default}; hits: the top {TOP} of questions, consortia and missions)")
    calibrated = calibration(res["tuning"]["strength"])
    print(f"Calibrated on the tuning part without group t: strong from {calibrated['strong']} "
          f"(precision >= {STRONG_PRECISION:.0%}), fair from {calibrated['fair']} "
          f"(precision >= {FAIR_PRECISION:.0%}); in use (config.Settings): strong "
          f"{settings.strong_threshold}, fair {settings.fair_threshold}"
          + ("" if (calibrated["strong"], calibrated["fair"]) == (settings.strong_threshold, settings.fair_threshold)
             else "  <-- differs: update MK_STRONG_THRESHOLD / MK_FAIR_THRESHOLD in config.py"))
    n, r = best_precision(calibration_rows(res["tuning"]["strength"]), settings.fair_threshold)
    print(f"The best hit of a section at or above fair, on the tuning part without group t: precision "
          f"{r / max(n, 1):.2f} ({r}/{n}); it counts strong when this reaches {STRONG_PRECISION:.0%}")
    for split in SPLITS:
        counts = label_precision([row[1:] for row in res[split]["strength"]])
        by_id = {p.id: p for p in proposals if p.split == split}
        print(f"  {split:<8} precision per label: " + ", ".join(
            f"{label} {r / n:.2f} ({r}/{n})" if n else f"{label} - (0)" for label, (n, r) in counts.items()))
        flagged = res[split]["no_strong"]
        for what, test in (("labelled", lambda p: p.labelled), ("no answer", lambda p: p.no_answer),
                           ("distractors", lambda p: p.distractor)):
            ids = [pid for pid in flagged if test(by_id[pid])]
            print(f"           no_strong_match for {what}: {sum(flagged[pid] for pid in ids)} of {len(ids)}")
        real = [v for pid, v in res[split]["top_cosine"].items() if v is not None and by_id[pid].labelled]
        other = [v for pid, v in res[split]["top_cosine"].items() if v is not None and not by_id[pid].labelled]
        if real and other:
            print(f"           best plain cosine of a hit: labelled median {statistics.median(real):.3f}, others median "
                  f"{statistics.median(other):.3f} (plain cosines do not tell them apart)")
    print()
    print(f"Diagnostics ({default}): proposal/section pairs with no relevant record in the top {TOP}:")
    for split in SPLITS:
        misses = [f"{pid.split('-')[0]}:{s}" for pid, scores in res[split]["per_proposal"].items()
                  for s in SECTIONS if s in scores and scores[s]["recall"] == 0]
        print(f"  {split}: {len(misses)}" + (f" ({', '.join(misses)})" if misses else ""))
    if verbose:
        print()
        for p in proposals:
            ranked = res[p.split]["rankings"][p.id]
            print(f"{p.id} [{p.split}]{' (distractor)' if p.distractor else ''}{' (no answer)' if p.no_answer else ''}")
            for s in SECTIONS:
                marks = ["*" + short(i) if i in p.relevant[s] else ("!" + short(i) if i in p.not_relevant.get(s, ()) else
                                                                    short(i)) for i in ranked[s][:5]]
                print(f"  {s:<10} {' '.join(marks)}")
        print("  (* relevant, ! not_relevant)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graded", action="store_true", help="graded nDCG by list order instead of binary relevance")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--out", type=Path, default=OUT, help="also write the report here (default bench/results/...)")
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
    default, configs = default_config(dict(CONFIGS))
    results = evaluate(engine, proposals, configs, graded=args.graded)
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        print_report(results, proposals, engine, args.graded, default, args.verbose)
        print(f"\n(total {time.perf_counter() - started:.1f} s, torch threads {args.threads}, default config: {default})")
    print(buffer.getvalue(), end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(buffer.getvalue(), encoding="utf-8")
    if args.json:
        doc = {"labels": str(LABELS.relative_to(REPO_ROOT)), "graded": args.graded, "top": TOP,
               "default": default, "winner": winner(results),
               "index": {"documents": len(engine.index.documents), "entities": len(engine.index.entities),
                         "build_s": engine.build_s},
               "configs": results}
        args.json.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
