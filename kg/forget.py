"""Data rights: remove one person from the data files, the store (all versions), the dumps and the
search index, then prove it by looking for every identifying value in what is left."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from kg.build import build, read_files
from kg.errors import KgError
from kg.export import export_graph
from kg.formats import RDF_FORMATS
from kg.publish import write_atomically
from kg.readers import SUFFIXES, DataFile
from kg.store import OxigraphStore, Store
from kg.uris import mint_uri


class PersonNotFound(KgError):
    """No person record with that id in the data files."""


@dataclass(frozen=True)
class Removal:
    person: str
    file: str
    checked: tuple[str, ...]  # the places searched afterwards
    leftovers: tuple[str, ...]  # places where an identifying value was still found (should be empty)


def forget_person(store: Store, person_id: str, *, data_dirs: Sequence[Path], base_uri: str, store_path: Path,
                  index_path: Path) -> Removal:
    """Remove the record from its data file (comments and other records stay as written), rebuild
    `store` from `data_dirs`, drop older store versions (next to `store_path`) and a search index
    (at `index_path`) that mentions the person, and verify."""
    data_file, record = _find_person(data_dirs, person_id)
    values = _identifying_values(base_uri, person_id, record)
    text = data_file.path.read_text(encoding="utf-8")
    remaining = _without_record(text, person_id, data_file.display)
    journal = store.journal if isinstance(store, OxigraphStore) else None
    mentioned = journal.mentioning(values) if journal else []  # admin writes about the person
    write_atomically(data_file.path, remaining.encode("utf-8"))
    try:
        build(data_dirs, base_uri, store, skip=mentioned)
    except KgError:
        write_atomically(data_file.path, text.encode("utf-8"))  # nothing half-done: the file comes back as it was
        raise
    if journal:
        journal.erase(mentioned, "held personal data removed by kg forget")
    if isinstance(store, OxigraphStore):
        store.drop_old_versions()
    _drop_index_mentioning(index_path, values)
    checked, leftovers = _verify(store, person_id, values, data_dirs, store_path, index_path)
    return Removal(person_id, data_file.display, checked, leftovers)


def _find_person(data_dirs: Sequence[Path], person_id: str) -> tuple[DataFile, dict[str, object]]:
    for data_file in read_files(data_dirs):
        if data_file.entity_type.name != "person":
            continue
        for record in data_file.records:
            if str(record.get("id")) == person_id:
                if data_file.path.suffix.lower() not in (".yaml", ".yml"):
                    raise KgError(f"{data_file.display}: remove '{person_id}' by hand (only YAML files are edited)")
                return data_file, record
    raise PersonNotFound(f"no person with id {person_id!r} in the data files")


def _identifying_values(base_uri: str, person_id: str, record: dict[str, object]) -> tuple[str, ...]:
    values = [str(mint_uri(base_uri, "person", person_id))]
    for key in ("label", "email", "phone"):
        value = record.get(key)
        if isinstance(value, dict):
            values += [str(v) for v in value.values()]
        elif value:
            values.append(str(value))
    return tuple(v for v in values if len(v) >= 4)


def _without_record(text: str, person_id: str, shown: str) -> str:
    """The file's text without the one list item whose id is `person_id`, found through the YAML
    node positions, so that everything else (comments included) stays byte for byte."""
    root = yaml.compose(text)
    records = next((v for k, v in root.value if k.value == "records"), None) if root else None
    items = list(getattr(records, "value", []))
    lines = text.splitlines(keepends=True)

    def item_line(node: yaml.Node) -> int:  # the line of the item's "- "
        line = node.start_mark.line
        while line > 0 and not lines[line].lstrip().startswith("- "):
            line -= 1
        return line

    for position, item in enumerate(items):
        ids = [v.value for k, v in item.value if k.value == "id"]
        if not ids or str(ids[0]) != person_id:
            continue
        start = item_line(item)
        if position + 1 < len(items):
            end = item_line(items[position + 1])
            while end > start and lines[end - 1].lstrip().startswith("#"):
                end -= 1  # comments just above the next record belong to it
        else:
            end = min(len(lines), records.end_mark.line + (1 if records.end_mark.column else 0))
        kept = "".join(lines[:start] + lines[end:])
        if (yaml.safe_load(kept) or {}).get("records") is None:  # the last record went: keep a valid, empty list
            kept = re.sub(r"^records:[ \t]*$", "records: []", kept, count=1, flags=re.MULTILINE)
        if person_id in {str(r.get("id")) for r in (yaml.safe_load(kept) or {}).get("records") or []}:
            raise KgError(f"{shown}: could not cut '{person_id}' out cleanly; remove it by hand")
        return kept
    raise PersonNotFound(f"{shown}: no record '{person_id}' found in the YAML structure")


def _drop_index_mentioning(index_path: Path, values: tuple[str, ...]) -> None:
    """The search index is derived data: if any file of it mentions the person it is removed, and
    rebuilt without the person on the next `python -m search build` or server start."""
    if index_path.exists() and _files_mentioning(index_path, values):
        shutil.rmtree(index_path)


def _files_mentioning(folder: Path, values: tuple[str, ...], suffixes: tuple[str, ...] = ()) -> list[str]:
    needles = [v.encode() for v in values]
    return [str(p) for p in folder.rglob("*")
            if p.is_file() and (not suffixes or p.suffix.lower() in suffixes) and any(n in p.read_bytes() for n in needles)]


def _mentions(path: Path, values: tuple[str, ...]) -> bool:
    """Whether the file holds a value, as written or escaped the way JSON writes it."""
    data = path.read_bytes()
    return any(v.encode() in data or json.dumps(v, ensure_ascii=False)[1:-1].encode() in data for v in values)


def _verify(store: Store, person_id: str, values: tuple[str, ...], data_dirs: Sequence[Path], store_path: Path,
            index_path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    checked, leftovers = [], []
    for name in RDF_FORMATS:
        checked.append(f"dump {name}")
        body = export_graph(store, RDF_FORMATS[name]).decode("utf-8", "replace")
        if any(v in body for v in values):
            leftovers.append(f"dump {name}")
    # The build has just compiled the data; here its files are only read as bytes (comments and
    # past editions included), looking for the id as well.
    needles = [*values, person_id]
    for folder in data_dirs:
        checked.append(f"data files in {folder}")
        leftovers += [f"data: {p}" for p in _files_mentioning(folder, tuple(needles), suffixes=SUFFIXES)]
    journal = getattr(store, "journal", None)
    if journal and journal.path.exists():
        checked.append(f"write journal {journal.path}")
        if _mentions(journal.path, values):
            leftovers.append(f"write journal: {journal.path}")
    folders = [(v, "store") for v in store_path.parent.glob(f"{store_path.name}-*") if v.is_dir()]
    for folder, label in [*folders, (index_path, "search index")]:
        if folder.exists():
            checked.append(f"{label} files in {folder}")
            leftovers += [f"{label}: {p}" for p in _files_mentioning(folder, values)]
    return tuple(checked), tuple(leftovers)
