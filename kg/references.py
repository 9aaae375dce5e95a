"""The entities a page names: for each IRI its kind, its labels per language and its sample mark, read in one
query, so that every reference on a page can say what it is in the reader's language."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from kg.queries import SAFE_IRI
from kg.schema import ENTITY_TYPES
from kg.store import GraphView
from ontology import MK

# class -> kind: the URI path of the entity type (programme, mission, kem, trl, ...), which is also the kind
# name search results use; the three valorisation types share the kind `valorisation`.
KINDS = {str(t.rdf_class): t.path for t in ENTITY_TYPES}
PREFIXES = (f"PREFIX mk: <{MK}>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n")


@dataclass(frozen=True)
class Reference:
    """One entity (or outside page) named on a page. `kind` is None for an IRI the graph does not type
    (a web page, a confidence level); `section` is the part after '#' of an IRI into a source document."""

    iri: str
    kind: str | None
    labels: dict[str, str]
    is_sample: bool = False
    section: str | None = None

    @property
    def label(self) -> str:
        return self.labels.get("nl") or self.labels.get("en") or next(iter(self.labels.values()), self.iri)


def kind_of(classes: Iterable[str]) -> str | None:
    """The kind an entity of these classes is (the first class with a kind, in a stable order)."""
    return next((KINDS[c] for c in sorted(classes) if c in KINDS), None)


def describe_references(view: GraphView, iris: Iterable[str]) -> dict[str, Reference]:
    """IRI -> its Reference, for every IRI given. An IRI the graph says nothing about but whose document it
    does (`<source>#<section>`) is described by that document, with the section named; any other IRI the
    graph says nothing about keeps the IRI as its label (a web page)."""
    wanted = {iri for iri in iris if SAFE_IRI.match(iri)}
    asked = wanted | {iri.split("#", 1)[0] for iri in wanted if "#" in iri}
    classes: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    samples: set[str] = set()
    if asked:
        values = " ".join(f"<{iri}>" for iri in sorted(asked))
        rows = view.select(PREFIXES + f"SELECT ?e ?class ?label ?lang ?sample WHERE {{ VALUES ?e {{ {values} }} "
                           "{ ?e a ?class } UNION { ?e skos:prefLabel|rdfs:label ?label BIND(LANG(?label) AS ?lang) } "
                           "UNION { ?e mk:isSample ?sample } }")
        for row in rows:
            e = str(row["e"])
            if "class" in row:
                classes[e].add(str(row["class"]))
            if "label" in row:
                labels[e].setdefault(str(row.get("lang") or ""), str(row["label"]))
            if row.get("sample") is True:
                samples.add(e)
    found = {}
    for iri in wanted:
        document, _, section = iri.partition("#")
        if labels.get(iri) or classes.get(iri) or not section or not labels.get(document):
            found[iri] = Reference(iri, kind_of(classes[iri]), dict(labels[iri]), iri in samples)
        else:
            found[iri] = Reference(iri, kind_of(classes[document]), dict(labels[document]), document in samples,
                                   section)
    return found
