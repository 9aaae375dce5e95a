"""Mission blank spots on the analytics fixture, whose answers are known by construction
(tests/fixtures/analytics/README.md), with the shipped, calibrated threshold. The portfolio is every
consortium (MJPs, broadly supported programmes, related programmes, projects), with or without samples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from config import Settings, SettingsError, load_settings
from kg.queries import named_query
from search.gaps import MissionGaps, find_mission_gaps
from tests.analytics_data import Analytics, build_analytics, iri

THRESHOLD = Settings().gap_threshold


@pytest.fixture(scope="module")
def analytics(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Analytics:
    return build_analytics(model_path, tmp_path_factory.mktemp("gaps"))


@pytest.fixture(scope="module")
def gaps(analytics: Analytics) -> MissionGaps:
    return find_mission_gaps(analytics.store, analytics.index, THRESHOLD)


@pytest.fixture(scope="module")
def real_gaps(analytics: Analytics) -> MissionGaps:
    return find_mission_gaps(analytics.store, analytics.index, THRESHOLD, samples=False)


CONSORTIA = {  # every consortium of the fixture: kind, is a sample
    iri("programme", "electrolysis-a"): ("mjp", False), iri("programme", "electrolysis-b"): ("mjp", True),
    iri("programme", "storage-plan"): ("mjp", False), iri("programme", "soil-mjp"): ("mjp", False),
    iri("programme", "textile-sample"): ("mjp", True), iri("programme", "broad-soil"): ("bgp", False),
    iri("project", "cavern-pilot"): ("project", False),
}


def by_iri(gaps: MissionGaps) -> dict[str, tuple[str, int, int, dict[str, int]]]:
    return {c.item.iri: (c.kind, c.linked_consortia, c.linked_samples, {k: n for k, n in c.linked_by_kind.items() if n})
            for c in gaps.items}


def test_a_mission_without_consortium_is_the_top_blank_spot(gaps: MissionGaps) -> None:
    top = gaps.items[0]
    assert top.item.iri == iri("mission", "m-radio-astronomy")
    assert top.linked_consortia == 0 and top.status == "blank"
    assert top.best_similarity is not None and top.best_similarity < THRESHOLD and top.best_consortium is not None
    assert gaps.blank_spots == (top,)


def test_linked_counts_are_the_explicit_links_of_every_consortium(gaps: MissionGaps) -> None:
    # m-hydrogen: electrolysis-a and storage-plan directly, electrolysis-b (a sample) through its MMIP;
    # m-soil: soil-mjp and the BGP broad-soil; m-hydrogen-storage: the project only; m-textile: a sample only;
    # questions only when they relate to a mission
    assert by_iri(gaps) == {
        iri("mission", "m-hydrogen"): ("mission", 3, 1, {"mjp": 3}),
        iri("mission", "m-soil"): ("mission", 2, 0, {"mjp": 1, "bgp": 1}),
        iri("mission", "m-radio-astronomy"): ("mission", 0, 0, {}),
        iri("mission", "m-hydrogen-storage"): ("mission", 1, 0, {"project": 1}),
        iri("mission", "m-textile"): ("mission", 1, 1, {"mjp": 1}),
        iri("mmip", "mmip-electrolysis"): ("mmip", 1, 1, {"mjp": 1}),
        iri("question", "q-catalyst"): ("question", 3, 1, {"mjp": 3}),
        iri("question", "q-soil"): ("question", 1, 0, {"mjp": 1}),
    }
    count = gaps.portfolio
    assert (count.consortia, count.real, count.samples, count.with_text) == (7, 5, 2, 7)
    assert count.by_kind == {"mjp": {"real": 3, "samples": 2}, "bgp": {"real": 1, "samples": 0},
                             "related": {"real": 0, "samples": 0}, "project": {"real": 1, "samples": 0}}


def test_a_project_linked_to_a_mission_makes_it_covered(gaps: MissionGaps) -> None:
    storage = next(c for c in gaps.items if c.item.iri == iri("mission", "m-hydrogen-storage"))
    assert storage.linked_consortia == 1 and storage.linked_by_kind["project"] == 1  # the project's link, no other
    assert storage.is_similar and storage.status == "covered"
    assert storage.best_consortium is not None and storage.best_consortium.kind in ("mjp", "project")


def test_without_samples_a_sample_only_link_is_a_blank_spot(gaps: MissionGaps, real_gaps: MissionGaps) -> None:
    textile = iri("mission", "m-textile")
    assert {c.item.iri: c.status for c in gaps.items}[textile] == "covered"
    left = next(c for c in real_gaps.items if c.item.iri == textile)
    assert (left.status, left.linked_consortia, left.linked_samples) == ("blank", 0, 0)
    assert left.best_consortium is not None and not left.best_consortium.is_sample
    assert {c.item.iri for c in real_gaps.blank_spots} == {iri("mission", "m-radio-astronomy"), textile}
    count = real_gaps.portfolio
    assert (count.consortia, count.real, count.samples, count.samples_left_out, count.samples_included) == (5, 5, 0, 2,
                                                                                                          False)
    assert not any(c.best_consortium and c.best_consortium.is_sample for c in real_gaps.items)
    assert not any(c.linked_samples for c in real_gaps.items)
    data = real_gaps.to_dict()
    assert (data["samples"], data["sample_consortia"], data["samples_left_out"]) == ("exclude", 0, 2)
    assert "left out" in data["samples_note"]


def test_explicit_part_agrees_with_the_named_query(analytics: Analytics, gaps: MissionGaps) -> None:
    without = {str(r["mission"]) for r in analytics.store.select(named_query("missions_without_programme"))}
    assert without == {c.item.iri for c in gaps.items if c.kind == "mission" and not c.is_linked}
    for coverage in gaps.items:  # the query's counts and the portfolio's links per kind agree
        assert sum(coverage.linked_by_kind.values()) == coverage.linked_consortia


def test_ranking_is_fewest_links_then_lowest_similarity(gaps: MissionGaps, real_gaps: MissionGaps) -> None:
    for found in (gaps, real_gaps):
        keys = [(c.linked_consortia, c.best_similarity) for c in found.items]
        assert keys == sorted(keys)


@pytest.mark.parametrize("samples", [True, False])
def test_best_similarity_is_the_best_consortium_by_plain_loops(analytics: Analytics, samples: bool) -> None:
    found = find_mission_gaps(analytics.store, analytics.index, THRESHOLD, samples=samples)
    index = analytics.index
    rows = {iri_: [i for i, d in enumerate(index.documents) if d.entity == iri_] for iri_ in index.entities}
    consortia = [c for c, (_, is_sample) in CONSORTIA.items() if samples or not is_sample]
    for coverage in found.items:
        scores = {m: max(float(index.doc_vectors[a] @ index.doc_vectors[b]) for a in rows[coverage.item.iri]
                         for b in rows[m]) for m in consortia}
        best = max(scores, key=lambda m: scores[m])
        assert coverage.best_consortium is not None and coverage.best_consortium.iri == best
        assert coverage.best_similarity == pytest.approx(scores[best], abs=1e-4)
        assert (coverage.best_consortium.kind, coverage.best_consortium.is_sample) == CONSORTIA[best]


def test_statuses_follow_links_and_threshold(analytics: Analytics) -> None:
    everything = find_mission_gaps(analytics.store, analytics.index, -1.0)
    assert {c.status for c in everything.items} == {"unlinked", "covered"}
    nothing = find_mission_gaps(analytics.store, analytics.index, 1.0)
    assert {c.status for c in nothing.items} == {"blank", "weak"}
    assert nothing.counts() == {"blank": 1, "unlinked": 0, "weak": 7, "covered": 0}


def test_to_dict_is_json_and_notes_the_samples(gaps: MissionGaps) -> None:
    data = json.loads(json.dumps(gaps.to_dict()))
    assert data["items"][0]["status"] == "blank" and data["items"][0]["item"]["iri"].endswith("m-radio-astronomy")
    assert (data["consortia"], data["real_consortia"], data["sample_consortia"]) == (7, 5, 2)
    assert data["consortia_by_kind"]["project"] == {"real": 1, "samples": 0} and data["samples"] == "include"
    assert "sample" in data["samples_note"]
    assert {"linked_consortia", "linked_samples", "linked_by_kind", "best_consortium"} <= set(data["items"][0])
    assert data["items"][0]["best_consortium"]["kind"] in ("mjp", "bgp", "related", "project")
    assert np.isclose(data["threshold"], THRESHOLD)


def test_thresholds_are_settings() -> None:
    settings = load_settings({"MK_GAP_THRESHOLD": "0.8", "MK_OVERLAP_THRESHOLD": "0.95"})
    assert (settings.gap_threshold, settings.overlap_threshold) == (0.8, 0.95)
    for bad in ("1.5", "high", "nan"):
        with pytest.raises(SettingsError, match="MK_GAP_THRESHOLD"):
            load_settings({"MK_GAP_THRESHOLD": bad})
