"""One entity: its description as RDF, and a view (labels, texts, links both ways) for pages."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from rdflib import Graph

from kg.queries import named_query
from kg.store import Store
from ontology import MK

SKOS_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
SKOS_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
DESCRIPTION = "http://purl.org/dc/terms/description"
TEXT_PROPERTIES = (SKOS_PREF, DESCRIPTION)
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SOURCE = "http://www.w3.org/ns/prov#wasDerivedFrom"
CONFIDENCE = str(MK.confidence)
ABOUT_PROPERTIES = (RDF_TYPE, SOURCE, CONFIDENCE)  # shown apart from the other links on a page
# A per-link confidence of a programme or project -> the links it qualifies (a role stands for its members).
LINK_CONFIDENCES = {
    str(MK.missionLinkConfidence): str(MK.contributesToMission), str(MK.mmipLinkConfidence): str(MK.contributesToMMIP),
    str(MK.themeLinkConfidence): str(MK.theme), str(MK.clusterLinkConfidence): str(MK.cluster),
    str(MK.leadConfidence): str(MK.LeadRole), str(MK.partnersConfidence): str(MK.PartnerRole),
}


@dataclass(frozen=True)
class Link:
    property_iri: str
    property_label: str
    value: str
    label: str | None

    @property
    def is_iri(self) -> bool:
        return self.value.startswith(("http://", "https://", "urn:"))


@dataclass(frozen=True)
class EntityView:
    iri: str
    labels: dict[str, str]
    descriptions: dict[str, str]
    is_sample: bool
    outgoing: tuple[Link, ...]
    incoming: tuple[Link, ...]
    alt_labels: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language -> other names, sorted

    @property
    def title(self) -> str:
        return self.labels.get("nl") or self.labels.get("en") or next(iter(self.labels.values()), self.iri)

    @property
    def types(self) -> tuple[Link, ...]:
        return tuple(link for link in self.outgoing if link.property_iri == RDF_TYPE)

    @property
    def sources(self) -> tuple[Link, ...]:
        return tuple(link for link in self.outgoing if link.property_iri == SOURCE)

    @property
    def confidence(self) -> Link | None:
        return next((link for link in self.outgoing if link.property_iri == CONFIDENCE), None)

    @property
    def links(self) -> tuple[Link, ...]:
        """The outgoing links other than type, source and confidence."""
        return tuple(link for link in self.outgoing if link.property_iri not in ABOUT_PROPERTIES)

    @property
    def page_links(self) -> tuple[Link, ...]:
        """The links a page lists: `links` less the sample mark (a badge) and the per-link confidences,
        which the page shows next to the links they qualify (link_confidence)."""
        return tuple(link for link in self.links if link.property_iri not in (*LINK_CONFIDENCES, str(MK.isSample)))

    def link_confidence(self, property_iri: str) -> Link | None:
        """How certain this record's links by `property_iri` are, where the record says so apart."""
        return next((link for link in self.outgoing if LINK_CONFIDENCES.get(link.property_iri) == property_iri), None)


def describe_entity(store: Store, iri: str) -> Graph:
    graph = Graph()
    graph.parse(data=store.query_to(named_query("describe_entity", this=iri), "nt"), format="nt")
    return graph


def entity_view(store: Store, iri: str) -> EntityView | None:
    """Everything a page shows about `iri`, or None when the graph says nothing about it."""
    texts: dict[str, dict[str, str]] = {SKOS_PREF: {}, DESCRIPTION: {}}
    is_sample = False
    alt_labels: dict[str, set[str]] = defaultdict(set)
    for r in store.select(named_query("entity_texts", this=iri)):
        if r["property"] == str(MK.isSample):
            is_sample = bool(r["sample"])
        elif r["property"] == SKOS_ALT:
            alt_labels[str(r.get("lang") or "")].add(str(r["text"]))
        else:
            texts[str(r["property"])][str(r.get("lang") or "")] = str(r["text"])
    rows = store.select(named_query("entity_links", this=iri))
    if not rows and not texts[SKOS_PREF]:
        return None
    out: dict[tuple[str, str], Link] = {}
    inc: dict[tuple[str, str], Link] = {}
    for r in rows:
        prop, value = str(r["property"]), str(r["value"])
        if prop in TEXT_PROPERTIES and r["direction"] == "out":
            continue
        label = str(r.get("propertyLabel") or _words(prop.rsplit("#", 1)[-1].rsplit("/", 1)[-1]))
        target = out if r["direction"] == "out" else inc
        if (prop, value) not in target or r.get("lang") == "nl":
            target[(prop, value)] = Link(prop, label, value, str(r["valueLabel"]) if "valueLabel" in r else None)
    order = lambda link: (link.property_label, link.label or link.value)  # noqa: E731
    return EntityView(iri, texts[SKOS_PREF], texts[DESCRIPTION], is_sample,
                      tuple(sorted(out.values(), key=order)), tuple(sorted(inc.values(), key=order)),
                      {lang: tuple(sorted(names, key=str.casefold)) for lang, names in alt_labels.items()})


def _words(name: str) -> str:
    """A property's local name as words, for a property without a label: editorialNote -> editorial note."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower()
