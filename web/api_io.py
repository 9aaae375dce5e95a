"""Reading and answering JSON API requests: shared by the API blueprints."""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from flask import Response, json, request

from web.errors import BadRequest, UnsupportedMediaType
from web.proposal import MatchRequest, read_form_request, read_json_request
from web.services import services

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
MAX_JSON_DEPTH = 64  # far beyond any request we take, far below the parser's recursion limit
JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # brackets inside strings do not nest
NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
BRACKET_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_answer(value: Any) -> Response:
    return Response(json.dumps(value, ensure_ascii=False), content_type="application/json")


def read_proposal_request() -> MatchRequest:
    """The text (pasted or an uploaded file), filters and `top` of a JSON or form body."""
    settings = services().settings
    if request.is_json:
        check_json_depth(request.get_data(cache=True))
        return read_json_request(settings.base_uri)
    if (request.mimetype or "").lower() in FORM_TYPES:
        return read_form_request(settings.base_uri, settings.max_body_bytes)
    raise UnsupportedMediaType(f"send the text as application/json, {' or '.join(FORM_TYPES)}")


def check_json_depth(body: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse a JSON body nested deeper than `limit` before it is parsed: Python's parser recurses
    once per level and would fail with a RecursionError (a 500) on a few thousand brackets."""
    brackets = JSON_STRING.sub(b"", body).translate(None, NOT_BRACKET)
    if len(brackets) > limit and max(accumulate(map(BRACKET_STEP.__getitem__, brackets))) > limit:
        raise BadRequest(f"the JSON body is nested more than {limit} levels deep")
