"""The Kernteam analytics in the JSON API: mission blank spots, overlapping consortia, blank spots of a
plan, editions and what changed between two. Each reads the request's audience (view and index); the
portfolio analyses take ?samples=exclude to leave the sample consortia out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from flask import Blueprint, Response, request

from kg.editions import Coverage as EditionCoverage
from kg.editions import Edition, EditionDiff, choose_editions, diff_editions, list_editions
from search.gaps import KIND_ORDER, MissionGaps, find_mission_gaps
from search.gaps import Coverage as GapCoverage
from search.index import SearchIndex
from search.overlaps import Overlaps, find_overlaps
from search.plan_gaps import PlanGaps, QuestionGap, consortium_iri, find_consortium_gaps, find_upload_gaps
from search.portfolio import COUNT_KEYS, include_samples
from web.api_io import FORM_TYPES, json_answer, read_proposal_request
from web.auth import current_audience, request_view
from web.errors import BadRequest
from web.openapi import Operation, Param, Serialised
from web.proposal import DEFAULT_TOP, MAX_TOP, read_options
from web.services import services

api_analytics = Blueprint("api_analytics", __name__, url_prefix="/api")


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


def _samples() -> bool:
    """?samples=include (the default) or exclude: whether the sample consortia count."""
    try:
        return include_samples(request.args.get("samples"))
    except ValueError as exc:
        raise BadRequest(f"?{exc}; give include (the default) or exclude") from exc


@api_analytics.get("/gaps")
def gaps() -> Response:
    kinds = request.args.getlist("kind")
    wrong = [k for k in kinds if k not in KIND_ORDER]
    if wrong:
        raise BadRequest(f"?kind={wrong[0]} is not a kind of item; choose from {', '.join(KIND_ORDER)}")
    top, threshold = _top(), _threshold(services().settings.gap_threshold)
    result = find_mission_gaps(request_view(), _index(), threshold, samples=_samples())
    chosen = replace(result, items=tuple(c for c in result.items if not kinds or c.kind in kinds))
    answer = chosen.to_dict()
    return json_answer({**answer, "items": answer["items"][:top], "total": len(chosen.items)})


@api_analytics.get("/overlaps")
def overlaps() -> Response:
    s = services()
    top, threshold = _top(), _threshold(s.settings.overlap_threshold)
    matcher = s.matcher(current_audience())
    result = find_overlaps(request_view(), matcher.index, threshold, concepts=matcher.explainer.concepts,
                           samples=_samples())
    answer = result.to_dict()
    return json_answer({**answer, "pairs": answer["pairs"][:top], "total": len(result.pairs)})


@api_analytics.get("/plan-gaps")
def plan_gaps_of_consortium() -> Response:
    s = services()
    given = (request.args.get("consortium") or request.args.get("mjp") or "").strip()
    if not given:
        raise BadRequest("give the consortium as ?consortium=<id> (an MJP's id such as sample-mjp-04, programme/<id> "
                         "or project/<id>) or ?consortium=<its IRI>; ?mjp= is read the same way")
    iri = consortium_iri(s.settings.base_uri, given)
    top = read_options(request.args.getlist, s.settings.base_uri).top
    result = find_consortium_gaps(request_view(), _index(), iri, _threshold(s.settings.gap_threshold), limit=top,
                                  samples=_samples())
    return json_answer(result.to_dict())


@api_analytics.post("/plan-gaps")
def plan_gaps_of_text() -> Response:
    s = services()
    asked = read_proposal_request()
    upload = request.files.get("file") if (request.mimetype or "").lower() in FORM_TYPES else None
    name = upload.filename if upload is not None and upload.filename else "uploaded plan"
    result = find_upload_gaps(s.matcher(current_audience()), asked.text, _threshold(s.settings.gap_threshold),
                              name=name, limit=asked.top)
    return json_answer(result.to_dict())


@api_analytics.get("/editions")
def editions() -> Response:
    view = request_view()
    choice = choose_editions(view, None, None)
    return json_answer(asdict(EditionsAnswer(tuple(list_editions(view)), choice.before, choice.after)))


@api_analytics.get("/editions/diff")
def edition_diff() -> Response:
    view = request_view()
    choice = choose_editions(view, request.args.get("before"), request.args.get("after"))
    return json_answer(diff_editions(view, choice.before, choice.after).to_dict())


THRESHOLD = Param("threshold", "similarity (cosine, -1 to 1) from which a text counts (default: the calibrated one)",
                  float)
SAMPLES = Param("samples", "include (default) or exclude: whether the sample consortia (illustrative records) and their "
                "links and texts count")
# Where a result's to_dict() differs from its dataclass fields (computed properties added, fields left out).
ANALYTICS_SERIALISED = {
    GapCoverage: Serialised(adds={"is_linked": bool, "is_similar": bool, "status": str}, drops=("threshold",)),
    MissionGaps: Serialised(adds={**COUNT_KEYS, "counts": dict[str, int], "samples_note": str | None},
                            drops=("portfolio",)),
    QuestionGap: Serialised(adds={"is_addressed": bool}, drops=("threshold",)),
    PlanGaps: Serialised(adds={"samples_note": str | None}),
    Overlaps: Serialised(adds={**COUNT_KEYS, "samples_note": str | None}, drops=("portfolio",)),
    EditionCoverage: Serialised(adds={"delta": int}),
}
ANALYTICS_OPERATIONS = (
    Operation("GET", "/api/gaps", "gaps", "Mission blank spots",
              "Every mission, MMIP and mission question with the number of consortia (MJPs, programmes and projects) "
              "linked to it, per kind, and the best similarity of any consortium's text to it (and that consortium); "
              "status blank, unlinked, weak or covered; fewest links first, then lowest similarity. `counts` and "
              "`total` cover every item of the chosen kinds, `items` the first `top`; `real_consortia` and "
              "`sample_consortia` say what was counted.",
              MissionGaps, {"total": int},
              params=(Param("kind", f"only items of these kinds: {', '.join(KIND_ORDER)}", repeated=True),
                      Param("top", "items listed (default: all)", int), THRESHOLD, SAMPLES),
              errors=(400, 503)),
    Operation("GET", "/api/overlaps", "overlaps", "Overlapping consortia",
              "Pairs of consortia (MJPs, programmes and projects) whose aims as a whole reach the overlap threshold, "
              "most similar first, with the concepts both texts mention and the links they share; groups are the "
              "connected pairs. `total` counts every pair, `pairs` lists the first `top`.",
              Overlaps, {"total": int}, params=(Param("top", "pairs listed (default: all)", int), THRESHOLD, SAMPLES),
              errors=(400, 503)),
    Operation("GET", "/api/plan-gaps", "plan_gaps_of_consortium", "Blank spots of a consortium",
              "The knowledge questions of the consortium's clusters and themes that it neither links to nor reaches "
              "with its text, closest first, and the ones it addresses.",
              PlanGaps, params=(Param("consortium", "the consortium: an MJP's id (e.g. sample-mjp-04), programme/<id>, "
                                      "project/<id> or its IRI", required=True),
                                Param("mjp", "the same as consortium (kept for older links)"),
                                Param("top", f"blank spots listed (1-{MAX_TOP}, default {DEFAULT_TOP})", int),
                                THRESHOLD, SAMPLES),
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
)
