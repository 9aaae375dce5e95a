"""The Missiekompas vocabulary as a typed namespace: a misspelled term raises an error."""

from __future__ import annotations

from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef


class MK(DefinedNamespace):
    """Terms of ``ontology/missiekompas.ttl``; ``tests/test_ontology.py`` keeps both in step."""

    _NS = Namespace("https://w3id.org/missiekompas/ontology#")
    _fail = True

    # Classes
    Agenda: URIRef
    BroadProgramme: URIRef
    ConfidenceLevel: URIRef
    DataGraph: URIRef
    Edition: URIRef
    ContactPerson: URIRef
    KEMCategory: URIRef
    KeyTechnology: URIRef
    KnowledgeQuestion: URIRef
    MJP: URIRef
    MMIP: URIRef
    Mission: URIRef
    Organisation: URIRef
    Programme: URIRef
    Project: URIRef
    MarketCreationTrack: URIRef
    ValorisationTrack: URIRef
    RelatedProgramme: URIRef
    ResearchRoute: URIRef
    SelectionCriterion: URIRef
    SourceDocument: URIRef
    TRLLevel: URIRef
    TechnologyCluster: URIRef
    Theme: URIRef
    ValorisationActivity: URIRef

    # Properties
    acronym: URIRef
    awardYear: URIRef
    budgetCommittedPrivate: URIRef
    budgetCommittedPublic: URIRef
    call: URIRef
    clusterLinkConfidence: URIRef
    compilationCode: URIRef
    fundedBy: URIRef
    instrument: URIRef
    leadConfidence: URIRef
    meetsCriterion: URIRef
    missionLinkConfidence: URIRef
    mmipLinkConfidence: URIRef
    partnersConfidence: URIRef
    subsidy: URIRef
    themeLinkConfidence: URIRef
    trlFrom: URIRef
    trlTo: URIRef
    valorisation: URIRef
    addressesQuestion: URIRef
    adoptedBy: URIRef
    agenda: URIRef
    budgetCommitted: URIRef
    budgetNote: URIRef
    budgetPrivate: URIRef
    budgetPublic: URIRef
    budgetTotal: URIRef
    cluster: URIRef
    confidence: URIRef
    contributesToMMIP: URIRef
    contributesToMission: URIRef
    coordinator: URIRef
    contactFor: URIRef
    endYear: URIRef
    isSample: URIRef
    missionGeneration: URIRef
    namedIn: URIRef
    organisationKind: URIRef
    origin: URIRef
    period: URIRef
    questionKind: URIRef
    questionNumber: URIRef
    relatesToMission: URIRef
    reportedAvgClustersPerMJP: URIRef
    reportedAvgThemesPerMJP: URIRef
    reportedBudgetCommitted: URIRef
    reportedBudgetTotal: URIRef
    reportedMJPCount: URIRef
    reportedPublicShare: URIRef
    route: URIRef
    servesMission: URIRef
    sourceFile: URIRef
    sourceHash: URIRef
    startYear: URIRef
    statusNote: URIRef
    targetYear: URIRef
    theme: URIRef
    trlLevel: URIRef
    usesKEM: URIRef
    usesTechnology: URIRef
    visibility: URIRef
    editionName: URIRef

    # Individuals and concept schemes
    HighConfidence: URIRef
    LeadRole: URIRef
    LowConfidence: URIRef
    MediumConfidence: URIRef
    PartnerRole: URIRef
    clusters: URIRef
    confidenceLevels: URIRef
    kemCategories: URIRef
    keyTechnologies: URIRef
    missions: URIRef
    researchRoutes: URIRef
    selectionCriteria: URIRef
    themes: URIRef
    trlLevels: URIRef
    valorisationActivities: URIRef
    marketCreationTracks: URIRef
    valorisationTracks: URIRef


# The prefixes every RDF serialisation of ours declares (the vocabularies the ontology builds on).
PREFIXES = {
    "mk": str(MK._NS),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "schema": "https://schema.org/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
}
