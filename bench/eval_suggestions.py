"""How the cluster and theme suggestion was chosen (issue 16): variants of search.match.vote_shares and
of the prior taken off (the share an average proposal gives each cluster), scored on the TUNING part of
tests/fixtures/eval/proposals.yaml only; the held-out part is never read here.

Each tuning proposal is matched once with the shipped matcher (leave one out for the proposals among the
hubness reference, as bench/eval_search.py does), the corrected similarities its suggestion would see are
kept, and every variant ranks the clusters (themes) from them. The prior here is the mean vote share over
the reference proposals' own matches (the matcher takes it from their stored vectors, search.match).
Printed per variant: rank-1 accuracy, MRR and recall@3 of the clusters, rank-1 accuracy and MRR of the
themes. The shipped variant is marked; the choice is the best rank-1 accuracy of the clusters, then their
MRR."""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.eval_search import build_engine, leave_one_out, load_proposals  # noqa: E402
from search import match  # noqa: E402
from search.evaluation import recall_at, reciprocal_rank  # noqa: E402

KINDS = ("question", "programme", "project", "mission", "mmip")
FACETS = (("cluster", "clusters"), ("theme", "themes"))


def seen_scores(matcher: Any, text: str) -> dict[str, tuple[dict[str, float], list[Any]]]:  # noqa: ANN401
    """facet -> (the corrected similarities, the named concepts) that the suggestion gets for `text`."""
    kept: dict[str, tuple[dict[str, float], list[Any]]] = {}

    def keep(scores: Mapping[str, float], facet: str, top: int, mentioned: Sequence[Any]) -> tuple[()]:
        kept[facet] = (dict(scores), list(mentioned))
        return ()

    matcher.suggest = keep  # this matcher only: its own attribute shadows the method
    matcher.match(text, top=10)
    return kept


def ranking(entities: Mapping[str, Any], seen: tuple[dict[str, float], list[Any]], prior: Mapping[str, float],
            facet: str, variant: dict[str, Any]) -> list[str]:
    shares = match.vote_shares(entities, seen[0], facet, seen[1], hits=variant["hits"], own_vote=variant["own"],
                               voters=KINDS + (("technology",) if variant["technologies"] else ()))
    if variant["prior"] == "subtract":
        adjusted = {k: v - variant["weight"] * prior.get(k, 0.0) for k, v in shares.items()}
    elif variant["prior"] == "divide":
        adjusted = {k: v / max(prior.get(k, 0.0), 0.02) ** variant["weight"] for k, v in shares.items()}
    else:
        adjusted = shares
    return [k for k, _ in sorted(adjusted.items(), key=lambda kv: (-kv[1], kv[0]))]


def variants() -> list[dict[str, Any]]:
    plain = [{"hits": h, "own": o, "technologies": t, "prior": "none", "weight": 0.0}
             for h, o, t in itertools.product((10, 20, 30), (0.0, 1.0, 2.0), (False, True))]
    prior = [{"hits": h, "own": o, "technologies": False, "prior": p, "weight": w}
             for h, o, p, w in itertools.product((20, 30), (0.0, 1.0), ("subtract", "divide"), (0.5, 1.0))]
    return plain + prior


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    engine = build_engine()
    entities = engine.index.entities
    tuning = [p for p in load_proposals(entities) if p.split == "tuning"]
    loo = leave_one_out(engine.index, tuning)
    weights = {"dense": 1.0, "lexical": 0.1, "hubness": 1.0}
    seen = {p.id: seen_scores(engine.matcher(weights, 1.0, loo.get(p.id)), p.text) for p in tuning}
    reference_ids = set(loo)
    reference = {p.id: seen[p.id] for p in tuning if p.id in reference_ids}
    shipped = {"hits": match.VOTING_HITS, "own": match.OWN_VOTE, "technologies": "technology" in match.VOTERS,
               "prior": "subtract", "weight": match.PRIOR_WEIGHT}
    print(f"# cluster/theme suggestion variants on the TUNING part: {len(tuning)} proposals, "
          f"{sum(bool(p.relevant['clusters']) for p in tuning)} labelled with clusters; prior from "
          f"{len(reference)} reference proposals (leave one out)")
    print(f"{'hits':>4} {'own':>4} {'tech':>4} {'prior':>9} {'w':>4} | clusters acc@1    MRR    R@3 | themes acc@1    MRR")
    for variant in variants():
        shares = {(r, facet): match.vote_shares(entities, seen_r[facet][0], facet, seen_r[facet][1],
                                                hits=variant["hits"], own_vote=variant["own"])
                  for r, seen_r in reference.items() for facet, _ in FACETS}
        scores: dict[str, list[float]] = defaultdict(list)
        for p in tuning:
            for facet, section in FACETS:
                relevant = p.relevant[section]
                if not relevant:
                    continue
                others = [r for r in reference if r != p.id]  # leave one out, as the penalties are
                prior: dict[str, float] = defaultdict(float)
                for r in others:
                    for k, v in shares[(r, facet)].items():
                        prior[k] += v / len(others)
                got = ranking(entities, seen[p.id][facet], prior, facet, variant)
                scores[f"{section} acc1"].append(float(bool(got) and got[0] in relevant))
                scores[f"{section} mrr"].append(reciprocal_rank(got, relevant, 10))
                scores[f"{section} r3"].append(recall_at(got, relevant, 3))
        mean = {k: sum(v) / len(v) for k, v in scores.items()}
        mark = "  <- shipped" if variant == shipped else ""
        print(f"{variant['hits']:>4} {variant['own']:>4g} {int(variant['technologies']):>4} {variant['prior']:>9} "
              f"{variant['weight']:>4g} | {mean['clusters acc1']:>14.3f} {mean['clusters mrr']:>6.3f} "
              f"{mean['clusters r3']:>6.3f} | {mean['themes acc1']:>12.3f} {mean['themes mrr']:>6.3f}{mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
