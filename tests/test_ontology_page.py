"""The ontology served at its namespace: /ontology as Turtle, JSON-LD, RDF/XML and N-Triples by content
negotiation, and as an HTML page generated from the ontology file with an anchor per term; the footer of
every page links to it. The expected terms are read from ontology/missiekompas.ttl, never listed here."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS

import web.ontology_page
from config import Settings
from ontology import MK, ONTOLOGY_PATH, SHAPES_PATH
from ontology.document import document, load_document
from tests.conftest import BASE, TINY, app_over
from tests.support import HTML, assert_no_injected_markup, parse_html, problem
from web.links import local_href

MK_NS = str(MK._NS)
RDFLIB = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/rdf+xml": "xml",
          "application/n-triples": "nt"}
FORMATS = {"ttl": "text/turtle", "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml",
           "nt": "application/n-triples"}
pytestmark = pytest.mark.filterwarnings("ignore:.*(ConjunctiveGraph|default_context).*:DeprecationWarning")


@pytest.fixture(scope="module")
def ontology_graph() -> Graph:
    return Graph().parse(ONTOLOGY_PATH, format="turtle")


@pytest.fixture(scope="module")
def terms(ontology_graph: Graph) -> set[str]:
    """The local names of every mk: term the file says something about."""
    return {str(s)[len(MK_NS):] for s in ontology_graph.subjects()
            if isinstance(s, URIRef) and str(s).startswith(MK_NS) and str(s) != MK_NS}


@pytest.fixture(scope="module")
def app() -> Flask:  # the tiny dataset in memory, built once for this module
    return app_over(Settings(data_dirs=(TINY,), store="memory"))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def page_of(client: FlaskClient, path: str = "/ontology", **headers: str) -> str:
    response = client.get(path, headers={"Accept": HTML, **headers})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def articles(page: str) -> dict[str, str]:
    """Each term's section of the page, by its anchor."""
    return dict(re.findall(r'<article class="term" id="([^"]+)".*?>(.*?)</article>', page, re.S))


def ids(page: str) -> set[str]:
    return {attrs["id"] or "" for _, attrs in parse_html(page).tags if "id" in attrs}


# --- RDF ------------------------------------------------------------------------------------------

