"""POST /api/partners, its OpenAPI entry, the Partners section of the match page and the co-operation network
on an organisation's page, over tests/fixtures/partners layered on tests/fixtures/tiny."""

from __future__ import annotations

import html

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Settings
from kg.access import INTERNAL, PUBLIC
from kg.build import build
from kg.store import MemoryStore
from tests.conftest import BASE, FIXTURES, TINY, matcher_over
from web.app import create_app

PARTNERS = FIXTURES / "partners"
TEXT = "Quiet installation and corrosion protection of steel monopile foundations for offshore wind turbines at sea."


@pytest.fixture(scope="module")
def app(model_path, tmp_path_factory: pytest.TempPathFactory) -> Flask:  # noqa: ANN001
    settings = Settings(store="memory", data_dirs=(TINY, PARTNERS), model=str(model_path),
                        index_path=tmp_path_factory.mktemp("api-partners") / "index")
    store = MemoryStore()
    build(settings.data_dirs, settings.base_uri, store)
    return create_app(settings, store=store, matchers={PUBLIC: matcher_over(settings, store, audience=PUBLIC),
                                                       INTERNAL: matcher_over(settings, store)})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_partners_answers_with_explained_suggestions(client: FlaskClient) -> None:
    response = client.post("/api/partners", json={"text": TEXT, "have": ["TU Zeestad", "harbour-builders"], "top": 3})
    assert response.status_code == 200 and response.content_type == "application/json"
    body = response.get_json()
    assert [m["iri"] for m in body["consortium"]["members"]] == [f"{BASE}organisation/tu-zeestad",
                                                                 f"{BASE}organisation/harbour-builders"]
    assert len(body["suggestions"]) == 3 and body["samples"] == "include"
    for s in body["suggestions"]:
        assert s["projects"][0]["consortium"]["iri"].startswith(f"{BASE}project/")
        assert s["strength"] in ("strong", "fair", "weak")
        assert {"adds_clusters", "adds_missions", "adds_kind", "worked_with", "fit", "bonus", "score"} <= set(s)


def test_partners_can_leave_out_samples(client: FlaskClient) -> None:
    body = client.post("/api/partners", json={"text": TEXT, "top": 20, "samples": "exclude"}).get_json()
    assert body["samples"] == "exclude" and body["suggestions"]
    assert not any(s["is_sample"] for s in body["suggestions"])


@pytest.mark.parametrize(("body", "detail"), [
    ({"text": TEXT, "have": ["Harbor Bilders"]}, "no organisation is called 'Harbor Bilders'; close names: Harbour Builders"),
    ({"text": TEXT, "have": [3]}, "have is a list of organisation names"),
    ({"text": "", "have": []}, "The text is empty"),
    ({"text": TEXT, "top": 0}, "Invalid value '0' for top"),
    ({"text": TEXT, "samples": "hide"}, "Invalid value 'hide' for samples"),
    (["not", "an", "object"], "the body is not a JSON object"),
])
def test_bad_input_is_a_problem_with_a_clear_message(client: FlaskClient, body: object, detail: str) -> None:
    response = client.post("/api/partners", json=body)
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert response.get_json()["detail"].startswith(detail)


def test_partners_wants_json(client: FlaskClient) -> None:
    response = client.post("/api/partners", data={"text": TEXT})
    assert response.status_code == 415 and response.content_type == "application/problem+json"


def test_the_openapi_document_describes_partners(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    operation = document["paths"]["/api/partners"]["post"]
    assert operation["operationId"] == "partners" and "400" in operation["responses"]
    assert {"text", "have", "top", "samples"} <= set(document["components"]["schemas"]["PartnersBody"]["properties"])
    assert "PartnerSuggestion" in document["components"]["schemas"]


def test_the_match_page_has_a_partners_section_in_both_languages(client: FlaskClient) -> None:
    for lang, heading in (("nl", "Organisaties al in uw consortium"), ("en", "Organisations already in your consortium")):
        form = client.get("/", headers={"Accept-Language": lang}).get_data(as_text=True)
        assert '<textarea id="have" name="have"' in form and heading in form
    page = client.post("/match", data={"text": TEXT, "have": "TU Zeestad\nHarbour Builders"},
                       headers={"Accept-Language": "en"}).get_data(as_text=True)
    section = page.split('id="section-partners"', 1)[1]
    assert 'href="/id/organisation/coating-works"' in section and 'href="/id/project/foundation-coatings"' in section
    assert "Already worked with" in section and 'href="/id/project/monopile-design"' in section
    assert 'href="/id/organisation/tu-zeestad"' not in section.split("<ol", 1)[1], "members are not suggested"
    refused = client.post("/match", data={"text": TEXT, "have": "Harbor Bilders"},
                          headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "Geen organisatie heet 'Harbor Bilders'; namen die erop lijken: Harbour Builders." in html.unescape(refused)


def test_an_organisations_page_shows_its_co_operation_network(client: FlaskClient) -> None:
    page = client.get("/id/organisation/tu-zeestad", headers={"Accept": "text/html"}).get_data(as_text=True)
    network = page.split('id="network-heading"', 1)[1].split("</section>", 1)[0]
    assert 'href="/id/organisation/sea-survey"' in network and 'href="/id/organisation/harbour-builders"' in network
    assert 'href="/id/project/monopile-design"' in network and "1 shared" in network
    assert "zeeen-funds" not in network, "a funder is not a co-worker"
    project = client.get("/id/project/monopile-design", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'id="network-heading"' not in project
