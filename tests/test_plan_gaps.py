"""Blank spots of a research plan on the analytics fixture: an MJP that links to two of the three
questions of its cluster, and an uploaded plan whose two passages answer those two questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.settings import Settings
from search.match import Matcher
from search.plan_gaps import PlanGaps, UnknownProgramme, find_all_mjp_gaps, find_mjp_gaps, find_upload_gaps
from search.service import open_matcher
from tests.analytics_data import Analytics, build_analytics, iri

THRESHOLD = Settings().gap_threshold
CATALYST = ("Our project develops catalysts for electrolysers that produce green hydrogen without scarce metals like "
            "iridium and platinum. We test new electrode materials in small cells and compare their lifetime with "
            "commercial ones.")
STORAGE = ("In a second work package we study how very large volumes of hydrogen can be stored safely underground, in "
           "salt caverns and depleted gas fields, and how leakage can be monitored over many years.")


@pytest.fixture(scope="module")
def analytics(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Analytics:
    return build_analytics(model_path, tmp_path_factory.mktemp("plan-gaps"))


@pytest.fixture(scope="module")
def matcher(analytics: Analytics) -> Matcher:
    return open_matcher(analytics.settings, analytics.source)


def ids(gaps: PlanGaps, field: str) -> list[str]:
    return [g.question.iri.rsplit("/", 1)[1] for g in getattr(gaps, field)]


def test_an_mjp_that_covers_two_of_three_questions_reports_the_third(analytics: Analytics) -> None:
    gaps = find_mjp_gaps(analytics.store, analytics.index, iri("programme", "storage-plan"), THRESHOLD)
    assert [c.iri for c in gaps.clusters] == [iri("cluster", "energy-tech")]
    assert gaps.candidates == 3  # q-soil is in another cluster and theme
    assert ids(gaps, "blank_spots") == ["q-blades"] and gaps.blank_total == 1
    assert sorted(ids(gaps, "addressed")) == ["q-catalyst", "q-storage"]
    assert all(g.is_linked for g in gaps.addressed)
    assert gaps.blank_spots[0].similarity < THRESHOLD and not gaps.blank_spots[0].is_addressed
    assert [s.iri for s in gaps.blank_spots[0].shared] == [iri("cluster", "energy-tech")]


def test_an_uploaded_plan_that_covers_two_of_three_questions_reports_the_third(matcher: Matcher) -> None:
    gaps = find_upload_gaps(matcher, f"{CATALYST}\n\n{STORAGE}", THRESHOLD, name="plan.md")
    assert gaps.plan.label == "plan.md" and gaps.source == "upload"
    assert iri("cluster", "energy-tech") in {c.iri for c in gaps.clusters}
    assert "q-blades" in ids(gaps, "blank_spots")
    addressed = {g.question.iri.rsplit("/", 1)[1]: g for g in gaps.addressed}
    assert set(addressed) == {"q-catalyst", "q-storage"}
    assert addressed["q-catalyst"].passage == CATALYST and addressed["q-storage"].passage == STORAGE
    assert not any(g.is_linked for g in (*gaps.addressed, *gaps.blank_spots))
    similarities = [g.similarity for g in gaps.blank_spots]
    assert similarities == sorted(similarities, reverse=True)


def test_limit_cuts_the_list_not_the_count(analytics: Analytics) -> None:
    everything = find_mjp_gaps(analytics.store, analytics.index, iri("programme", "storage-plan"), 1.0)
    assert everything.blank_total == 1 and len(everything.addressed) == 2  # links count whatever the threshold
    none_shown = find_mjp_gaps(analytics.store, analytics.index, iri("programme", "storage-plan"), -1.0, limit=0)
    assert none_shown.blank_total == 0 and none_shown.blank_spots == () and len(none_shown.addressed) == 3


def test_all_mjps_at_once_agree_with_one_at_a_time(analytics: Analytics) -> None:
    together = find_all_mjp_gaps(analytics.store, analytics.index, THRESHOLD, limit=None)
    assert [g.plan.iri for g in together] == sorted(g.plan.iri for g in together) and len(together) == 4
    for gaps in together:
        assert gaps == find_mjp_gaps(analytics.store, analytics.index, gaps.plan.iri, THRESHOLD)


def test_unknown_or_non_mjp_programmes_are_refused(analytics: Analytics) -> None:
    for record in ("no-such-mjp", "broad-soil"):
        with pytest.raises(UnknownProgramme, match=record):
            find_mjp_gaps(analytics.store, analytics.index, iri("programme", record), THRESHOLD)


def test_to_dict_is_json_and_notes_a_sample_plan(analytics: Analytics) -> None:
    gaps = find_mjp_gaps(analytics.store, analytics.index, iri("programme", "electrolysis-b"), THRESHOLD)
    data = json.loads(json.dumps(gaps.to_dict()))
    assert data["plan"]["is_sample"] is True and "sample" in data["samples_note"]
    assert data["candidates"] == len(data["addressed"]) + data["blank_total"]
