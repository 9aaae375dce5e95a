"""Every store backend answers the same queries on the same data; writes are all-or-nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from config import Settings
from kg.build import build, compile_dataset, read_files
from kg.errors import QueryError, StoreError
from kg.remote import RemoteEndpoint, RemoteStore
from kg.store import MemoryStore, OxigraphStore, Store, open_store
from tests.conftest import BASE, TINY

PREFIX = "PREFIX mk: <https://w3id.org/missiekompas/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
MJP_LABELS = PREFIX + 'SELECT ?label WHERE { ?p a mk:MJP ; skos:prefLabel ?label FILTER(LANG(?label) = "en") } ORDER BY ?label'


@pytest.fixture(params=["memory", "oxigraph", "remote", "virtuoso"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "oxigraph":
        yield OxigraphStore(tmp_path / "store", create=True)
    elif request.param == "remote":
        url = request.getfixturevalue("oxigraph_server")
        yield RemoteStore(f"{url}/query", f"{url}/update", f"{BASE}graph/")
    else:  # Virtuoso answers queries and updates at one URL
        url = request.getfixturevalue("virtuoso_server")
        yield RemoteStore(f"{url}/sparql", f"{url}/sparql", f"{BASE}graph/")


@pytest.fixture
def tiny_quads() -> list[ox.Quad]:
    return compile_dataset(read_files([TINY]), BASE).quads


def test_store_loads_and_answers_select_ask_construct(store: Store, tiny_quads: list[ox.Quad]) -> None:
    store.replace_all(tiny_quads)
    assert store.count() == len(tiny_quads)
    assert [r["label"] for r in store.select(MJP_LABELS)] == ["Sample sensing programme", "Storage programme"]
    assert store.ask(PREFIX + "ASK { ?p mk:isSample true }") is True
    rows = store.select(PREFIX + "SELECT ?t WHERE { <https://w3id.org/missiekompas/id/programme/storage-mjp> mk:budgetTotal ?t }")
    assert int(rows[0]["t"]) == 1000000
    turtle = store.query_to(PREFIX + "CONSTRUCT { ?p a mk:MJP } WHERE { ?p a mk:MJP }", "nt")
    assert sorted(turtle.decode().strip().splitlines()) == sorted(
        f"<{BASE}programme/{i}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        "<https://w3id.org/missiekompas/ontology#MJP> ." for i in ("sample-sensing", "storage-mjp"))
    csv = store.query_to(MJP_LABELS, "csv").decode()
    assert csv.replace("\r\n", "\n") == "label\nSample sensing programme\nStorage programme\n"
    assert set(store.quads()) == set(tiny_quads)


@pytest.mark.parametrize("fmt", ["nt", "ttl", "jsonld", "rdfxml", "json", "xml", "csv", "tsv"])
def test_every_format_says_what_the_embedded_store_says(store: Store, tiny_quads: list[ox.Quad], fmt: str) -> None:
    """Booleans, numbers, dates, language tags: results as the same bytes (ordered rows), RDF as the
    same triples (the order of a CONSTRUCT's triples is the store's own). The store itself answers
    from all the server's graphs: OURS keeps Virtuoso's own out."""
    quads = [*tiny_quads, *BLANK_QUADS]
    store.replace_all(quads)
    reference = MemoryStore()
    reference.replace_all(quads)
    if fmt in ("json", "xml", "csv", "tsv"):
        # SPARQL leaves the order of literals in different languages open (Virtuoso orders by the language first)
        sparql = f"SELECT ?s ?p ?o WHERE {{ {OURS} }} ORDER BY ?s ?p STR(?o) LANG(?o) STR(DATATYPE(?o))"
        assert store.query_to(sparql, fmt) == reference.query_to(sparql, fmt)
        return
    sparql = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {OURS} }}"
    ox_format = {"nt": ox.RdfFormat.N_TRIPLES, "ttl": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD,
                 "rdfxml": ox.RdfFormat.RDF_XML}[fmt]
    got, expected = (set(ox.parse(s.query_to(sparql, fmt), format=ox_format)) for s in (store, reference))
    assert got == expected and len(expected) > 900


OURS = f'GRAPH ?g {{ ?s ?p ?o FILTER(!isBlank(?s) && !isBlank(?o) && STRSTARTS(STR(?g), "{BASE}graph/")) }}'
BLANK_QUADS = [ox.Quad(ox.NamedNode(f"{BASE}programme/storage-mjp"), ox.NamedNode("urn:ex:part"), ox.BlankNode("b1"),
                       ox.NamedNode(f"{BASE}graph/programmes")),
               ox.Quad(ox.BlankNode("b1"), ox.NamedNode("urn:ex:label"), ox.Literal("part", language="en"),
                       ox.NamedNode(f"{BASE}graph/programmes"))]


def test_blank_nodes_are_written_and_read_back(store: Store, tiny_quads: list[ox.Quad]) -> None:
    store.replace_all([*tiny_quads, *BLANK_QUADS])
    assert store.count() == len(tiny_quads) + 2
    rows = store.select(f"SELECT ?label WHERE {{ <{BASE}programme/storage-mjp> <urn:ex:part> ?b . ?b <urn:ex:label> ?label }}")
    assert [r["label"] for r in rows] == ["part"]
    blank = [q for q in store.quads() if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)]
    assert len(blank) == 2 and (blank[0].object == blank[1].subject or blank[0].subject == blank[1].object)


def test_views_answer_from_their_audiences_graphs(store: Store, tiny_quads: list[ox.Quad]) -> None:
    reference = MemoryStore()
    reference.replace_all(tiny_quads)
    store.replace_all(tiny_quads)
    for audience in ("public", "internal"):
        view, expected = store.view(audience), reference.view(audience)
        assert set(view.quads()) == set(expected.quads()), audience
        assert view.select(MJP_LABELS) == expected.select(MJP_LABELS)
        assert view.query_to("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "csv") == \
            expected.query_to("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "csv")


def test_replace_all_replaces_everything(store: Store, tiny_quads: list[ox.Quad]) -> None:
    store.replace_all(tiny_quads)
    keep = [q for q in tiny_quads if "programme/storage-mjp" not in str(q.subject)]
    store.replace_all(keep)
    assert store.count() == len(keep)
    assert [r["label"] for r in store.select(MJP_LABELS)] == ["Sample sensing programme"]


def test_malformed_query_is_a_query_error(store: Store) -> None:
    with pytest.raises(QueryError):
        store.select("SELEKT ?x WHERE { ?x ?y ?z }")


def test_embedded_store_persists_across_reopening(tmp_path: Path, tiny_quads: list[ox.Quad]) -> None:
    path = tmp_path / "store"
    first = OxigraphStore(path, create=True)
    first.replace_all(tiny_quads)
    del first
    again = OxigraphStore(path)
    assert again.count() == len(tiny_quads)


def test_embedded_store_keeps_the_newest_versions_and_says_which_it_pruned(tmp_path: Path,
                                                                           tiny_quads: list[ox.Quad]) -> None:
    path = tmp_path / "store"
    store = OxigraphStore(path, create=True, keep_versions=3)
    versions = [path.resolve().name]
    pruned = []
    for _ in range(4):
        store.replace_all(tiny_quads, kind="build")
        versions.append(path.resolve().name)
        pruned += store.pruned
    assert path.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("store-")) == sorted(versions[-3:])
    assert sorted(pruned) == sorted(versions[:-3])
    assert [v.name for v in store.history()] == versions[-3:]


def test_update_is_applied_to_a_new_version_and_seen_by_other_readers(tmp_path: Path, tiny_quads: list[ox.Quad]) -> None:
    writer = OxigraphStore(tmp_path / "store", create=True)
    writer.replace_all(tiny_quads)
    reader = OxigraphStore(tmp_path / "store")
    assert reader.count() == len(tiny_quads)
    writer.update("INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }")
    assert reader.count() == len(tiny_quads) + 1
    with pytest.raises(QueryError):
        writer.update("INSERT DATA { broken")
    assert reader.count() == len(tiny_quads) + 1


def test_failed_write_keeps_the_old_version(tmp_path: Path, tiny_quads: list[ox.Quad]) -> None:
    path = tmp_path / "store"
    store = OxigraphStore(path, create=True)
    store.replace_all(tiny_quads)
    versions = sorted(p.name for p in tmp_path.glob("store-*"))

    def broken() -> Iterator[ox.Quad]:
        yield tiny_quads[0]
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        store.replace_all(broken())
    assert store.count() == len(tiny_quads)
    assert sorted(p.name for p in tmp_path.glob("store-*")) == versions


def test_opening_a_missing_store_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="python -m kg build"):
        OxigraphStore(tmp_path / "absent")


def test_remote_store_without_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="MK_REMOTE_QUERY_URL"):
        open_store("remote", tmp_path / "store")
    with pytest.raises(StoreError, match="MK_REMOTE_QUERY_URL"):
        open_store("remote", tmp_path / "store", remote=RemoteEndpoint("", "", f"{BASE}graph/"))


def test_open_store_opens_the_kind_it_is_given(tmp_path: Path) -> None:
    assert isinstance(open_store("memory", tmp_path / "store"), MemoryStore)
    assert isinstance(open_store("oxigraph", tmp_path / "store", create=True), OxigraphStore)
    remote = open_store("remote", tmp_path / "store", remote=RemoteEndpoint("http://127.0.0.1:9/query", "", f"{BASE}graph/",
                                                                           token="t", timeout_s=3))
    assert isinstance(remote, RemoteStore) and (remote.query_url, remote.timeout_s) == ("http://127.0.0.1:9/query", 3)
    with pytest.raises(StoreError, match="unknown store 'postgres'"):
        open_store("postgres", tmp_path / "store")


def test_unreachable_remote_store_gives_a_clear_error() -> None:
    from tests.conftest import free_port

    remote = RemoteStore(f"http://127.0.0.1:{free_port()}/query", "", f"{BASE}graph/", timeout_s=2)
    with pytest.raises(StoreError, match="cannot reach"):
        remote.count()


@pytest.mark.parametrize("server", ["oxigraph_server", "virtuoso_server"])
def test_remote_build_leaves_other_graphs_alone(server: str, settings: Settings, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(server)
    remote = (RemoteStore(f"{url}/query", f"{url}/update", f"{BASE}graph/") if server == "oxigraph_server" else
              RemoteStore(f"{url}/sparql", f"{url}/sparql", f"{BASE}graph/"))
    remote._post(remote.update_url, {"update": "INSERT DATA { GRAPH <http://other.example/g> { <urn:a> <urn:b> <urn:c> } }"})
    build(settings.data_dirs, settings.base_uri, remote)
    assert remote.ask("ASK { GRAPH <http://other.example/g> { <urn:a> <urn:b> <urn:c> } }")
    assert [r["label"] for r in remote.select(MJP_LABELS)] == ["Sample sensing programme", "Storage programme"]
