"""Strength labels (search.strength): the calibrated thresholds, and what a match on the shipped graph says."""

from __future__ import annotations

from typing import Any

import pytest

from bench.eval_search import load_proposals
from config import Settings
from search.match import HUBNESS_WEIGHT, STRENGTH_SECTIONS
from search.render import render_match
from search.result import NO_STRONG_MATCH_NOTE
from search.strength import StrengthThresholds, calibrate, no_strong_match

T = StrengthThresholds(strong=0.045, fair=0.035)  # any two thresholds: the rule is what is tested


@pytest.mark.parametrize(("score", "best", "label"), [
    (None, True, "weak"), (-0.01, False, "weak"), (0.0349, True, "weak"), (0.035, False, "fair"),
    (0.0449, False, "fair"), (0.035, True, "strong"), (0.045, False, "strong"), (0.08, False, "strong"),
])
def test_labels_follow_the_thresholds(score: float | None, best: bool, label: str) -> None:
    assert T.label(score, best=best) == label


def test_the_fair_threshold_may_not_be_above_the_strong_one() -> None:
    with pytest.raises(ValueError, match="above the strong"):
        StrengthThresholds(strong=0.03, fair=0.04)


def test_no_strong_match_means_no_strong_label() -> None:
    assert no_strong_match(["fair", "weak"]) and no_strong_match([])
    assert not no_strong_match(["weak", "strong"])


def test_calibration_finds_the_lowest_threshold_that_reaches_the_precision() -> None:
    scored = [(round(0.01 * i, 2), i >= 10) for i in range(20)]  # relevant from 0.10 up
    assert calibrate(scored, 1.0, step=0.01) == 0.1
    assert calibrate(scored, 0.75, step=0.01) == 0.07  # 10 of the 13 hits from 0.07 are relevant
    assert calibrate(scored[:10], 0.25, step=0.01) is None  # none relevant
    assert calibrate(scored[-4:], 0.5, step=0.01) is None  # fewer than 5 hits
    assert calibrate([], 0.5) is None


def test_the_search_defaults_are_the_settings_defaults() -> None:
    """The thresholds and the hubness weight are settings (config.py); search's own defaults are the same."""
    settings = Settings()
    assert (StrengthThresholds().strong, StrengthThresholds().fair) == (settings.strong_threshold, settings.fair_threshold)
    assert settings.hubness_weight == HUBNESS_WEIGHT


@pytest.fixture(scope="module")
def answers(matcher: Any) -> dict[str, Any]:  # noqa: ANN401 - a search.match.Matcher
    """Every proposal of the labelled set through the shipped matcher."""
    return {p.id: (p, matcher.match(p.text, top=10)) for p in load_proposals(matcher.index.entities)}


def test_proposals_without_an_answer_are_told_that_nothing_matches_well(answers: dict[str, Any]) -> None:
    no_answer = {pid: result for pid, (p, result) in answers.items() if p.no_answer}
    assert len(no_answer) >= 6
    assert all(result.no_strong_match for result in no_answer.values()), \
        {pid: [(h.label, h.strength_score) for s in STRENGTH_SECTIONS for h in getattr(r, s)[:1]]
         for pid, r in no_answer.items() if not r.no_strong_match}
    result = next(iter(no_answer.values()))
    assert result.to_dict()["no_strong_match_note"] == NO_STRONG_MATCH_NOTE
    assert NO_STRONG_MATCH_NOTE["en"] in render_match(result)


def test_most_labelled_proposals_get_a_strong_hit(answers: dict[str, Any]) -> None:
    labelled = [result for p, result in answers.values() if p.labelled]
    strong = sum(not result.no_strong_match for result in labelled)
    assert strong >= 0.6 * len(labelled), f"{strong} of {len(labelled)}"
    result = next(r for r in labelled if not r.no_strong_match)
    assert result.to_dict()["no_strong_match_note"] is None


def test_every_label_is_its_score_against_the_thresholds(matcher: Any, answers: dict[str, Any]) -> None:  # noqa: ANN401
    for _, result in answers.values():
        assert result.strength_thresholds == {"strong": matcher.strength.strong, "fair": matcher.strength.fair}
        for section in (*STRENGTH_SECTIONS, "kem_categories"):
            hits = getattr(result, section)
            best = max(h.strength_score for h in hits)
            for hit in hits:
                assert hit.strength == matcher.strength.label(hit.strength_score, best=hit.strength_score == best)
        labels = [h.strength for s in STRENGTH_SECTIONS for h in getattr(result, s)]
        assert result.no_strong_match == ("strong" not in labels)


def test_strength_scores_spread_where_plain_cosines_do_not(answers: dict[str, Any]) -> None:
    """Plain cosines of the best hits sit in a narrow band for every proposal; the corrected scores of the
    best hits are clearly higher for proposals with an answer than for those without."""
    def best(result: Any, attr: str) -> float:  # noqa: ANN401
        return max(getattr(h, attr) if attr == "strength_score" else h.explanation.dense_score
                   for s in STRENGTH_SECTIONS for h in getattr(result, s))

    labelled = sorted(best(r, "strength_score") for p, r in answers.values() if p.labelled)
    none = sorted(best(r, "strength_score") for p, r in answers.values() if p.no_answer)
    assert labelled[len(labelled) // 2] > none[-1]  # the median labelled proposal beats every one without an answer
