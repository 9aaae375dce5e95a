"""The OpenAPI 3.1 document (web/openapi.py, /api/openapi.json): complete for every /api route, built from the
result dataclasses (with what their to_dict() adds or leaves out), every reference resolving."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from search.result import MatchResult
from web.openapi import Schemas, Serialised, json_schema


@dataclass(frozen=True)
class Inner:
    """An inner thing."""

    name: str


@dataclass(frozen=True)
class Outer:
    items: tuple[Inner, ...]
    extra: Inner | None
    scores: dict[str, float]
    pair: tuple[str, int]
    count: int = 0


@pytest.fixture(scope="module")
def document(default_app: Flask) -> dict[str, Any]:
    response = default_app.test_client().get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_dataclasses_become_json_schema_components() -> None:
    components: dict[str, Any] = {}
    assert json_schema(Outer, components) == {"$ref": "#/components/schemas/Outer"}
    outer = components["Outer"]
    assert outer["required"] == ["items", "extra", "scores", "pair"]  # `count` has a default
    assert outer["properties"]["items"] == {"type": "array", "items": {"$ref": "#/components/schemas/Inner"}}
    assert outer["properties"]["extra"] == {"anyOf": [{"$ref": "#/components/schemas/Inner"}, {"type": "null"}]}
    assert outer["properties"]["scores"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert outer["properties"]["pair"]["prefixItems"] == [{"type": "string"}, {"type": "integer"}]
    assert components["Inner"]["description"] == "An inner thing."
    assert "description" not in outer  # no docstring: not the signature dataclasses makes up


def test_what_to_dict_adds_or_leaves_out_is_described() -> None:
    components: dict[str, Any] = {}
    Schemas(components, {Inner: Serialised(adds={"size": int | None}, drops=("name",))}).of(Outer)
    assert components["Inner"]["properties"] == {"size": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}
    assert components["Inner"]["required"] == ["size"]


def test_two_dataclasses_with_one_name_get_their_own_schemas() -> None:
    from kg.entity import Link as EntityLink

    @dataclass(frozen=True)
    class Link:
        target: Inner

    components: dict[str, Any] = {}
    schemas = Schemas(components)
    assert schemas.of(EntityLink) == {"$ref": "#/components/schemas/Link"}
    assert schemas.of(Link) == {"$ref": "#/components/schemas/Test_openapiLink"}
    assert schemas.of(Link) == {"$ref": "#/components/schemas/Test_openapiLink"}  # once
    assert set(components["Test_openapiLink"]["properties"]) == {"target"}
    assert "target" not in components["Link"]["properties"]


def test_the_analytics_are_described(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert {"MissionGaps", "Overlaps", "PlanGaps", "EditionDiff", "EditionsAnswer"} <= set(schemas)
    coverage = schemas["Coverage"]["properties"]
    assert {"status", "is_linked", "is_similar"} <= set(coverage) and "threshold" not in coverage
    assert "delta" in schemas["EditionsCoverage"]["properties"] and "relation" in schemas["OverlapsLink"]["properties"]
    gaps = document["paths"]["/api/gaps"]["get"]
    assert {p["name"] for p in gaps["parameters"]} == {"kind", "top", "threshold", "samples"}
    assert set(document["paths"]["/api/plan-gaps"]) == {"get", "post"}
    assert "404" in document["paths"]["/api/editions/diff"]["get"]["responses"]


def test_document_is_openapi_3_1_with_a_server(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "Missiekompas API" and document["info"]["version"]
    assert document["servers"] == [{"url": "http://localhost"}]


def test_every_api_route_is_documented(document: dict[str, Any], default_app: Flask) -> None:
    routes = {(rule.rule, method) for rule in default_app.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    assert routes == documented


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    found = refs(document)
    assert found
    for ref in found:
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in document["components"]["schemas"]


def test_match_is_described_from_the_result_dataclass(document: dict[str, Any]) -> None:
    match = document["paths"]["/api/match"]["post"]
    assert set(match["requestBody"]["content"]) == {"application/json", "multipart/form-data",
                                                    "application/x-www-form-urlencoded"}
    upload = document["components"]["schemas"]["MatchUpload"]
    assert upload["properties"]["file"] == {"type": "string", "format": "binary"} and upload["required"] == []
    schema = match["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["allOf"][0] == {"$ref": "#/components/schemas/MatchResult"}
    fields = set(document["components"]["schemas"]["MatchResult"]["properties"])
    assert fields == set(MatchResult.__dataclass_fields__)
    for status in ("400", "413", "415", "503"):
        assert set(match["responses"][status]["content"]) == {"application/problem+json"}


def test_search_parameters_are_described(document: dict[str, Any]) -> None:
    params = {p["name"]: p for p in document["paths"]["/api/search"]["get"]["parameters"]}
    assert params["q"]["required"] is True
    assert params["kind"]["schema"] == {"type": "array", "items": {"type": "string"}} and params["kind"]["explode"]
    assert params["top"]["schema"] == {"type": "integer"}
