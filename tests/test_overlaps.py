"""Overlapping consortia on the analytics fixture: the two near-duplicate electrolysis MJPs are the top pair; every
consortium (MJPs, the BGP, the project) is compared, the samples too unless they are left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config import Settings
from search.overlaps import Overlaps, find_overlaps
from tests.analytics_data import Analytics, build_analytics, iri

A, B = iri("programme", "electrolysis-a"), iri("programme", "electrolysis-b")


@pytest.fixture(scope="module")
def analytics(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Analytics:
    return build_analytics(model_path, tmp_path_factory.mktemp("overlaps"))


@pytest.fixture(scope="module")
def overlaps(analytics: Analytics) -> Overlaps:
    return find_overlaps(analytics.store, analytics.index, Settings().overlap_threshold)


def test_near_duplicates_are_the_top_overlap(overlaps: Overlaps) -> None:
    top = overlaps.pairs[0]
    assert {top.first.iri, top.second.iri} == {A, B}
    assert top.similarity >= overlaps.threshold
    assert {A, B} <= {m.iri for m in overlaps.groups[0].members}  # the group of the top pair comes first
    assert overlaps.groups[0].best_similarity == top.similarity


def test_a_pair_names_what_both_share(overlaps: Overlaps) -> None:
    top = overlaps.pairs[0]
    links = {(link.relation, link.target.iri) for link in top.shared_links}
    # b reaches the mission through its MMIP; only b has the MMIP, only a the direct mission link
    assert links == {("question", iri("question", "q-catalyst")), ("mission", iri("mission", "m-hydrogen")),
                     ("cluster", iri("cluster", "energy-tech")), ("theme", iri("theme", "energy"))}
    assert iri("mission", "m-hydrogen") in {c.iri for c in top.shared_concepts}  # both texts say "green hydrogen"


def test_every_pair_of_consortia_below_the_lowest_threshold(analytics: Analytics) -> None:
    found = find_overlaps(analytics.store, analytics.index, -1.0)
    assert found.portfolio.with_text == found.portfolio.consortia == 7  # 5 MJPs, a BGP and a project
    assert len(found.pairs) == 21
    assert [p.similarity for p in found.pairs] == sorted((p.similarity for p in found.pairs), reverse=True)
    assert len(found.groups) == 1 and len(found.groups[0].members) == 7 and found.groups[0].pairs == 21
    assert {found.pairs[0].first.iri, found.pairs[0].second.iri} == {A, B}
    kinds = {m.iri: m.kind for m in found.groups[0].members}
    assert kinds[iri("programme", "broad-soil")] == "bgp" and kinds[iri("project", "cavern-pilot")] == "project"


def test_without_samples_no_pair_holds_a_sample(analytics: Analytics) -> None:
    found = find_overlaps(analytics.store, analytics.index, -1.0, samples=False)
    assert (found.portfolio.consortia, found.portfolio.samples, found.portfolio.samples_left_out) == (5, 0, 2)
    assert len(found.pairs) == 10 and not any(m.is_sample for p in found.pairs for m in (p.first, p.second))
    assert B not in {m.iri for g in found.groups for m in g.members}
    data = found.to_dict()
    assert data["samples"] == "exclude" and data["sample_consortia"] == 0 and "left out" in data["samples_note"]


def test_groups_are_connected_components(analytics: Analytics) -> None:
    found = find_overlaps(analytics.store, analytics.index, -1.0)
    cut = (found.pairs[2].similarity + found.pairs[3].similarity) / 2  # three pairs above (similarities are rounded)
    chained = find_overlaps(analytics.store, analytics.index, cut)
    touched = {m.iri for p in chained.pairs for m in (p.first, p.second)}
    assert len(chained.pairs) == 3
    assert sum(len(g.members) for g in chained.groups) == len(touched)
    assert sum(g.pairs for g in chained.groups) == 3


def test_nothing_above_one(analytics: Analytics) -> None:
    found = find_overlaps(analytics.store, analytics.index, 1.01)
    assert found.pairs == () and found.groups == () and found.portfolio.consortia == 7


def test_to_dict_is_json_and_notes_the_samples(overlaps: Overlaps) -> None:
    data = json.loads(json.dumps(overlaps.to_dict()))
    assert data["pairs"][0]["second"]["is_sample"] or data["pairs"][0]["first"]["is_sample"]
    assert "sample" in data["samples_note"] and (data["consortia"], data["sample_consortia"]) == (7, 2)
    assert data["pairs"][0]["first"]["kind"] == "mjp"
