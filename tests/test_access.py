"""Access levels: internal data (a person's contact data, a draft MJP with a unique phrase) never
reaches a request without a token, whatever entry point or query it uses; with a Kernteam token
the same data is visible."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from config import Settings
from kg.access import INTERNAL, PUBLIC
from kg.build import build
from kg.cli import configured_store
from kg.figures import compute_figures
from kg.store import MemoryStore, OxigraphStore, Store
from tests.conftest import BASE, FIXTURES, TINY, matcher_over, start_server, stop_server
from tests.shared_servers import shared_env, shared_servers, shared_settings

INTERNAL_DATA = FIXTURES / "internal"
KERNTEAM, ADMIN = "kernteam-token-for-tests", "admin-token-for-tests"
AS_KERNTEAM = {"Authorization": f"Bearer {KERNTEAM}"}
# Every one of these identifies internal data; none may appear in a public answer.
SECRETS = ("zelda.geheim@example.org", "Zelda Geheimhouder", "99999999", "uokka lighthouse", "secret-mjp",
           "secret-person", "7777777", "graph/contacts", "graph/drafts", "meta-internal")
PERSON = BASE + "person/secret-person"
DRAFT = BASE + "programme/secret-mjp"
CONTACTS_GRAPH, DRAFTS_GRAPH = BASE + "graph/contacts", BASE + "graph/drafts"

CRAFTED = {
    "everything": "SELECT * WHERE { ?s ?p ?o }",
    "every named graph": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
    "from named": f"SELECT * FROM NAMED <{CONTACTS_GRAPH}> FROM NAMED <{DRAFTS_GRAPH}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "from": f"SELECT * FROM <{CONTACTS_GRAPH}> FROM <{DRAFTS_GRAPH}> WHERE {{ ?s ?p ?o }}",
    "describe star": "DESCRIBE * WHERE { ?s ?p ?o }",
    "describe person": f"DESCRIBE <{PERSON}> <{DRAFT}>",
    "construct graphs": "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
    "property path": f"SELECT ?o WHERE {{ <{BASE}organisation/sample-lab> (<urn:x:p>|!<urn:x:p>)* ?o }}",
    "inverse path": "SELECT * WHERE { ?o ^<https://schema.org/email> ?s }",
    "text search": 'SELECT ?s ?o WHERE { ?s ?p ?o FILTER(CONTAINS(LCASE(STR(?o)), "quokka")) }',
    "graph names": "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }",
    "metadata": "SELECT * WHERE { ?g <https://w3id.org/missiekompas/ontology#visibility> ?v }",
    "count": "SELECT (COUNT(*) AS ?n) WHERE { ?s <https://schema.org/email> ?e }",
}
DATASET_PARAMS = {
    "default-graph-uri": [("default-graph-uri", CONTACTS_GRAPH), ("default-graph-uri", DRAFTS_GRAPH)],
    "named-graph-uri": [("named-graph-uri", CONTACTS_GRAPH), ("named-graph-uri", DRAFTS_GRAPH)],
}


def assert_no_secret(body: bytes | str, where: str) -> None:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked through {where}"


@pytest.fixture(scope="module", params=["memory", "shared", "shared-virtuoso"])
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Every test runs on the in-memory store and on the shared-store mode (kg.shared: SPARQL servers
    that each hold one audience's view, as replicas behind a proxy use them), over `oxigraph serve`
    and over Virtuoso."""
    plain = Settings(data_dirs=(TINY, INTERNAL_DATA), store="memory", internal_tokens=(KERNTEAM,), admin_tokens=(ADMIN,))
    if request.param == "memory":
        yield plain
        return
    folder = tmp_path_factory.mktemp("access-shared")
    with shared_servers(folder, kind="virtuoso" if request.param == "shared-virtuoso" else "oxigraph") as env:
        shared = shared_settings(env)
        yield replace(plain, store="shared", shared_path=shared.shared_path, index_path=shared.index_path,
                      shared_public_urls=shared.shared_public_urls, shared_internal_urls=shared.shared_internal_urls,
                      shared_grace_s=0.0)


@pytest.fixture(scope="module")
def store(settings: Settings) -> Store:
    built = MemoryStore() if settings.store == "memory" else configured_store(settings)
    build(settings.data_dirs, settings.base_uri, built)
    return built


