"""The JSON API (web/api.py): match, search, entity and figures, with problem+json for every bad request."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kg.access import PUBLIC
from kg.figures import compute_figures
from kg.store import Store
from search.readers import MAX_TEXT_CHARS
from tests.conftest import BASE, KERNTEAM_TOKEN
from tests.support import DRAFT, PROPOSAL_NL, problem


@pytest.fixture
def client(search_app: Flask) -> FlaskClient:
    return search_app.test_client()


# --- match --------------------------------------------------------------------------------------

def test_match_takes_json(client: FlaskClient) -> None:
    response = client.post("/api/match", json={"text": PROPOSAL_NL, "top": 3})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    result = response.get_json()
    assert set(result) >= {"language", "concepts", "questions", "programmes", "missions", "kem_categories", "clusters",
                           "themes", "samples_note"}
    assert len(result["programmes"]) == 3
    photondelta = next(h for h in result["programmes"] if h["iri"] == BASE + "programme/photondelta")
    assert {m["role"] for m in photondelta["members"]} == {"lead", "partner"}
    assert photondelta["explanation"]["shared_concepts"] and photondelta["explanation"]["dense_rank"] >= 1
    assert photondelta["explanation"]["passage"] is None  # the proposal is one passage


def test_match_takes_a_form_and_a_multipart_upload(client: FlaskClient) -> None:
    form = client.post("/api/match", data={"text": PROPOSAL_NL, "kind": "question", "top": "2"})
    assert form.status_code == 200
    assert len(form.get_json()["questions"]) == 2 and form.get_json()["programmes"] == []
    upload = client.post("/api/match", data={"file": (io.BytesIO(PROPOSAL_NL.encode()), "p.md")},
                         content_type="multipart/form-data")
    assert upload.status_code == 200 and upload.get_json()["language"] == "nl"


def test_match_filters_take_ids_and_iris(client: FlaskClient) -> None:
    by_id = client.post("/api/match", json={"text": PROPOSAL_NL, "kind": ["programme"], "cluster": "quantum-technologies"})
    by_iri = client.post("/api/match", json={"text": PROPOSAL_NL, "kind": ["programme"],
                                             "cluster": [BASE + "cluster/quantum-technologies"]})
    assert by_id.get_json()["programmes"] == by_iri.get_json()["programmes"]
    assert all(BASE + "cluster/quantum-technologies" in h["clusters"] for h in by_id.get_json()["programmes"])


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "  "}, {}, {"text": 12}])
def test_match_without_text_is_400(client: FlaskClient, body: dict) -> None:
    assert "text is empty" in problem(client.post("/api/match", json=body), 400)


def test_match_with_too_much_text_is_413(client: FlaskClient) -> None:
    assert "too long" in problem(client.post("/api/match", json={"text": "x " * MAX_TEXT_CHARS}), 413)


def test_match_with_a_wrong_file_type_is_415(client: FlaskClient) -> None:
    response = client.post("/api/match", data={"file": (io.BytesIO(b"MZ"), "tool.exe")}, content_type="multipart/form-data")
    assert ".exe" in problem(response, 415)


def test_match_in_another_media_type_is_415(client: FlaskClient) -> None:
    response = client.post("/api/match", data=PROPOSAL_NL.encode(), content_type="text/plain")
    assert "application/json" in problem(response, 415)


def test_match_with_broken_json_is_400(client: FlaskClient) -> None:
    assert "JSON object" in problem(client.post("/api/match", data=b"{nope", content_type="application/json"), 400)


@pytest.mark.parametrize(("body", "needle"), [({"kind": "banana"}, "banana"), ({"top": 0}, "top"),
                                              ({"cluster": "Not A Slug!"}, "cluster")])
def test_match_with_a_bad_option_is_400(client: FlaskClient, body: dict, needle: str) -> None:
    assert needle in problem(client.post("/api/match", json={"text": PROPOSAL_NL, **body}), 400)


def test_match_is_post_only(client: FlaskClient) -> None:
    response = client.get("/api/match")
    problem(response, 405)
    assert "POST" in response.headers["Allow"]


# --- search -------------------------------------------------------------------------------------

def test_search_ranks_hits_of_every_kind(client: FlaskClient) -> None:
    response = client.get("/api/search", query_string={"q": "groene waterstof elektrolyse", "top": 8})
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["query"] == "groene waterstof elektrolyse"
    scores = [h["score"] for h in answer["hits"]]
    assert len(scores) == 8 and scores == sorted(scores, reverse=True)
    assert len({h["kind"] for h in answer["hits"]}) >= 2
    assert BASE + "programme/eccm" in [h["iri"] for h in answer["hits"]]


def test_search_by_kind(client: FlaskClient) -> None:
    answer = client.get("/api/search", query_string={"q": "waterstof", "kind": "question", "top": 5}).get_json()
    assert answer["hits"] and {h["kind"] for h in answer["hits"]} == {"question"}


def test_search_without_a_query_is_400(client: FlaskClient) -> None:
    assert "?q=" in problem(client.get("/api/search"), 400)
    assert "banana" in problem(client.get("/api/search?q=x&kind=banana"), 400)


# --- entity -------------------------------------------------------------------------------------

def test_entity_by_id_has_labels_provenance_links_and_similar(client: FlaskClient) -> None:
    response = client.get("/api/entity", query_string={"id": "programme/photondelta"})
    assert response.status_code == 200
    entity = response.get_json()
    assert entity["iri"] == BASE + "programme/photondelta" and entity["title"] == "PhotonDelta"
    assert entity["descriptions"]["nl"] and entity["descriptions"]["en"]
    assert entity["sources"] and entity["confidence"]["value"].startswith("https://w3id.org/missiekompas/ontology#")
    assert any(link["property_label"] == "lead" for link in entity["links"])
    assert entity["similar"] and BASE + "programme/photondelta" not in [s["iri"] for s in entity["similar"]]
    assert entity["is_sample"] is False


def test_entity_by_iri(client: FlaskClient) -> None:
    response = client.get("/api/entity", query_string={"iri": BASE + "cluster/digital-technologies"})
    assert response.status_code == 200 and response.get_json()["labels"]["en"] == "Digital Technologies"


def test_a_sample_entity_says_so(client: FlaskClient) -> None:
    assert client.get("/api/entity?id=programme/sample-mjp-01").get_json()["is_sample"] is True


def test_entity_errors(client: FlaskClient) -> None:
    assert "?id=" in problem(client.get("/api/entity"), 400)
    assert "programme/nothing" in problem(client.get("/api/entity?id=programme/nothing"), 404)
    problem(client.get("/api/entity", query_string={"iri": "https://x.org/a> ?p ?o"}), 400)


# --- figures ------------------------------------------------------------------------------------

def test_figures_match_the_core_and_include_the_heatmap_cells(client: FlaskClient, default_store: Store) -> None:
    answer = client.get("/api/figures").get_json()
    figures = compute_figures(default_store.view(PUBLIC))  # no token: the public view
    assert answer["figures"]["mjps"] == figures.mjps
    assert [s["count"] for s in answer["figures"]["questions_per_cluster"]] == [s.count for s in figures.questions_per_cluster]
    per_cluster = {s.iri: s.count for s in figures.mjps_per_cluster}
    for cell in answer["theme_cluster"]:
        assert 0 < cell["mjps"] <= per_cluster[cell["cluster"]]
    # every computed block with its real and sample parts; what rests on samples only says so
    assert (answer["figures"]["real_mjps"], answer["figures"]["sample_mjps"]) == (2, 10)
    assert all(s["real"] + s["samples"] == s["count"] for s in answer["figures"]["mjps_per_theme"])
    total = next(line for line in answer["figures"]["budget"] if line["amount"] == "total")
    assert (total["real_mjps"], total["sample_only"], total["all"]) == (0, True, total["samples"])
    assert answer["figures"]["questions"]["proxy_only"] and answer["figures"]["questions"]["from_bijlage_a"] == 0
    assert answer["figures"]["real_consortia"]["by_kind"] == {"mjp": 2, "bgp": 5, "related": 11, "project": 45}


# --- access levels ------------------------------------------------------------------------------

def test_internal_drafts_reach_only_the_kernteam(kernteam_app: Flask) -> None:
    client = kernteam_app.test_client()
    kernteam = {"Authorization": f"Bearer {KERNTEAM_TOKEN}"}
    body = {"text": "Ondergrondse opslag van waterstof in zoutcavernes, met sensoren voor lekkage.", "kind": "programme"}
    public_hits = [h["iri"] for h in client.post("/api/match", json=body).get_json()["programmes"]]
    kernteam_hits = [h["iri"] for h in client.post("/api/match", json=body, headers=kernteam).get_json()["programmes"]]
    assert DRAFT not in public_hits and DRAFT in kernteam_hits
    assert client.get("/api/entity?id=programme/sample-draft-01").status_code == 404
    assert client.get("/api/entity?id=programme/sample-draft-01", headers=kernteam).status_code == 200
    public_similar = client.get("/api/entity?id=programme/eccm").get_json()["similar"]
    assert DRAFT not in [s["iri"] for s in public_similar]
    assert client.get("/api/figures", headers=kernteam).get_json()["figures"]["mjps"] == \
        client.get("/api/figures").get_json()["figures"]["mjps"] + 1
