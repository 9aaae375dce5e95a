"""Reading and answering JSON API requests: shared by the API blueprints."""

from __future__ import annotations

from typing import Any

from flask import Response, json, request

from web.errors import UnsupportedMediaType
from web.proposal import MatchRequest, read_form_request, read_json_request
from web.services import services

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def json_answer(value: Any) -> Response:
    return Response(json.dumps(value, ensure_ascii=False), content_type="application/json")


def read_proposal_request() -> MatchRequest:
    """The text (pasted or an uploaded file), filters and `top` of a JSON or form body."""
    settings = services().settings
    if request.is_json:
        return read_json_request(settings.base_uri)
    if (request.mimetype or "").lower() in FORM_TYPES:
        return read_form_request(settings.base_uri, settings.max_body_bytes)
    raise UnsupportedMediaType(f"send the text as application/json, {' or '.join(FORM_TYPES)}")
