"""The Kernteam analytics in the JSON API (web/api.py): mission blank spots, overlapping consortia, blank spots of a
plan, editions and their diff. Every answer is the core's to_dict(), reads the request's audience (and ?samples=), says
how many real and sample consortia it counted, and matches the OpenAPI document exactly; bad input is problem+json."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Settings
from kg.access import INTERNAL, PUBLIC
from kg.editions import diff_editions
from kg.store import Store
from search.gaps import find_mission_gaps
from search.overlaps import find_overlaps
from search.plan_gaps import find_consortium_gaps
from tests.conftest import BASE, KERNTEAM_TOKEN
from tests.support import DRAFT, PROPOSAL_NL, problem

KERNTEAM = {"Authorization": f"Bearer {KERNTEAM_TOKEN}"}
SETTINGS = Settings()  # the calibrated thresholds the app uses by default


@pytest.fixture
def client(kernteam_app: Flask) -> FlaskClient:
    return kernteam_app.test_client()


def as_json(value: Any) -> Any:
    """What the API makes of a core answer (tuples become lists)."""
    return json.loads(json.dumps(value))


def iris_in(value: Any) -> set[str]:
    """Every "iri" anywhere in a JSON answer."""
    if isinstance(value, dict):
        return {str(v) for k, v in value.items() if k == "iri"} | {i for v in value.values() for i in iris_in(v)}
    if isinstance(value, list):
        return {i for v in value for i in iris_in(v)}
    return set()


# --- mission blank spots ------------------------------------------------------------------------

def test_gaps_are_the_cores_answer_for_the_public(client: FlaskClient, default_store: Store,
                                                  public_matcher: Any) -> None:
    response = client.get("/api/gaps")
    assert response.status_code == 200 and response.mimetype == "application/json"
    answer = response.get_json()
    core = find_mission_gaps(default_store.view(PUBLIC), public_matcher.index, SETTINGS.gap_threshold).to_dict()
    assert answer == {**core, "total": len(core["items"])}
    top = answer["items"][0]
    assert top["status"] == "blank" and top["linked_consortia"] == 0 and top["kind"] == "question"
    assert answer["samples_note"] and any(i["best_consortium"]["is_sample"] for i in answer["items"])
    assert (answer["real_consortia"], answer["sample_consortia"], answer["samples"]) == (63, 10, "include")
    assert answer["consortia_by_kind"] == {"mjp": {"real": 2, "samples": 10}, "bgp": {"real": 5, "samples": 0},
                                           "related": {"real": 11, "samples": 0}, "project": {"real": 45, "samples": 0}}


def test_gaps_without_samples(client: FlaskClient, default_store: Store, public_matcher: Any) -> None:
    answer = client.get("/api/gaps?samples=exclude").get_json()
    core = find_mission_gaps(default_store.view(PUBLIC), public_matcher.index, SETTINGS.gap_threshold,
                             samples=False).to_dict()
    assert answer == {**core, "total": len(core["items"])}
    assert (answer["consortia"], answer["sample_consortia"], answer["samples_left_out"]) == (63, 0, 10)
    assert not any(i["linked_samples"] or (i["best_consortium"] or {}).get("is_sample") for i in answer["items"])
    assert client.get("/api/gaps?samples=include").get_json() == client.get("/api/gaps").get_json()
    assert "samples" in problem(client.get("/api/gaps?samples=no"), 400)


def test_gaps_by_kind_and_top(client: FlaskClient) -> None:
    every = client.get("/api/gaps").get_json()["items"]
    missions = [i for i in every if i["kind"] in ("mission", "mmip")]
    answer = client.get("/api/gaps", query_string={"kind": ["mission", "mmip"], "top": 3}).get_json()
    assert answer["items"] == missions[:3] and answer["total"] == len(missions)
    assert sum(answer["counts"].values()) == len(missions)


@pytest.mark.parametrize(("query", "needle"), [("kind=banana", "banana"), ("top=0", "top"), ("top=x", "top"), ("top=²", "top"),
                                               ("threshold=1.5", "threshold"), ("threshold=abc", "threshold")])
def test_gaps_with_bad_parameters_are_400(client: FlaskClient, query: str, needle: str) -> None:
    assert needle in problem(client.get(f"/api/gaps?{query}"), 400)


def test_a_lower_threshold_finds_fewer_blank_spots(client: FlaskClient) -> None:
    default = client.get("/api/gaps").get_json()["counts"]["blank"]
    assert client.get("/api/gaps?threshold=0.5").get_json()["counts"]["blank"] < default


# --- overlaps -----------------------------------------------------------------------------------

def test_overlaps_are_the_cores_answer_for_the_public(client: FlaskClient, default_store: Store,
                                                      public_matcher: Any) -> None:
    answer = client.get("/api/overlaps").get_json()
    core = find_overlaps(default_store.view(PUBLIC), public_matcher.index, SETTINGS.overlap_threshold,
                         public_matcher.explainer.concepts).to_dict()
    assert answer == {**core, "total": len(core["pairs"])}
    first, second = answer["pairs"][:2]
    assert {first["first"]["iri"], first["second"]["iri"]} == {BASE + "programme/cs4nl", BASE + "programme/exceed"}
    assert (first["first"]["kind"], first["first"]["is_sample"]) == ("bgp", False)
    assert {second["first"]["iri"], second["second"]["iri"]} == {BASE + "programme/sample-mjp-04",
                                                                 BASE + "programme/sample-mjp-09"}
    assert second["first"]["is_sample"] and second["shared_concepts"] and second["shared_links"]
    assert answer["groups"] and answer["samples_note"] and answer["consortia"] == 73


def test_overlaps_without_samples(client: FlaskClient) -> None:
    answer = client.get("/api/overlaps?samples=exclude").get_json()
    assert answer["pairs"] and not any(m["is_sample"] for p in answer["pairs"] for m in (p["first"], p["second"]))
    assert (answer["sample_consortia"], answer["samples"], answer["samples_left_out"]) == (0, "exclude", 10)
    assert "samples" in problem(client.get("/api/overlaps?samples=yes"), 400)


def test_overlaps_top(client: FlaskClient) -> None:
    answer = client.get("/api/overlaps?top=2").get_json()
    assert len(answer["pairs"]) == 2 and answer["total"] > 2
    assert "top" in problem(client.get("/api/overlaps?top=-1"), 400)


# --- blank spots of a plan ----------------------------------------------------------------------

def test_plan_gaps_of_an_mjp_by_id_or_iri(client: FlaskClient, default_store: Store, public_matcher: Any) -> None:
    by_id = client.get("/api/plan-gaps?consortium=sample-mjp-04&top=5")
    assert by_id.status_code == 200
    answer = by_id.get_json()
    core = find_consortium_gaps(default_store.view(PUBLIC), public_matcher.index, BASE + "programme/sample-mjp-04",
                                SETTINGS.gap_threshold, limit=5).to_dict()
    assert answer == core
    assert answer["plan"]["is_sample"] and answer["samples_note"] and answer["source"] == "consortium"
    assert answer["plan"]["kind"] == "mjp"
    assert len(answer["blank_spots"]) == 5 and answer["blank_total"] + len(answer["addressed"]) == answer["candidates"]
    by_iri = client.get("/api/plan-gaps", query_string={"consortium": BASE + "programme/sample-mjp-04", "top": 5})
    assert by_iri.get_json() == answer
    assert client.get("/api/plan-gaps?mjp=sample-mjp-04&top=5").get_json() == answer  # the older name


def test_plan_gaps_of_a_project(client: FlaskClient) -> None:
    answer = client.get("/api/plan-gaps?consortium=project/simox&samples=exclude").get_json()
    assert (answer["plan"]["iri"], answer["plan"]["kind"], answer["plan"]["is_sample"]) == (BASE + "project/simox",
                                                                                          "project", False)
    assert answer["samples_note"] is None
    assert "is a sample" in problem(client.get("/api/plan-gaps?consortium=sample-mjp-04&samples=exclude"), 404)


def test_plan_gaps_errors(client: FlaskClient) -> None:
    assert "?consortium=" in problem(client.get("/api/plan-gaps"), 400)
    assert "neither" in problem(client.get("/api/plan-gaps?mjp=Not A Slug!"), 400)
    assert "top" in problem(client.get("/api/plan-gaps?mjp=sample-mjp-04&top=0"), 400)
    assert "programme/nothing" in problem(client.get("/api/plan-gaps?mjp=nothing"), 404)
    assert "neither" in problem(client.get("/api/plan-gaps?mjp=question/q-eccm"), 400)


def test_plan_gaps_of_a_pasted_and_an_uploaded_plan(client: FlaskClient) -> None:
    pasted = client.post("/api/plan-gaps", json={"text": PROPOSAL_NL, "top": 3})
    assert pasted.status_code == 200
    answer = pasted.get_json()
    assert answer["source"] == "upload" and answer["plan"]["label"] == "uploaded plan"
    assert len(answer["blank_spots"]) == 3 and answer["clusters"] and answer["themes"]
    assert all(gap["passage"] for gap in answer["blank_spots"])
    upload = client.post("/api/plan-gaps", data={"file": (io.BytesIO(PROPOSAL_NL.encode()), "plan.md"), "top": "3"},
                         content_type="multipart/form-data")
    assert upload.status_code == 200 and upload.get_json()["plan"]["label"] == "plan.md"
    assert upload.get_json()["blank_spots"] == answer["blank_spots"]


def test_plan_gaps_of_bad_input(client: FlaskClient) -> None:
    assert "text is empty" in problem(client.post("/api/plan-gaps", json={"text": " "}), 400)
    assert ".exe" in problem(client.post("/api/plan-gaps", data={"file": (io.BytesIO(b"MZ"), "plan.exe")},
                                         content_type="multipart/form-data"), 415)
    assert "application/json" in problem(client.post("/api/plan-gaps", data=b"plan", content_type="text/plain"), 415)
    assert "threshold" in problem(client.post("/api/plan-gaps?threshold=9", json={"text": PROPOSAL_NL}), 400)


# --- editions -----------------------------------------------------------------------------------

def test_editions_list_the_past_ones_and_current(client: FlaskClient) -> None:
    answer = client.get("/api/editions").get_json()
    assert [e["name"] for e in answer["editions"]] == ["2025", "current"]
    assert answer["editions"][0]["graph"] == BASE + "graph/edition/2025" and answer["editions"][1]["graph"] is None
    assert (answer["default_before"], answer["default_after"]) == ("2025", "current")


def test_the_diff_defaults_to_the_latest_past_edition_against_current(client: FlaskClient,
                                                                      default_store: Store) -> None:
    answer = client.get("/api/editions/diff").get_json()
    assert answer == as_json(diff_editions(default_store.view(PUBLIC), "2025", "current").to_dict())
    assert client.get("/api/editions/diff?before=2025&after=current").get_json() == answer
    assert [s["iri"] for s in answer["new"]] == [BASE + "programme/sample-mjp-10"]
    assert all(s["is_sample"] for s in (*answer["new"], *answer["dropped"], *answer["changed"]))
    assert {"delta", "before", "after"} <= set(answer["coverage"][0]) and answer["coverage"][0]["delta"]
    back = client.get("/api/editions/diff?before=current&after=2025").get_json()
    assert [s["iri"] for s in back["dropped"]] == [BASE + "programme/sample-mjp-10"]


def test_an_unknown_edition_is_404_with_the_known_names(client: FlaskClient) -> None:
    detail = problem(client.get("/api/editions/diff?before=1999"), 404)
    assert "1999" in detail and "2025, current" in detail
    assert "nope" in problem(client.get("/api/editions/diff?after=nope"), 404)


# --- access levels ------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/api/gaps", "/api/overlaps", "/api/editions/diff"])
def test_the_internal_draft_reaches_only_the_kernteam(client: FlaskClient, url: str) -> None:
    public, kernteam = client.get(url).get_json(), client.get(url, headers=KERNTEAM).get_json()
    assert DRAFT not in iris_in(public)
    if url == "/api/gaps":  # no item's closest consortium is the draft, but it counts, as a sample
        assert (kernteam["consortia"], kernteam["sample_consortia"]) == (public["consortia"] + 1,
                                                                         public["sample_consortia"] + 1)
    else:
        assert DRAFT in iris_in(kernteam)


def test_the_blank_spots_of_the_draft_only_for_the_kernteam(client: FlaskClient) -> None:
    problem(client.get("/api/plan-gaps?mjp=sample-draft-01"), 404)
    answer = client.get("/api/plan-gaps?mjp=sample-draft-01", headers=KERNTEAM).get_json()
    assert answer["plan"]["iri"] == DRAFT


def test_the_kernteam_diff_counts_the_draft(client: FlaskClient, default_store: Store) -> None:
    answer = client.get("/api/editions/diff", headers=KERNTEAM).get_json()
    assert answer == as_json(diff_editions(default_store.view(INTERNAL), "2025", "current").to_dict())
    assert DRAFT in [s["iri"] for s in answer["new"]]


def test_a_wrong_token_is_refused(client: FlaskClient) -> None:
    problem(client.get("/api/gaps", headers={"Authorization": "Bearer wrong"}), 403)


# --- without search -----------------------------------------------------------------------------

def test_without_search_the_analytics_are_503_and_editions_still_work(default_app: Flask) -> None:
    client = default_app.test_client()
    for url in ("/api/gaps", "/api/overlaps", "/api/plan-gaps?mjp=sample-mjp-04"):
        assert "search" in problem(client.get(url), 503)
    assert "search" in problem(client.post("/api/plan-gaps", json={"text": PROPOSAL_NL}), 503)
    assert client.get("/api/editions").status_code == client.get("/api/editions/diff").status_code == 200


# --- the OpenAPI document describes these answers exactly ---------------------------------------

def conforms(value: Any, schema: dict[str, Any], schemas: dict[str, Any], at: str = "$") -> None:
    """`value` fits `schema`, and every object has exactly the documented properties (no more, no fewer)."""
    if "$ref" in schema:
        return conforms(value, schemas[schema["$ref"].rsplit("/", 1)[1]], schemas, at)
    if "allOf" in schema:
        parts = [schemas[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for p in schema["allOf"]]
        merged = {k: v for p in parts for k, v in p["properties"].items()}
        return conforms(value, {"type": "object", "properties": merged}, schemas, at)
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            try:
                return conforms(value, option, schemas, at)
            except AssertionError:
                continue
        raise AssertionError(f"{at}: {value!r} fits none of {schema['anyOf']}")
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        assert isinstance(value, dict) and set(value) == set(schema["properties"]), (at, sorted(value),
                                                                                      sorted(schema["properties"]))
        for name, sub in schema["properties"].items():
            conforms(value[name], sub, schemas, f"{at}.{name}")
    elif kind == "object":
        assert isinstance(value, dict), at
        for name, item in value.items():
            conforms(item, schema.get("additionalProperties", {}), schemas, f"{at}.{name}")
    elif kind == "array":
        assert isinstance(value, list), at
        for i, item in enumerate(value):
            conforms(item, schema["items"], schemas, f"{at}[{i}]")
    elif kind is not None:
        types = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "null": type(None)}
        assert isinstance(value, types[kind]) and not (kind in ("integer", "number") and isinstance(value, bool)), \
            (at, value, kind)
    return None


@pytest.mark.parametrize(("method", "path", "url", "headers"), [
    ("get", "/api/gaps", "/api/gaps?top=5", {}),
    ("get", "/api/gaps", "/api/gaps?top=5&samples=exclude", KERNTEAM),
    ("get", "/api/overlaps", "/api/overlaps", KERNTEAM),
    ("get", "/api/overlaps", "/api/overlaps?samples=exclude", {}),
    ("get", "/api/plan-gaps", "/api/plan-gaps?mjp=sample-mjp-04", {}),
    ("get", "/api/plan-gaps", "/api/plan-gaps?consortium=project/simox", {}),
    ("post", "/api/plan-gaps", "/api/plan-gaps", {}),
    ("get", "/api/editions", "/api/editions", {}),
    ("get", "/api/editions/diff", "/api/editions/diff", KERNTEAM),
])
def test_answers_match_the_openapi_document(client: FlaskClient, method: str, path: str, url: str,
                                            headers: dict[str, str]) -> None:
    document = client.get("/api/openapi.json").get_json()
    schema = document["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    kwargs: dict[str, Any] = {"json": {"text": PROPOSAL_NL, "top": 2}} if method == "post" else {}
    response = getattr(client, method)(url, headers=headers, **kwargs)
    assert response.status_code == 200
    conforms(response.get_json(), schema, document["components"]["schemas"])
