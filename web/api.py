"""The JSON API under /api/: match, search, entity, figures and the OpenAPI 3.1 document of all of it, shown to
people as a page at /api (the Kernteam analytics live in web/api_analytics.py). Errors are application/problem+json
(web/errors.py). Every answer reads the request's audience: its view and its index."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from kg.entity import EntityView, Link, entity_view
from kg.figures import Figures, compute_figures
from kg.matrix import theme_cluster_matrix
from kg.uris import entity_iri
from search.partners import PartnersResult
from search.result import Hit, MatchResult
from search.similar import SimilarEntity
from web.api_analytics import ANALYTICS_OPERATIONS, ANALYTICS_SERIALISED
from web.api_io import check_json_depth, json_answer, read_proposal_request
from web.auth import current_audience, request_view
from web.dashboard import version_cache
from web.errors import BadRequest, NotFound, UnsupportedMediaType
from web.openapi import Operation, Param, openapi_document
from web.proposal import DEFAULT_TOP, KINDS, MAX_TOP, read_options, read_partners_json
from web.services import services

api = Blueprint("api", __name__, url_prefix="/api")


@dataclass(frozen=True)
class SearchAnswer:
    """Hits of every kind for a short query, best first."""

    query: str
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class EntityAnswer:
    """One entity: labels and descriptions per language, provenance, links both ways, similar entities."""

    iri: str
    title: str
    labels: dict[str, str]
    descriptions: dict[str, str]
    is_sample: bool
    types: tuple[Link, ...]
    sources: tuple[Link, ...]
    confidence: Link | None
    links: tuple[Link, ...]
    incoming: tuple[Link, ...]
    similar: tuple[SimilarEntity, ...]


@dataclass(frozen=True)
class MatrixCell:
    theme: str
    cluster: str
    mjps: int
    samples: int


@dataclass(frozen=True)
class FiguresAnswer:
    """Portfolio figures (Figure 1 and 2, budgets, real consortia), real and sample apart, and Figure 1 as theme x
    cluster cells."""

    figures: Figures
    theme_cluster: tuple[MatrixCell, ...]


@dataclass(frozen=True)
class MatchUpload:
    """A proposal to match as a form: pasted `text`, or an uploaded `file` (.txt, .md, .pdf, .docx), which wins."""

    text: str = ""
    file: bytes = b""
    top: int = DEFAULT_TOP
    kind: tuple[str, ...] = ()
    cluster: tuple[str, ...] = ()
    theme: tuple[str, ...] = ()
    mission: tuple[str, ...] = ()
    samples: str = "include"


@dataclass(frozen=True)
class MatchBody:
    """A proposal to match (JSON). Filters hold ids or IRIs; every filter takes one value or a list."""

    text: str
    top: int = DEFAULT_TOP
    kind: tuple[str, ...] = ()
    cluster: tuple[str, ...] = ()
    theme: tuple[str, ...] = ()
    mission: tuple[str, ...] = ()
    samples: str = "include"


@api.post("/match")
def match() -> Response:
    asked = read_proposal_request()
    result: MatchResult = services().matcher(current_audience()).match(asked.text, top=asked.top, filters=asked.filters())
    return json_answer(result.to_dict())


@dataclass(frozen=True)
class PartnersBody:
    """A proposal and the organisations already in its consortium: names (forgiving of case, accents,
    abbreviations and partial names), ids or IRIs."""

    text: str
    have: tuple[str, ...] = ()
    top: int = DEFAULT_TOP
    samples: str = "include"


@api.post("/partners")
def partners() -> Response:
    if not request.is_json:
        raise UnsupportedMediaType("send the proposal as application/json: {\"text\": \"...\", \"have\": [\"TNO\"]}")
    check_json_depth(request.get_data(cache=True))
    asked = read_partners_json(services().settings.base_uri)
    result = services().partners(current_audience()).suggest(asked.text, asked.have, top=asked.top,
                                                             include_samples=asked.include_samples)
    return json_answer(result.to_dict())


@api.get("/search")
def search() -> Response:
    query = request.args.get("q", "").strip()
    if not query:
        raise BadRequest("give the text to search for in ?q=")
    asked = read_options(request.args.getlist, services().settings.base_uri)
    result = services().matcher(current_audience()).match(query, top=asked.top, filters=asked.filters())
    hits = sorted((*result.questions, *result.programmes, *result.missions, *result.kem_categories),
                  key=lambda hit: -hit.score)[:asked.top]
    return json_answer(asdict(SearchAnswer(query, tuple(hits))))


@api.get("/entity")
def entity() -> Response:
    s = services()
    given = request.args.get("iri") or request.args.get("id")
    if not given:
        raise BadRequest("give ?id=<type>/<id> (for example programme/eccm) or ?iri=<entity IRI>")
    iri = entity_iri(s.settings.base_uri, given)
    view = entity_view(request_view(), iri)
    if view is None:
        raise NotFound(f"nothing is known about {iri}")
    return json_answer(asdict(entity_answer(view, s.similar(iri, current_audience()))))


def entity_answer(view: EntityView, similar: tuple[SimilarEntity, ...]) -> EntityAnswer:
    return EntityAnswer(view.iri, view.title, view.labels, view.descriptions, view.is_sample, view.types, view.sources,
                        view.confidence, view.links, view.incoming, similar)


@api.get("/figures")
def figures() -> Response:
    view = request_view()
    cache = version_cache()  # the dashboard's keys: computed once per store version for both
    matrix = cache.get(view, "matrix", lambda: theme_cluster_matrix(view))
    cells = tuple(MatrixCell(theme, cluster, cell.count, cell.samples) for (theme, cluster), cell in matrix.cells.items())
    return json_answer(asdict(FiguresAnswer(cache.get(view, "figures", lambda: compute_figures(view)), cells)))


@api.get("/openapi.json")
def openapi() -> Response:
    return json_answer(api_document())


@api.get("")
def index() -> str:
    """The API for people: every operation of the OpenAPI document with its method, route and summary (/api,
    not /api/, so the JSON routes under /api/ are exactly the documented ones)."""
    document = api_document()
    operations = [(method.upper(), path, op) for path, item in document["paths"].items() for method, op in item.items()]
    return render_template("api.html", operations=operations, server=document["servers"][0]["url"])


def api_document() -> dict[str, Any]:
    return openapi_document(
        OPERATIONS, title="Missiekompas API", version="1.0.0", server=url_for("match_page.home", _external=True).rstrip("/"),
        description="Match research proposals to the KIA Key Technologies (knowledge questions, MJPs, missions), "
                    "search the graph, read entities and portfolio figures, and the Kernteam analytics: mission blank "
                    "spots, overlapping MJPs, blank spots of a plan, changes between editions. Records marked "
                    "is_sample are illustrative.", serialised=ANALYTICS_SERIALISED)


FILTER_PARAMS = (
    Param("kind", f"only hits of these kinds: {', '.join(KINDS)}", repeated=True),
    Param("cluster", "only hits linked to these technology clusters (id or IRI)", repeated=True),
    Param("theme", "only hits linked to these societal themes (id or IRI)", repeated=True),
    Param("mission", "only hits linked to these missions (id or IRI)", repeated=True),
    Param("top", f"hits per section (1-{MAX_TOP}, default 10)", int),
    Param("samples", "include (default: sample records are shown, marked is_sample) or exclude (sample records "
                     "appear in no section, as no member and in no explanation)"),
)
OPERATIONS = (
    Operation("POST", "/api/match", "match", "Match a proposal",
              "The knowledge questions, consortia (the `programmes` section: programmes and projects, each with its "
              "lead and partners; a project also with its funding instrument, call and year), missions and MMIPs, "
              "KEM categories, and suggested clusters and themes for a proposal; every hit explains itself. Send "
              "JSON, a form, or a multipart upload with a .txt, .md, .pdf or .docx `file`. `samples`: include (the "
              "default; sample records are shown, marked is_sample) or exclude (left out of every section, member "
              "list and explanation; the answer's `samples` says which applied). Every hit has a `strength` (strong, "
              "fair or weak) from its `strength_score`, the hubness-corrected similarity, against the calibrated "
              "`strength_thresholds`; `no_strong_match` is true when nothing matches well, and "
              "`no_strong_match_note` then says so in Dutch and English.",
              MatchResult, {"samples_note": str | None, "no_strong_match_note": dict[str, str] | None},
              body={"application/json": MatchBody, "multipart/form-data": MatchUpload,
                    "application/x-www-form-urlencoded": MatchBody},
              errors=(400, 413, 415, 503)),
    Operation("POST", "/api/partners", "partners", "Suggest partners for a consortium",
              "Organisations whose track record (the programmes and projects they led or were partner of) fits the "
              "proposal and adds what the consortium (`have`: names, ids or IRIs, matched forgivingly: TNO, \"tu "
              "delft\") lacks: clusters, missions, a kind of organisation. Members are never suggested. Every "
              "suggestion names the projects behind it (`projects`, with their IRIs), the clusters and missions it "
              "adds, the members it already worked with and on which consortia (`worked_with`), and a `strength` "
              "(strong, fair or weak) of its `fit`; `score` is the fit plus the `bonus` for what it adds "
              "(docs/partners.md). `samples`: include (default, marked is_sample) or exclude. A name in `have` that "
              "finds no organisation, or several, is a 400 whose detail lists close names.",
              PartnersResult, body={"application/json": PartnersBody}, errors=(400, 413, 415, 503)),
    Operation("GET", "/api/search", "search", "Search the graph",
              "Hits of every kind for a short text, best first, with the same explanations as a match.",
              SearchAnswer, params=(Param("q", "the text to search for", required=True), *FILTER_PARAMS),
              errors=(400, 503)),
    Operation("GET", "/api/entity", "entity", "One entity",
              "Labels, descriptions, source, confidence, links both ways and similar entities of one entity.",
              EntityAnswer, params=(Param("id", "type and id, e.g. programme/eccm"), Param("iri", "the entity's IRI")),
              errors=(400, 404)),
    Operation("GET", "/api/figures", "figures", "Portfolio figures",
              "Figure 1 (MJPs per theme and cluster, also as theme x cluster cells; each share with its real and sample "
              "MJPs), Figure 2 (questions per cluster, with how many are proxies), budget totals and links per MJP (real "
              "and sample apart; `sample_only` marks what rests on samples only), the real consortia (MJPs, programmes "
              "and projects, no samples) per theme and cluster, and what the agenda reports about itself.",
              FiguresAnswer),
    *ANALYTICS_OPERATIONS,
    Operation("GET", "/api/openapi.json", "openapi", "This document", "The OpenAPI 3.1 description of this API.",
              dict[str, Any]),
)
