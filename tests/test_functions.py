"""The SPARQL extension functions as kg evaluates them: answered from a hand-made score table (no
model), unbound for whatever the table cannot answer, the same bytes in a worker process as in
process, and stopped by the worker's time limit."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from kg.build import compile_dataset, read_files
from kg.endpoint import Limits, QueryService, open_query_service
from kg.errors import QueryError
from kg.execute import QueryRequest, execute
from kg.functions import FN, SIMILARITY, TEXT_SCORE, FunctionContext
from kg.sparql_text import extension_calls
from kg.store import MemoryStore, OxigraphStore
from kg.worker import QueryTimeout
from tests.conftest import BASE, TINY

PREFIX = "PREFIX fn: <https://w3id.org/missiekompas/fn#>\nPREFIX mk: <https://w3id.org/missiekompas/ontology#>\n"
STORAGE, SENSORS = BASE + "question/q-storage", BASE + "question/q-sensors"
TEXT = 'cheap "storage"\tof power'  # written with escapes in the queries below
CONTEXT = FunctionContext({SIMILARITY: {TEXT: {STORAGE: 0.91, SENSORS: 0.42}}, TEXT_SCORE: {"sensors": {SENSORS: 3.5}}})
RANKED = (PREFIX + 'SELECT ?e ?score ?words WHERE { ?e a mk:KnowledgeQuestion '
          'BIND(fn:similarity(?e, "cheap \\"storage\\"\\u0009of power") AS ?score) '
          'BIND(fn:textScore(?e, "sensors") AS ?words) } ORDER BY DESC(?score) ?e LIMIT 10')


@pytest.fixture(scope="module")
def quads() -> list[ox.Quad]:
    return compile_dataset(read_files([TINY]), BASE).quads


@pytest.fixture(scope="module")
def memory(quads: list[ox.Quad]) -> MemoryStore:
    store = MemoryStore()
    store.replace_all(quads)
    return store


@pytest.fixture(scope="module")
def worker_service(tmp_path_factory: pytest.TempPathFactory, quads: list[ox.Quad]) -> Iterator[QueryService]:
    store = OxigraphStore(tmp_path_factory.mktemp("functions") / "store", create=True)
    store.replace_all(quads)
    service = open_query_service("oxigraph", store, Limits(timeout_s=1.5), workers=1)
    yield service
    service.close()


def rows(body: bytes) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in b.items()} for b in json.loads(body)["results"]["bindings"]]


def ask(store: MemoryStore, query: str, context: FunctionContext | None = CONTEXT) -> list[dict[str, str]]:
    return rows(execute(store.view("public").handle(), QueryRequest(query, functions=context), "json", 100).body)


def test_the_tables_answer_the_calls_with_doubles(memory: MemoryStore) -> None:
    assert ask(memory, RANKED) == [{"e": STORAGE, "score": "0.91"}, {"e": SENSORS, "score": "0.42", "words": "3.5"}]
    body = json.loads(execute(memory.view("public").handle(), QueryRequest(RANKED, functions=CONTEXT), "json", 1).body)
    assert body["results"]["bindings"][0]["score"]["datatype"] == "http://www.w3.org/2001/XMLSchema#double"


def test_the_texts_the_server_reads_are_the_ones_the_engine_passes(memory: MemoryStore) -> None:
    read = extension_calls(RANKED, FN)
    assert read == [(SIMILARITY, TEXT), (TEXT_SCORE, "sensors")]
    assert ask(memory, RANKED)[0]["score"] == "0.91"  # the table is keyed by what the reader found


@pytest.mark.parametrize("call", [
    'fn:similarity(<urn:nobody>, "x")',  # an entity without text
    "fn:similarity(?e, <urn:not-a-text>)",  # the text is an IRI
    'fn:similarity("' + STORAGE + '", "x")',  # the entity is a string
    "fn:similarity(?e)",  # too few arguments
    'fn:similarity(?e, "x", "y")',  # too many
    "fn:similarity(?e, ?unbound)",
    "fn:similarity(?e, STR(?e))",  # a text computed in the query: not in the table
    'fn:textScore(?e, "x")',  # a table for another function
])
def test_what_the_tables_cannot_answer_is_unbound_not_an_error(memory: MemoryStore, call: str) -> None:
    context = FunctionContext({SIMILARITY: {"x": {STORAGE: 0.5}}})
    query = PREFIX + "SELECT ?e ?v WHERE {{ VALUES ?e {{ <{}> <urn:nobody> }} BIND({} AS ?v) }} ORDER BY ?e"
    assert ask(memory, query.format(STORAGE, 'fn:similarity(?e, "x")'), context)[0] == {"e": STORAGE, "v": "0.5"}
    assert ask(memory, query.format(STORAGE, call), context) == [{"e": STORAGE}, {"e": "urn:nobody"}]


def test_without_tables_the_functions_are_unbound_and_the_query_runs(memory: MemoryStore) -> None:
    assert ask(memory, RANKED, None) == [{"e": SENSORS}, {"e": STORAGE}]


def test_a_function_the_engine_does_not_know_is_a_query_error(memory: MemoryStore) -> None:
    with pytest.raises(QueryError, match="not supported"):
        ask(memory, "SELECT ?v WHERE { BIND(<urn:no-such-function>(1) AS ?v) }")


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_a_worker_answers_with_the_same_bytes_as_in_process(worker_service: QueryService, memory: MemoryStore,
                                                            fmt: str) -> None:
    request = QueryRequest(RANKED, functions=CONTEXT)
    in_process = open_query_service("memory", memory, Limits()).query(request, fmt)
    assert worker_service.query(request, fmt).body == in_process.body


def test_the_time_limit_stops_a_query_with_the_functions(worker_service: QueryService) -> None:
    explosive = (PREFIX + "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l "
                 'BIND(fn:similarity(?a, "cheap \\"storage\\"\\u0009of power") AS ?s) FILTER(BOUND(?s)) }')
    with pytest.raises(QueryTimeout, match="1.5 s"):
        worker_service.query(QueryRequest(explosive, functions=CONTEXT), "json")
    assert rows(worker_service.query(QueryRequest(RANKED, functions=CONTEXT), "json").body)[0]["e"] == STORAGE

