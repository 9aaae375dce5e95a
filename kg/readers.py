"""Reading data files (YAML, CSV, XLSX) into plain records, one file per entity type."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kg.errors import DataFileError
from kg.schema import EntityType, type_for_name

SUFFIXES = (".yaml", ".yml", ".csv", ".xlsx")
VISIBILITIES = ("public", "internal")


@dataclass(frozen=True)
class DataFile:
    """The records of one file, with what is needed for provenance."""

    path: Path
    display: str
    entity_type: EntityType
    visibility: str
    records: tuple[dict[str, Any], ...]
    sha256: str
    sample: bool = False  # a file-level `sample: true`: in an edition folder, the edition is illustrative


def find_data_files(dirs: Iterable[Path]) -> list[Path]:
    """Every data file in the given folders, in a stable order; a missing folder is an error."""
    found: list[Path] = []
    for d in dirs:
        if not d.is_dir():
            raise DataFileError(f"data folder not found: {d}")
        found.extend(sorted(p for p in d.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file()))
    return found


def read_data_file(path: Path, display: str | None = None) -> DataFile:
    shown = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataFileError(f"{shown}: cannot read: {exc.strerror}") from exc
    suffix = path.suffix.lower()
    sample = False
    if suffix in (".yaml", ".yml"):
        type_name, visibility, records, sample = _read_yaml(raw, shown)
    elif suffix == ".csv":
        type_name, visibility, records = None, "public", _read_csv(raw, shown)
    elif suffix == ".xlsx":
        type_name, visibility, records = None, "public", _read_xlsx(raw, shown)
    else:
        raise DataFileError(f"{shown}: unsupported file type '{suffix}' (use .yaml, .csv or .xlsx)")
    entity_type = _entity_type(shown, path, type_name, records)
    if visibility not in VISIBILITIES:
        raise DataFileError(f"{shown}: visibility must be 'public' or 'internal', not {visibility!r}")
    return DataFile(path, shown, entity_type, visibility, tuple(records), hashlib.sha256(raw).hexdigest(), sample)


def _entity_type(shown: str, path: Path, type_name: str | None, records: list[dict[str, Any]]) -> EntityType:
    if type_name is None:
        column = {str(r.pop("type")) for r in records if r.get("type")}
        if len(column) > 1:
            raise DataFileError(f"{shown}: the 'type' column mixes types {sorted(column)}; use one file per type")
        type_name = column.pop() if column else path.stem.split(".")[0].split("-")[0]
    entity_type = type_for_name(type_name)
    if entity_type is None:
        raise DataFileError(f"{shown}: unknown entity type {type_name!r} (see data/README.md for the types)")
    return entity_type


def _read_yaml(raw: bytes, shown: str) -> tuple[str | None, str, list[dict[str, Any]], bool]:
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise DataFileError(f"{shown}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("records"), list):
        raise DataFileError(f"{shown}: expected a mapping with 'type' and a 'records' list")
    if "type" not in doc:
        raise DataFileError(f"{shown}: missing 'type' (the entity type of its records)")
    records = doc["records"]
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise DataFileError(f"{shown}: record #{i + 1} is not a mapping of fields")
    sample = doc.get("sample", False)
    if not isinstance(sample, bool):
        raise DataFileError(f"{shown}: 'sample' must be true or false, not {sample!r}")
    return str(doc["type"]), str(doc.get("visibility", "public")), records, sample


def _read_csv(raw: bytes, shown: str) -> list[dict[str, Any]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{shown}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    rows = list(csv.DictReader(io.StringIO(text)))
    return [_unflatten(row) for row in rows]


def _read_xlsx(raw: bytes, shown: str) -> list[dict[str, Any]]:
    import openpyxl  # only users with spreadsheets pay for the import

    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a broken file
        raise DataFileError(f"{shown}: not a readable .xlsx workbook ({type(exc).__name__})") from exc
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    if not rows:
        return []
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    return [_unflatten(dict(zip(header, row, strict=False))) for row in rows[1:] if any(c is not None for c in row)]


LANG_COLUMNS = ("label", "description", "alt_labels")
NESTED_COLUMNS = ("budget", "reported")


def _unflatten(row: dict[str, Any]) -> dict[str, Any]:
    """Turn flat spreadsheet columns (label_nl, budget_total_eur, a;b lists) into record fields."""
    record: dict[str, Any] = {}
    for key, value in row.items():
        if not key or value is None or (isinstance(value, str) and not value.strip()):
            continue
        value = value.strip() if isinstance(value, str) else value
        head, _, tail = key.rpartition("_")
        if head in LANG_COLUMNS and tail in ("nl", "en"):
            part = [v.strip() for v in str(value).split(";")] if head == "alt_labels" else value
            record.setdefault(head, {})[tail] = part
            continue
        nested = next((n for n in NESTED_COLUMNS if key.startswith(n + "_")), None)
        if nested:
            record.setdefault(nested, {})[key[len(nested) + 1:]] = value
            continue
        record[key] = value
    return record
