"""An entity page as its reader needs it, not as the data model stores it: a programme or project starts with
who to contact, a mission or MMIP with who works on it, an organisation with its programmes by role; every
reference knows its kind; the rest follows as named fields, sources last. The raw RDF is in the formats."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from kg.entity import CONFIDENCE, LINK_CONFIDENCES, RDF_TYPE, SOURCE, EntityView, Link
from kg.references import KINDS, Reference, describe_references, kind_of
from kg.schema import ENTITY_TYPES
from kg.store import GraphView
from ontology import MK

SKOS = "http://www.w3.org/2004/02/skos/core#"
SEE_ALSO = "http://www.w3.org/2000/01/rdf-schema#seeAlso"
NOTE = SKOS + "editorialNote"
HOMEPAGE = "http://xmlns.com/foaf/0.1/homepage"
LEAD, PARTNER, FUNDED_BY = str(MK.LeadRole), str(MK.PartnerRole), str(MK.fundedBy)
# Shown apart (title, badges, "also known as", sources) or not at all (the SKOS scheme structure).
APART = {RDF_TYPE, SOURCE, CONFIDENCE, SEE_ALSO, NOTE, str(MK.isSample), *LINK_CONFIDENCES, SKOS + "prefLabel",
         SKOS + "altLabel", "http://purl.org/dc/terms/description", SKOS + "inScheme", SKOS + "topConceptOf"}
INCOMING_APART = {RDF_TYPE, SKOS + "inScheme", SKOS + "hasTopConcept"}  # a scheme's structure, not a reference
SUBKINDS = {str(MK.MJP): "mjp", str(MK.BroadProgramme): "bgp", str(MK.RelatedProgramme): "related"}
CONSORTIA = ("programme", "project")
KIND_ORDER = ("programme", "project", "mission", "mmip", "question", "organisation")
CONTACT_FACTS = (str(MK.instrument), str(MK.call), str(MK.awardYear))
# A fact's look: amounts in euro, a share, a decimal, a code said in words (message prefix), a web address.
STYLES = {**{str(p): "money" for p in (MK.budgetTotal, MK.budgetPublic, MK.budgetPrivate, MK.budgetCommitted,
                                       MK.budgetCommittedPublic, MK.budgetCommittedPrivate, MK.subsidy,
                                       MK.reportedBudgetTotal, MK.reportedBudgetCommitted)},
          str(MK.reportedPublicShare): "share", str(MK.reportedAvgThemesPerMJP): "decimal",
          str(MK.reportedAvgClustersPerMJP): "decimal", str(MK.questionKind): "code:value.kind.",
          str(MK.organisationKind): "code:value.kind.", str(MK.instrument): "code:value.instrument.",
          HOMEPAGE: "url", "https://schema.org/url": "url"}
FACT_ORDER = tuple(str(p) for p in (  # the order of the record's literal fields, as the data files write them
    MK.acronym, SKOS + "notation", MK.compilationCode, MK.organisationKind, MK.questionKind, MK.questionNumber,
    MK.origin, MK.statusNote, MK.period, MK.missionGeneration, MK.targetYear, MK.startYear, MK.endYear,
    MK.instrument, MK.call, MK.awardYear, MK.budgetTotal, MK.budgetPublic, MK.budgetPrivate, MK.budgetCommitted,
    MK.budgetCommittedPublic, MK.budgetCommittedPrivate, MK.subsidy, MK.budgetNote, HOMEPAGE))
# The language the data writes these free texts in (they carry no language tag): the page marks them, so that a
# reader (and a screen reader) of the other language knows.
TEXT_LANGUAGES = {NOTE: "en", str(MK.statusNote): "nl", str(MK.budgetNote): "nl", str(MK.origin): "nl",
                  str(MK.call): "nl", SKOS + "notation": "nl"}
# A data file's field name in an editor's note (`part_of`), to be said in words ("part of").
FIELD_NAMES = re.compile(r"(?<![\w.-])({})(?![\w-])".format("|".join(sorted(
    {f.name for t in ENTITY_TYPES for f in t.fields if "_" in f.name}, key=len, reverse=True))))
# Per kind, the sections that answer its reader first: (heading key, message when empty or None to hide it,
# how its groups are made: "field" (one group per relation) or "kind", the (direction, property) it takes).
PLANS: dict[str, tuple[tuple[str, str | None, str, tuple[tuple[str, str], ...]], ...]] = {
    "consortium": (
        ("entity.missions", "entity.no_missions", "field",
         (("out", str(MK.contributesToMission)), ("out", str(MK.contributesToMMIP)))),
        ("entity.questions", None, "field", (("out", str(MK.addressesQuestion)),)),
        ("entity.topics", None, "field", (("out", str(MK.cluster)), ("out", str(MK.theme)),
                                          ("out", str(MK.usesTechnology)), ("out", str(MK.usesKEM)))),
    ),
    "mission": (
        ("entity.addressed_by", "entity.no_programme_mission", "kind", (("in", str(MK.contributesToMission)),)),
        ("entity.mmips", None, "kind", (("in", str(MK.servesMission)),)),
        ("entity.questions", None, "kind", (("in", str(MK.relatesToMission)),)),
        ("entity.topics", None, "field", (("out", str(MK.theme)), ("out", str(MK.agenda)))),
    ),
    "mmip": (
        ("entity.addressed_by", "entity.no_programme_mmip", "kind", (("in", str(MK.contributesToMMIP)),)),
        ("entity.serves", None, "field", (("out", str(MK.servesMission)),)),
        ("entity.topics", None, "field", (("out", str(MK.agenda)),)),
    ),
    "organisation": (
        ("entity.roles", "entity.no_roles", "field",
         (("in", LEAD), ("in", PARTNER), ("in", FUNDED_BY), ("in", str(MK.coordinator)))),
    ),
    "question": (
        ("entity.missions", None, "field", (("out", str(MK.relatesToMission)),)),
        ("entity.topics", None, "field", (("out", str(MK.cluster)), ("out", str(MK.theme)), ("out", str(MK.route)))),
    ),
}


def local_name(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Item:
    """One reference on the page: what it names, its kind for the badge ("web" for an outside page), and the
    relation that links it (`field.<name>` from here, `in.<name>` to here)."""

    ref: Reference
    kind: str | None
    relation: str


@dataclass(frozen=True)
class Group:
    """References under one heading: a relation (`field.<name>`, `in.<name>`) or a kind (`kinds.<kind>`)."""

    key: str
    items: tuple[Item, ...]
    confidence: Reference | None = None  # how certain these links are, where the record says so apart
    fallback: str = ""  # the heading when the catalogue has no `key`: the property's label in the ontology

    @property
    def is_mixed(self) -> bool:
        """Whether the items came by more than one relation (the page then names each item's)."""
        return len({item.relation for item in self.items}) > 1


@dataclass(frozen=True)
class Fact:
    key: str  # field.<name>
    values: tuple[str, ...]
    style: str = "text"  # text | money | share | decimal | url | code:<message prefix>
    fallback: str = ""  # the name when the catalogue has no `key`: the property's label in the ontology
    lang: str = ""  # the language its values are written in, where the data has a rule for it


@dataclass(frozen=True)
class Section:
    key: str  # its heading's message key
    groups: tuple[Group, ...]
    facts: tuple[Fact, ...] = ()
    empty_key: str | None = None  # said when the section is empty; None: an empty section is left out

    @property
    def anchor(self) -> str:
        return self.key.rsplit(".", 1)[-1].replace("_", "-")


@dataclass(frozen=True)
class Contact:
    """Who to talk to about a programme or project, and who pays for it."""

    lead: Group
    partners: Group
    funders: Group
    websites: tuple[str, ...]
    funding: tuple[Fact, ...]


@dataclass(frozen=True)
class EntityPage:
    iri: str
    kind: str | None
    subkinds: tuple[str, ...]  # mjp, bgp, related
    labels: dict[str, str]
    descriptions: dict[str, str]
    alt_labels: dict[str, tuple[str, ...]]
    is_sample: bool
    contact: Contact | None
    sections: tuple[Section, ...]
    incoming: tuple[Group, ...]  # whatever else refers to it, one group per kind
    sources: tuple[Reference, ...]
    more_sources: tuple[Reference, ...]
    confidence: Reference | None
    notes: tuple[str, ...]  # the editors' notes, in English (TEXT_LANGUAGES)
    classes: dict[str, str] = field(default_factory=dict)  # kind or subkind -> its class in the ontology

    def also_known_as(self, lang: str, title: str) -> tuple[tuple[str, str], ...]:
        """Its other names as (name, language) in `lang` (and those without a language), else in any language;
        never `title`."""
        codes = [code for code in (lang, "") if self.alt_labels.get(code)] or sorted(self.alt_labels)
        names = {name: code for code in codes for name in self.alt_labels[code] if name.casefold() != title.casefold()}
        return tuple(names.items())


def entity_page(view: GraphView, entity: EntityView) -> EntityPage:
    """The page of `entity`: its references described in one query, then laid out for its kind."""
    refs = describe_references(view, [link.value for link in (*entity.outgoing, *entity.incoming) if link.is_iri])
    types = [link.value for link in entity.types]
    kind = kind_of(types)
    pool = _Pool(refs, entity)
    contact = _contact(pool) if kind in CONSORTIA else None
    sections = [_section(pool, *plan) for plan in PLANS.get("consortium" if kind in CONSORTIA else kind or "", ())]
    sections.append(Section("entity.details", tuple(
        pool.group(prop) for prop in sorted(
            {link.property_iri for link in pool.out if link.is_iri and link.property_iri != HOMEPAGE}, key=local_name)),
        _facts([link for link in pool.out if not link.is_iri or link.property_iri == HOMEPAGE])))
    return EntityPage(
        entity.iri, kind, tuple(sorted(SUBKINDS[t] for t in types if t in SUBKINDS)), entity.labels,
        entity.descriptions, entity.alt_labels, entity.is_sample, contact, tuple(sections),
        _by_kind(refs, pool.inc), tuple(_ref(refs, link) for link in entity.sources),
        tuple(_ref(refs, link) for link in entity.outgoing if link.property_iri == SEE_ALSO),
        _ref(refs, entity.confidence) if entity.confidence else None,
        tuple(_worded(link.value) for link in entity.outgoing if link.property_iri == NOTE),
        {code: t for t in types for code in (KINDS.get(t), SUBKINDS.get(t)) if code})


class _Pool:
    """The links not yet placed on the page; each section takes its own, the rest goes under "more details"
    (outgoing) and "referred to by" (incoming)."""

    def __init__(self, refs: dict[str, Reference], entity: EntityView) -> None:
        self.refs = refs
        self.out = [link for link in entity.outgoing if link.property_iri not in APART]
        self.inc = [link for link in entity.incoming if link.property_iri not in INCOMING_APART]
        self.confidences = {LINK_CONFIDENCES[link.property_iri]: _ref(refs, link) for link in entity.outgoing
                            if link.property_iri in LINK_CONFIDENCES}

    def take(self, direction: str, prop: str) -> list[Link]:
        links = self.out if direction == "out" else self.inc
        taken = [link for link in links if link.property_iri == prop and (link.is_iri or direction == "in")]
        for link in taken:
            links.remove(link)
        return taken

    def group(self, prop: str, direction: str = "out") -> Group:
        prefix = "field" if direction == "out" else "in"
        links = self.take(direction, prop)
        return Group(f"{prefix}.{local_name(prop)}", _items(self.refs, links, prefix),
                     self.confidences.get(prop) if direction == "out" else None,
                     links[0].property_label if links else "")


def _contact(pool: _Pool) -> Contact:
    websites = tuple(link.value for link in pool.take("out", HOMEPAGE))
    funding = _facts([link for link in pool.out if link.property_iri in CONTACT_FACTS])
    pool.out = [link for link in pool.out if link.property_iri not in CONTACT_FACTS]
    return Contact(pool.group(LEAD), pool.group(PARTNER), pool.group(FUNDED_BY), websites, funding)


def _section(pool: _Pool, key: str, empty: str | None, by: str, wanted: tuple[tuple[str, str], ...]) -> Section:
    if by == "kind":
        groups = _by_kind(pool.refs, [link for direction, prop in wanted for link in pool.take(direction, prop)])
    else:
        groups = tuple(pool.group(prop, direction) for direction, prop in wanted)
    return Section(key, tuple(g for g in groups if g.items), empty_key=empty)


def _items(refs: dict[str, Reference], links: list[Link], prefix: str) -> tuple[Item, ...]:
    items = [Item(ref, _kind(ref), f"{prefix}.{local_name(link.property_iri)}") for link in links
             for ref in (_ref(refs, link),)]
    return tuple(sorted(items, key=lambda i: (i.kind or "", i.ref.label.casefold())))


def _worded(note: str) -> str:
    """An editor's note with the data files' field names said in words: `part_of` -> “part of”."""
    return FIELD_NAMES.sub(lambda match: f"“{match.group(1).replace('_', ' ')}”", note)


def _ref(refs: dict[str, Reference], link: Link) -> Reference:
    return refs.get(link.value) or Reference(link.value, None, {"": link.label or link.value})


def _kind(ref: Reference) -> str | None:
    return ref.kind or ("web" if ref.iri.startswith(("http://", "https://")) else None)


def _by_kind(refs: dict[str, Reference], links: list[Link]) -> tuple[Group, ...]:
    """One group per kind of the entities linked, programmes and projects first."""
    kinds: dict[str, list[Item]] = defaultdict(list)
    for item in _items(refs, links, "in"):
        kinds[item.kind or "other"].append(item)
    return tuple(Group(f"kinds.{k}", tuple(items)) for k, items in sorted(kinds.items(), key=lambda kv: _kind_rank(kv[0])))


def _kind_rank(kind: str) -> tuple[int, str]:
    return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), kind)


def _facts(links: list[Link]) -> tuple[Fact, ...]:
    """Literal fields (and web addresses) as named facts, in the order of the record's fields."""
    found: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    for link in links:
        found[link.property_iri].append(link.value)
        names[link.property_iri] = link.property_label
    return tuple(Fact(f"field.{local_name(prop)}", tuple(sorted(values)), STYLES.get(prop, "text"), names[prop],
                      TEXT_LANGUAGES.get(prop, ""))
                 for prop, values in sorted(found.items(), key=lambda item: _fact_rank(item[0])))


def _fact_rank(prop: str) -> tuple[int, str]:
    return (FACT_ORDER.index(prop) if prop in FACT_ORDER else len(FACT_ORDER), local_name(prop))
