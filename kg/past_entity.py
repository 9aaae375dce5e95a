"""An entity that only a past edition of the portfolio holds (a dropped MJP): what the latest edition that held
it says about it, so that its URI still answers with where it went."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kg.queries import named_query
from kg.references import Reference, describe_references, kind_of
from kg.store import GraphView
from ontology import MK

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
DESCRIPTION = "http://purl.org/dc/terms/description"
SHOWN = {"lead": str(MK.LeadRole), "partners": str(MK.PartnerRole), "missions": str(MK.contributesToMission),
         "mmips": str(MK.contributesToMMIP)}


@dataclass(frozen=True)
class PastEntity:
    """The entity as edition `edition` held it: its names, kind, lead, partners and missions."""

    iri: str
    edition: str
    edition_graph: str
    is_sample_edition: bool
    kind: str | None
    labels: dict[str, str]
    descriptions: dict[str, str]
    is_sample: bool
    lead: tuple[Reference, ...]
    partners: tuple[Reference, ...]
    missions: tuple[Reference, ...]
    mmips: tuple[Reference, ...]

    @property
    def label(self) -> str:
        return self.labels.get("nl") or self.labels.get("en") or next(iter(self.labels.values()), self.iri)


def find_past_entity(view: GraphView, iri: str) -> PastEntity | None:
    """The latest past edition's description of `iri`, or None when no past edition holds it. Only call this
    for an IRI the current portfolio does not hold: a past edition may hold current entities too."""
    statements: dict[str, dict[str, list[tuple[str, object]]]] = defaultdict(lambda: defaultdict(list))
    sample_editions: set[str] = set()
    graphs: dict[str, str] = {}
    for row in view.select(named_query("past_entity", this=iri)):
        name = str(row["name"])
        graphs[name] = str(row["edition"])
        statements[name][str(row["property"])].append((str(row.get("lang") or ""), row["value"]))
        if row.get("editionSample") is True:
            sample_editions.add(name)
    if not statements:
        return None
    edition = max(statements)  # edition names sort in time (2025, 2026, ...), as kg.editions lists them
    said = statements[edition]
    linked = {key: sorted(str(v) for _, v in said.get(prop, ())) for key, prop in SHOWN.items()}
    refs = describe_references(view, [other for values in linked.values() for other in values])

    def references(key: str) -> tuple[Reference, ...]:
        return tuple(sorted((refs.get(i, Reference(i, None, {})) for i in set(linked[key])), key=lambda r: r.label))

    return PastEntity(
        iri, edition, graphs[edition], edition in sample_editions, kind_of(str(v) for _, v in said.get(RDF_TYPE, ())),
        {lang: str(v) for lang, v in said.get(LABEL, ())}, {lang: str(v) for lang, v in said.get(DESCRIPTION, ())},
        any(v is True for _, v in said.get(str(MK.isSample), ())),
        references("lead"), references("partners"), references("missions"), references("mmips"))