def test_turtle_parses_and_has_every_class_of_the_file(client: FlaskClient, ontology_graph: Graph) -> None:
    response = client.get("/ontology", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    assert "Accept" in response.headers["Vary"]
    served = Graph().parse(data=response.get_data(), format="turtle")
    classes = set(ontology_graph.subjects(RDF.type, OWL.Class))
    assert classes and classes <= set(served.subjects(RDF.type, OWL.Class))
    assert isomorphic(served, ontology_graph)
    text = response.get_data(as_text=True)
    assert f"@prefix mk: <{MK_NS}>" in re.sub(r"\s+", " ", text)
    assert "ns1:" not in text


@pytest.mark.parametrize("media_type", ["application/ld+json", "application/rdf+xml", "application/n-triples"])
def test_every_rdf_syntax_parses_to_the_ontology_file(client: FlaskClient, ontology_graph: Graph,
                                                      media_type: str) -> None:
    response = client.get("/ontology", headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert isomorphic(Graph().parse(data=response.get_data(), format=RDFLIB[media_type]), ontology_graph)


def test_json_ld_and_rdf_xml_keep_the_prefixes(client: FlaskClient) -> None:
    jsonld = client.get("/ontology", headers={"Accept": "application/ld+json"}).get_json(force=True)
    assert jsonld["@context"]["mk"] == MK_NS
    assert {"owl", "rdfs", "skos", "org"} <= set(jsonld["@context"])
    rdfxml = client.get("/ontology", headers={"Accept": "application/rdf+xml"}).get_data(as_text=True)
    assert 'xmlns:owl="http://www.w3.org/2002/07/owl#"' in rdfxml
    assert "ns1:" not in rdfxml


@pytest.mark.parametrize(("fmt", "media_type"), list(FORMATS.items()))
def test_format_parameter_picks_the_syntax_even_for_a_browser(client: FlaskClient, fmt: str, media_type: str) -> None:
    response = client.get(f"/ontology?format={fmt}", headers={"Accept": HTML})
    assert response.status_code == 200
    assert response.mimetype == media_type


@pytest.mark.parametrize("accept", [None, "*/*", "text/html;q=0.1, text/turtle"])
def test_machines_get_turtle_by_default(client: FlaskClient, accept: str | None) -> None:
    response = client.get("/ontology", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"


def test_an_unacceptable_type_is_406_listing_what_there_is(client: FlaskClient) -> None:
    detail = problem(client.get("/ontology", headers={"Accept": "image/png"}), 406)
    for media_type in (*RDFLIB, "text/html"):
        assert media_type in detail
    problem(client.get("/ontology?format=xyz"), 406)


def test_shapes_are_served_as_turtle_and_by_negotiation(client: FlaskClient) -> None:
    shapes = Graph().parse(SHAPES_PATH, format="turtle")
    for accept in ("text/turtle", HTML, None):
        response = client.get("/ontology/shapes", headers={"Accept": accept} if accept else {})
        assert response.status_code == 200
        assert response.mimetype == "text/turtle"
        assert isomorphic(Graph().parse(data=response.get_data(), format="turtle"), shapes)
    response = client.get("/ontology/shapes", headers={"Accept": "application/ld+json"})
    assert isomorphic(Graph().parse(data=response.get_data(), format="json-ld"), shapes)
    problem(client.get("/ontology/shapes", headers={"Accept": "image/png"}), 406)


# --- the HTML page --------------------------------------------------------------------------------

def test_browsers_get_the_page_with_vary(client: FlaskClient) -> None:
    response = client.get("/ontology", headers={"Accept": HTML})
    assert response.mimetype == "text/html"
    assert {"Accept", "Accept-Language"} <= set(response.vary)
    assert client.get("/ontology?format=html", headers={"Accept": "text/turtle"}).mimetype == "text/html"


def test_every_term_of_the_file_has_its_anchor(client: FlaskClient, terms: set[str]) -> None:
    page = page_of(client)
    assert terms, "no mk: terms found in the ontology file"
    assert sorted(terms - ids(page)) == []
    assert sorted(terms - set(articles(page))) == []


def test_every_term_shows_its_iri_and_both_labels_and_comments(client: FlaskClient, ontology_graph: Graph,
                                                               terms: set[str]) -> None:
    found = articles(page_of(client))
    for name in terms:
        article = found[name]
        assert f'<dd class="iri">{MK_NS}{name}</dd>' in article, name
        for predicate in (RDFS.label, RDFS.comment):
            for text in ontology_graph.objects(MK[name], predicate):
                assert isinstance(text, Literal)
                assert f'lang="{text.language}">{escape(str(text))}</dd>' in article, (name, str(text))


def test_the_page_has_title_version_licence_and_contents(client: FlaskClient, ontology_graph: Graph,
                                                         terms: set[str]) -> None:
    page = page_of(client, **{"Accept-Language": "en"})
    ontology = URIRef("https://w3id.org/missiekompas/ontology")
    english = next(str(o) for o in ontology_graph.objects(ontology, RDFS.label) if o.language == "en")
    assert f"<h1>{escape(english)}</h1>" in page
    assert str(ontology_graph.value(ontology, OWL.versionInfo)) in page
    assert "https://creativecommons.org/licenses/by/4.0/" in page
    contents = page.split('id="section-contents"', 1)[1].split("</nav>", 1)[0]
    for name in terms:  # the table of contents names every term
        assert f'href="#{name}"' in contents


def test_every_link_within_the_page_lands_on_an_anchor(client: FlaskClient) -> None:
    page = page_of(client)
    anchors = ids(page)
    targets = {href[1:] for tag, attrs in parse_html(page).tags if tag == "a"
               for href in [attrs.get("href") or ""] if href.startswith("#")}
    assert targets and sorted(targets - anchors) == []


def test_parents_link_to_their_anchor_or_show_a_prefixed_iri(client: FlaskClient, ontology_graph: Graph,
                                                             terms: set[str]) -> None:
    found = articles(page_of(client))
    for predicate in (RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range):
        for subject, parent in ontology_graph.subject_objects(predicate):
            name = str(subject)[len(MK_NS):]
            if name not in terms or not isinstance(parent, URIRef):
                continue
            if str(parent).startswith(MK_NS):
                assert f'href="#{str(parent)[len(MK_NS):]}"' in found[name], (name, parent)
            else:  # the full IRI as the link, a prefixed name as its text
                assert re.search(rf'href="{re.escape(str(parent))}">\w+:\w+</a>', found[name]), (name, parent)


def test_the_page_follows_the_interface_language(client: FlaskClient, ontology_graph: Graph) -> None:
    labels = {o.language: str(o) for o in ontology_graph.objects(MK.Programme, RDFS.label)}
    for lang, other in (("nl", "en"), ("en", "nl")):
        page = page_of(client, f"/ontology?lang={lang}")
        assert f'<html lang="{lang}">' in page
        article = articles(page)["Programme"]
        assert f'<span class="term-label">{escape(labels[lang])}</span>' in article
        assert article.index(f'<dd lang="{lang}">') < article.index(f'<dd lang="{other}">')
    assert "Klassen" in page_of(client, "/ontology?lang=nl")
    assert "Classes" in page_of(client, "/ontology?lang=en")


def test_the_page_escapes_what_the_ontology_says(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = Graph()
    hostile.bind("mk", MK_NS)
    evil = URIRef(MK_NS + "Evil")
    hostile.add((evil, RDF.type, OWL.Class))
    hostile.add((evil, RDFS.label, Literal("R&D <script>alert(1)</script>", lang="en")))
    hostile.add((evil, RDFS.comment, Literal('"><img src=x onerror=alert(1)>', lang="en")))
    hostile.add((evil, RDFS.subClassOf, URIRef("javascript:alert(1)")))
    monkeypatch.setattr(web.ontology_page, "load_document", lambda: document(hostile))
    page = page_of(client, **{"Accept-Language": "en"})
    assert "R&amp;D &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert_no_injected_markup(page)
    hrefs = [attrs.get("href") or "" for tag, attrs in parse_html(page).tags if tag == "a"]
    assert not [h for h in hrefs if h.lower().startswith("javascript")]


def test_a_term_added_to_the_file_is_documented(tmp_path: Path) -> None:
    copy = tmp_path / "ontology.ttl"
    shutil.copy(ONTOLOGY_PATH, copy)
    before = {t.name for t in load_document(copy).terms}
    with copy.open("a", encoding="utf-8") as extra:
        extra.write('\nmk:Zeppelin a owl:Class ; rdfs:subClassOf mk:Programme ; rdfs:label "zeppelin"@en .\n')
    after = {t.name: t for t in load_document(copy).terms}
    assert set(after) - before == {"Zeppelin"}
    assert after["Zeppelin"].kind == "classes"
    assert [r.anchor for rel in after["Zeppelin"].relations if rel.key == "subclass_of" for r in rel.refs] == ["Programme"]


# --- example queries ------------------------------------------------------------------------------

def test_example_queries_run_and_open_in_the_editor(client: FlaskClient) -> None:
    page = page_of(client, **{"Accept-Language": "en"})
    examples = re.findall(r'<figure class="example" id="example-([a-z_]+)">.*?<a href="([^"]+)">.*?<code>(.*?)</code>',
                          page, re.S)
    assert len(examples) >= 3
    for key, link, shown in examples:
        link = link.replace("&amp;", "&")
        assert link.startswith("/sparql#"), link
        query = parse_qs(urlsplit(link).fragment)["query"][0]
        assert escape(query) == shown
        response = client.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, (key, response.get_data(as_text=True)[:300])
        assert response.get_json()["results"]["bindings"], key  # the tiny dataset has an answer to each


# --- term IRIs elsewhere in the app ---------------------------------------------------------------

def test_term_iris_link_to_their_anchor_on_this_server(client: FlaskClient) -> None:
    assert local_href(MK_NS + "Programme", BASE) == "/ontology#Programme"
    assert local_href("https://w3id.org/missiekompas/ontology", BASE) == "/ontology"
    assert local_href("https://w3id.org/missiekompas/ontologyX", BASE) == "https://w3id.org/missiekompas/ontologyX"
    entity = page_of(client, "/id/programme/storage-mjp")
    types = {href for tag, attrs in parse_html(entity).tags if tag == "a"
             for href in [attrs.get("href") or ""] if href.startswith("/ontology#")}
    assert "/ontology#MJP" in types
    assert {href.split("#", 1)[1] for href in types} <= ids(page_of(client))


# --- the footer of every page ---------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/browse", "/ontology"])
def test_the_footer_links_to_the_ontology(client: FlaskClient, path: str) -> None:
    for lang, text in (("nl", "Ontologie"), ("en", "Ontology")):
        page = page_of(client, f"{path}?lang={lang}")
        footer = page.split("<footer>", 1)[1]
        assert f'<a href="/ontology">{text}</a>' in footer


def escape(text: str) -> str:
    """As Jinja's autoescape writes text."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
            .replace("'", "&#39;"))
