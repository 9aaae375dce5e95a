"""The JSON API under /api/: match, search, entity, figures, the Kernteam analytics (mission blank spots,
overlapping MJPs, blank spots of a plan, edition changes) and its OpenAPI 3.1 document. Errors are
application/problem+json (web/errors.py). Every answer reads the request's audience: its view and its index."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from flask import Blueprint, Response, json, request, url_for

from kg.editions import Coverage as EditionCoverage
from kg.editions import Edition, EditionDiff, diff_editions, list_editions
from kg.entity import EntityView, Link, entity_view
from kg.figures import Figures, compute_figures
from kg.matrix import theme_cluster_matrix
from kg.uris import is_slug, mint_uri
from search.gaps import KIND_ORDER, MissionGaps, find_mission_gaps
from search.gaps import Coverage as GapCoverage
from search.index import SearchIndex
from search.overlaps import Overlaps, find_overlaps
from search.plan_gaps import PlanGaps, QuestionGap, find_mjp_gaps, find_upload_gaps
from search.result import Hit, MatchResult
from search.similar import SimilarEntity
from web.auth import current_audience, request_view
from web.dashboard import choose_editions
from web.errors import BadRequest, NotFound, UnsupportedMediaType
from web.openapi import Operation, Param, Serialised, openapi_document
from web.proposal import DEFAULT_TOP, KINDS, MAX_TOP, MatchRequest, read_form_request, read_json_request, read_options
from web.services import services

api = Blueprint("api", __name__, url_prefix="/api")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


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
    """Portfolio figures (Figure 1 and 2, budgets) and Figure 1 as theme x cluster cells."""

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


@dataclass(frozen=True)
class MatchBody:
    """A proposal to match (JSON). Filters hold ids or IRIs; every filter takes one value or a list."""

    text: str
    top: int = DEFAULT_TOP
    kind: tuple[str, ...] = ()
    cluster: tuple[str, ...] = ()
    theme: tuple[str, ...] = ()
    mission: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanBody:
    """A research plan whose blank spots to find (JSON or a form): its text, and how many blank spots to list."""

    text: str
    top: int = DEFAULT_TOP


@dataclass(frozen=True)
class PlanUpload:
    """A research plan as a form: pasted `text`, or an uploaded `file` (.txt, .md, .pdf, .docx), which wins."""

    text: str = ""
    file: bytes = b""
    top: int = DEFAULT_TOP


@dataclass(frozen=True)
class EditionsAnswer:
    """The editions of the portfolio (past ones by name, then `current`) and the two a diff compares by default."""

    editions: tuple[Edition, ...]
    default_before: str
    default_after: str


def _json(value: Any) -> Response:
    return Response(json.dumps(value, ensure_ascii=False), content_type="application/json")


def _proposal() -> MatchRequest:
    """The text (pasted or an uploaded file), filters and `top` of a JSON or form body."""
    settings = services().settings
    if request.is_json:
        return read_json_request(settings.base_uri)
    if (request.mimetype or "").lower() in FORM_TYPES:
        return read_form_request(settings.base_uri, settings.max_body_bytes)
    raise UnsupportedMediaType(f"send the text as application/json, {' or '.join(FORM_TYPES)}")


@api.post("/match")
def match() -> Response:
    asked = _proposal()
    result: MatchResult = services().matcher(current_audience()).match(asked.text, top=asked.top, filters=asked.filters())
    return _json(result.to_dict())


@api.get("/search")
def search() -> Response:
    query = request.args.get("q", "").strip()
    if not query:
        raise BadRequest("give the text to search for in ?q=")
    asked = read_options(request.args.getlist, services().settings.base_uri)
    result = services().matcher(current_audience()).match(query, top=asked.top, filters=asked.filters())
    hits = sorted((*result.questions, *result.programmes, *result.missions, *result.kem_categories),
                  key=lambda hit: -hit.score)[:asked.top]
    return _json(asdict(SearchAnswer(query, tuple(hits))))


@api.get("/entity")
def entity() -> Response:
    s = services()
    given = request.args.get("iri") or request.args.get("id")
    if not given:
        raise BadRequest("give ?id=<type>/<id> (for example programme/eccm) or ?iri=<entity IRI>")
    iri = given if given.startswith(("http://", "https://")) else s.settings.base_uri + given.strip("/")
    view = entity_view(request_view(), iri)
    if view is None:
        raise NotFound(f"nothing is known about {iri}")
    return _json(asdict(entity_answer(view, s.similar(iri, current_audience()))))


def entity_answer(view: EntityView, similar: tuple[SimilarEntity, ...]) -> EntityAnswer:
    return EntityAnswer(view.iri, view.title, view.labels, view.descriptions, view.is_sample, view.types, view.sources,
                        view.confidence, view.links, view.incoming, similar)


@api.get("/figures")
def figures() -> Response:
    view = request_view()
    matrix = theme_cluster_matrix(view)
    cells = tuple(MatrixCell(theme, cluster, cell.count, cell.samples) for (theme, cluster), cell in matrix.cells.items())
    return _json(asdict(FiguresAnswer(compute_figures(view), cells)))


def _index() -> SearchIndex:
    """The search index of the request's audience (503 where search is not set up)."""
    return services().matcher(current_audience()).index


