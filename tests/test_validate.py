"""SHACL passes on the shipped and fixture data; each kind of bad record is reported clearly and
nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from config import Settings
from kg.build import build, compile_dataset, read_files
from kg.errors import DataFileError, InvalidRecord
from kg.export import export_graph
from kg.formats import rdf_format
from kg.store import OxigraphStore
from tests.conftest import BASE, DATA, TINY


def test_shipped_data_has_zero_violations() -> None:
    compiled = compile_dataset(read_files([DATA]), BASE)
    assert compiled.records > 100


def test_fixture_data_has_zero_violations() -> None:
    assert compile_dataset(read_files([TINY]), BASE).records == 18


# (file, exact old text, new text, expected record id, field, words in the message)
BAD_RECORDS = [
    ("programmes.yaml", "clusters: [alpha-tech, beta-tech]", "clusters: [alpha-tech, gamma-tech]",
     "storage-mjp", "clusters", "existing technology clusters"),
    ("programmes.yaml", "    label: Storage programme\n", "", "storage-mjp", "label", "required"),
    ("programmes.yaml", "    source: https://example.org/storage\n", "", "storage-mjp", "source", "required"),
    ("programmes.yaml", "source: https://example.org/storage\n    confidence: high",
     "source: https://example.org/storage\n    confidence: certain", "storage-mjp", "confidence", "high, medium, low"),
    ("programmes.yaml", "committed_eur: 500000", "committed_eur: 5000000", "storage-mjp", "budget.committed_eur",
     "not above the total"),
    ("programmes.yaml", "start_year: 2020", "start_year: 2030", "storage-mjp", "start_year", "not after end_year"),
    ("programmes.yaml", "kind: bgp", "kind: megaproject", "broad-one", "kind", "mjp, bgp, related"),
    ("programmes.yaml", "partners: [sample-firm]", "partners: [real-institute]", "sample-sensing", "partners",
     "sample programme may only list sample organisations"),
    ("programmes.yaml", "lead: real-institute", "lead: nobody", "storage-mjp", "lead", "existing organisation"),
    ("programmes.yaml", "    kind: mjp\n    clusters: [alpha", "    kind: mjp\n    colour: blue\n    clusters: [alpha",
     "storage-mjp", "colour", "unknown field"),
    ("programmes.yaml", "id: broad-one", "id: Broad One", "Broad One", "id", "slug"),
    ("programmes.yaml", "id: broad-one", "id: storage-mjp", "storage-mjp", "id", "also used"),
    ("programmes.yaml", "start_year: 2020", "start_year: soon", "storage-mjp", "start_year", "not a valid int"),
    ("programmes.yaml", "source: https://example.org/storage", "source: nowhere#x", "storage-mjp", "source",
     "known source"),
    ("clusters.yaml", "label: {nl: Alfatechnologie, en: Alpha technology}", "label: {en: Alpha technology}",
     "alpha-tech", "label", "Dutch label"),
    ("missions.yaml", "themes: [health]", "themes: []", "healthy-years", "themes", "at least one existing theme"),
    ("mmips.yaml", "missions: [clean-power]", "missions: [no-such-mission]", "offshore-wind", "missions",
     "existing mission"),
    ("agendas.yaml", "public_share: 0.6", "public_share: 6", "test-agenda", "reported.public_share", "between 0 and 1"),
]


@pytest.mark.parametrize("file, old, new, record_id, field, words", BAD_RECORDS)
def test_bad_record_is_reported_with_file_id_field_and_rule(
    tiny_copy: Path, edit_file: Callable[[Path, str, str], None],
    file: str, old: str, new: str, record_id: str, field: str, words: str,
) -> None:
    edit_file(tiny_copy / file, old, new)
    with pytest.raises(InvalidRecord) as caught:
        compile_dataset(read_files([tiny_copy]), BASE)
    hits = [v for v in caught.value.violations if v.record_id == record_id and v.field == field]
    assert hits, f"no violation for {record_id}.{field}; got: {caught.value}"
    assert any(words in v.message for v in hits), str(caught.value)
    assert all(v.file == f"tiny/{file}" for v in hits)
    assert all(v.rule for v in hits)
    assert f"tiny/{file}: record '{record_id}', field '{field}'" in str(caught.value)


@pytest.mark.parametrize("name, content, words", [
    ("programmes.yaml", "type: programme\nrecords: [\n", "not valid YAML"),
    ("things.yaml", "type: thing\nrecords: []\n", "unknown entity type"),
    ("programmes.yaml", "type: programme\n", "'records' list"),
    ("programmes.yaml", "type: programme\nvisibility: secret\nrecords: []\n", "visibility"),
    ("programmes.csv", "id,label\n\xff\xfe,broken\n", "not UTF-8"),
])
def test_unreadable_file_gets_a_clear_message(tmp_path: Path, name: str, content: str, words: str) -> None:
    (tmp_path / name).write_bytes(content.encode("latin-1"))
    with pytest.raises(DataFileError, match=words):
        read_files([tmp_path])


def test_missing_data_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="data folder not found"):
        read_files([tmp_path / "nope"])


def test_failed_build_leaves_the_store_untouched(
    settings: Settings, tiny_copy: Path, edit_file: Callable[[Path, str, str], None]
) -> None:
    store = OxigraphStore(settings.store_path, create=True)
    build(settings.data_dirs, settings.base_uri, store)
    before = export_graph(store, rdf_format("nq"))
    target = settings.store_path.resolve()
    edit_file(tiny_copy / "programmes.yaml", "clusters: [beta-tech]", "clusters: [no-such-cluster]")
    with pytest.raises(InvalidRecord):
        build((tiny_copy,), settings.base_uri, store)
    assert settings.store_path.resolve() == target
    assert sorted(export_graph(store, rdf_format("nq")).splitlines()) == sorted(before.splitlines())
