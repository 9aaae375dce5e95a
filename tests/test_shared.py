"""The shared-store mode (kg.shared): versions published blue/green to SPARQL servers that each hold one
audience's view, a pointer read per request, writes that every replica sees without a restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from config import Settings, SettingsError, load_settings
from kg.access import INTERNAL, PUBLIC
from kg.build import build
from kg.cli import configured_store
from kg.errors import StoreError
from kg.remote import RemoteStore
from kg.shared import POINTER, SharedStore
from tests.conftest import BASE, FIXTURES, TINY, WRITE_TOKEN, free_port, start_server, stop_server
from tests.shared_servers import shared_servers, shared_settings

INTERNAL_DATA = FIXTURES / "internal"
DRAFTS_GRAPH = BASE + "graph/drafts"
MJPS = "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a <https://w3id.org/missiekompas/ontology#MJP> }"
NOTE = BASE + "graph/notes"
ADD_NOTE = f'INSERT DATA {{ GRAPH <{NOTE}> {{ <{BASE}note/1> <http://www.w3.org/2000/01/rdf-schema#label> "a note" }} }}'
HAS_NOTE = 'ASK { ?s ?p "a note" }'
AS_ADMIN = {"Authorization": f"Bearer {WRITE_TOKEN}"}
JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def servers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The four SPARQL servers: `oxigraph serve`, or Virtuoso (one URL, /sparql, for queries and updates)."""
    with shared_servers(tmp_path_factory.mktemp("shared-servers"), kind=request.param) as env:
        yield env


@pytest.fixture
def settings(servers: dict[str, str], tmp_path: Path) -> Settings:
    """A fresh shared folder per test, over the module's servers (each publish fills them anew)."""
    return replace(shared_settings(servers), shared_path=tmp_path / "shared", data_dirs=(TINY, INTERNAL_DATA))


@pytest.fixture
def store(settings: Settings) -> SharedStore:
    built = configured_store(settings)
    assert isinstance(built, SharedStore)
    build(settings.data_dirs, settings.base_uri, built)
    return built


def count(store: SharedStore, audience: str = INTERNAL) -> int:
    return int(store.view(audience).select(MJPS)[0]["n"])


def test_each_publish_fills_the_other_slot_and_then_moves_the_pointer(store: SharedStore, settings: Settings) -> None:
    first = store.pointer()
    assert first.slot == 0
    build(settings.data_dirs, settings.base_uri, store)
    second = store.pointer()
    assert second.slot == 1 and second.version != first.version
    assert [v.name for v in store.history()] == [first.version, second.version]
    assert [v.kind for v in store.history()] == ["build", "build"]
    assert json.loads((settings.shared_path / POINTER).read_text())["version"] == second.version
    assert count(store, PUBLIC) == 2 and count(store) == 3  # the tiny data's two MJPs, and the internal draft


def test_the_public_servers_hold_no_internal_graph(store: SharedStore, settings: Settings) -> None:
    public = RemoteStore(f"{settings.shared_public_urls[0]}/query", "", f"{BASE}graph/")
    internal = RemoteStore(f"{settings.shared_internal_urls[0]}/query", "", f"{BASE}graph/")
    graphs = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert DRAFTS_GRAPH in {str(r["g"]) for r in internal.select(graphs)}
    assert DRAFTS_GRAPH not in {str(r["g"]) for r in public.select(graphs)}
    phrase = 'ASK { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } FILTER(CONTAINS(STR(?o), "uokka lighthouse")) }'
    assert not public.ask(phrase)  # anywhere on the public server, whatever the dataset
    assert internal.ask(phrase)


def test_a_pinned_request_keeps_its_version_while_another_process_publishes(store: SharedStore,
                                                                            settings: Settings) -> None:
    writer = configured_store(settings)  # another process's store: its own pointer cache
    with store.pinned() as pinned:
        writer.update(ADD_NOTE, who="test")
        assert not store.view(INTERNAL).ask(HAS_NOTE)  # still the version the request began on
        assert store.version_name() == pinned.version
    assert store.view(INTERNAL).ask(HAS_NOTE)  # the next request: the new version, no restart
    assert store.version_name() != pinned.version
    assert not store.view(PUBLIC).ask(HAS_NOTE)  # a new graph is internal until declared public


def test_a_write_is_journaled_and_the_next_build_replays_it(store: SharedStore, settings: Settings) -> None:
    store.update(ADD_NOTE, who="admin")
    report = build(settings.data_dirs, settings.base_uri, store)
    assert [w.seq for w in report.replayed] == [1]
    assert store.view(INTERNAL).ask(HAS_NOTE)
    assert store.history()[-1].writes == (1,)


def test_a_failed_publish_leaves_the_live_version_and_no_record(store: SharedStore, settings: Settings) -> None:
    live = store.pointer()
    dead = f"http://127.0.0.1:{free_port()}"  # slot 1 of the internal view does not answer
    broken = SharedStore(settings.shared_path, settings.shared_public_urls,
                         (settings.shared_internal_urls[0], dead), graph_prefix=f"{BASE}graph/", timeout_s=3)
    with pytest.raises(StoreError, match="cannot reach"):
        broken.update(ADD_NOTE)
    assert store.pointer() == live
    assert [v.name for v in store.history()] == [live.version]
    assert not store.view(INTERNAL).ask(HAS_NOTE)


