"""How well hits are explained, per language, on the labelled proposals (tests/fixtures/eval/proposals.yaml).

Every labelled proposal (not the distractors, not those marked no_answer) goes through Matcher.match(top=5)
with the default weights (Settings). A "right hit" is a hit in the top 5 of the questions, programmes or
missions section that the proposal lists as relevant for that section. For Dutch and English proposals
separately it prints:

  - the share of right hits whose explanation names at least one shared concept, and how many of those
    name one by words (a label found in both texts) and how many only by meaning (embeddings);
  - the same share over all top-5 question hits (right or not);
  - hits that show a best passage although the proposal is one passage (should be none: that passage
    would be the whole text, repeated on every hit);
  - of the clusters and themes named by meaning on any top-5 hit, the share the proposal lists as relevant;
  - for a short version of every proposal (its first sentence: one passage), how many top-5 hits show a
    best passage, which could only be that whole sentence again.

Then two constructed checks of the concept matcher (Explainer.fingerprint, the proposal side):

  - spurious: texts with ordinary words that look like a concept's label ("Robust" vs the ROBUST
    programme, "exceed" vs the Exceed programme, "transported" vs Mobility, "opties" vs "optica",
    "energieke" vs energy); each forbidden (text, concept) pair found is one spurious match;
  - found: texts whose concept word is inflected, derived or inside a Dutch compound ("fotonische" ->
    Fotonica en lichttechnologieën); each expected (text, concept) pair missed is one miss.

Finally the calibration of "by meaning" (search.explain.MEANING_NEAREST and MEANING_MIN_COSINE), per split
of the labels (`split: tuning` / `held-out`; the numbers in use were chosen on tuning): over every labelled
proposal and every cluster and theme, how many of the concepts that are among the proposal's nearest of
their kind and at least that close are labelled relevant (precision), and how many of the labelled ones
are counted so (recall).

The output goes to stdout and to bench/results/eval_explanations.txt (--out). `--append` adds to that
file instead, under `--title`: the "before" figures of the docs were made by running this script in a
checkout of the commit before the change, then the "after" figures with --append.

Usage (from the repository root):
  .venv/bin/python bench/eval_explanations.py [--threads 2] [--out FILE] [--append] [--title TEXT]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from collections import Counter
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/eval_explanations.py` puts bench/, not the repository, on the path
    sys.path.insert(0, str(REPO_ROOT))

import yaml  # noqa: E402

from bench.eval_search import build_engine  # noqa: E402
from config import Settings  # noqa: E402

TOP = 5
SECTIONS = ("questions", "programmes", "missions")
OUT = REPO_ROOT / "bench" / "results" / "eval_explanations.txt"
LABELS = REPO_ROOT / "tests" / "fixtures" / "eval" / "proposals.yaml"
KINDS = {"questions": ("question",), "programmes": ("programme", "project"), "missions": ("mission", "mmip"),
         "clusters": ("cluster",), "themes": ("theme",)}  # the kinds of the matcher's sections
BASE = "https://w3id.org/missiekompas/id/"

# (language, text, concepts that must NOT be found): ordinary words that look like a concept's label
SPURIOUS: list[tuple[str, str, tuple[str, ...]]] = [
    ("en", "Robust results exceed expectations: the sensors are transported by lorry to the harbour.",
     ("programme/ai-ecosystem", "programme/exceed", "theme/mobiliteit", "mission/ed-d-mobiliteit")),
    ("en", "Smart meters in every home; the readings are processed locally and transported once a day.",
     ("programme/smart-industry", "theme/mobiliteit", "mission/ed-d-mobiliteit")),
    ("en", "Transporting the samples took days, and the costs exceed the budget. A robust design helps.",
     ("theme/mobiliteit", "mission/ed-d-mobiliteit", "programme/exceed", "programme/ai-ecosystem")),
    ("nl", "Een energieke en zorgvuldige aanpak, met opties voor uitbreiding. Robust en Smart zijn hier gewone woorden.",
     ("theme/klimaat-energie", "theme/gezondheid-zorg", "cluster/photonics-light-technologies",
      "technology/nts-photonics", "programme/ai-ecosystem", "programme/smart-industry")),
    ("nl", "De spoorbeheerder vervoerde de materialen; de kosten exceed-en het budget niet. Robuust ontwerp.",
     ("programme/exceed", "programme/ai-ecosystem")),
    ("en", "Hydrogenation of vegetable oils at a robust, economic scale.",
     ("programme/ai-ecosystem", "programme/eccm")),
]

# (language, text, concepts that must be found): inflected, derived or compound forms of a concept word
FOUND: list[tuple[str, str, tuple[str, ...]]] = [
    ("nl", "Wij ontwikkelen een fotonische chip voor snellere datacommunicatie.", ("cluster/photonics-light-technologies",)),
    ("nl", "Quantumcomputers kunnen bepaalde berekeningen sneller uitvoeren.", ("cluster/quantum-technologies",)),
    ("nl", "De klimaatadaptatieplannen van de gemeente en de energietransitieregio's.",
     ("mission/lwv-c-klimaatbestendig-gebied", "mission/h1-energietransitie")),
    ("nl", "Gezondheidsdata uit de huisartsenpraktijk en chemische recyclingprocessen.",
     ("theme/gezondheid-zorg", "cluster/chemical-technologies", "theme/circulaire-economie")),
    ("en", "We design photonic circuits and optical sensors.", ("cluster/photonics-light-technologies",)),
    ("en", "The ROBUST labs of the Dutch AI ecosystem.", ("programme/ai-ecosystem",)),
    ("en", "Nanotechnological coatings and quantum sensing.", ("cluster/nanotechnologies", "cluster/quantum-technologies")),
]


@dataclass(frozen=True)
class Proposal:
    id: str
    lang: str
    split: str
    text: str
    relevant: dict[str, frozenset[str]]  # section -> IRIs


def load_proposals(entities: dict[str, Any], path: Path) -> list[Proposal]:
    """The labelled proposals (not distractors, not those without an answer), ids resolved to IRIs of the
    section's kinds; an id the graph lacks is left out with a warning."""
    by_id = {(e.kind, iri.rsplit("/", 1)[1]): iri for iri, e in entities.items()}
    out = []
    for raw in yaml.safe_load(path.read_text(encoding="utf-8"))["proposals"]:
        if raw.get("distractor") or raw.get("no_answer"):
            continue
        relevant: dict[str, frozenset[str]] = {}
        for section, kinds in KINDS.items():
            iris = set()
            for local in (raw.get("relevant") or {}).get(section) or ():
                found = [by_id[(k, local)] for k in kinds if (k, local) in by_id]
                if not found:
                    print(f"warning: {raw['id']}: {section} id {local!r} is not in the graph", file=sys.stderr)
                iris.update(found)
            relevant[section] = frozenset(iris)
        out.append(Proposal(raw["id"], raw.get("lang", ""), raw.get("split", ""), raw["text"], relevant))
    return out


