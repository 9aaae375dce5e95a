"""Browse: a list page per kind of entity (clusters, themes, missions, MMIPs, programmes, projects,
questions, organisations, KEM categories) with facets and counts, a text search and sortable columns,
each downloadable as CSV."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for

from kg.listing import LISTS, Listing, list_entities, list_sizes
from web.auth import request_view
from web.browse_view import Query, chips, page_query, sort_links
from web.errors import NotFound
from web.exports import csv_download
from web.i18n import current_language

browse = Blueprint("browse", __name__)


@browse.get("/browse")
def index() -> str:
    return render_template("browse_index.html", sizes=list_sizes(request_view()))


@browse.get("/browse/<name>")
def listing(name: str) -> Response | str:
    if name not in LISTS:
        raise NotFound(f"no list named {name!r}; choose from {', '.join(LISTS)}")
    lang = current_language()
    selected = {facet: request.args.getlist(facet) for facet in LISTS[name].filters}
    found = list_entities(request_view(), name, selected, lang, text=request.args.get("q", ""),
                          sort=request.args.get("sort", ""))
    if request.args.get("format") == "csv":
        return _csv(found, lang)
    query = page_query(found, selected)

    def url(changed: Query) -> str:
        return url_for("browse.listing", name=name, **changed)

    return render_template("browse_list.html", listing=found, query=query, chips=chips(found, query, url),
                           sorts=sort_links(found, query, url))


def _csv(found: Listing, lang: str) -> Response:
    columns = found.spec.value_columns
    header = ["iri", "label", "is_sample", *columns, *found.spec.counts]
    rows = [[item.iri, item.label(lang), item.is_sample,
             *("; ".join(ref.label(lang) for ref in item.values.get(c, ())) for c in columns),
             *(item.counts[c] for c in found.spec.counts)] for item in found.items]
    return csv_download(header, rows, f"missiekompas-{found.name}.csv")
