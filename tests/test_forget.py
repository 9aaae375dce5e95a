"""Data rights: `python -m kg forget PERSON_ID` removes a person from the data file, the store
(every version), the dumps and the search index, and verifies it."""

from __future__ import annotations

import gzip
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from config import load_settings
from kg.access import INTERNAL
from kg.cli import main
from kg.export import export_graph
from kg.formats import rdf_format
from kg.store import OxigraphStore
from tests.conftest import FIXTURES, TINY

PERSON_VALUES = ("secret-person", "zelda.geheim@example.org", "Zelda Geheimhouder", "99999999")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of tiny + the internal fixture (with its person), built into an embedded store."""
    data = tmp_path / "data"
    shutil.copytree(TINY, data)
    shutil.copy(FIXTURES / "internal" / "contacts.yaml", data / "contacts.yaml")
    shutil.copy(FIXTURES / "internal" / "drafts.yaml", data / "drafts.yaml")
    monkeypatch.setenv("MK_DATA_DIRS", str(data))
    monkeypatch.setenv("MK_STORE_PATH", str(tmp_path / "store"))
    monkeypatch.setenv("MK_INDEX_PATH", str(tmp_path / "index"))
    assert main(["build", "--quiet"]) == 0
    assert main(["build", "--quiet"]) == 0  # a second version: the older one must go too
    return data


def test_forget_removes_the_person_everywhere(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (env / "contacts.yaml").read_text(encoding="utf-8")
    index = tmp_path / "index" / "internal"
    index.mkdir(parents=True)
    (index / "documents.json").write_text('{"documents": [{"text": "Zelda Geheimhouder"}]}', encoding="utf-8")
    capsys.readouterr()
    assert main(["forget", "secret-person"]) == 0
    out = capsys.readouterr().out
    assert "verified: no identifying value" in out
    after = (env / "contacts.yaml").read_text(encoding="utf-8")
    assert all(v not in after for v in PERSON_VALUES)
    assert after.splitlines()[:3] == before.splitlines()[:3]  # the comments at the top stay
    store = OxigraphStore(tmp_path / "store")
    for fmt in ("trig", "nq", "ttl", "nt"):
        body = export_graph(store.view(INTERNAL), rdf_format(fmt)).decode()
        assert all(v not in body for v in PERSON_VALUES)
    versions = [p for p in (tmp_path).glob("store-*") if p.is_dir()]
    assert versions == [store.version_path()]  # older versions, which still held the person, are gone
    assert not (tmp_path / "index").exists()  # the index that mentioned the person is dropped (rebuilt later)
    assert store.select("SELECT ?p WHERE { ?p a <https://w3id.org/missiekompas/ontology#MJP> }")  # the rest stays


def test_forget_serves_no_dump_with_the_person(env: Path, tmp_path: Path) -> None:
    from web.app import create_app

    assert main(["forget", "secret-person"]) == 0
    token = "t" * 16
    client = create_app(replace(load_settings(), internal_tokens=(token,))).test_client()
    body = gzip.decompress(client.get("/dumps/missiekompas.nq.gz", headers={"Authorization": f"Bearer {token}"}).get_data())
    assert b"secret-mjp" in body and all(v.encode() not in body for v in PERSON_VALUES)


def test_forget_an_unknown_person_changes_nothing(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (env / "contacts.yaml").read_bytes()
    version = OxigraphStore(tmp_path / "store").version_path()
    assert main(["forget", "nobody"]) == 1
    assert "no person with id 'nobody'" in capsys.readouterr().err
    assert (env / "contacts.yaml").read_bytes() == before
    assert OxigraphStore(tmp_path / "store").version_path() == version


def test_forget_the_last_person_leaves_a_valid_file(env: Path) -> None:
    assert main(["forget", "secret-person"]) == 0
    assert main(["validate", "--quiet"]) == 0
    assert "records: []" in (env / "contacts.yaml").read_text(encoding="utf-8")


def test_forget_erases_admin_writes_about_the_person(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A journaled admin write that mentions the person would bring them back on the next build: it
    is not replayed, and its text is blanked in the journal; other writes stay and are replayed."""
    person = "https://w3id.org/missiekompas/id/person/secret-person"
    about = f'INSERT DATA {{ GRAPH <urn:x:notes> {{ <{person}> <urn:x:mail> "zelda.geheim@example.org" }} }}'
    other = 'INSERT DATA { GRAPH <urn:x:notes> { <urn:x:a> <urn:x:b> "kept" } }'
    assert main(["update", "--sparql", about]) == 0
    assert main(["update", "--sparql", other]) == 0
    capsys.readouterr()
    assert main(["forget", "secret-person"]) == 0
    assert "verified: no identifying value" in capsys.readouterr().out
    journal = (tmp_path / "store.journal.jsonl").read_text(encoding="utf-8")
    assert all(v not in journal for v in (*PERSON_VALUES, person))
    assert main(["build", "--quiet"]) == 0  # a later build does not bring the person back
    store = OxigraphStore(tmp_path / "store")
    body = export_graph(store.view(INTERNAL), rdf_format("nq")).decode()
    assert all(v not in body for v in PERSON_VALUES) and '"kept"' in body
    capsys.readouterr()
    assert main(["writes"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("#")}
    assert "dropped" in rows["#1"] and "replayed" in rows["#2"]