def by_meaning(concept: Any) -> bool:  # noqa: ANN401 - a search.result.Concept (older ones lack the field)
    return bool(getattr(concept, "by_meaning", False))


def explained(proposals: list[Proposal], matcher: Any) -> dict[str, Counter[str]]:  # noqa: ANN401 - a Matcher
    """Per language: right hits and how they are explained, all top-5 question hits, passages shown on
    one-passage texts, and the by-meaning clusters and themes named on any hit that are labelled relevant."""
    from search.match import match_passages

    counts: dict[str, Counter[str]] = {}
    for proposal in proposals:
        c = counts.setdefault(proposal.lang, Counter())
        result = matcher.match(proposal.text, top=TOP)
        one_passage = len(match_passages(proposal.text)) == 1
        c["proposals"] += 1
        c["one_passage_proposals"] += one_passage
        labelled = proposal.relevant["clusters"] | proposal.relevant["themes"]
        for section in SECTIONS:
            for hit in getattr(result, section)[:TOP]:
                concepts = hit.explanation.shared_concepts
                words = [x for x in concepts if not by_meaning(x)]
                c["hits"] += 1
                c["hits_passage_on_one_passage"] += bool(one_passage and hit.explanation.passage)
                for concept in concepts:
                    if by_meaning(concept) and matcher.index.entities[concept.iri].kind in ("cluster", "theme"):
                        c["meaning_cluster_theme"] += 1
                        c["meaning_cluster_theme_labelled"] += concept.iri in labelled
                if section == "questions":
                    c["question_hits"] += 1
                    c["question_hits_named"] += bool(concepts)
                if hit.iri not in proposal.relevant[section]:
                    continue
                c["right"] += 1
                c["right_named"] += bool(concepts)
                c["right_by_words"] += bool(words)
                c["right_only_by_meaning"] += bool(concepts and not words)
    return counts


