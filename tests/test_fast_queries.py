"""Queries seen to finish fast on a store version skip the query worker (kg.fast_queries); nothing
else does, and the answers stay the same bytes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.access import INTERNAL
from kg.build import compile_dataset, read_files
from kg.endpoint import Limits, QueryService
from kg.execute import QueryRequest
from kg.fast_queries import FastQueries
from kg.sparql_text import UpdateDataset
from kg.store import OxigraphStore
from kg.worker import QueryTimeout, WorkerPool
from tests.conftest import BASE, TINY

EXPLOSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SELECT = "SELECT ?s ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?s ?label"


@pytest.fixture
def store(tmp_path: Path) -> OxigraphStore:
    store = OxigraphStore(tmp_path / "store", create=True)
    store.replace_all(compile_dataset(read_files([TINY]), BASE).quads)
    return store


@pytest.fixture
def make_service(store: OxigraphStore) -> Iterator[Callable[..., QueryService]]:
    made: list[QueryService] = []

    def make(**limits: object) -> QueryService:
        service = QueryService(store, Limits(**{"timeout_s": 1.5, **limits}), workers=1)  # type: ignore[arg-type]
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()


@pytest.fixture
def worker_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The query texts that went to a query worker (the real pool still answers them)."""
    sent: list[str] = []
    real = WorkerPool.run

    def run(self: WorkerPool, version: Path, request: QueryRequest, *args: object) -> object:
        sent.append(request.query)
        return real(self, version, request, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(WorkerPool, "run", run)
    return sent


def test_a_fast_query_goes_to_a_worker_once_then_runs_in_thread(make_service: Callable[..., QueryService],
                                                                 worker_runs: list[str]) -> None:
    service = make_service()
    answers = [service.query(QueryRequest(SELECT), "json").body for _ in range(3)]
    assert worker_runs == [SELECT]
    assert answers[0] == answers[1] == answers[2]
    assert json.loads(answers[0])["results"]["bindings"]


@pytest.mark.parametrize("text, fmt", [
    (SELECT, "json"), (SELECT, "xml"), (SELECT, "csv"), (SELECT, "tsv"),
    ("ASK { ?s ?p ?o }", "json"), ("ASK { ?s ?p ?o }", "xml"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o", "nt"),
])
def test_in_thread_answers_are_the_workers_bytes(make_service: Callable[..., QueryService], text: str, fmt: str,
                                                 worker_runs: list[str]) -> None:
    service = make_service()
    first = service.query(QueryRequest(text), fmt)
    second = service.query(QueryRequest(text), fmt)
    assert len(worker_runs) == 1
    assert second == first


def test_a_cut_answer_is_cut_the_same_way_in_thread(make_service: Callable[..., QueryService],
                                                    worker_runs: list[str]) -> None:
    service = make_service(max_rows=3)
    first, second = (service.query(QueryRequest(SELECT), "json") for _ in range(2))
    assert len(worker_runs) == 1
    assert first.truncated and second.truncated and second.body == first.body
    assert len(json.loads(second.body)["results"]["bindings"]) == 3


def test_queries_slower_than_the_inline_limit_always_go_to_a_worker(make_service: Callable[..., QueryService],
                                                                     worker_runs: list[str]) -> None:
    service = make_service(inline_s=0.0)
    for _ in range(3):
        service.query(QueryRequest(SELECT), "json")
    assert worker_runs == [SELECT] * 3


@pytest.mark.parametrize("text", [
    "SELECT (RAND() AS ?r) WHERE {}",
    "SELECT ?s WHERE { ?s ?p ?o FILTER(SECONDS(now()) >= 0) } LIMIT 1",
    "SELECT (UUID() AS ?u) (STRUUID() AS ?v) WHERE {}",
])
def test_volatile_queries_always_go_to_a_worker(make_service: Callable[..., QueryService], text: str,
                                               worker_runs: list[str]) -> None:
    service = make_service()
    for _ in range(3):
        service.query(QueryRequest(text), "json")
    assert worker_runs == [text] * 3


def test_a_new_store_version_starts_over(make_service: Callable[..., QueryService], worker_runs: list[str]) -> None:
    service = make_service()
    before = [service.query(QueryRequest(SELECT), "json", INTERNAL) for _ in range(2)]
    service.update("INSERT DATA { <urn:a> <http://www.w3.org/2000/01/rdf-schema#label> \"new\" }", UpdateDataset())
    after = service.query(QueryRequest(SELECT), "json", INTERNAL)
    assert worker_runs == [SELECT, SELECT]  # worker, in-thread; then the new version: a worker again
    assert b'"new"' in after.body and b'"new"' not in before[1].body


def test_the_dataset_and_the_format_are_part_of_what_is_known(make_service: Callable[..., QueryService],
                                                              worker_runs: list[str]) -> None:
    service = make_service()
    service.query(QueryRequest(SELECT), "json")
    service.query(QueryRequest(SELECT, default_graphs=(f"{BASE}graph/clusters",)), "json")
    service.query(QueryRequest(SELECT), "csv")
    service.query(QueryRequest(SELECT, base_iri="http://other.example/sparql"), "json")
    assert len(worker_runs) == 4


def test_the_timeout_still_stops_an_explosive_query(make_service: Callable[..., QueryService],
                                                    worker_runs: list[str]) -> None:
    service = make_service()
    for _ in range(2):
        service.query(QueryRequest(SELECT), "json")
    for _ in range(2):  # a timed-out query is never taken for a fast one
        with pytest.raises(QueryTimeout):
            service.query(QueryRequest(EXPLOSIVE), "json")
    assert worker_runs == [SELECT, EXPLOSIVE, EXPLOSIVE]


def test_what_is_known_is_bounded_and_keeps_no_query_text() -> None:
    fast = FastQueries(limit_s=0.05, size=2)
    keys = [fast.key("/v1/public", QueryRequest(f"ASK {{ <urn:{i}> ?p ?o }}"), "json") for i in range(3)]
    for key in keys:
        fast.record(key, QueryRequest("ASK {}"), 0.001, whole=True)
    assert fast.seen(keys[0]) is None and fast.seen(keys[1]) is True and fast.seen(keys[2]) is True
    assert all(isinstance(k, bytes) and len(k) == 16 for k in keys)
    other_version = fast.key("/v2/public", QueryRequest("ASK { <urn:2> ?p ?o }"), "json")
    assert other_version != keys[2]


def test_a_slow_or_cut_run_is_recorded_as_such() -> None:
    fast = FastQueries(limit_s=0.05)
    slow, cut = (fast.key("/v1/public", QueryRequest(q), "json") for q in ("ASK {}", "SELECT * {}"))
    fast.record(slow, QueryRequest("ASK {}"), 0.2, whole=True)
    fast.record(cut, QueryRequest("SELECT * {}"), 0.01, whole=False)
    assert fast.seen(slow) is None
    assert fast.seen(cut) is False


def test_answers_equal_pyoxigraphs_own_for_the_whole_path(store: OxigraphStore,
                                                           make_service: Callable[..., QueryService]) -> None:
    service = make_service()
    service.query(QueryRequest(SELECT), "json")
    in_thread = service.query(QueryRequest(SELECT), "json").body
    view = store.view("public").handle()
    assert in_thread == view.query(SELECT).serialize(format=ox.QueryResultsFormat.JSON)
