"""Linked data: entity URIs dereference (HTML and RDF by content negotiation), dumps, and VoID."""

from __future__ import annotations

import gzip
import http.client
import re
from urllib.parse import urlsplit

import pytest
import requests
from flask.testing import FlaskClient
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, SKOS, VOID

from kg.access import PUBLIC
from kg.store import GraphView, Store
from tests.conftest import BASE, TINY
from web.description import DUMPS

MK = Namespace("https://w3id.org/missiekompas/ontology#")
RDFLIB = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/n-triples": "nt",
          "application/rdf+xml": "xml"}
# One entity of every kind, with the label an English page shows as its title and one of its label triples.
ENTITIES = {
    "programme/storage-mjp": ("Storage programme", Literal("Storage programme", lang="en")),
    "cluster/alpha-tech": ("Alpha technology", Literal("Alpha technology", lang="en")),
    "mission/clean-power": ("Clean power", Literal("Clean power", lang="en")),
    "organisation/real-institute": ("Real Institute", Literal("Real Institute", lang="en")),
    "question/q-storage": ("How can electricity be stored cheaply?",
                           Literal("How can electricity be stored cheaply?", lang="en")),
}
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
pytestmark = pytest.mark.filterwarnings("ignore:.*(ConjunctiveGraph|default_context).*:DeprecationWarning")


def html_of(client: FlaskClient, path: str) -> str:
    response = client.get(path, headers={"Accept": HTML})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


# --- HTML pages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("rest", list(ENTITIES))
def test_every_kind_of_entity_has_a_page_with_its_title(client: FlaskClient, rest: str) -> None:
    title, _ = ENTITIES[rest]
    page = html_of(client, f"/id/{rest}")
    assert f"<title>{title} · Missiekompas</title>" in page
    assert re.search(rf"<h1>{re.escape(title)}\s", page)
    assert f'<p class="iri">{BASE}{rest}</p>' in page


def test_sample_programme_carries_the_sample_mark(client: FlaskClient) -> None:
    page = html_of(client, "/id/programme/sample-sensing")
    assert re.search(r'<h1>Sample sensing programme\s*<span class="sample"[^>]*>sample</span></h1>', page)


def test_real_programme_has_no_sample_mark(client: FlaskClient) -> None:
    page = html_of(client, "/id/programme/storage-mjp")
    assert 'class="sample"' not in page


def contact_of(page: str) -> str:
    return page.split('id="contact-heading"', 1)[1].split("</section>", 1)[0]


def test_programme_page_links_to_its_lead(client: FlaskClient) -> None:
    contact = contact_of(html_of(client, "/id/programme/storage-mjp"))
    assert re.search(r'<dt>Lead</dt>\s*<dd><ul class="refs"><li><a href="/id/organisation/real-institute">Real Institute</a>',
                     contact)


def test_programme_page_links_to_its_partners(client: FlaskClient) -> None:
    contact = contact_of(html_of(client, "/id/programme/sample-sensing"))
    assert re.search(r'<dt>Lead</dt>\s*<dd><ul class="refs"><li><a href="/id/organisation/sample-lab">', contact)
    partners = contact.split("<dt>Partners</dt>", 1)[1].split("</dd>", 1)[0]
    assert 'href="/id/organisation/sample-firm"' in partners


def test_organisation_page_lists_the_programmes_it_leads(client: FlaskClient) -> None:
    page = html_of(client, "/id/organisation/real-institute")
    roles = page.split('id="roles-heading"', 1)[1].split("</section>", 1)[0]
    lead = roles.split("<h3>Lead of</h3>", 1)
    assert len(lead) == 2, "no 'Lead of' group"
    assert '<a href="/id/programme/storage-mjp">Storage programme</a>' in lead[1].split("</ul>", 1)[0]
    assert "/id/programme/sample-sensing" not in page  # led by another organisation


def test_cluster_page_lists_the_programmes_in_it(client: FlaskClient) -> None:
    page = html_of(client, "/id/cluster/beta-tech")
    assert 'href="/id/programme/storage-mjp"' in page
    assert 'href="/id/programme/sample-sensing"' in page
    assert 'href="/id/programme/broad-one"' not in page  # only in alpha-tech


