"""The pages behind the footer's data links: /api, the JSON API described for people from the OpenAPI document
(web/api.py), and /void as a page for a browser (web/linked_data.py, web/description.py), RDF for everyone else."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph

from kg.access import PUBLIC
from kg.store import Store
from tests.support import HTML
from web.messages import MESSAGES


@pytest.fixture
def document(client: FlaskClient) -> dict:
    return client.get("/api/openapi.json").get_json()


def main_of(page: str) -> str:
    return page.split("<main", 1)[1].split("</main>", 1)[0]


def test_the_footer_links_open_pages_not_files(client: FlaskClient) -> None:
    page = client.get("/browse", headers={"Accept": HTML}).get_data(as_text=True)
    footer = page.split("<footer>", 1)[1]
    assert 'href="/api"' in footer and 'href="/api/openapi.json"' not in footer
    assert 'href="/.well-known/void"' in footer or 'href="/void"' in footer
    for path in ("/api", "/void", "/.well-known/void"):
        response = client.get(path, headers={"Accept": HTML})
        assert response.status_code == 200 and response.mimetype == "text/html", path
        assert "Content-Disposition" not in response.headers


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_api_page_lists_every_operation_of_the_document(client: FlaskClient, document: dict, lang: str) -> None:
    page = client.get("/api", headers={"Accept": HTML, "Accept-Language": lang}).get_data(as_text=True)
    rows = re.findall(r'<tr id="([^"]+)"><td><code>(\w+)</code></td><th scope="row"><code>([^<]+)</code></th>\s*<td>([^<]+)</td>',
                      page)
    expected = {(op["operationId"], method.upper(), path) for path, item in document["paths"].items()
                for method, op in item.items()}
    assert {(op_id, method, path) for op_id, method, path, _ in rows} == expected
    for op_id, _, _, summary in rows:  # each in the reader's language, from the catalogue
        assert summary.replace("&#39;", "'") == MESSAGES[f"apipage.op.{op_id}"][lang]
    assert 'href="/api/openapi.json"' in main_of(page)
    assert client.get("/api/openapi.json", headers={"Accept": HTML}).mimetype == "application/json"  # still the document


def test_every_operation_has_a_summary_in_both_languages(document: dict) -> None:
    ids = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    assert {k.removeprefix("apipage.op.") for k in MESSAGES if k.startswith("apipage.op.")} == ids


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_browser_gets_the_dataset_as_a_page(client: FlaskClient, tiny_store: Store, lang: str) -> None:
    response = client.get("/void", headers={"Accept": HTML, "Accept-Language": lang})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "accept" in response.headers["Vary"].lower()
    page = main_of(response.get_data(as_text=True))
    turtle = Graph().parse(data=client.get("/void", headers={"Accept": "text/turtle"}).get_data(), format="turtle")
    title = next(str(o) for o in turtle.objects(None, None) if getattr(o, "language", None) == lang)
    assert title in page  # the dataset's title in the reader's language
    count = tiny_store.view(PUBLIC).count()
    assert (f"{count:,}".replace(",", ".") if lang == "nl" else f"{count:,}") in page
    for name in ("missiekompas.trig.gz", "missiekompas.nq.gz", "missiekompas.ttl.gz", "missiekompas.nt.gz"):
        assert f'/dumps/{name}"' in page
    assert page.count('<tr><th scope="row"><span class="iri">https://w3id.org/missiekompas/id/graph/') >= 9
    for fmt in ("ttl", "jsonld", "nt", "rdfxml"):
        assert f'href="?format={fmt}"' in page


def test_format_links_on_the_dataset_page_give_rdf(client: FlaskClient) -> None:
    response = client.get("/void?format=ttl", headers={"Accept": HTML})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    assert client.get("/void", headers={"Accept": "*/*"}).mimetype == "text/turtle"  # no Accept preference: RDF


def test_the_dataset_page_on_the_default_data(default_app: Flask) -> None:
    response = default_app.test_client().get("/void", headers={"Accept": HTML, "Accept-Language": "nl"})
    assert response.status_code == 200 and "kennisgraaf" in response.get_data(as_text=True)
