"""The hubness correction (search.hubness): penalties, their reference proposals, and what they do to a ranking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from bench.eval_search import LABELS, expected_splits
from kg.store import Store
from search.concepts import ConceptMatcher
from search.documents import Document, Entity, corpus_hash, load_entities, to_documents
from search.hubness import hub_penalties, load_reference, mean_vector, reference_hash
from search.index import FORMAT_VERSION, IndexStale, SearchIndex, ensure_index
from search.lexical_index import LexicalIndex
from search.match import Matcher, vote_shares
from search.vector_index import VectorIndex

BASE = "https://w3id.org/missiekompas/id/question/"


def unit(*parts: tuple[int, float], dimension: int = 8) -> np.ndarray:
    vector = np.zeros(dimension, dtype=np.float32)
    for axis, value in parts:
        vector[axis] = value
    return vector / np.linalg.norm(vector)


def test_the_reference_proposals_are_the_first_tuning_proposals_and_no_held_out_one() -> None:
    """The reference set is the tuning part as it was first drawn (groups p, x, n, d); group t, added to
    the tuning part later, is not in it (eval_search measured both sets on the tuning part)."""
    raw = yaml.safe_load(LABELS.read_text(encoding="utf-8"))["proposals"]
    assert {p["id"]: p["split"] for p in raw} == expected_splits(raw)  # the marks follow the file's rule
    first_tuning = [p["text"] for p in raw if p["split"] == "tuning" and not p["id"].startswith("t")]
    held_out = {p["text"] for p in raw if p["split"] == "held-out"}
    reference = load_reference()
    assert reference == first_tuning
    assert not held_out & set(reference)
    assert {p["split"] for p in raw if p["id"].startswith("t")} == {"tuning"}


def test_the_split_is_stratified_by_language_and_puts_most_new_proposals_in_held_out() -> None:
    raw = yaml.safe_load(LABELS.read_text(encoding="utf-8"))["proposals"]
    for split in ("tuning", "held-out"):
        languages = [p["lang"] for p in raw if p["split"] == split]
        assert languages.count("nl") == languages.count("en")
    for group in "xn":  # cross-domain, no answer
        marks = [p["split"] for p in raw if p["id"].startswith(group)]
        assert marks.count("held-out") > len(marks) / 2


def test_a_penalty_is_the_mean_similarity_to_the_nearest_reference_proposals() -> None:
    docs = np.stack([unit((0, 1.0)), unit((1, 1.0))])
    reference = np.stack([unit((0, 1.0)), unit((0, 1.0), (1, 1.0)), unit((2, 1.0))])
    cosines = docs @ reference.T
    np.testing.assert_allclose(hub_penalties(docs, reference), cosines.mean(axis=1), rtol=1e-6)
    np.testing.assert_allclose(hub_penalties(docs, reference, nearest=1), cosines.max(axis=1), rtol=1e-6)
    np.testing.assert_allclose(hub_penalties(docs, reference, nearest=2), np.sort(cosines, axis=1)[:, 1:].mean(axis=1),
                               rtol=1e-6)
    assert hub_penalties(docs, reference[:0]).tolist() == [0.0, 0.0]


def test_the_reference_hash_changes_with_the_texts_and_the_neighbourhood() -> None:
    assert reference_hash(["a", "b"]) == reference_hash(["a", "b"])
    assert len({reference_hash(["a", "b"]), reference_hash(["a", "c"]), reference_hash(["ab"]),
                reference_hash(["a", "b"], nearest=1)}) == 4


class _Encoder:
    name = "constructed vectors"
    dimension = 8


def constructed_matcher(hubness_weight: float) -> Matcher:
    """An index of a hub (near every reference proposal) and a specific record, with their penalties."""
    vectors = np.stack([unit((0, 1.0)),  # the hub: the direction every proposal shares
                        unit((0, 0.3), (7, 1.0))])  # the specific record
    reference = np.stack([unit((0, 1.0), (axis, 1.0)) for axis in range(1, 7)])  # varied proposals, all sharing axis 0
    entities = [Entity(BASE + name, "question", {"en": name}, name, False) for name in ("hub", "specific")]
    documents = [Document(e.iri, e.kind, 0, e.text) for e in entities]
    index = SearchIndex({e.iri: e for e in entities}, documents, vectors, VectorIndex.build(vectors),
                        LexicalIndex.build([["hub"], ["specific"]]), {}, hub_penalties(vectors, reference), reference)
    return Matcher(index, _Encoder(), ConceptMatcher([]), {}, {"dense": 1.0, "lexical": 0.0},  # type: ignore[arg-type]
                   hubness_weight=hubness_weight)


def test_the_correction_demotes_a_hub_below_the_record_that_fits() -> None:
    proposal = unit((0, 1.0), (7, 0.5))[None, :]  # close to the hub by the shared direction, but about axis 7
    plain = constructed_matcher(0.0).rank_dense(proposal, None)
    corrected = constructed_matcher(1.0).rank_dense(proposal, None)
    assert plain.iris == [BASE + "hub", BASE + "specific"]
    assert corrected.iris == [BASE + "specific", BASE + "hub"]
    assert corrected.scores == pytest.approx(plain.scores)  # the plain cosines stay in the answer
    hub = constructed_matcher(1.0).index
    assert corrected.strength[BASE + "hub"] == pytest.approx(plain.scores[BASE + "hub"] - float(hub.penalties()[0]))


def test_a_proposal_is_one_normalised_mean_vector() -> None:
    passages = np.stack([unit((0, 1.0)), unit((1, 1.0))])
    np.testing.assert_allclose(mean_vector(passages), unit((0, 1.0), (1, 1.0)), rtol=1e-6)


def test_the_penalties_and_reference_vectors_are_saved_with_the_index(tmp_path: Path) -> None:
    index = constructed_matcher(1.0).index
    index.save(tmp_path / "index")
    loaded = SearchIndex.load(tmp_path / "index")
    np.testing.assert_array_equal(loaded.penalties(), index.penalties())
    np.testing.assert_array_equal(loaded.reference_vectors, index.reference_vectors)


def test_an_index_without_penalties_ranks_by_plain_cosine() -> None:
    index = constructed_matcher(1.0).index
    bare = SearchIndex(index.entities, index.documents, index.doc_vectors, index.vectors, index.lexical, {})
    assert bare.penalties().tolist() == [0.0, 0.0]


def test_an_index_made_from_other_reference_proposals_is_stale(tiny_store: Store, tmp_path: Path) -> None:
    """The manifest keeps the reference proposals' hash: other proposals, other penalties, so a rebuild."""
    from search.embedder import Embedder

    embedder = Embedder("not-loaded-for-this-test")  # only its name is read before the index is judged
    entities = load_entities(tiny_store)
    documents = to_documents(entities)
    vectors = np.random.default_rng(3).normal(size=(len(documents), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    folder = tmp_path / "index"

    def save(reference: str) -> None:
        manifest = {"format": FORMAT_VERSION, "model": embedder.name, "dimension": 8,
                    "corpus_hash": corpus_hash(documents, embedder.name, entities), "hubness": {"reference_hash": reference}}
        SearchIndex({e.iri: e for e in entities}, documents, vectors, VectorIndex.build(vectors),
                    LexicalIndex.build([d.text.lower().split() for d in documents]), manifest,
                    np.zeros(len(documents), dtype=np.float32), np.zeros((0, 8), dtype=np.float32)).save(folder)

    save("another set of proposals")
    with pytest.raises(IndexStale):
        ensure_index(tiny_store, embedder, folder, hnsw_threshold=100, rebuild=False)
    save(reference_hash(load_reference()))
    index, rebuilt = ensure_index(tiny_store, embedder, folder, hnsw_threshold=100, rebuild=False)
    assert not rebuilt and len(index.documents) == len(documents)


def test_a_cluster_every_proposal_draws_votes_to_no_longer_comes_first_by_default() -> None:
    """The cluster suggestion takes off half the share an average (reference) proposal gives a cluster:
    the hub question's cluster gets most votes from every reference proposal, so a proposal about the
    specific record's topic gets the specific cluster first, though the hub still draws more votes."""
    vectors = np.stack([unit((0, 1.0)), unit((0, 0.3), (7, 1.0))])
    reference = np.stack([unit((0, 1.0), (axis, 1.0)) for axis in range(1, 7)])
    entities = [Entity(BASE + "hub", "question", {"en": "hub"}, "hub", False, {"cluster": (BASE + "broad",)}),
                Entity(BASE + "specific", "question", {"en": "specific"}, "specific", False,
                       {"cluster": (BASE + "narrow",)})]
    documents = [Document(e.iri, e.kind, 0, e.text) for e in entities]
    index = SearchIndex({e.iri: e for e in entities}, documents, vectors, VectorIndex.build(vectors),
                        LexicalIndex.build([["hub"], ["specific"]]), {}, hub_penalties(vectors, reference), reference)
    matcher = Matcher(index, _Encoder(), ConceptMatcher([]), {}, {"dense": 1.0, "lexical": 0.0},  # type: ignore[arg-type]
                      hubness_weight=0.0)  # plain cosines: the prior alone is at work
    scores = matcher.rank_dense(unit((0, 1.0), (7, 0.5))[None, :], None).strength
    shares = vote_shares(index.entities, scores, "cluster", ())
    assert shares[BASE + "broad"] > shares[BASE + "narrow"]  # the votes alone put the broad cluster first
    suggested = matcher.suggest(scores, "cluster", 5, ())
    assert [s.iri for s in suggested] == [BASE + "narrow", BASE + "broad"]
    assert sum(s.score for s in suggested) == pytest.approx(1.0, abs=1e-3)
    bare = SearchIndex(index.entities, documents, vectors, index.vectors, index.lexical, {})
    no_reference = Matcher(bare, _Encoder(), ConceptMatcher([]), {}, {"dense": 1.0, "lexical": 0.0},  # type: ignore[arg-type]
                           hubness_weight=0.0)
    assert [s.iri for s in no_reference.suggest(scores, "cluster", 5, ())] == [BASE + "broad", BASE + "narrow"]
