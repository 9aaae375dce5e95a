"""Users' own CSV and XLSX files (e.g. a Bijlage B export) read like the YAML files."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from kg.build import compile_dataset, read_files
from kg.errors import DataFileError, InvalidRecord
from kg.readers import read_data_file
from kg.store import MemoryStore
from tests.conftest import BASE, TINY

CSV = """id,label_nl,label_en,kind,clusters,themes,lead,budget_total_eur,budget_public_eur,source,confidence,sample
csv-one,Programma uit CSV,Programme from CSV,mjp,alpha-tech;beta-tech,energy,real-institute,2000000,1200000,https://example.org/b,high,false
"""


@pytest.fixture
def extra_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    return folder


def test_csv_file_is_typed_by_its_name_and_joins_the_graph(extra_dir: Path) -> None:
    (extra_dir / "programmes-2025.csv").write_text(CSV, encoding="utf-8")
    data_file = read_data_file(extra_dir / "programmes-2025.csv")
    assert data_file.entity_type.name == "programme"
    assert data_file.records[0]["label"] == {"nl": "Programma uit CSV", "en": "Programme from CSV"}
    assert data_file.records[0]["budget"] == {"total_eur": "2000000", "public_eur": "1200000"}
    store = MemoryStore()
    store.replace_all(compile_dataset(read_files([TINY, extra_dir]), BASE).quads)
    rows = store.select(
        "PREFIX mk: <https://w3id.org/missiekompas/ontology#> "
        "SELECT ?c WHERE { <https://w3id.org/missiekompas/id/programme/csv-one> mk:cluster ?c } ORDER BY ?c")
    assert [r["c"].rsplit("/", 1)[1] for r in rows] == ["alpha-tech", "beta-tech"]


def test_xlsx_file_reads_like_csv(extra_dir: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    lines = [line.split(",") for line in CSV.strip().splitlines()]
    for row in lines:
        sheet.append(row)
    book.save(extra_dir / "bijlage-b.xlsx")
    (extra_dir / "bijlage-b.xlsx").rename(extra_dir / "programmes.xlsx")
    compiled = compile_dataset(read_files([TINY, extra_dir]), BASE)
    assert compiled.records == 19


def test_type_column_wins_over_file_name(extra_dir: Path) -> None:
    (extra_dir / "bijlage-b.csv").write_text(CSV.replace("id,", "type,id,", 1).replace("\ncsv-one", "\nprogramme,csv-one"))
    assert read_data_file(extra_dir / "bijlage-b.csv").entity_type.name == "programme"


def test_bad_value_in_csv_names_the_file_and_field(extra_dir: Path) -> None:
    (extra_dir / "programmes.csv").write_text(CSV.replace("2000000", "two million"))
    with pytest.raises(InvalidRecord) as caught:
        compile_dataset(read_files([TINY, extra_dir]), BASE)
    assert "mine/programmes.csv: record 'csv-one', field 'budget'" in str(caught.value)


def test_same_id_in_two_folders_is_refused(extra_dir: Path) -> None:
    shutil.copy(TINY / "clusters.yaml", extra_dir / "clusters.yaml")
    with pytest.raises(InvalidRecord, match="also used in tiny/clusters.yaml"):
        compile_dataset(read_files([TINY, extra_dir]), BASE)


def test_broken_xlsx_is_reported(extra_dir: Path) -> None:
    (extra_dir / "programmes.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(DataFileError, match="not a readable .xlsx"):
        read_files([extra_dir])