def short_passages(proposals: list[Proposal], matcher: Any) -> tuple[int, int, int]:  # noqa: ANN401 - a Matcher
    """(one-passage texts, their top-5 hits, those hits that show a best passage) for the first sentence of
    every proposal."""
    from search.match import match_passages
    from search.text import sentences

    texts = [" ".join(sentences(p.text)[0]) for p in proposals]
    texts = [t for t in texts if len(match_passages(t)) == 1]
    hits = [h for t in texts for s in SECTIONS for h in getattr(matcher.match(t, top=TOP), s)]
    return len(texts), len(hits), sum(1 for h in hits if h.explanation.passage)


def constructed(explainer: Any, cases: list[tuple[str, str, tuple[str, ...]]]) -> tuple[int, int, list[str]]:  # noqa: ANN401
    """(pairs found, pairs in all, the found pairs as 'text -> concept (words)')."""
    found, total, which = 0, 0, []
    for lang, text, concepts in cases:
        fingerprint = {c.iri: c for c in explainer.fingerprint(text, lang)}
        for local in concepts:
            total += 1
            if BASE + local in fingerprint:
                found += 1
                which.append(f"{text[:40]!r}... -> {local} ({', '.join(fingerprint[BASE + local].matched)})")
    return found, total, which


NEAREST = (1, 2)
THRESHOLDS = (0.0, 0.82, 0.825, 0.83, 0.835, 0.84, 0.85)


def calibration(proposals: list[Proposal], engine: Any, matcher: Any) -> dict[tuple[str, int, float], tuple[int, int, int]]:  # noqa: ANN401
    """(split, nearest, threshold) -> (clusters and themes that are among the proposal's `nearest` of their kind
    and at least `threshold` close, how many of them are labelled relevant, how many are labelled in all)."""
    import numpy as np

    from search.match import match_passages

    index = engine.index
    concepts = [iri for iri, e in index.entities.items() if e.kind in ("cluster", "theme")]
    rows = {iri: [i for i, d in enumerate(index.documents) if d.entity == iri] for iri in concepts}
    scored: list[tuple[str, float, int, bool]] = []  # split, cosine, rank in its kind, labelled
    for proposal in proposals:
        vectors = matcher.encode_passages(match_passages(proposal.text))
        query = vectors.mean(axis=0)
        query /= np.linalg.norm(query) or 1.0
        cosine = {iri: float((index.doc_vectors[rows[iri]] @ query).max()) for iri in concepts}
        labelled = proposal.relevant["clusters"] | proposal.relevant["themes"]
        for iri in concepts:
            kind = index.entities[iri].kind
            rank = 1 + sum(cosine[o] > cosine[iri] for o in concepts if index.entities[o].kind == kind)
            scored.append((proposal.split or "all", cosine[iri], rank, iri in labelled))
    out = {}
    for split in sorted({s for s, *_ in scored}):
        mine = [x for x in scored if x[0] == split]
        for nearest in NEAREST:
            for threshold in THRESHOLDS:
                close = [rel for _, cos, rank, rel in mine if rank <= nearest and cos >= threshold]
                out[split, nearest, threshold] = (len(close), sum(close), sum(rel for *_, rel in mine))
    return out


def share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else "0/0"


