"""Mission blank spots on the analytics fixture, whose answers are known by construction
(tests/fixtures/analytics/README.md), with the shipped, calibrated threshold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kg.errors import KgError
from kg.queries import named_query
from kg.settings import Settings, load_settings
from search.gaps import MissionGaps, find_mission_gaps
from tests.analytics_data import Analytics, build_analytics, iri

THRESHOLD = Settings().gap_threshold


@pytest.fixture(scope="module")
def analytics(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Analytics:
    return build_analytics(model_path, tmp_path_factory.mktemp("gaps"))


@pytest.fixture(scope="module")
def gaps(analytics: Analytics) -> MissionGaps:
    return find_mission_gaps(analytics.store, analytics.index, THRESHOLD)


def by_iri(gaps: MissionGaps) -> dict[str, tuple[str, int, int]]:
    return {c.item.iri: (c.kind, c.linked_mjps, c.linked_samples) for c in gaps.items}


def test_a_mission_without_mjp_is_the_top_blank_spot(gaps: MissionGaps) -> None:
    top = gaps.items[0]
    assert top.item.iri == iri("mission", "m-radio-astronomy")
    assert top.linked_mjps == 0 and top.status == "blank"
    assert top.best_similarity is not None and top.best_similarity < THRESHOLD and top.best_mjp is not None
    assert gaps.blank_spots == (top,)


def test_linked_counts_are_the_explicit_links_of_mjps_only(gaps: MissionGaps) -> None:
    # m-hydrogen: electrolysis-a and storage-plan directly, electrolysis-b (a sample) through its MMIP;
    # m-soil: soil-mjp, and broad-soil is a BGP, so it does not count; questions only when they relate to a mission
    assert by_iri(gaps) == {
        iri("mission", "m-hydrogen"): ("mission", 3, 1),
        iri("mission", "m-soil"): ("mission", 1, 0),
        iri("mission", "m-radio-astronomy"): ("mission", 0, 0),
        iri("mmip", "mmip-electrolysis"): ("mmip", 1, 1),
        iri("question", "q-catalyst"): ("question", 3, 1),
        iri("question", "q-soil"): ("question", 1, 0),
    }
    assert (gaps.mjps, gaps.sample_mjps) == (4, 1)


def test_explicit_part_agrees_with_the_named_query(analytics: Analytics, gaps: MissionGaps) -> None:
    without = {str(r["mission"]) for r in analytics.store.select(named_query("missions_without_programme"))}
    assert without == {c.item.iri for c in gaps.items if c.kind == "mission" and not c.is_linked}


def test_ranking_is_fewest_links_then_lowest_similarity(gaps: MissionGaps) -> None:
    keys = [(c.linked_mjps, c.best_similarity) for c in gaps.items]
    assert keys == sorted(keys)


def test_best_similarity_is_the_best_mjp_by_plain_loops(analytics: Analytics, gaps: MissionGaps) -> None:
    index = analytics.index
    rows = {iri_: [i for i, d in enumerate(index.documents) if d.entity == iri_] for iri_ in index.entities}
    mjps = [iri("programme", p) for p in ("electrolysis-a", "electrolysis-b", "soil-mjp", "storage-plan")]
    for coverage in gaps.items:
        scores = {m: max(float(index.doc_vectors[a] @ index.doc_vectors[b]) for a in rows[coverage.item.iri]
                         for b in rows[m]) for m in mjps}
        best = max(scores, key=lambda m: scores[m])
        assert coverage.best_mjp is not None and coverage.best_mjp.iri == best
        assert coverage.best_similarity == pytest.approx(scores[best], abs=1e-4)
        assert coverage.best_mjp.is_sample == (best.endswith("electrolysis-b"))


def test_statuses_follow_links_and_threshold(analytics: Analytics) -> None:
    everything = find_mission_gaps(analytics.store, analytics.index, -1.0)
    assert {c.status for c in everything.items} == {"unlinked", "covered"}
    nothing = find_mission_gaps(analytics.store, analytics.index, 1.0)
    assert {c.status for c in nothing.items} == {"blank", "weak"}
    assert nothing.counts() == {"blank": 1, "unlinked": 0, "weak": 5, "covered": 0}


def test_to_dict_is_json_and_notes_the_samples(gaps: MissionGaps) -> None:
    data = json.loads(json.dumps(gaps.to_dict()))
    assert data["items"][0]["status"] == "blank" and data["items"][0]["item"]["iri"].endswith("m-radio-astronomy")
    assert data["sample_mjps"] == 1 and "sample" in data["samples_note"]
    assert np.isclose(data["threshold"], THRESHOLD)


def test_thresholds_are_settings() -> None:
    settings = load_settings({"MK_GAP_THRESHOLD": "0.8", "MK_OVERLAP_THRESHOLD": "0.95"})
    assert (settings.gap_threshold, settings.overlap_threshold) == (0.8, 0.95)
    for bad in ("1.5", "high", "nan"):
        with pytest.raises(KgError, match="MK_GAP_THRESHOLD"):
            load_settings({"MK_GAP_THRESHOLD": bad})