def _top() -> int | None:
    """?top=: how many to list, at least 1; None (all) when not given."""
    given = request.args.get("top", "").strip()
    if not given:
        return None
    try:
        value = int(given)
    except ValueError:
        value = 0
    if value < 1:
        raise BadRequest(f"?top= takes a whole number of at least 1, not {given!r}")
    return value


def _threshold(default: float) -> float:
    """?threshold=: a cosine similarity between -1 and 1; `default` (from the settings) when not given."""
    given = request.args.get("threshold", "").strip()
    if not given:
        return default
    try:
        value = float(given)
    except ValueError:
        value = float("nan")
    if not -1 <= value <= 1:
        raise BadRequest(f"?threshold= takes a cosine similarity between -1 and 1, not {given!r}")
    return value


@api.get("/gaps")
def gaps() -> Response:
    kinds = request.args.getlist("kind")
    wrong = [k for k in kinds if k not in KIND_ORDER]
    if wrong:
        raise BadRequest(f"?kind={wrong[0]} is not a kind of item; choose from {', '.join(KIND_ORDER)}")
    top, threshold = _top(), _threshold(services().settings.gap_threshold)
    result = find_mission_gaps(request_view(), _index(), threshold)
    chosen = replace(result, items=tuple(c for c in result.items if not kinds or c.kind in kinds))
    answer = chosen.to_dict()
    return _json({**answer, "items": answer["items"][:top], "total": len(chosen.items)})


@api.get("/overlaps")
def overlaps() -> Response:
    s = services()
    top, threshold = _top(), _threshold(s.settings.overlap_threshold)
    matcher = s.matcher(current_audience())
    result = find_overlaps(request_view(), matcher.index, threshold, concepts=matcher.explainer.concepts)
    answer = result.to_dict()
    return _json({**answer, "pairs": answer["pairs"][:top], "total": len(result.pairs)})


@api.get("/plan-gaps")
def plan_gaps_of_mjp() -> Response:
    s = services()
    given = request.args.get("mjp", "").strip()
    if not given:
        raise BadRequest("give the MJP as ?mjp=<id> (for example sample-mjp-04) or ?mjp=<its IRI>")
    if not given.startswith(("http://", "https://")) and not is_slug(given):
        raise BadRequest(f"?mjp={given} is neither an MJP id nor an IRI")
    iri = given if given.startswith(("http://", "https://")) else str(mint_uri(s.settings.base_uri, "programme", given))
    top = read_options(request.args.getlist, s.settings.base_uri).top
    result = find_mjp_gaps(request_view(), _index(), iri, _threshold(s.settings.gap_threshold), limit=top)
    return _json(result.to_dict())


@api.post("/plan-gaps")
def plan_gaps_of_text() -> Response:
    s = services()
    asked = _proposal()
    upload = request.files.get("file") if (request.mimetype or "").lower() in FORM_TYPES else None
    name = upload.filename if upload is not None and upload.filename else "uploaded plan"
    result = find_upload_gaps(s.matcher(current_audience()), asked.text, _threshold(s.settings.gap_threshold),
                              name=name, limit=asked.top)
    return _json(result.to_dict())


@api.get("/editions")
def editions() -> Response:
    view = request_view()
    choice = choose_editions(view, None, None)
    return _json(asdict(EditionsAnswer(tuple(list_editions(view)), choice.before, choice.after)))


@api.get("/editions/diff")
def edition_diff() -> Response:
    view = request_view()
    choice = choose_editions(view, request.args.get("before"), request.args.get("after"))
    return _json(diff_editions(view, choice.before, choice.after).to_dict())


@api.get("/openapi.json")
def openapi() -> Response:
    document = openapi_document(
        OPERATIONS, title="Missiekompas API", version="1.0.0", server=url_for("match_page.home", _external=True).rstrip("/"),
        description="Match research proposals to the KIA Key Technologies (knowledge questions, MJPs, missions), "
                    "search the graph, read entities and portfolio figures, and the Kernteam analytics: mission blank "
                    "spots, overlapping MJPs, blank spots of a plan, changes between editions. Records marked "
                    "is_sample are illustrative.", serialised=SERIALISED)
    return _json(document)


FILTER_PARAMS = (
    Param("kind", f"only hits of these kinds: {', '.join(KINDS)}", repeated=True),
    Param("cluster", "only hits linked to these technology clusters (id or IRI)", repeated=True),
    Param("theme", "only hits linked to these societal themes (id or IRI)", repeated=True),
    Param("mission", "only hits linked to these missions (id or IRI)", repeated=True),
    Param("top", f"hits per section (1-{MAX_TOP}, default 10)", int),
)
THRESHOLD = Param("threshold", "similarity (cosine, -1 to 1) from which a text counts (default: the calibrated one)",
                  float)