def test_a_public_replica_has_no_internal_server(store: SharedStore, settings: Settings) -> None:
    public_only = SharedStore(settings.shared_path, settings.shared_public_urls, (), graph_prefix=f"{BASE}graph/")
    assert count(public_only, PUBLIC) == 2
    with pytest.raises(StoreError, match="public view only"):
        public_only.view(INTERNAL)
    with pytest.raises(StoreError, match="MK_SHARED_INTERNAL_URLS"):
        public_only.update(ADD_NOTE)


def test_nothing_published_yet_is_said_plainly(settings: Settings) -> None:
    with pytest.raises(StoreError, match="python -m kg build"):
        configured_store(settings).view(PUBLIC)


@pytest.mark.parametrize("value", ["http://127.0.0.1:1", "http://a http://b http://c", "ftp://a ftp://b"])
def test_a_slot_setting_needs_two_server_urls(value: str) -> None:
    with pytest.raises(SettingsError, match="MK_SHARED_PUBLIC_URLS"):
        load_settings({"MK_SHARED_PUBLIC_URLS": value})


# --- replicas: real servers over one shared store ---------------------------------------------

@pytest.fixture(scope="module")
def replicas(servers: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Settings]]:
    """Two real servers (gunicorn, as `make run`) on one shared store, before anything is published;
    with the settings of a publisher of that store."""
    folder = tmp_path_factory.mktemp("replicas")
    env = {**servers, "MK_SHARED_PATH": str(folder / "shared"), "MK_DATA_DIRS": f"{TINY}:{INTERNAL_DATA}"}
    procs = []
    try:
        urls = []
        for name in ("a", "b"):
            proc, url = start_server(folder / "unused-store", folder / f"replica-{name}.log", **env)
            procs.append(proc)
            urls.append(url)
        yield urls[0], urls[1], load_settings(env)
    finally:
        for proc in procs:
            stop_server(proc)


def test_replicas_share_versions_and_writes(replicas: tuple[str, str, Settings]) -> None:
    a, b, settings = replicas
    unpublished = requests.get(f"{a}/sparql", params={"query": MJPS}, headers=JSON, timeout=60)
    assert unpublished.status_code == 503 and "python -m kg build" in unpublished.text
    build(settings.data_dirs, settings.base_uri, configured_store(settings))
    answers = [requests.get(f"{url}/sparql", params={"query": MJPS}, headers=JSON, timeout=60) for url in (a, b)]
    assert [r.json()["results"]["bindings"][0]["n"]["value"] for r in answers] == ["2", "2"]
    first = {r.headers["X-Missiekompas-Version"] for r in answers}
    assert len(first) == 1

    written = requests.post(f"{a}/sparql", data={"update": ADD_NOTE}, headers=AS_ADMIN, timeout=60)
    assert written.status_code == 204, written.text
    seen = requests.get(f"{b}/sparql", params={"query": HAS_NOTE}, headers={**JSON, **AS_ADMIN}, timeout=60)
    assert seen.json()["boolean"] is True  # on the other replica, without a restart
    assert seen.headers["X-Missiekompas-Version"] not in first
    public = requests.get(f"{b}/sparql", params={"query": HAS_NOTE}, headers=JSON, timeout=60)
    assert public.json()["boolean"] is False


def test_search_opens_the_index_of_the_live_version(store: SharedStore, settings: Settings, model_path: Path,
                                                     tmp_path: Path) -> None:
    """A replica's matcher follows the published version (no restart); the index folder is shared and
    checked against the version's texts, so an unchanged text is not embedded again."""
    from web.services import Services

    services = Services(replace(settings, model=str(model_path), index_path=tmp_path / "index"))
    first = services.matcher(PUBLIC)
    assert services.matcher(PUBLIC) is first  # the same version: the same matcher
    mjp = f"{BASE}programme/storage-mjp"
    store.update(f'INSERT {{ GRAPH ?g {{ <{mjp}> <http://purl.org/dc/terms/description> "zeppelin ballast"@en }} }} '
                 f"WHERE {{ GRAPH ?g {{ <{mjp}> a <https://w3id.org/missiekompas/ontology#MJP> }} }}")
    second = services.matcher(PUBLIC)
    assert second is not first
    assert "zeppelin ballast" in " ".join(d.text for d in second.index.documents)
    assert "zeppelin ballast" not in " ".join(d.text for d in first.index.documents)
    other = Services(replace(settings, model=str(model_path), index_path=tmp_path / "index"))  # another replica
    assert other.matcher(PUBLIC).index.manifest == second.index.manifest  # read from the shared folder, not rebuilt


