"""The record schema: for each entity type, its file, URI path, RDF class and field -> predicate map."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib.namespace import DCTERMS, FOAF, ORG, PROV, RDFS, SKOS, XSD
from rdflib.term import URIRef

from ontology import MK

SCHEMA_URL = URIRef("https://schema.org/url")
SCHEMA_EMAIL = URIRef("https://schema.org/email")
SCHEMA_TELEPHONE = URIRef("https://schema.org/telephone")
SCHEMA_WORKS_FOR = URIRef("https://schema.org/worksFor")

# Field kinds, and what a value of each kind looks like in a data file:
#   text     a string or {nl: .., en: ..}       -> language-tagged literals
#   labels   {nl: [..], en: [..]} or a list      -> language-tagged literals
#   string   a string                            -> xsd:string literal
#   int      a whole number                      -> xsd:integer
#   decimal  a number                            -> xsd:decimal
#   bool     true / false                        -> xsd:boolean
#   url      an http(s) URL                      -> IRI
#   date     YYYY-MM-DD                          -> xsd:date
#   source   URL or <source-id>#<section>        -> IRI
#   sources  list of the above                   -> IRIs
#   confidence  high | medium | low              -> mk:*Confidence
#   ref      the id of a record of `target` type -> IRI
#   refs     a list of such ids                  -> IRIs
#   nested   a mapping of sub-fields             -> sub-fields on the same subject
#   class    a key of `choices`                  -> rdf:type
#   lead / partners  organisation ids            -> org:Membership nodes


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    predicate: URIRef | None = None
    target: str | None = None
    required: bool = False
    datatype: URIRef | None = None
    choices: tuple[tuple[str, URIRef | str], ...] = ()
    sub_fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class EntityType:
    name: str
    plural: str
    path: str
    rdf_class: URIRef
    fields: tuple[Field, ...]
    scheme: URIRef | None = None
    is_bilingual: bool = False
    needs_provenance: bool = True
    also_types: tuple[URIRef, ...] = ()  # classes written out too (the store does no inference)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


CONFIDENCE = {"high": MK.HighConfidence, "medium": MK.MediumConfidence, "low": MK.LowConfidence}

COMMON = (
    Field("label", "text", SKOS.prefLabel, required=True),
    Field("alt_labels", "labels", SKOS.altLabel),
    Field("description", "text", DCTERMS.description),
    Field("source", "source", PROV.wasDerivedFrom, required=True),
    Field("additional_sources", "sources", RDFS.seeAlso),
    Field("confidence", "confidence", MK.confidence, required=True),
    Field("sample", "bool", MK.isSample),
    Field("notes", "string", SKOS.editorialNote),
)


def _with_common(*extra: Field) -> tuple[Field, ...]:
    return COMMON + extra


def _concept(name: str, plural: str, path: str, cls: URIRef, scheme: URIRef, *extra: Field) -> EntityType:
    return EntityType(name, plural, path, cls, _with_common(*extra), scheme=scheme, is_bilingual=True)


BUDGET = Field(
    "budget",
    "nested",
    sub_fields=(
        Field("total_eur", "decimal", MK.budgetTotal),
        Field("public_eur", "decimal", MK.budgetPublic),
        Field("private_eur", "decimal", MK.budgetPrivate),
        Field("committed_eur", "decimal", MK.budgetCommitted),
        Field("committed_public_eur", "decimal", MK.budgetCommittedPublic),
        Field("committed_private_eur", "decimal", MK.budgetCommittedPrivate),
        Field("subsidy_eur", "decimal", MK.subsidy),
    ),
)

# How certain each kind of link of a programme or project is, where it differs from the record's confidence.
LINK_CONFIDENCE = Field(
    "link_confidence",
    "nested",
    sub_fields=(
        Field("missions", "confidence", MK.missionLinkConfidence),
        Field("mmips", "confidence", MK.mmipLinkConfidence),
        Field("themes", "confidence", MK.themeLinkConfidence),
        Field("clusters", "confidence", MK.clusterLinkConfidence),
        Field("lead", "confidence", MK.leadConfidence),
        Field("partners", "confidence", MK.partnersConfidence),
    ),
)

# What a programme and a project share: a consortium (lead, partners, funders) and its links.
CONSORTIUM = (
    Field("acronym", "string", MK.acronym),
    Field("clusters", "refs", MK.cluster, target="cluster"),
    Field("themes", "refs", MK.theme, target="theme"),
    Field("missions", "refs", MK.contributesToMission, target="mission"),
    Field("mmips", "refs", MK.contributesToMMIP, target="mmip"),
    Field("questions", "refs", MK.addressesQuestion, target="question"),
    Field("technologies", "refs", MK.usesTechnology, target="technology"),
    Field("kem_categories", "refs", MK.usesKEM, target="kem_category"),
    Field("lead", "lead", target="organisation"),
    Field("partners", "partners", target="organisation"),
    Field("funders", "refs", MK.fundedBy, target="organisation"),
    Field("trl_from", "ref", MK.trlFrom, target="trl_level"),
    Field("trl_to", "ref", MK.trlTo, target="trl_level"),
    Field("criteria", "refs", MK.meetsCriterion, target="criterion"),
    # the three valorisation lists share the URI path valorisation/, so one target names them all
    Field("valorisation", "refs", MK.valorisation, target="valorisation_activity"),
    LINK_CONFIDENCE,
    BUDGET,
    Field("budget_note", "string", MK.budgetNote),
    Field("start_year", "int", MK.startYear),
    Field("end_year", "int", MK.endYear),
    Field("homepage", "url", FOAF.homepage),
)
COLLABORATION = (ORG.OrganizationalCollaboration,)

REPORTED = Field(
    "reported",
    "nested",
    sub_fields=(
        Field("mjp_count", "int", MK.reportedMJPCount),
        Field("budget_total_eur", "decimal", MK.reportedBudgetTotal),
        Field("budget_committed_eur", "decimal", MK.reportedBudgetCommitted),
        Field("public_share", "decimal", MK.reportedPublicShare),
        Field("avg_themes_per_mjp", "decimal", MK.reportedAvgThemesPerMJP),
        Field("avg_clusters_per_mjp", "decimal", MK.reportedAvgClustersPerMJP),
    ),
)

ENTITY_TYPES: tuple[EntityType, ...] = (
    EntityType(
        "source", "sources", "source", MK.SourceDocument,
        (
            Field("title", "string", DCTERMS.title, required=True),
            Field("label", "text", SKOS.prefLabel),
            Field("alt_labels", "labels", SKOS.altLabel),
            Field("description", "text", DCTERMS.description),
            Field("url", "url", SCHEMA_URL),
            Field("date", "date", DCTERMS.date),
            Field("publisher", "string", DCTERMS.publisher),
            Field("notes", "string", SKOS.editorialNote),
        ),
        needs_provenance=False,
    ),
    EntityType(
        "agenda", "agendas", "agenda", MK.Agenda,
        _with_common(
            Field("period", "string", MK.period),
            Field("themes", "refs", MK.theme, target="theme"),
            Field("coordinator", "ref", MK.coordinator, target="organisation"),
            Field("homepage", "url", FOAF.homepage),
            REPORTED,
        ),
    ),
    _concept("theme", "themes", "theme", MK.Theme, MK.themes,
             Field("broader", "ref", SKOS.broader, target="theme")),
    EntityType(
        "mission", "missions", "mission", MK.Mission,
        _with_common(
            Field("code", "string", SKOS.notation),
            Field("compilation_code", "string", MK.compilationCode),
            Field("themes", "refs", MK.theme, target="theme"),
            Field("agenda", "ref", MK.agenda, target="agenda"),
            Field("period", "string", MK.period),
            Field("generation", "string", MK.missionGeneration),
            Field("target_year", "string", MK.targetYear),
        ),
        scheme=MK.missions,
    ),
    EntityType(
        "mmip", "mmips", "mmip", MK.MMIP,
        _with_common(
            Field("code", "string", SKOS.notation),
            Field("compilation_code", "string", MK.compilationCode),
            Field("missions", "refs", MK.servesMission, target="mission"),
            Field("agenda", "ref", MK.agenda, target="agenda"),
            Field("period", "string", MK.period),
        ),
    ),
    _concept("cluster", "clusters", "cluster", MK.TechnologyCluster, MK.clusters),
    EntityType(
        "technology", "technologies", "technology", MK.KeyTechnology,
        _with_common(
            Field("clusters", "refs", MK.cluster, target="cluster"),
            Field("agenda", "ref", MK.agenda, target="agenda"),
        ),
        scheme=MK.keyTechnologies,
    ),
    _concept("kem_category", "kem-categories", "kem", MK.KEMCategory, MK.kemCategories),
    _concept("trl_level", "trl-levels", "trl", MK.TRLLevel, MK.trlLevels,
             Field("level", "int", MK.trlLevel, required=True)),
    _concept("criterion", "criteria", "criterion", MK.SelectionCriterion, MK.selectionCriteria),
    _concept("valorisation_activity", "valorisation", "valorisation", MK.ValorisationActivity,
             MK.valorisationActivities),
    _concept("market_creation_track", "market-creation", "valorisation", MK.MarketCreationTrack,
             MK.marketCreationTracks),
    _concept("valorisation_track", "valorisation-tracks", "valorisation", MK.ValorisationTrack,
             MK.valorisationTracks),
    EntityType("route", "routes", "route", MK.ResearchRoute, _with_common(), scheme=MK.researchRoutes),
    EntityType(
        "question", "questions", "question", MK.KnowledgeQuestion,
        _with_common(
            Field("kind", "string", MK.questionKind),
            Field("number", "int", MK.questionNumber),
            Field("origin", "string", MK.origin),
            Field("clusters", "refs", MK.cluster, target="cluster"),
            Field("themes", "refs", MK.theme, target="theme"),
            Field("missions", "refs", MK.relatesToMission, target="mission"),
            Field("routes", "refs", MK.route, target="route"),
        ),
    ),
    EntityType(
        "organisation", "organisations", "organisation", MK.Organisation,
        _with_common(
            Field("kind", "string", MK.organisationKind),
            Field("homepage", "url", FOAF.homepage),
        ),
        also_types=(ORG.Organization,),
    ),
    EntityType(
        "programme", "programmes", "programme", MK.Programme,
        _with_common(
            Field("kind", "class", required=True,
                  choices=(("mjp", MK.MJP), ("bgp", MK.BroadProgramme), ("related", MK.RelatedProgramme))),
            Field("status_note", "string", MK.statusNote),
            Field("named_in", "refs", MK.namedIn, target="agenda"),
            Field("adopted_by", "refs", MK.adoptedBy, target="agenda"),
            *CONSORTIUM,
        ),
        also_types=COLLABORATION,
    ),
    EntityType(
        "project", "projects", "project", MK.Project,
        _with_common(
            Field("instrument", "string", MK.instrument),
            Field("call", "string", MK.call),
            Field("year", "int", MK.awardYear),
            Field("part_of", "ref", DCTERMS.isPartOf, target="programme"),
            *CONSORTIUM,
        ),
        also_types=COLLABORATION,
    ),
    EntityType(  # personal data: only allowed in files marked `visibility: internal` (kg.build checks)
        "person", "persons", "person", MK.ContactPerson,
        _with_common(
            Field("email", "string", SCHEMA_EMAIL),
            Field("phone", "string", SCHEMA_TELEPHONE),
            Field("organisation", "ref", SCHEMA_WORKS_FOR, target="organisation"),
            Field("contact_for", "refs", MK.contactFor, target="programme"),
        ),
    ),
)

TYPES_BY_NAME = {t.name: t for t in ENTITY_TYPES}
DATATYPES = {"int": XSD.integer, "decimal": XSD.decimal, "bool": XSD.boolean, "date": XSD.date, "string": XSD.string}


def type_for_name(name: str) -> EntityType | None:
    """The entity type named `name`, in singular, plural, or with '-'/'_' swapped."""
    key = name.strip().lower()
    for t in ENTITY_TYPES:
        if key in (t.name, t.plural, t.name.replace("_", "-"), t.plural.replace("-", "_")):
            return t
    return None


def predicate_fields(entity_type: EntityType) -> dict[URIRef, str]:
    """Map each predicate of a type back to the field name a user wrote (for error reports)."""
    found: dict[URIRef, str] = {}
    for f in entity_type.fields:
        for sub in f.sub_fields or (f,):
            if sub.predicate is not None:
                found[sub.predicate] = sub.name if not f.sub_fields else f"{f.name}.{sub.name}"
    return found