def report(engine: Any, proposals: list[Proposal], title: str, labels: Path) -> None:  # noqa: ANN401
    settings = Settings()
    matcher = engine.matcher({"dense": settings.dense_weight, "lexical": settings.lexical_weight})
    print(f"## {title}")
    print(f"{len(proposals)} labelled proposals ({dict(Counter(p.lang for p in proposals))}) in {labels.name}; "
          f"match(top={TOP}), weights dense {settings.dense_weight:g} / lexical {settings.lexical_weight:g}; a right hit "
          f"is a labelled record in the top {TOP} of {', '.join(SECTIONS)}")
    counts = explained(proposals, matcher)
    print()
    print(f"{'':<4} {'right hits naming a concept':>28} {'by words':>9} {'only by meaning':>16} "
          f"{'top-5 question hits naming one':>31} {'passage shown on a one-passage text':>36}")
    for lang in ("nl", "en"):
        c = counts.get(lang, Counter())
        print(f"{lang:<4} {share(c['right_named'], c['right']):>28} {c['right_by_words']:>9} "
              f"{c['right_only_by_meaning']:>16} {share(c['question_hits_named'], c['question_hits']):>31} "
              f"{str(c['hits_passage_on_one_passage']) + ' of ' + str(c['hits']) + ' hits':>36}")
    print("one-passage proposals: " + ", ".join(f"{lang} {counts[lang]['one_passage_proposals']} of "
                                              f"{counts[lang]['proposals']}" for lang in counts))
    meaning = sum(c["meaning_cluster_theme"] for c in counts.values())
    right = sum(c["meaning_cluster_theme_labelled"] for c in counts.values())
    print(f"clusters and themes named by meaning on any top-{TOP} hit: {meaning}, of them labelled relevant for the "
          f"proposal: {share(right, meaning)}")
    texts, hits, shown = short_passages(proposals, matcher)
    print(f"first sentences of the proposals as one-passage texts: {texts}; their top-{TOP} hits showing a best "
          f"passage (the whole text again): {shown} of {hits}")
    print()
    spurious, pairs, which = constructed(matcher.explainer, SPURIOUS)
    print(f"spurious concept matches on {len(SPURIOUS)} constructed negative texts: {spurious} of {pairs} forbidden pairs")
    for line in which:
        print(f"  {line}")
    found, wanted, _ = constructed(matcher.explainer, FOUND)
    print(f"concepts found in {len(FOUND)} constructed texts (inflected, derived, compound): {found} of {wanted}")
    print()
    print("by-meaning calibration on clusters and themes: cosine of the proposal (mean of its passage vectors) to the "
          "concept's closest document; a concept counts where it is among the proposal's `nearest` of its kind and "
          "at least `threshold` close")
    print(f"{'split':>9} {'nearest':>8} {'threshold':>10} {'counted':>8} {'labelled':>9} {'precision':>10} {'recall':>7}")
    for (split, nearest, threshold), (close, right, total) in calibration(proposals, engine, matcher).items():
        print(f"{split:>9} {nearest:>8} {threshold:>10.3f} {close:>8} {right:>9} {(right / close if close else 0):>10.2f} "
              f"{(right / total if total else 0):>7.2f}")
    import search.explain as explain

    if hasattr(explain, "MEANING_MIN_COSINE"):
        print(f"(in use: search.explain.MEANING_NEAREST = {explain.MEANING_NEAREST}, "
              f"MEANING_MIN_COSINE = {explain.MEANING_MIN_COSINE})")
    else:
        print("(this version names no concept by meaning)")


def commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "search"], cwd=REPO_ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return f"commit {head}" + (" with changes to search/" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--labels", type=Path, default=LABELS, help="the labelled proposals (default: the fixture)")
    parser.add_argument("--out", type=Path, default=OUT, help="also write the report here (default bench/results/...)")
    parser.add_argument("--append", action="store_true", help="append to --out instead of replacing it")
    parser.add_argument("--title", default=None, help="the report's heading (default: the commit)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    engine = build_engine()
    proposals = load_proposals(engine.index.entities, args.labels)
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        report(engine, proposals, args.title or commit(), args.labels)
        print(f"\n(total {time.perf_counter() - started:.1f} s, torch threads {args.threads})\n")
    text = buffer.getvalue()
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a" if args.append else "w", encoding="utf-8") as out:
        out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
