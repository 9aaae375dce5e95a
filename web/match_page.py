"""The home page: what Missiekompas is, and matching a pasted or uploaded proposal (a plain form POST, no JavaScript needed)."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from kg.listing import filter_options
from kg.references import describe_references
from search.organisation_names import UnknownOrganisation
from search.partners import PartnersResult
from search.readers import MAX_TEXT_CHARS
from search.result import MatchResult
from web.auth import current_audience, request_view
from web.errors import status_of
from web.exports import match_csv, match_json
from web.highlight import highlight_concepts
from web.i18n import current_language, message, number
from web.proposal import KINDS, MAX_TOP, MatchRequest, Refusal, read_form_request, read_options, split_names
from web.services import services

match_page = Blueprint("match_page", __name__)
match_page.add_app_template_global(highlight_concepts, "highlight")
SECTIONS = ("questions", "programmes", "missions", "kem_categories")


@match_page.get("/")
def home() -> str:
    return _page(MatchRequest())


@match_page.get("/match")
def match_again() -> Response:
    """Results come from a POST; a bookmarked or reloaded /match starts again at the form."""
    return redirect(url_for("match_page.home"), code=303)


@match_page.post("/match")
def match() -> Response | tuple[str, int] | str:
    settings = services().settings
    try:
        asked = read_form_request(settings.base_uri, settings.max_body_bytes)
    except Refusal as refusal:
        return _page(_echo(settings.base_uri), error=refusal.text(current_language())), status_of(refusal)[0]
    result = services().matcher(current_audience()).match(asked.text, top=asked.top, filters=asked.filters())
    fmt = request.form.get("format")
    if fmt == "csv":
        return match_csv(result)
    if fmt == "json":
        return match_json(result)
    have = split_names(request.form.getlist("have"))
    partners, partners_error = _partners(asked, have)
    return _page(asked, result=result, have=have, partners=partners, partners_error=partners_error)


def _partners(asked: MatchRequest, have: tuple[str, ...]) -> tuple[PartnersResult | None, str | None]:
    """Partner suggestions for the matched proposal, or the message that a member's name finds no organisation."""
    try:
        return services().partners(current_audience()).suggest(
            asked.text, have, top=asked.top, include_samples=asked.samples != "exclude"), None
    except UnknownOrganisation as exc:
        key = "partners.ambiguous" if exc.ambiguous else "partners.unknown"
        return None, message(key, current_language(), name=exc.name, close=", ".join(exc.close) or "-")


def _page(form: MatchRequest, *, result: MatchResult | None = None, error: str | None = None,
          have: tuple[str, ...] = (), partners: PartnersResult | None = None, partners_error: str | None = None) -> str:
    lang = current_language()
    sections = [(key, getattr(result, key)) for key in SECTIONS] if result else []
    options = filter_options(request_view(), lang)
    named = {ref.value: ref for refs in options.values() for ref in refs}  # labels in both languages
    return render_template("match.html", form=form, result=result, sections=sections, error=error, kinds=KINDS,
                           have=have, partners=partners, partners_error=partners_error,
                           names=_names_on_page(result, partners),
                           options=options, named=named, max_top=MAX_TOP,
                           limits={"text": number(MAX_TEXT_CHARS),
                                   "file": f"{services().settings.max_body_bytes / 1_000_000:.1f} MB"})


def _names_on_page(result: MatchResult | None, partners: PartnersResult | None) -> dict[str, dict[str, str]]:
    """IRI -> labels per language of the organisations and consortia the page names, so each is shown in
    the reader's language (search results carry one label)."""
    iris = {m.iri for name in SECTIONS for hit in (getattr(result, name) if result else ()) for m in hit.members}
    if partners:
        iris |= {m.iri for m in partners.consortium.members}
        for s in partners.suggestions:
            iris |= {s.iri, *(p.consortium.iri for p in s.projects), *(w.member.iri for w in s.worked_with),
                     *(c.iri for w in s.worked_with for c in w.consortia)}
    return {iri: ref.labels for iri, ref in describe_references(request_view(), iris).items()}


def _echo(base: str) -> MatchRequest:
    """The refused form as it was sent, to show it again (what cannot be read stays empty)."""
    try:
        text = request.form.get("text", "")
    except RequestEntityTooLarge:
        return MatchRequest()
    try:
        options = read_options(request.form.getlist, base)
    except Refusal:
        return MatchRequest(text)
    return replace(options, text=text)
