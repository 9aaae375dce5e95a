"""Fuzzing the JSON API from its own OpenAPI document (schemathesis over WSGI, in-process and derandomised): whatever
is sent, the answer is documented (status, media type, schema), never a 5xx, and every error is problem+json."""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support import TRACEBACK_SIGNS
from web.api import OPERATIONS
from web.api_io import FORM_TYPES

# Matching encodes the text with the model (up to a second a call on two cores): fewer examples for these.
MODEL_PATHS = ("/api/match", "/api/search", "/api/plan-gaps")
EXAMPLES = {"model": 12, "graph": 40}


def is_unsent(value: object) -> bool:
    """Whether a query value goes on the wire as nothing at all (?top=), which the API takes as not given."""
    if isinstance(value, dict):
        return all(is_unsent(v) for v in value.values())
    if isinstance(value, list):
        return all(is_unsent(v) for v in value)
    return value is None or value == ""


def rejects_invalid_input(ctx: CheckContext, response: Response, case: schemathesis.Case) -> bool | None:
    """schemathesis's negative_data_rejection where the wire shows the breach: a form sends every value as a string
    (so `"text": null` arrives as the text "null"), and an empty query parameter counts as not given."""
    if case.media_type in FORM_TYPES or any(is_unsent(value) for value in (case.query or {}).values()):
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          rejects_invalid_input]


@pytest.fixture(scope="module")
def api_schema(search_app: Flask) -> schemathesis.BaseSchema:
    """The document as /api/openapi.json serves it; cases are sent to the search-enabled app in-process."""
    return schemathesis.openapi.from_wsgi("/api/openapi.json", search_app)


def assert_documented(case: schemathesis.Case) -> None:
    response = case.call_and_validate(checks=CHECKS)
    text = response.text
    for sign in TRACEBACK_SIGNS:
        assert sign not in text, f"traceback text in the answer to {case.method} {case.formatted_path}"
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/problem+json"), text[:300]
        body = response.json()
        assert body["status"] == response.status_code and body["title"] and body["detail"], body


def test_the_document_is_valid_openapi(api_schema: schemathesis.BaseSchema) -> None:
    api_schema.validate()  # against the OpenAPI 3.1 meta-schema; raises with the first breach


@pytest.mark.parametrize(("method", "path"), [(op.method, op.path) for op in OPERATIONS],
                         ids=[f"{op.method} {op.path}" for op in OPERATIONS])
def test_every_operation_answers_as_documented(api_schema: schemathesis.BaseSchema, method: str, path: str) -> None:
    operation = api_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=EXAMPLES["model" if path in MODEL_PATHS else "graph"], derandomize=True, deadline=None,
              database=None, suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def fuzz(case: schemathesis.Case) -> None:
        assert_documented(case)

    fuzz()
