"""Quality floors of the semantic search on the HELD-OUT part of the labelled proposals
(tests/fixtures/eval/proposals.yaml, `split: held-out`), with the DEFAULT settings (config.Settings: hubness
correction 1, dense 1, lexical 0.1, the calibrated strength thresholds).

Nothing was tuned on these proposals: the weights, the hubness correction, the cluster/theme suggestion and
the strength thresholds were chosen on the tuning part, and the held-out proposals are not among the
hubness reference proposals (tests/test_hubness.py checks both). The metrics are those of
bench/eval_search.py (binary relevance; each section averaged over the labelled proposals that list relevant
records for it; the consortia section holds programmes and projects, both labelled). Each floor sits about
10-15% below the value measured with `.venv/bin/python bench/eval_search.py` (bench/results/eval_search.txt,
held-out table, row `hub+lex0.1`), so the tests fail when ranking quality drops and do not flip on noise.
When the search gets better, re-measure and raise the floors; never tune on this part to pass them.

Measured on the held-out part (20 labelled proposals, 6 without an answer, 4 distractors):
                                             before issue 16   now      floor
  questions + consortia recall@10 (mean)     0.510             0.578    0.50
  consortia MRR                              0.425             0.466    0.40
  missions recall@10                         0.408             0.772    0.66
  macro nDCG@10 (5 sections)                 0.566             0.647    0.56
  cluster suggestion right at rank 1         0.900             0.850    0.75
  themes recall@3                            0.858             0.925    0.80
  most proposals one record is in the top 3  43%               23%      ceiling 30%
  distractors: tempting records in the top 3 7 of 18           6 of 18  ceiling 8
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.eval_search import (
    TOP,
    aggregate,
    distractor_hits,
    label_precision,
    load_proposals,
    max_top_share,
    ranked_sections,
    score_proposal,
    strength_rows,
)
from config import Settings

FLOOR_QP_RECALL10 = 0.50  # measured 0.578
FLOOR_PROGRAMMES_MRR = 0.40  # measured 0.472
FLOOR_MISSIONS_RECALL10 = 0.66  # measured 0.772
FLOOR_MACRO_NDCG10 = 0.56  # measured 0.645
FLOOR_CLUSTERS_ACC1 = 0.80  # measured 0.900 (18 of 20)
FLOOR_THEMES_RECALL3 = 0.80  # measured 0.950
CEILING_TOP3_SHARE = 0.30  # measured 0.23 (7 of 30); issue 16's goal is 0.25
CEILING_DISTRACTOR_HITS = 8  # measured 7 (of 18 possible)


@pytest.fixture(scope="module")
def evaluation(matcher: Any) -> dict[str, Any]:  # noqa: ANN401 - a search.match.Matcher
    """Every held-out proposal through the default matcher once: the aggregate table, rankings, distractor hits
    and the strength rows of every hit."""
    defaults = Settings()
    assert matcher.weights == {"dense": defaults.dense_weight, "lexical": defaults.lexical_weight}
    assert matcher.hubness_weight == defaults.hubness_weight
    assert (matcher.strength.strong, matcher.strength.fair) == (defaults.strong_threshold, defaults.fair_threshold)
    per_proposal: dict[str, dict[str, dict[str, float]]] = {}
    rankings: dict[str, dict[str, list[str]]] = {}
    distractors: dict[str, list[str]] = {}
    strength: list[tuple[Any, ...]] = []
    held_out = [p for p in load_proposals(matcher.index.entities) if p.split == "held-out"]
    for proposal in held_out:
        result = matcher.match(proposal.text, top=TOP)
        ranked = rankings[proposal.id] = ranked_sections(result)
        strength += strength_rows(result, proposal)
        if proposal.distractor:
            distractors[proposal.id] = distractor_hits(ranked, proposal)
        if proposal.labelled:
            per_proposal[proposal.id] = score_proposal(ranked, proposal)
    assert len(per_proposal) >= 20 and len(distractors) >= 4 and len(held_out) >= 30
    return {"table": aggregate(per_proposal), "rankings": rankings, "distractors": distractors, "strength": strength}


def _report(table: dict[str, dict[str, float]]) -> str:
    return "; ".join(f"{section}: " + " ".join(f"{m} {v:.3f}" for m, v in row.items() if m != "n")
                     for section, row in table.items())


def test_questions_and_consortia_are_found_in_the_top_10(evaluation: dict[str, Any]) -> None:
    table = evaluation["table"]
    recall = (table["questions"]["recall"] + table["programmes"]["recall"]) / 2
    assert recall >= FLOOR_QP_RECALL10, _report(table)


def test_the_right_consortium_ranks_near_the_top(evaluation: dict[str, Any]) -> None:
    table = evaluation["table"]
    assert table["programmes"]["mrr"] >= FLOOR_PROGRAMMES_MRR, _report(table)


def test_the_right_missions_are_found_in_the_top_10(evaluation: dict[str, Any]) -> None:
    table = evaluation["table"]
    assert table["missions"]["recall"] >= FLOOR_MISSIONS_RECALL10, _report(table)


def test_macro_ndcg_over_all_sections(evaluation: dict[str, Any]) -> None:
    table = evaluation["table"]
    assert table["macro"]["ndcg"] >= FLOOR_MACRO_NDCG10, _report(table)


def test_the_right_cluster_is_suggested_first_and_the_right_themes_in_the_top_3(evaluation: dict[str, Any]) -> None:
    table = evaluation["table"]
    assert table["clusters"]["acc1"] >= FLOOR_CLUSTERS_ACC1, _report(table)
    assert table["themes"]["recall3"] >= FLOOR_THEMES_RECALL3, _report(table)


def test_no_record_fills_the_top_3_of_most_answers(evaluation: dict[str, Any]) -> None:
    """Hubness: the share of held-out proposals (all of them) that have one record in the top 3 of its section,
    for the record with the most, over questions, consortia and missions."""
    share = max_top_share(evaluation["rankings"])
    assert share <= CEILING_TOP3_SHARE, share


def test_distractors_do_not_pull_up_more_tempting_records(evaluation: dict[str, Any]) -> None:
    hits = evaluation["distractors"]
    assert sum(len(v) for v in hits.values()) <= CEILING_DISTRACTOR_HITS, hits


def test_a_stronger_label_means_a_more_likely_right_hit(evaluation: dict[str, Any]) -> None:
    """The precision of the labels on held-out hits (the share labelled relevant) falls from strong to weak."""
    counts = label_precision(evaluation["strength"])
    precision = {label: r / n for label, (n, r) in counts.items() if n}
    assert set(precision) == {"strong", "fair", "weak"}, counts
    assert precision["strong"] > precision["fair"] > precision["weak"], counts
