"""Blank spots of a research plan on the analytics fixture: an MJP that links to two of the three
questions of its cluster, an uploaded plan whose two passages answer those two questions, and every other
consortium (a BGP and a project included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config import Settings
from kg.uris import InvalidIri
from search.match import Matcher
from search.plan_gaps import (
    PlanGaps,
    UnknownProgramme,
    consortium_iri,
    find_all_consortium_gaps,
    find_consortium_gaps,
    find_upload_gaps,
)
from tests.analytics_data import BASE, Analytics, build_analytics, iri
from tests.conftest import matcher_over

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
    return matcher_over(analytics.settings, analytics.source)


def ids(gaps: PlanGaps, field: str) -> list[str]:
    return [g.question.iri.rsplit("/", 1)[1] for g in getattr(gaps, field)]


def test_an_mjp_that_covers_two_of_three_questions_reports_the_third(analytics: Analytics) -> None:
    gaps = find_consortium_gaps(analytics.store, analytics.index, iri("programme", "storage-plan"), THRESHOLD)
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
    everything = find_consortium_gaps(analytics.store, analytics.index, iri("programme", "storage-plan"), 1.0)
    assert everything.blank_total == 1 and len(everything.addressed) == 2  # links count whatever the threshold
    none_shown = find_consortium_gaps(analytics.store, analytics.index, iri("programme", "storage-plan"), -1.0, limit=0)
    assert none_shown.blank_total == 0 and none_shown.blank_spots == () and len(none_shown.addressed) == 3


def test_all_consortia_at_once_agree_with_one_at_a_time(analytics: Analytics) -> None:
    together = find_all_consortium_gaps(analytics.store, analytics.index, THRESHOLD, limit=None)
    assert [g.plan.iri for g in together] == sorted(g.plan.iri for g in together) and len(together) == 7
    assert {g.plan.kind for g in together} == {"mjp", "bgp", "project"} and {g.source for g in together} == {"consortium"}
    for gaps in together:
        assert gaps == find_consortium_gaps(analytics.store, analytics.index, gaps.plan.iri, THRESHOLD)
    real = find_all_consortium_gaps(analytics.store, analytics.index, THRESHOLD, limit=None, samples=False)
    assert len(real) == 5 and not any(g.plan.is_sample for g in real)


def test_a_project_is_a_plan_too(analytics: Analytics) -> None:
    gaps = find_consortium_gaps(analytics.store, analytics.index, iri("project", "cavern-pilot"), THRESHOLD)
    assert (gaps.plan.kind, gaps.source, gaps.plan.label) == ("project", "consortium", "Hydrogen cavern pilot")
    assert gaps.candidates == 3 and "q-storage" in ids(gaps, "addressed")  # its text reaches the storage question


def test_unknown_consortia_and_left_out_samples_are_refused(analytics: Analytics) -> None:
    for unknown in (iri("programme", "no-such-mjp"), iri("question", "q-soil")):
        with pytest.raises(UnknownProgramme, match=unknown.rsplit("/", 1)[1]):
            find_consortium_gaps(analytics.store, analytics.index, unknown, THRESHOLD)
    with pytest.raises(UnknownProgramme, match="is a sample"):
        find_consortium_gaps(analytics.store, analytics.index, iri("programme", "electrolysis-b"), THRESHOLD,
                             samples=False)


@pytest.mark.parametrize(("given", "expected"), [("sample-mjp-04", BASE + "programme/sample-mjp-04"),
                                                 ("programme/eccm", BASE + "programme/eccm"),
                                                 ("project/simox", BASE + "project/simox"),
                                                 (BASE + "project/simox", BASE + "project/simox")])
def test_a_consortium_is_named_by_id_kind_and_id_or_iri(given: str, expected: str) -> None:
    assert consortium_iri(BASE, given) == expected


@pytest.mark.parametrize("given", ["Not A Slug!", "question/q-eccm", "project/", "https://x.org/a b"])
def test_other_names_are_refused(given: str) -> None:
    with pytest.raises(InvalidIri):
        consortium_iri(BASE, given)


def test_to_dict_is_json_and_notes_a_sample_plan(analytics: Analytics) -> None:
    gaps = find_consortium_gaps(analytics.store, analytics.index, iri("programme", "electrolysis-b"), THRESHOLD)
    data = json.loads(json.dumps(gaps.to_dict()))
    assert data["plan"]["is_sample"] is True and "sample" in data["samples_note"]
    assert data["candidates"] == len(data["addressed"]) + data["blank_total"]
