"""The query service: outbound calls refused, timeouts that really stop the work, row limits, updates."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.access import INTERNAL, PUBLIC
from kg.build import compile_dataset, read_files
from kg.endpoint import Limits, QueryRejected, QueryService, open_query_service
from kg.errors import QueryError, StoreError
from kg.execute import QueryRequest
from kg.sparql_text import UpdateDataset
from kg.store import MemoryStore, OxigraphStore
from kg.worker import QueryTimeout, _view
from tests.conftest import BASE, TINY

EXPLOSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture
def quads() -> list[ox.Quad]:
    return compile_dataset(read_files([TINY]), BASE).quads


@pytest.fixture(params=[0, 1_000_000], ids=["from-disk", "in-memory"])
def service(request: pytest.FixtureRequest, tmp_path: Path, quads: list[ox.Quad]) -> Iterator[QueryService]:
    """The same checks on workers that read the version's folders and on workers that copy it into memory."""
    store = OxigraphStore(tmp_path / "store", create=True)
    store.replace_all(quads)
    limits = Limits(timeout_s=1.5, max_rows=5, update_timeout_s=30, outbound_allow=("http://allowed.example/",),
                    memory_quads=request.param)
    service = open_query_service("oxigraph", store, limits, workers=1)
    yield service
    service.close()


def test_worker_answers_and_cuts_rows(service: QueryService) -> None:
    out = service.query(QueryRequest("SELECT ?s WHERE { ?s ?p ?o }"), "json")
    assert out.truncated and len(json.loads(out.body)["results"]["bindings"]) == 5


def test_timeout_stops_the_query_and_the_next_one_works(service: QueryService) -> None:
    started = time.perf_counter()
    with pytest.raises(QueryTimeout, match="1.5 s"):
        service.query(QueryRequest(EXPLOSIVE), "json")
    assert time.perf_counter() - started < 5
    assert json.loads(service.query(QueryRequest("ASK { ?s ?p ?o }"), "json").body)["boolean"] is True


def test_malformed_query_is_reported_from_the_worker(service: QueryService) -> None:
    with pytest.raises(QueryError, match="malformed SPARQL"):
        service.query(QueryRequest("SELECT ?x WHERE {"), "json")


@pytest.mark.parametrize("text", [
    "SELECT * { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }",
    "LOAD <http://evil.example/x.ttl>",
])
def test_outbound_calls_are_refused_unless_allowed(service: QueryService, text: str) -> None:
    with pytest.raises(QueryRejected, match="not allowed"):
        service.check(text)
    service.check("SELECT * { SERVICE <http://allowed.example/sparql> { ?s ?p ?o } }")


def test_worker_sees_an_update_made_by_the_service(service: QueryService) -> None:
    service.update("INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }", UpdateDataset())
    ask = QueryRequest("ASK { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }")
    assert json.loads(service.query(ask, "json", INTERNAL).body)["boolean"] is True
    # nobody declared <urn:g> public, so the public view does not hold it (kg.access)
    assert json.loads(service.query(ask, "json", PUBLIC).body)["boolean"] is False


def test_a_version_within_the_memory_limit_is_copied_into_memory_and_a_larger_one_is_not(
        tmp_path: Path, quads: list[ox.Quad]) -> None:
    store = OxigraphStore(tmp_path / "store", create=True)
    store.replace_all(quads)
    folder = str(store.view(PUBLIC).path)
    size = len(quads)
    copied = _view(folder, {}, memory_quads=size)
    on_disk = _view(folder, {}, memory_quads=size - 1)
    copied.add(ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.NamedNode("urn:c")))  # a copy of its own
    with pytest.raises(RuntimeError, match="read-write"):
        on_disk.add(ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.NamedNode("urn:c")))  # the read-only folder
    question = "SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(?s != <urn:a>) }"
    assert {tuple(row) for row in copied.query(question)} == {tuple(row) for row in on_disk.query(question)}
    assert len(on_disk) > 0


def test_protocol_dataset_replaces_the_default_graph(quads: list[ox.Quad]) -> None:
    store = MemoryStore()
    store.replace_all(quads)
    service = open_query_service("memory", store, Limits())
    clusters = f"{BASE}graph/clusters"
    ask = "ASK { ?c a <https://w3id.org/missiekompas/ontology#MJP> }"
    assert json.loads(service.query(QueryRequest(ask), "json").body)["boolean"] is True
    assert json.loads(service.query(QueryRequest(ask, default_graphs=(clusters,)), "json").body)["boolean"] is False


def test_an_update_past_its_time_limit_is_stopped_and_leaves_nothing(tmp_path: Path, quads: list[ox.Quad]) -> None:
    store = OxigraphStore(tmp_path / "store", create=True)
    store.replace_all(quads)
    before = store.version_path()
    folders = sorted(p.name for p in tmp_path.iterdir())
    service = open_query_service("oxigraph", store, Limits(update_timeout_s=1.0), workers=1)
    try:
        explosive = ("INSERT { GRAPH <urn:g> { ?a <urn:p> ?l } } WHERE { GRAPH ?w { ?a ?b ?c } GRAPH ?x { ?d ?e ?f } "
                     "GRAPH ?y { ?g ?h ?i } GRAPH ?z { ?j ?k ?l } FILTER(STRLEN(STR(?c)) + STRLEN(STR(?l)) < 0) }")
        with pytest.raises(QueryTimeout, match="time limit"):
            service.update(explosive, UpdateDataset())
        assert store.version_path() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == folders  # the half-written version is gone
    finally:
        service.close()
    patient = open_query_service("oxigraph", store, Limits(update_timeout_s=120), workers=1)
    try:  # the write lock was released: the next update goes through
        patient.update("INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }", UpdateDataset())
        assert store.version_path() != before
    finally:
        patient.close()


def test_a_store_that_cannot_be_written_says_so(tmp_path: Path) -> None:
    import errno

    store = OxigraphStore(tmp_path / "store", create=True)

    def read_only(version: Path) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(version))

    with pytest.raises(StoreError, match="cannot write a new store version .*Read-only file system"):
        store.publish(read_only)
