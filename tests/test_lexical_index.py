"""BM25 ranking, filtering before the top-k cut, and the atomic save/load of search.lexical_index."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from search.lexical_index import MANIFEST, LexicalIndex, LexicalIndexUnavailable
from search.text import analyse

TEXTS = [
    ("nl", "Groene waterstof voor de zware industrie: elektrolyse, opslag en transport van waterstof."),
    ("en", "Hydrogen production by electrolysis for heavy industry and hydrogen storage."),
    ("nl", "Digitale technologieën zoals kunstmatige intelligentie in de zorg."),
    ("en", "Circular economy: recycling of plastics and reuse of building materials."),
    ("nl", "Waterbeheer en dijkversterking in de delta; waterstof wordt kort genoemd."),
    ("en", "Quantum technologies and photonics for secure communication."),
    ("nl", "Energietransitie in de gebouwde omgeving met warmtepompen en waterstof."),
]


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex.build([analyse(text, lang) for lang, text in TEXTS])


def test_the_obviously_relevant_document_ranks_first(index: LexicalIndex) -> None:
    scores, ids = index.search(analyse("opslag van groene waterstof", "nl"), k=3)
    assert ids[0] == 0
    assert list(scores) == sorted(scores, reverse=True)
    assert scores.dtype == np.float32 and ids.dtype == np.int64


def test_english_query_finds_the_english_document(index: LexicalIndex) -> None:
    _, ids = index.search(analyse("hydrogen electrolysis", "en"), k=5)
    assert ids.tolist() == [1]  # only document 1 contains the words: the others score 0 and are left out


def test_documents_scoring_zero_are_not_returned(index: LexicalIndex) -> None:
    scores, ids = index.search(analyse("waterstof", "nl"), k=10)
    assert sorted(ids.tolist()) == [0, 4, 6]
    assert (scores > 0).all()


def test_unknown_or_empty_queries_return_nothing(index: LexicalIndex) -> None:
    for query in ([], ["onbekendwoord"], [""]):
        scores, ids = index.search(query, k=5)
        assert len(scores) == len(ids) == 0


def test_allowed_filters_before_the_cut(index: LexicalIndex) -> None:
    query = analyse("waterstof", "nl")
    _, unfiltered = index.search(query, k=1)
    assert unfiltered.tolist() == [0]
    _, ids = index.search(query, k=2, allowed=np.array([1, 2, 3, 4, 5, 6]))
    assert sorted(ids.tolist()) == [4, 6]  # k allowed documents, though document 0 scores higher


def test_allowed_only_limits_and_never_adds(index: LexicalIndex) -> None:
    query = analyse("waterstof", "nl")
    _, ids = index.search(query, k=5, allowed=np.array([2, 3, 4]))
    assert ids.tolist() == [4]
    _, none = index.search(query, k=5, allowed=np.array([], dtype=np.int64))
    assert none.size == 0


def test_bad_arguments_are_refused(index: LexicalIndex) -> None:
    with pytest.raises(ValueError):
        index.search(["waterstof"], k=0)
    with pytest.raises(IndexError):
        index.search(["waterstof"], k=3, allowed=np.array([99]))
    with pytest.raises(ValueError):
        LexicalIndex.build([])


def test_empty_documents_are_allowed() -> None:
    index = LexicalIndex.build([["waterstof"], [], ["energie", "waterstof"]])
    assert len(index) == 3
    _, ids = index.search(["energie"], k=3)
    assert ids.tolist() == [2]


def test_save_and_load_round_trip(index: LexicalIndex, tmp_path: Path) -> None:
    query = analyse("waterstof in de industrie", "nl")
    index.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical")
    assert len(loaded) == len(index)
    expected, got = index.search(query, k=5), loaded.search(query, k=5)
    np.testing.assert_array_equal(expected[1], got[1])
    np.testing.assert_allclose(expected[0], got[0])
    manifest = json.loads((tmp_path / "lexical" / MANIFEST).read_text())
    assert manifest["n_docs"] == len(TEXTS) and manifest["format"] == "missiekompas-lexical"


def test_saving_again_replaces_the_files_and_leaves_nothing_else(index: LexicalIndex, tmp_path: Path) -> None:
    for _ in range(3):
        index.save(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MANIFEST, *manifest["files"].values()])
    small = LexicalIndex.build([["alleen"], ["dit"]])
    small.save(tmp_path)
    assert len(LexicalIndex.load(tmp_path)) == 2


def test_missing_index_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(LexicalIndexUnavailable, match="build the index first"):
        LexicalIndex.load(tmp_path / "nothing-here")


def test_corrupt_manifest_is_unavailable(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path)
    (tmp_path / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(LexicalIndexUnavailable, match="unreadable"):
        LexicalIndex.load(tmp_path)


def test_damaged_or_missing_files_are_unavailable(index: LexicalIndex, tmp_path: Path) -> None:
    index.save(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    data = tmp_path / manifest["files"]["data_name"]
    data.write_bytes(data.read_bytes()[:-8])
    with pytest.raises(LexicalIndexUnavailable, match="damaged"):
        LexicalIndex.load(tmp_path)
    data.unlink()
    with pytest.raises(LexicalIndexUnavailable, match="missing"):
        LexicalIndex.load(tmp_path)