def test_page_offers_the_rdf_formats(client: FlaskClient) -> None:
    page = html_of(client, "/id/mission/clean-power")
    for fmt in ("ttl", "jsonld", "nt", "rdfxml"):
        assert f'href="?format={fmt}"' in page


# --- RDF by content negotiation -----------------------------------------------------------------

@pytest.mark.parametrize("media_type", list(RDFLIB))
@pytest.mark.parametrize("rest", list(ENTITIES))
def test_every_kind_of_entity_in_every_rdf_format(client: FlaskClient, rest: str, media_type: str) -> None:
    response = client.get(f"/id/{rest}", headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == media_type
    graph = Graph().parse(data=response.get_data(), format=RDFLIB[media_type])
    assert (URIRef(BASE + rest), SKOS.prefLabel, ENTITIES[rest][1]) in graph


def test_rdf_answer_varies_on_accept(client: FlaskClient) -> None:
    response = client.get("/id/programme/storage-mjp", headers={"Accept": "text/turtle"})
    assert "accept" in response.headers.get("Vary", "").lower()


def test_html_answer_varies_on_accept(client: FlaskClient) -> None:
    """The same URL answers HTML or RDF depending on Accept, so a cache must key on Accept for both."""
    response = client.get("/id/programme/storage-mjp", headers={"Accept": HTML})
    assert response.mimetype == "text/html"
    assert "accept" in response.headers.get("Vary", "").lower()


def test_refused_turtle_is_not_sent_even_with_a_wildcard(client: FlaskClient) -> None:
    """`Accept: */*, text/turtle;q=0`: any type but Turtle (RFC 9110, 12.5.1)."""
    response = client.get("/id/programme/storage-mjp", headers={"Accept": "*/*, text/turtle;q=0"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] != "text/turtle"


def test_refused_html_is_not_sent_even_with_a_wildcard(client: FlaskClient) -> None:
    """`Accept: text/html;q=0, */*`: the client refuses HTML, so it gets RDF."""
    response = client.get("/id/programme/storage-mjp", headers={"Accept": "text/html;q=0, */*"})
    assert response.status_code == 200
    assert response.mimetype != "text/html"


def test_programme_description_includes_its_membership_nodes(client: FlaskClient) -> None:
    response = client.get("/id/programme/storage-mjp", headers={"Accept": "application/n-triples"})
    graph = Graph().parse(data=response.get_data(), format="nt")
    ORG = Namespace("http://www.w3.org/ns/org#")
    memberships = set(graph.subjects(ORG.organization, URIRef(BASE + "programme/storage-mjp")))
    assert len(memberships) == 1
    membership = memberships.pop()
    assert (membership, ORG.member, URIRef(BASE + "organisation/real-institute")) in graph
    assert (membership, ORG.role, MK.LeadRole) in graph


def test_no_accept_gives_turtle(client: FlaskClient) -> None:
    response = client.get("/id/cluster/beta-tech")
    assert response.headers["Content-Type"] == "text/turtle"
    Graph().parse(data=response.get_data(), format="turtle")


@pytest.mark.parametrize(("fmt", "media_type"), [("ttl", "text/turtle"), ("jsonld", "application/ld+json"),
                                                 ("nt", "application/n-triples"), ("rdfxml", "application/rdf+xml")])
def test_format_parameter_wins_over_a_browser_accept(client: FlaskClient, fmt: str, media_type: str) -> None:
    response = client.get(f"/id/programme/storage-mjp?format={fmt}", headers={"Accept": HTML})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == media_type
    graph = Graph().parse(data=response.get_data(), format=RDFLIB[media_type])
    assert (URIRef(BASE + "programme/storage-mjp"), SKOS.prefLabel, Literal("Storage programme", lang="en")) in graph


def test_unknown_format_parameter_is_406(client: FlaskClient) -> None:
    response = client.get("/id/programme/storage-mjp?format=xyz")
    assert response.status_code == 406
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json"])
def test_unknown_entity_is_404_problem(client: FlaskClient, accept: str) -> None:
    response = client.get("/id/programme/no-such-thing", headers={"Accept": accept})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    problem = response.get_json(force=True)
    assert problem["status"] == 404
    assert f"{BASE}programme/no-such-thing" in problem["detail"]


def test_unknown_entity_is_an_html_404_for_a_browser(client: FlaskClient) -> None:
    response = client.get("/id/programme/no-such-thing", headers={"Accept": HTML})
    assert response.status_code == 404 and response.mimetype == "text/html"  # web/error_pages.py
    assert f"{BASE}programme/no-such-thing" in response.get_data(as_text=True)


def test_image_png_is_406_listing_the_rdf_types(client: FlaskClient) -> None:
    response = client.get("/id/programme/storage-mjp", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.mimetype == "application/problem+json"
    detail = response.get_json(force=True)["detail"]
    for media_type in RDFLIB:
        assert media_type in detail


def test_an_iri_that_would_break_the_query_is_refused_not_run(client: FlaskClient) -> None:
    response = client.get("/id/programme/x%3E%20%3Fp%20%3Fo", headers={"Accept": "text/turtle"})
    assert response.status_code in (400, 404)
    assert response.mimetype == "application/problem+json"


# --- dumps --------------------------------------------------------------------------------------

def fetch_dump(client: FlaskClient, name: str) -> bytes:
    response = client.get(f"/dumps/{name}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/gzip"
    assert f'filename="{name}"' in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body[:2] == b"\x1f\x8b", "not gzip"
    return gzip.decompress(body)


def store_graphs(store: GraphView) -> set[str]:
    return {str(r["g"]) for r in store.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}


def distinct_triples(store: GraphView) -> int:
    rows = store.select("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }")
    return int(rows[0]["n"])


def test_trig_dump_has_the_stores_named_graphs_and_quads(client: FlaskClient, tiny_store: Store) -> None:
    dataset = Dataset()
    dataset.parse(data=fetch_dump(client, "missiekompas.trig.gz"), format="trig")
    graphs = {str(g.identifier) for g in dataset.graphs() if len(g) > 0}
    public = tiny_store.view(PUBLIC)  # a dump without a token holds the public view
    assert graphs == store_graphs(public)
    assert sum(1 for _ in dataset.quads((None, None, None, None))) == public.count()


def test_nquads_dump_has_every_quad(client: FlaskClient, tiny_store: Store) -> None:
    dataset = Dataset()
    dataset.parse(data=fetch_dump(client, "missiekompas.nq.gz"), format="nquads")
    public = tiny_store.view(PUBLIC)
    assert sum(1 for _ in dataset.quads((None, None, None, None))) == public.count()
    assert {str(g.identifier) for g in dataset.graphs() if len(g) > 0} == store_graphs(public)


@pytest.mark.parametrize(("name", "fmt"), [("missiekompas.nt.gz", "nt"), ("missiekompas.ttl.gz", "turtle")])
def test_triple_dumps_hold_the_union(client: FlaskClient, tiny_store: Store, name: str, fmt: str) -> None:
    graph = Graph().parse(data=fetch_dump(client, name), format=fmt)
    assert len(graph) == distinct_triples(tiny_store.view(PUBLIC))
    assert (URIRef(BASE + "programme/storage-mjp"), SKOS.prefLabel, Literal("Storage programme", lang="en")) in graph


@pytest.mark.parametrize("name", ["missiekompas.zip", "missiekompas.trig", "settings.py", "missiekompas.jsonld.gz"])
def test_unknown_dump_is_404(client: FlaskClient, name: str) -> None:
    response = client.get(f"/dumps/{name}")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


TRAVERSALS = ["/dumps/..%2F..%2Fetc%2Fpasswd", "/dumps/../config.py", "/static/../config.py",
              "/static/%2e%2e/config.py", "/static/..%2Fconfig.py", "/static/%2e%2e%2fconfig.py",
              "/static/yasgui/../../../config.py", "/dumps/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
              "/static/..%5cconfig.py"]
LEAKS = (b"root:", b"load_settings", b"MK_WRITE_TOKEN", b"import ")


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_never_returns_a_file_in_process(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert not any(leak in response.get_data() for leak in LEAKS)


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_never_returns_a_file_from_the_real_server(server: str, path: str) -> None:
    """Sent byte for byte (requests would normalise the dots away), to the real gunicorn server."""
    where = urlsplit(server)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status in (400, 404)
    assert not any(leak in body for leak in LEAKS)


def test_real_server_serves_a_trig_dump_matching_the_default_data(server: str, default_store: Store) -> None:
    response = requests.get(f"{server}/dumps/missiekompas.trig.gz", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/gzip"
    dataset = Dataset()
    dataset.parse(data=gzip.decompress(response.content), format="trig")
    public = default_store.view(PUBLIC)
    assert sum(1 for _ in dataset.quads((None, None, None, None))) == public.count()
    assert {str(g.identifier) for g in dataset.graphs() if len(g) > 0} == store_graphs(public)


# --- VoID ---------------------------------------------------------------------------------------

DATASET = URIRef(BASE + "dataset")


def void_graph(client: FlaskClient, path: str = "/void", accept: str = "text/turtle") -> Graph:
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == accept
    return Graph().parse(data=response.get_data(), format=RDFLIB[accept])


@pytest.mark.parametrize("path", ["/void", "/.well-known/void"])
def test_void_parses_and_describes_the_dataset(client: FlaskClient, path: str) -> None:
    graph = void_graph(client, path)
    assert (DATASET, None, VOID.Dataset) in graph
    assert (DATASET, VOID.sparqlEndpoint, URIRef("http://localhost/sparql")) in graph
    assert list(graph.objects(DATASET, DCTERMS.license)), "no dcterms:license"


@pytest.mark.parametrize("accept", list(RDFLIB))
def test_void_in_every_rdf_format(client: FlaskClient, accept: str) -> None:
    graph = void_graph(client, accept=accept)
    assert (DATASET, VOID.sparqlEndpoint, URIRef("http://localhost/sparql")) in graph


def test_void_triples_is_the_store_count(client: FlaskClient, tiny_store: Store) -> None:
    graph = void_graph(client)
    assert list(graph.objects(DATASET, VOID.triples)) == [Literal(tiny_store.view(PUBLIC).count(), datatype=XSD_INTEGER)]


def test_void_lists_every_dump(client: FlaskClient) -> None:
    graph = void_graph(client)
    dumps = {str(o) for o in graph.objects(DATASET, VOID.dataDump)}
    assert dumps == {f"http://localhost/dumps/{name}" for name in DUMPS}


def test_void_has_a_subset_per_data_graph_with_its_size(client: FlaskClient, tiny_store: Store) -> None:
    graph = void_graph(client)
    data_graphs = store_graphs(tiny_store.view(PUBLIC)) - {BASE + "graph/meta", BASE + "graph/ontology"}
    assert len(data_graphs) == len(list(TINY.glob("*.yaml")))  # a graph per data file
    assert {str(s) for s in graph.objects(DATASET, VOID.subset)} == data_graphs
    for name in data_graphs:
        size = tiny_store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}")[0]["n"]
        assert list(graph.objects(URIRef(name), VOID.triples)) == [Literal(int(size), datatype=XSD_INTEGER)], name


def test_void_dumps_resolve_on_the_real_server(server: str) -> None:
    response = requests.get(f"{server}/.well-known/void", headers={"Accept": "text/turtle"}, timeout=10)
    assert response.status_code == 200
    graph = Graph().parse(data=response.content, format="turtle")
    endpoint = str(graph.value(DATASET, VOID.sparqlEndpoint))
    assert endpoint == f"{server}/sparql"
    dumps = sorted(str(o) for o in graph.objects(DATASET, VOID.dataDump))
    assert len(dumps) == len(DUMPS)
    for url in dumps:
        got = requests.get(url, timeout=30)
        assert got.status_code == 200, url
        assert got.content[:2] == b"\x1f\x8b", url