# Where a result's to_dict() differs from its dataclass fields (computed properties added, fields left out).
SERIALISED = {
    GapCoverage: Serialised(adds={"is_linked": bool, "is_similar": bool, "status": str}, drops=("threshold",)),
    MissionGaps: Serialised(adds={"counts": dict[str, int], "samples_note": str | None}),
    QuestionGap: Serialised(adds={"is_addressed": bool}, drops=("threshold",)),
    PlanGaps: Serialised(adds={"samples_note": str | None}),
    Overlaps: Serialised(adds={"samples_note": str | None}),
    EditionCoverage: Serialised(adds={"delta": int}),
}
OPERATIONS = (
    Operation("POST", "/api/match", "match", "Match a proposal",
              "The knowledge questions, programmes (with lead and partners), missions and MMIPs, KEM categories, and "
              "suggested clusters and themes for a proposal; every hit explains itself. Send JSON, a form, or a "
              "multipart upload with a .txt, .md, .pdf or .docx `file`.",
              MatchResult, {"samples_note": str | None},
              body={"application/json": MatchBody, "multipart/form-data": MatchUpload,
                    "application/x-www-form-urlencoded": MatchBody},
              errors=(400, 413, 415, 503)),
    Operation("GET", "/api/search", "search", "Search the graph",
              "Hits of every kind for a short text, best first, with the same explanations as a match.",
              SearchAnswer, params=(Param("q", "the text to search for", required=True), *FILTER_PARAMS),
              errors=(400, 503)),
    Operation("GET", "/api/entity", "entity", "One entity",
              "Labels, descriptions, source, confidence, links both ways and similar entities of one entity.",
              EntityAnswer, params=(Param("id", "type and id, e.g. programme/eccm"), Param("iri", "the entity's IRI")),
              errors=(400, 404)),
    Operation("GET", "/api/figures", "figures", "Portfolio figures",
              "Figure 1 (MJPs per theme and cluster, also as theme x cluster cells), Figure 2 (questions per cluster), "
              "budget totals and what the agenda reports about itself.", FiguresAnswer),
    Operation("GET", "/api/gaps", "gaps", "Mission blank spots",
              "Every mission, MMIP and mission question with the number of MJPs linked to it and the best similarity of "
              "any MJP text to it (and that MJP); status blank, unlinked, weak or covered; fewest links first, then "
              "lowest similarity. `counts` and `total` cover every item of the chosen kinds, `items` the first `top`.",
              MissionGaps, {"total": int},
              params=(Param("kind", f"only items of these kinds: {', '.join(KIND_ORDER)}", repeated=True),
                      Param("top", "items listed (default: all)", int), THRESHOLD),
              errors=(400, 503)),
    Operation("GET", "/api/overlaps", "overlaps", "Overlapping MJPs",
              "Pairs of MJPs whose aims as a whole reach the overlap threshold, most similar first, with the concepts "
              "both texts mention and the links they share; groups are the connected pairs. `total` counts every pair, "
              "`pairs` lists the first `top`.",
              Overlaps, {"total": int}, params=(Param("top", "pairs listed (default: all)", int), THRESHOLD),
              errors=(400, 503)),
    Operation("GET", "/api/plan-gaps", "plan_gaps_of_mjp", "Blank spots of an MJP",
              "The knowledge questions of the MJP's clusters and themes that it neither links to nor reaches with its "
              "text, closest first, and the ones it addresses.",
              PlanGaps, params=(Param("mjp", "the MJP's id (e.g. sample-mjp-04) or IRI", required=True),
                                Param("top", f"blank spots listed (1-{MAX_TOP}, default {DEFAULT_TOP})", int),
                                THRESHOLD),
              errors=(400, 404, 503)),
    Operation("POST", "/api/plan-gaps", "plan_gaps_of_text", "Blank spots of a plan",
              "The knowledge questions of the clusters and themes suggested for a research plan that no passage of it "
              "reaches, closest first. Send JSON, a form, or a multipart upload with a .txt, .md, .pdf or .docx `file`.",
              PlanGaps, params=(THRESHOLD,),
              body={"application/json": PlanBody, "multipart/form-data": PlanUpload,
                    "application/x-www-form-urlencoded": PlanBody},
              errors=(400, 413, 415, 503)),
    Operation("GET", "/api/editions", "editions", "Editions of the portfolio",
              "The past editions (named graphs) and `current`, and the two that a diff compares by default.",
              EditionsAnswer),
    Operation("GET", "/api/editions/diff", "edition_diff", "What changed between two editions",
              "New, dropped and changed MJPs (with their changed fields), and MJPs per mission in both editions.",
              EditionDiff, params=(Param("before", "the earlier edition (default: the latest past one)"),
                                   Param("after", "the later edition (default: current)")),
              errors=(404,)),
    Operation("GET", "/api/openapi.json", "openapi", "This document", "The OpenAPI 3.1 description of this API.",
              dict[str, Any]),
)
