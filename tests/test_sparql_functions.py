"""fn:similarity and fn:textScore through /sparql on the tiny dataset, with the real model: they rank
a paraphrase's question first, their scores are the search index's own, bad calls are unbound, and
the service description and the editor's examples offer them."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

from config import Settings
from kg.access import INTERNAL, PUBLIC
from kg.build import build
from kg.functions import SIMILARITY, TEXT_SCORE
from kg.queries import example_queries
from kg.store import MemoryStore, Store
from tests.conftest import BASE, TINY, matcher_over
from tests.support import problem
from web.app import create_app

PREFIX = "PREFIX fn: <https://w3id.org/missiekompas/fn#>\nPREFIX mk: <https://w3id.org/missiekompas/ontology#>\n"
STORAGE, SENSORS = BASE + "question/q-storage", BASE + "question/q-sensors"
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def store() -> Store:
    built = MemoryStore()
    build((TINY,), BASE, built)
    return built


@pytest.fixture(scope="module")
def tiny_matcher(search_settings: Settings, store: Store, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    settings = replace(search_settings, data_dirs=(TINY,), index_path=tmp_path_factory.mktemp("index") / "index")
    return matcher_over(settings, store)


@pytest.fixture(scope="module")
def search_client(search_settings: Settings, store: Store, tiny_matcher) -> FlaskClient:  # noqa: ANN001
    app: Flask = create_app(replace(search_settings, data_dirs=(TINY,)), store=store,
                            matchers={PUBLIC: tiny_matcher, INTERNAL: tiny_matcher})
    return app.test_client()


def select(client: FlaskClient, query: str) -> list[dict[str, str]]:
    response = client.post("/sparql", data={"query": query}, headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [{k: v["value"] for k, v in b.items()} for b in response.get_json()["results"]["bindings"]]


def ranked(client: FlaskClient, function: str, text: str) -> list[dict[str, str]]:
    """Every entity with text, best first by `function` of `text`."""
    return select(client, PREFIX + f"SELECT DISTINCT ?e ?score WHERE {{ ?e a ?class "
                                   f"BIND(fn:{function}(?e, {json.dumps(text)}) AS ?score) FILTER(BOUND(?score)) }} "
                                   "ORDER BY DESC(?score) ?e")


@pytest.mark.parametrize("paraphrase, question", [
    ("What is an inexpensive way to keep electrical energy for later use?", STORAGE),
    ("Spotting illness at an early stage with sensing devices", SENSORS),
])
def test_similarity_ranks_a_paraphrases_question_first(search_client: FlaskClient, paraphrase: str,
                                                        question: str) -> None:
    assert ranked(search_client, "similarity", paraphrase)[0]["e"] == question


def test_text_score_ranks_the_question_with_the_words_first(search_client: FlaskClient) -> None:
    best = ranked(search_client, "textScore", "sensors detecting disease")
    assert best[0]["e"] == SENSORS and float(best[0]["score"]) > 0
    assert float(best[-1]["score"]) == 0.0  # an entity with text and none of the words: 0, not unbound


@pytest.mark.parametrize("text", ["cheap electricity storage", "Welke sensoren zien ziekte vroeg?"])
def test_the_scores_are_the_search_indexs_own(search_client: FlaskClient, tiny_matcher, text: str) -> None:  # noqa: ANN001
    from search.index import lexical_terms

    index = tiny_matcher.index
    every = len(index.documents)
    dense, dense_ids = index.vectors.search(tiny_matcher.embedder.encode_query(text)[None, :], every)
    lexical, lexical_ids = index.lexical.search(lexical_terms(text), every)
    expected: dict[str, dict[str, float]] = {"similarity": {}, "textScore": dict.fromkeys(index.entities, 0.0)}
    for name, scores, ids in (("similarity", dense[0], dense_ids[0]), ("textScore", lexical, lexical_ids)):
        for score, doc in zip(scores.tolist(), ids.tolist(), strict=True):
            entity = index.documents[doc].entity  # an entity scores by its best document
            expected[name][entity] = max(score, expected[name].get(entity, score))
    for name in ("similarity", "textScore"):
        got = {row["e"]: float(row["score"]) for row in ranked(search_client, name, text)}
        assert set(got) == set(index.entities), name  # every entity with text, and only those
        assert got == pytest.approx(expected[name], abs=1e-6), name


@pytest.mark.parametrize("call", [
    'fn:similarity(<urn:nobody>, "storage")',
    "fn:similarity(?e, <urn:storage>)",
    "fn:textScore(?e)",
    'fn:textScore(?e, "storage", "more")',
])
def test_an_unknown_entity_or_a_bad_argument_is_unbound(search_client: FlaskClient, call: str) -> None:
    found = select(search_client, PREFIX + f"SELECT ?e ?v WHERE {{ VALUES ?e {{ <{STORAGE}> }} BIND({call} AS ?v) }}")
    assert found == [{"e": STORAGE}]


def test_too_many_or_too_long_texts_are_refused(search_client: FlaskClient) -> None:
    from search.sparql_functions import MAX_TEXT_CHARS, MAX_TEXTS

    binds = " ".join(f'BIND(fn:similarity(?e, "text {i}") AS ?s{i})' for i in range(MAX_TEXTS + 1))
    response = search_client.post("/sparql", data={"query": PREFIX + f"SELECT * WHERE {{ {binds} }}"})
    assert f"at most {MAX_TEXTS}" in problem(response, 400)
    long = "word " * (MAX_TEXT_CHARS // 5 + 1)
    response = search_client.post("/sparql", data={"query": PREFIX + f'SELECT (fn:textScore(?e, "{long}") AS ?s) {{}}'})
    assert f"at most {MAX_TEXT_CHARS}" in problem(response, 400)


def test_without_search_the_functions_are_unbound(client: FlaskClient) -> None:
    query = PREFIX + f'SELECT ?e ?s WHERE {{ VALUES ?e {{ <{STORAGE}> }} BIND(fn:similarity(?e, "storage") AS ?s) }}'
    assert select(client, query) == [{"e": STORAGE}]


def test_the_service_description_lists_the_functions(search_client: FlaskClient) -> None:
    graph = Graph().parse(data=search_client.get("/sparql", headers={"Accept": "text/turtle"}).get_data(as_text=True),
                          format="turtle")
    service = URIRef("http://localhost/sparql#service")
    assert set(graph.objects(service, SD.extensionFunction)) == {URIRef(SIMILARITY), URIRef(TEXT_SCORE)}
    for function in (SIMILARITY, TEXT_SCORE):
        assert (URIRef(function), RDF.type, SD.Function) in graph
        comment = graph.value(URIRef(function), RDFS.comment)
        assert isinstance(comment, Literal) and comment.language == "en" and "xsd:double" in comment


def test_the_editors_examples_use_both_functions_and_run(search_client: FlaskClient) -> None:
    examples = [e["query"] for e in example_queries() if "fn:" in e["query"]]
    assert examples and all("fn:similarity" in q and "fn:textScore" in q for q in examples)
    answered = []
    for query in examples:
        assert "ORDER BY DESC(?score)\nLIMIT 10" in query
        scores = [float(row["score"]) for row in select(search_client, query)]
        assert scores == sorted(scores, reverse=True)
        answered.append(len(scores))
    assert answered[0] == 2  # the tiny dataset's two questions; its consortia have none of the other's words


def test_each_text_is_encoded_once(tiny_matcher) -> None:  # noqa: ANN001
    from search.sparql_functions import FunctionScorer, query_vector

    scorer = FunctionScorer(tiny_matcher.index, tiny_matcher.embedder)
    query_vector.cache_clear()
    text = "a text asked twice in one query, and again in the next"
    query = PREFIX + f'SELECT * {{ ?e a ?c BIND(fn:similarity(?e, "{text}") AS ?a) BIND(fn:similarity(?e, "{text}") AS ?b) }}'
    for _ in range(2):
        scorer.context(query)
    assert query_vector.cache_info().misses == 1
    assert np.isclose(np.linalg.norm(query_vector(tiny_matcher.embedder, text)), 1.0)