@pytest.fixture(scope="module")
def app(settings: Settings, store: Store) -> Flask:
    from web.app import create_app

    return create_app(settings, store=store, matchers={})  # the store the view tests read too


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- the views themselves -------------------------------------------------------------------

def test_public_view_holds_no_internal_quad(store: Store) -> None:
    public = store.view(PUBLIC)
    graphs = {q.graph_name.value for q in public.quads()}
    assert CONTACTS_GRAPH not in graphs and DRAFTS_GRAPH not in graphs
    assert_no_secret("\n".join(str(q) for q in public.quads()), "the public view")
    assert public.count() < store.view(INTERNAL).count()


def test_internal_view_holds_the_secrets(store: Store) -> None:
    internal = store.view(INTERNAL)
    assert internal.ask(f'ASK {{ <{PERSON}> <https://schema.org/email> "zelda.geheim@example.org" }}')
    assert internal.ask(f"ASK {{ GRAPH <{DRAFTS_GRAPH}> {{ <{DRAFT}> ?p ?o }} }}")


def test_person_records_in_a_public_file_are_refused(tmp_path: Path) -> None:
    from kg.build import compile_dataset, read_files
    from kg.errors import InvalidRecord

    leaky = tmp_path / "leaky"
    leaky.mkdir()
    text = (INTERNAL_DATA / "contacts.yaml").read_text(encoding="utf-8").replace("visibility: internal", "visibility: public")
    (leaky / "contacts.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InvalidRecord) as caught:
        compile_dataset(read_files([TINY, leaky]), BASE)
    assert "person-internal" in str(caught.value) and "secret-person" in str(caught.value)


def test_figures_count_internal_mjps_only_for_the_kernteam(store: Store) -> None:
    public, internal = compute_figures(store.view(PUBLIC)), compute_figures(store.view(INTERNAL))
    assert internal.mjps == public.mjps + 1 and internal.sample_mjps == public.sample_mjps + 1  # the draft is a sample
    assert internal.budget_line("total").samples - public.budget_line("total").samples == 7777777
    assert internal.budget_line("total").real == public.budget_line("total").real
    assert internal.real_consortia == public.real_consortia  # the real-records block holds no sample, so no draft


# --- every HTTP entry point, without a token and with one -----------------------------------

@pytest.mark.parametrize("query", CRAFTED.values(), ids=CRAFTED.keys())
def test_crafted_sparql_gets_nothing_internal(client: FlaskClient, query: str) -> None:
    response = client.post("/sparql", data={"query": query},
                           headers={"Accept": "application/sparql-results+json, application/n-quads;q=0.9"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_no_secret(response.get_data(), "SPARQL")


@pytest.mark.parametrize("params", DATASET_PARAMS.values(), ids=DATASET_PARAMS.keys())
def test_protocol_dataset_cannot_name_internal_graphs(client: FlaskClient, params: list[tuple[str, str]]) -> None:
    query = "SELECT * WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
    response = client.get("/sparql", query_string=[("query", query), *params],
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    assert response.get_json()["results"]["bindings"] == []


def test_service_to_self_is_refused(client: FlaskClient) -> None:
    query = "SELECT * WHERE { SERVICE <http://localhost/sparql> { ?s ?p ?o } }"
    response = client.post("/sparql", data={"query": query})
    assert response.status_code == 400
    assert_no_secret(response.get_data(), "SERVICE")


@pytest.mark.parametrize("query", [CRAFTED["every named graph"], CRAFTED["describe person"], CRAFTED["count"]])
def test_the_kernteam_token_sees_the_internal_data(client: FlaskClient, query: str) -> None:
    response = client.post("/sparql", data={"query": query}, headers={**AS_KERNTEAM, "Accept": "application/n-triples, "
                                                                      "application/sparql-results+json"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "zelda.geheim@example.org" in body or '"1"' in body or "secret-person" in body


def test_an_unknown_token_is_refused_not_served_as_public(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 403
    assert "wrong" not in response.get_data(as_text=True)


def test_the_kernteam_token_cannot_write(client: FlaskClient) -> None:
    response = client.post("/sparql", data={"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}, headers=AS_KERNTEAM)
    assert response.status_code == 403


def test_graph_store_reads(client: FlaskClient) -> None:
    for graph in (CONTACTS_GRAPH, DRAFTS_GRAPH):
        assert client.get("/rdf-graph-store", query_string={"graph": graph}).status_code == 404
        assert client.get("/rdf-graph-store", query_string={"graph": graph}, headers=AS_KERNTEAM).status_code == 200
    default = client.get("/rdf-graph-store?default", headers={"Accept": "application/n-triples"})
    assert default.status_code == 200
    assert_no_secret(default.get_data(), "Graph Store ?default")


@pytest.mark.parametrize("name", ["missiekompas.trig.gz", "missiekompas.nq.gz", "missiekompas.ttl.gz", "missiekompas.nt.gz"])
def test_dumps(client: FlaskClient, name: str) -> None:
    public = gzip.decompress(client.get(f"/dumps/{name}").get_data())
    assert_no_secret(public, f"dump {name}")
    internal = gzip.decompress(client.get(f"/dumps/{name}", headers=AS_KERNTEAM).get_data())
    assert b"zelda.geheim@example.org" in internal  # the cache keeps the two apart


@pytest.mark.parametrize("iri", [PERSON, DRAFT])
@pytest.mark.parametrize("accept", ["text/html", "text/turtle", "application/ld+json"])
def test_entity_pages(client: FlaskClient, iri: str, accept: str) -> None:
    path = "/id/" + iri.removeprefix(BASE)
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 404
    # a 404 names the asked IRI, and a browser's 404 page links to the asked address in the other language
    assert_no_secret(response.get_data(as_text=True).replace(iri, "").replace(path, ""), f"entity page {path}")
    assert client.get(path, headers={"Accept": "text/turtle", **AS_KERNTEAM}).status_code == 200


def test_public_pages_about_public_entities_do_not_mention_internal_links(client: FlaskClient) -> None:
    for path in ("/id/organisation/sample-lab", "/id/programme/storage-mjp", "/id/mission/clean-power"):
        for accept in ("text/turtle", "application/ld+json"):
            response = client.get(path, headers={"Accept": accept})
            assert response.status_code == 200
            assert_no_secret(response.get_data(), path)


def test_void_names_no_internal_graph(client: FlaskClient) -> None:
    response = client.get("/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert_no_secret(response.get_data(), "VoID")


# --- the same through the real server: embedded store, query worker processes ---------------

@pytest.fixture(scope="module")
def real_server(settings: Settings, store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real server: on the embedded store, or as a replica of the shared store `store` published to."""
    folder = tmp_path_factory.mktemp("access-server")
    if settings.store == "shared":
        proc, url = start_server(folder / "store", folder / "server.log", MK_INTERNAL_TOKENS=KERNTEAM,
                                 **shared_env(settings))
    else:
        build(settings.data_dirs, settings.base_uri, OxigraphStore(folder / "store", create=True))
        proc, url = start_server(folder / "store", folder / "server.log", MK_INTERNAL_TOKENS=KERNTEAM)
    yield url
    stop_server(proc)


@pytest.mark.parametrize("query", CRAFTED.values(), ids=CRAFTED.keys())
def test_real_server_keeps_internal_data_in(real_server: str, query: str) -> None:
    response = requests.post(f"{real_server}/sparql", data={"query": query},
                             headers={"Accept": "application/sparql-results+json, text/turtle"}, timeout=30)
    assert response.status_code == 200, response.text
    assert_no_secret(response.content, "SPARQL on the real server")


def test_real_server_answers_the_kernteam(real_server: str) -> None:
    response = requests.post(f"{real_server}/sparql", data={"query": CRAFTED["count"]},
                             headers={**AS_KERNTEAM, "Accept": "application/sparql-results+json"}, timeout=30)
    assert response.json()["results"]["bindings"][0]["n"]["value"] == "1"
    dump = gzip.decompress(requests.get(f"{real_server}/dumps/missiekompas.nq.gz", timeout=30).content)
    assert_no_secret(dump, "dump on the real server")


# --- search: the index itself is per audience -------------------------------------------------

@pytest.fixture(scope="module")
def search_views(settings: Settings, store: Store, model_path: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], object]:
    search_settings = replace(settings, model=str(model_path), index_path=tmp_path_factory.mktemp("index"))
    matchers = {audience: matcher_over(search_settings, store, audience=audience) for audience in (PUBLIC, INTERNAL)}
    return matchers.__getitem__


def test_a_search_for_the_unique_phrase_finds_nothing_internal(search_views: Callable[[str], object]) -> None:
    text = "Quokka lighthouse telemetry for offshore wind parks with lidar buoys and storm forecasting for maintenance."
    public = search_views(PUBLIC).match(text, top=20)  # type: ignore[attr-defined]
    assert DRAFT not in {hit.iri for section in (public.programmes, public.questions, public.missions) for hit in section}
    # the result quotes the proposal's own passages back; apart from those, no trace of the draft
    assert_no_secret(json.dumps(public.to_dict(), ensure_ascii=False).replace(text, ""), "a public search result")
    internal = search_views(INTERNAL).match(text, top=20)  # type: ignore[attr-defined]
    assert internal.programmes[0].iri == DRAFT  # the control: the phrase does find the draft


def test_public_index_files_hold_no_internal_text(search_views: Callable[[str], object]) -> None:
    index = search_views(PUBLIC).index  # type: ignore[attr-defined]
    assert DRAFT not in index.entities
    assert_no_secret(json.dumps([d.text for d in index.documents]), "the public search index")



UNIQUE_PHRASE = "Quokka lighthouse telemetry for offshore wind parks"
SCORED = ("PREFIX fn: <https://w3id.org/missiekompas/fn#>\n"
          f"SELECT ?e ?similarity ?words WHERE {{ {{ VALUES ?e {{ <{DRAFT}> }} }} UNION {{ ?e a ?class }} "
          f'BIND(fn:similarity(?e, "{UNIQUE_PHRASE}") AS ?similarity) BIND(fn:textScore(?e, "{UNIQUE_PHRASE}") AS ?words) '
          "FILTER(BOUND(?similarity)) }")


def test_sparql_functions_score_a_public_query_from_public_texts_only(settings: Settings, store: Store,
                                                                      search_views: Callable[[str], object]) -> None:
    """The draft's IRI named outright gets no score without a token (the public index lacks its text),
    and every public score is the public index's: the draft's words, which weigh in the Kernteam's BM25
    statistics, do not move a public score."""
    from search.sparql_functions import FunctionScorer
    from web.app import create_app

    matchers = {audience: search_views(audience) for audience in (PUBLIC, INTERNAL)}
    client = create_app(settings, store=store, matchers=matchers).test_client()  # type: ignore[arg-type]
    if settings.store == "shared":  # the SPARQL servers know no fn: function: refused, with nothing in the answer
        response = client.post("/sparql", data={"query": SCORED}, headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 400 and "not available on a shared store" in response.get_data(as_text=True)
        assert_no_secret(response.get_data(), "a refused fn: query")
        return
    answers = {}
    for audience, headers in ((PUBLIC, {}), (INTERNAL, AS_KERNTEAM)):
        response = client.post("/sparql", data={"query": SCORED},
                               headers={**headers, "Accept": "application/sparql-results+json"})
        assert response.status_code == 200, response.get_data(as_text=True)
        answers[audience] = {b["e"]["value"]: (float(b["similarity"]["value"]), float(b["words"]["value"]))
                             for b in response.get_json()["results"]["bindings"]}
    assert_no_secret(json.dumps(answers[PUBLIC]), "fn: scores of a public SPARQL query")
    assert DRAFT not in answers[PUBLIC] and answers[INTERNAL][DRAFT] == max(answers[INTERNAL].values())
    public = FunctionScorer(matchers[PUBLIC].index, matchers[PUBLIC].embedder)  # type: ignore[attr-defined]
    assert {e: words for e, (_, words) in answers[PUBLIC].items()} == public.text_score(UNIQUE_PHRASE)
    moved = [e for e in answers[PUBLIC] if answers[PUBLIC][e][1] != answers[INTERNAL][e][1]]
    assert moved  # the control: with the draft in its corpus the same words score differently
