"""Editions: a past portfolio as its own named graph, outside the default graph, and a diff that
lists exactly the changes made (built here by construction from the tiny fixture)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kg.access import INTERNAL, PUBLIC
from kg.build import add_edition, build
from kg.cli import main
from kg.editions import UnknownEdition, diff_editions, list_editions
from kg.errors import InvalidRecord, KgError
from kg.store import MemoryStore, OxigraphStore
from tests.conftest import BASE, DATA, TINY

# The 2024 edition, by construction: storage-mjp had a smaller budget and no partner; sample-sensing
# did not exist yet; old-mjp existed and has gone since. broad-one (a BGP) is the same.
EDITION_2024 = """type: programme
records:
  - id: storage-mjp
    label: Storage programme
    kind: mjp
    clusters: [alpha-tech, beta-tech]
    themes: [energy]
    mmips: [offshore-wind]
    questions: [q-storage]
    lead: real-institute
    budget: {total_eur: 800000, public_eur: 600000, private_eur: 200000, committed_eur: 500000}
    start_year: 2020
    end_year: 2024
    source: https://example.org/storage
    confidence: high
  - id: old-mjp
    label: Old programme
    kind: mjp
    clusters: [beta-tech]
    missions: [healthy-years]
    source: https://example.org/old
    confidence: high
  - id: broad-one
    label: A broad programme
    kind: bgp
    clusters: [alpha-tech]
    source: https://example.org/bgp
    confidence: high
"""


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(TINY, folder)
    (folder / "editions" / "2024").mkdir(parents=True)
    (folder / "editions" / "2024" / "programmes.yaml").write_text(EDITION_2024, encoding="utf-8")
    return folder


@pytest.fixture
def store(data: Path) -> MemoryStore:
    built = MemoryStore()
    build((data,), BASE, built)
    return built


def test_the_edition_is_a_named_graph_outside_the_default_graph(store: MemoryStore) -> None:
    view = store.view(PUBLIC)
    graph = BASE + "graph/edition/2024"
    assert view.ask(f"ASK {{ GRAPH <{graph}> {{ <{BASE}programme/old-mjp> ?p ?o }} }}")
    assert not view.ask(f"ASK {{ <{BASE}programme/old-mjp> ?p ?o }}")  # not part of the current portfolio
    label = "<http://www.w3.org/2004/02/skos/core#prefLabel>"
    labels = view.select(f"SELECT ?l WHERE {{ <{BASE}programme/storage-mjp> {label} ?l FILTER(LANG(?l) = \"en\") }}")
    assert len(labels) == 1  # the current record once, not once per edition
    assert [e.name for e in list_editions(view)] == ["2024", "current"]


def test_the_diff_lists_exactly_the_changes(store: MemoryStore) -> None:
    diff = diff_editions(store.view(INTERNAL), "2024", "current")
    assert [s.iri for s in diff.new] == [BASE + "programme/sample-sensing"]
    assert diff.new[0].is_sample
    assert [s.iri for s in diff.dropped] == [BASE + "programme/old-mjp"]
    assert [c.iri for c in diff.changed] == [BASE + "programme/storage-mjp"]
    changes = {f.field: (f.before, f.after) for f in diff.changed[0].changes}
    assert changes == {"budget.total_eur": (("800000",), ("1000000",)), "budget.private_eur": (("200000",), ("400000",))}
    coverage = {c.iri.rsplit("/", 1)[-1]: (c.before, c.after) for c in diff.coverage}
    assert coverage == {"healthy-years": (1, 0), "clean-power": (0, 0)}


def test_a_diff_of_an_edition_with_itself_is_empty(store: MemoryStore) -> None:
    diff = diff_editions(store.view(INTERNAL), "current", "current")
    assert (diff.new, diff.dropped, diff.changed) == ((), (), ())
    assert all(c.delta == 0 for c in diff.coverage)


def test_an_unknown_edition_names_the_known_ones(store: MemoryStore) -> None:
    with pytest.raises(UnknownEdition, match="2024, current"):
        diff_editions(store.view(INTERNAL), "1999", "current")


def test_an_invalid_edition_stops_the_build(data: Path) -> None:
    broken = EDITION_2024.replace("clusters: [beta-tech]", "clusters: [no-such-cluster]")
    (data / "editions" / "2024" / "programmes.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(InvalidRecord, match="editions/2024/programmes.yaml.*old-mjp"):
        build((data,), BASE, MemoryStore())


def test_add_edition_validates_then_keeps_the_files(data: Path, tmp_path: Path) -> None:
    shutil.rmtree(data / "editions")
    incoming = tmp_path / "programmes-2024.yaml"
    incoming.write_text(EDITION_2024.replace("clusters: [beta-tech]", "clusters: [nope]"), encoding="utf-8")
    with pytest.raises(InvalidRecord):
        add_edition((data,), BASE, "2024", [incoming])
    assert not (data / "editions").exists() or not any((data / "editions").iterdir())  # nothing copied
    incoming.write_text(EDITION_2024, encoding="utf-8")
    folder = add_edition((data,), BASE, "2024", [incoming])
    assert (folder / "programmes-2024.yaml").read_text(encoding="utf-8") == EDITION_2024
    with pytest.raises(KgError, match="exists already"):
        add_edition((data,), BASE, "2024", [incoming])
    with pytest.raises(KgError, match="slug"):
        add_edition((data,), BASE, "current", [incoming])


def test_cli_diff_and_add_edition(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    edition = tmp_path / "programmes.yaml"
    shutil.move(data / "editions" / "2024" / "programmes.yaml", edition)
    shutil.rmtree(data / "editions")
    monkeypatch.setenv("MK_DATA_DIRS", str(data))
    monkeypatch.setenv("MK_STORE_PATH", str(tmp_path / "store"))
    assert main(["build", "--quiet"]) == 0
    assert main(["add-edition", "2024", str(edition)]) == 0
    capsys.readouterr()
    assert main(["diff", "2024", "current"]) == 0
    out = capsys.readouterr().out
    assert "1 new, 1 dropped, 1 changed MJPs" in out
    assert "Sample sensing programme [sample]" in out and "[sample] = an illustrative record" in out
    assert main(["diff", "2024", "nope"]) == 1
    assert "no edition named 'nope'" in capsys.readouterr().err


def test_the_shipped_sample_edition_diffs_against_the_current_data(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path / "store", create=True)
    build((DATA,), BASE, store)
    diff = diff_editions(store.view(PUBLIC), "2025", "current")
    assert diff.new and diff.dropped and diff.changed
    assert all(s.is_sample for s in (*diff.new, *diff.dropped, *diff.changed))  # only samples were made up
