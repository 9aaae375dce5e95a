"""`kg stats` counts match what the data files say, on the fixture and on the shipped data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from kg.stats import compute_stats, format_stats
from kg.store import Store
from tests.conftest import DATA, TINY

CLASS_OF_TYPE = {"programme": "Programme", "cluster": "TechnologyCluster", "theme": "Theme", "mission": "Mission",
                 "mmip": "MMIP", "question": "KnowledgeQuestion", "organisation": "Organisation", "agenda": "Agenda"}


def records(folder: Path) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(folder.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        found.setdefault(doc["type"], []).extend(doc["records"])
    return found


def with_broader(folder: Path, field: str, refs: list[str]) -> set[str]:
    """Themes roll up to their broader theme; clusters stand alone."""
    broader = {t["id"]: t.get("broader") for t in records(folder)["theme"]} if field == "themes" else {}
    found = set()
    for ref in refs:
        while ref:
            found.add(ref)
            ref = broader.get(ref)
    return found


def expected_mjps(folder: Path, field: str, *, samples_only: bool = False) -> Counter[str]:
    mjps = [r for r in records(folder)["programme"] if r["kind"] == "mjp" and (r.get("sample") or not samples_only)]
    return Counter(ref for r in mjps for ref in with_broader(folder, field, r.get(field) or []))


@pytest.mark.parametrize("folder, store_fixture", [(TINY, "tiny_store"), (DATA, "default_store")])
def test_stats_match_the_data_files(folder: Path, store_fixture: str, request: pytest.FixtureRequest) -> None:
    store: Store = request.getfixturevalue(store_fixture)
    stats = compute_stats(store)
    data = records(folder)
    for type_name, class_name in CLASS_OF_TYPE.items():
        assert stats.class_count(class_name) == len(data.get(type_name, [])), class_name
    mjps = [r for r in data["programme"] if r["kind"] == "mjp"]
    assert stats.class_count("MJP") == len(mjps)
    for rows, field in ((stats.mjps_per_theme, "themes"), (stats.mjps_per_cluster, "clusters")):
        expected = expected_mjps(folder, field)
        assert {c.iri.rsplit("/", 1)[1]: c.count for c in rows if c.count} == dict(expected)
        samples = expected_mjps(folder, field, samples_only=True)
        assert {c.iri.rsplit("/", 1)[1]: c.samples for c in rows if c.samples} == dict(samples)


def test_shipped_data_has_the_eight_clusters(default_store: Store) -> None:
    stats = compute_stats(default_store)
    assert stats.class_count("TechnologyCluster") == 8
    assert len(stats.mjps_per_cluster) == 8


def test_report_marks_samples(tiny_store: Store) -> None:
    text = format_stats(compute_stats(tiny_store))
    assert "multi-year programme (MJP)                     2  (1 sample)" in text
    assert "illustrative" in text