def test_kg_build_publishes_and_history_lists_the_versions(servers: dict[str, str], tmp_path: Path) -> None:
    env = {**os.environ, **servers, "MK_SHARED_PATH": str(tmp_path / "shared"), "MK_DATA_DIRS": str(TINY)}
    run = [sys.executable, "-m", "kg"]
    for _ in range(2):
        built = subprocess.run([*run, "build"], env=env, capture_output=True, text=True, timeout=300)
        assert built.returncode == 0, built.stderr
        assert "into the shared store" in built.stdout
    updated = subprocess.run([*run, "update", "--sparql", ADD_NOTE], env=env, capture_output=True, text=True, timeout=300)
    assert updated.returncode == 0 and "updated" in updated.stdout, updated.stderr
    writes = subprocess.run([*run, "writes"], env=env, capture_output=True, text=True, timeout=300)
    assert writes.returncode == 0 and "#1" in writes.stdout, writes.stdout + writes.stderr
    history = subprocess.run([*run, "history"], env=env, capture_output=True, text=True, timeout=300)
    assert history.returncode == 0, history.stderr
    live = json.loads((tmp_path / "shared" / POINTER).read_text())["version"]
    assert live in history.stdout and history.stdout.count("build") >= 2 and "write" in history.stdout
    refused = subprocess.run([*run, "rollback", live], env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and "embedded store" in refused.stderr and "Traceback" not in refused.stderr


def test_answers_are_serialised_and_cut_as_on_the_embedded_store(store: SharedStore, settings: Settings) -> None:
    from web.app import create_app

    client = create_app(replace(settings, max_rows=3), store=store, matchers={}).test_client()
    rows = client.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o }"}, headers=JSON)
    assert rows.status_code == 200 and len(rows.get_json()["results"]["bindings"]) == 3
    assert rows.headers["X-Result-Truncated"] and rows.headers["X-Missiekompas-Version"] == store.version_name()
    triples = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                         headers={"Accept": "application/n-triples"})
    assert triples.status_code == 200 and len(triples.get_data(as_text=True).strip().splitlines()) == 3
    csv = client.get("/sparql", query_string={"query": MJPS}, headers={"Accept": "text/csv"})
    assert csv.get_data(as_text=True).replace("\r\n", "\n") == "n\n2\n"
    ask = client.get("/sparql", query_string={"query": HAS_NOTE}, headers={"Accept": "application/sparql-results+xml"})
    assert ask.status_code == 200 and b"<boolean>false</boolean>" in ask.get_data()


def test_an_index_is_built_once_when_replicas_find_it_missing_together(model_path: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import search.index
    from kg.store import MemoryStore
    from search.embedder import shared_embedder

    store = MemoryStore()
    build((TINY,), BASE, store)
    builds = []
    real_build = search.index.build_index

    def counted(*args: object, **kwargs: object) -> object:
        builds.append(1)
        return real_build(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(search.index, "build_index", counted)
    embedder = shared_embedder(str(model_path))
    folder = tmp_path / "index" / PUBLIC
    with ThreadPoolExecutor(3) as pool:  # three openers, each with its own lock handle, as three processes
        done = list(pool.map(lambda _: search.index.ensure_index(store.view(PUBLIC), embedder, folder,
                                                                 hnsw_threshold=1000), range(3)))
    assert len(builds) == 1
    assert sorted(rebuilt for _, rebuilt in done) == [False, False, True]
    assert len({index.manifest["built_at"] for index, _ in done}) == 1


def test_graph_store_writes_go_to_the_shared_store(store: SharedStore, settings: Settings) -> None:
    from web.app import create_app

    client = create_app(replace(settings, admin_tokens=(WRITE_TOKEN,)), store=store, matchers={}).test_client()
    turtle = f'<{BASE}note/2> <http://www.w3.org/2000/01/rdf-schema#label> "another note" .'
    before = store.version_name()
    put = client.put("/rdf-graph-store", query_string={"graph": NOTE}, data=turtle,
                     headers={**AS_ADMIN, "Content-Type": "text/turtle"})
    assert put.status_code in (201, 204), put.get_data(as_text=True)
    assert store.version_name() != before
    got = client.get("/rdf-graph-store", query_string={"graph": NOTE}, headers={**AS_ADMIN, "Accept": "text/turtle"})
    assert got.status_code == 200 and "another note" in got.get_data(as_text=True)
    assert client.get("/rdf-graph-store", query_string={"graph": NOTE}).status_code == 404  # internal until public


def test_a_write_with_blank_nodes_is_published_whole(store: SharedStore) -> None:
    store.update(f'INSERT DATA {{ GRAPH <{NOTE}> {{ _:a <{BASE}says> "first" . _:a <{BASE}says> "second" . '
                 f'<{BASE}note/3> <{BASE}about> _:a }} }}')
    rows = store.view(INTERNAL).select(f'SELECT ?said WHERE {{ <{BASE}note/3> <{BASE}about> ?b . ?b <{BASE}says> ?said }} '
                                       "ORDER BY ?said")
    assert [r["said"] for r in rows] == ["first", "second"]  # one blank node, in the default graph too
    named = store.view(INTERNAL).select(f'SELECT ?said WHERE {{ GRAPH <{NOTE}> {{ <{BASE}note/3> <{BASE}about> ?b . '
                                        f'?b <{BASE}says> ?said }} }}')
    assert len(named) == 2
