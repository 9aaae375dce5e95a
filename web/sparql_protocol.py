"""The SPARQL 1.1 Protocol's reading of a request (with the 1.2 `version` parameter): exactly one
operation, from the places the protocol allows for each method and content type, or a 400/415."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from web.errors import BadRequest, UnsupportedMediaType

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"
VERSIONS = ("1.1", "1.2", "1.2-basic")  # what `version` may say; the engine reads all of them
KEPT_BYTES = 16_384  # the decoded parameters of a URL or form body up to this size are kept for the next request


@dataclass(frozen=True)
class Operation:
    """What a protocol request asks: a query, an update, or nothing (the description, the editor)."""

    kind: str  # "query", "update" or "none"
    text: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    using: tuple[str, ...] = ()
    using_named: tuple[str, ...] = ()
    format: str | None = None
    visibility: str | None = None  # an update's: of the graphs it creates (web.auth.checked_visibility)


def read_operation(request: Request) -> Operation:
    """The one operation of a GET or POST. GET carries a query in the URL; a form POST carries its
    query or update (and dataset) in the body only; a direct POST carries the text as its body and
    the dataset in the URL."""
    url = _strict_params(request.query_string)
    if request.method != "POST":
        if "update" in url:
            raise BadRequest("a SPARQL update must be sent with POST, not GET")
        return _operation(url, url)
    kind = (request.mimetype or "").lower()
    if not kind:
        raise BadRequest(f"a POST needs a Content-Type: {FORM}, {QUERY} or {UPDATE}")
    _check_charset(request)
    if kind == FORM:
        if "query" in url or "update" in url:
            raise BadRequest("with a form POST the query or update goes in the body, not in the URL")
        form = _strict_params(request.get_data(cache=True))
        if "query" not in form and "update" not in form:
            raise BadRequest("the form POST has no 'query' or 'update' parameter")
        return _operation(form, form)
    if kind not in (QUERY, UPDATE):
        raise UnsupportedMediaType(f"unsupported Content-Type {kind!r}; use {FORM}, {QUERY} or {UPDATE}")
    if "query" in url or "update" in url:
        raise BadRequest(f"with {kind} the text is the body; the URL may not carry 'query' or 'update' too")
    body = MultiDict([("query" if kind == QUERY else "update", _body_text(request))])
    return _operation(body, url)


def _operation(texts: MultiDict[str, str], params: MultiDict[str, str]) -> Operation:
    queries, updates = texts.getlist("query"), texts.getlist("update")
    if len(queries) + len(updates) > 1:
        raise BadRequest("give exactly one 'query' or one 'update', not several")
    _check_version(params.getlist("version"))
    text = (queries or updates or [None])[0]
    kind = "query" if queries else "update" if updates else "none"
    return Operation(
        kind=kind, text=text or "",
        default_graphs=tuple(params.getlist("default-graph-uri")), named_graphs=tuple(params.getlist("named-graph-uri")),
        using=tuple(params.getlist("using-graph-uri")), using_named=tuple(params.getlist("using-named-graph-uri")),
        format=params.get("format"), visibility=params.get("visibility"),
    )


def _check_version(given: list[str]) -> None:
    if len(given) > 1:
        raise BadRequest("give the 'version' parameter at most once")
    if given and given[0] not in VERSIONS:
        raise BadRequest(f"unknown SPARQL version {given[0]!r}; this endpoint reads {', '.join(VERSIONS)}")


def _strict_params(raw: bytes) -> MultiDict[str, str]:
    """URL-encoded parameters, refusing any that are not UTF-8 (werkzeug would let them through)."""
    return MultiDict(_kept_pairs(raw) if len(raw) <= KEPT_BYTES else _pairs(raw))


@lru_cache(maxsize=256)  # tools send the same requests again and again: each is decoded once
def _kept_pairs(raw: bytes) -> tuple[tuple[str, str], ...]:
    return _pairs(raw)


def _pairs(raw: bytes) -> tuple[tuple[str, str], ...]:
    if not raw:
        return ()
    try:
        return tuple(parse_qsl(raw.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict"))
    except UnicodeDecodeError as exc:
        raise BadRequest("request parameters must be UTF-8 (percent-encoded); found bytes that are not") from exc


def _check_charset(request: Request) -> None:
    charset = request.mimetype_params.get("charset")
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise BadRequest(f"SPARQL requests must be UTF-8 encoded, not {charset}")


def _body_text(request: Request) -> str:
    try:
        return request.get_data(cache=True).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the request body is not valid UTF-8 (byte {exc.start})") from exc
