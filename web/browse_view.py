"""What a browse page shows around its list: the query it was asked with, the active filters as removable chips,
and a sort link per column."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kg.listing import Listing, Ref

Query = dict[str, list[str]]  # query parameter -> values, as url_for takes them


@dataclass(frozen=True)
class Chip:
    """One active filter: a facet's chosen value (or the search text) and the page without it."""

    facet: str  # "q" for the search text
    ref: Ref
    remove_url: str


@dataclass(frozen=True)
class SortLink:
    column: str
    url: str  # the list sorted by this column (the other way round when it is sorted so already)
    state: str  # "ascending", "descending" or "" (as aria-sort names it)


def page_query(listing: Listing, selected: Mapping[str, list[str]]) -> Query:
    """The parameters that make this page: the chosen facet values, the text and the sort."""
    query = {facet: list(values) for facet, values in selected.items() if values}
    if listing.text:
        query["q"] = [listing.text]
    if listing.sort:
        query["sort"] = [listing.sort]
    return query


def chips(listing: Listing, query: Query, url: Callable[[Query], str]) -> tuple[Chip, ...]:
    """The search text and every chosen value, in the facets' order, each with the page that drops it."""
    found = []
    if listing.text:
        found.append(Chip("q", Ref(listing.text), url(_without(query, "q", listing.text))))
    for facet in listing.facets:
        for option in facet.options:
            if option.is_selected:
                found.append(Chip(facet.name, option.ref, url(_without(query, facet.name, option.ref.value))))
    return tuple(found)


def sort_links(listing: Listing, query: Query, url: Callable[[Query], str]) -> dict[str, SortLink]:
    """A link per column ("name" and every other): the first click sorts ascending (counts: fewest first, so the
    blank spots come first), the next one descending."""
    current = listing.sort or "name"
    links = {}
    for column in ("name", *listing.spec.columns):
        state = "ascending" if current == column else "descending" if current == f"-{column}" else ""
        target = f"-{column}" if state == "ascending" else column
        links[column] = SortLink(column, url({**query, "sort": [target]} if target != "name" else _drop(query, "sort")),
                                 state)
    return links


def _without(query: Query, name: str, value: str) -> Query:
    left = [v for v in query.get(name, []) if v != value]
    return {**_drop(query, name), **({name: left} if left else {})}


def _drop(query: Query, name: str) -> Query:
    return {k: v for k, v in query.items() if k != name}
