"""Which IRIs become links on a page: our own entities (as /id/ paths), the ontology and its terms (as
/ontology and its anchors) and http(s) IRIs; any other IRI in the data (javascript:, data:, vbscript:,
urn:, ...) is shown as escaped text, never an href."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from ontology import ONTOLOGY_IRI

WEB_IRI = re.compile(r"https?://[^\x00-\x20\x7f]+\Z", re.IGNORECASE)  # the scheme browsers would run, checked whole


def local_href(iri: str, base: str) -> str | None:
    """Where a link to `iri` goes: /id/... for our own entities, /ontology#Term for the ontology's terms,
    the IRI itself for other http(s) IRIs, None for anything else."""
    if iri.startswith(base):
        return "/id/" + iri[len(base):]
    if not WEB_IRI.match(iri):
        return None
    if iri == ONTOLOGY_IRI or iri.startswith(ONTOLOGY_IRI + "#"):
        return "/ontology" + iri[len(ONTOLOGY_IRI):]
    return iri


def iri_link(iri: str, label: str, base: str, css_class: str = "") -> Markup:
    """`label` as a link to `iri` where `iri` may be one (see local_href); otherwise `label` as text.
    Both are escaped (a label already rendered as Markup is kept as it is)."""
    href = local_href(iri, base)
    if href is None:
        return escape(label)
    if css_class:
        return Markup('<a class="{}" href="{}">{}</a>').format(css_class, href, label)
    return Markup('<a href="{}">{}</a>').format(href, label)
