"""The default graph is one its users can believe and standard tools can read: the classification
follows the seed text, real consortia link to missions, SKOS and ORG are typed explicitly (the store
does no inference), every label carries a language and every record says whether it is a sample."""

from __future__ import annotations

import logging

import pyoxigraph as ox
import pytest
from flask import Flask
from rdflib import Graph
from rdflib.namespace import RDFS, SKOS
from skosify import check

from kg.store import Store
from ontology import ONTOLOGY_PATH
from tests.conftest import BASE

PREFIXES = """PREFIX mk: <https://w3id.org/missiekompas/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""


def count(store: Store, where: str) -> int:
    return int(store.select(PREFIXES + f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }}")[0]["n"])


@pytest.mark.parametrize("programme", ["nationale-agenda-quantumtechnologie", "photondelta", "smart-industry"])
def test_programmes_the_seed_never_calls_mjps_are_related_programmes(default_store: Store, programme: str) -> None:
    iri = f"<{BASE}programme/{programme}>"
    assert not default_store.ask(PREFIXES + f"ASK {{ {iri} a mk:MJP }}")
    assert default_store.ask(PREFIXES + f"ASK {{ {iri} a mk:RelatedProgramme }}")


def concept_classes() -> set[str]:
    ontology = Graph().parse(ONTOLOGY_PATH, format="turtle")
    return {str(c) for c in ontology.transitive_subjects(RDFS.subClassOf, SKOS.Concept)} - {str(SKOS.Concept)}


def test_every_instance_of_a_concept_class_is_typed_skos_concept(default_store: Store) -> None:
    values = " ".join(f"<{c}>" for c in concept_classes())
    instances = count(default_store, f"VALUES ?class {{ {values} }} ?x a ?class")
    assert instances > 100
    assert count(default_store, "?x a skos:Concept") == instances
    assert count(default_store, "?x a skos:Concept FILTER NOT EXISTS { ?x skos:inScheme ?scheme }") == 0


def test_every_scheme_names_its_top_concepts_both_ways(default_store: Store) -> None:
    assert count(default_store, "?x a skos:Concept ; skos:inScheme ?s FILTER NOT EXISTS { ?x skos:broader ?b } "
                                "FILTER NOT EXISTS { ?x skos:topConceptOf ?s . ?s skos:hasTopConcept ?x }") == 0
    assert count(default_store, "?s skos:hasTopConcept ?x") >= 10


def test_no_label_without_a_language(default_store: Store) -> None:
    assert count(default_store, "?x skos:prefLabel ?l FILTER(lang(?l) = '')") == 0
    assert count(default_store, "?x skos:altLabel ?l FILTER(lang(?l) = '')") == 0
    # an English filter no longer silently drops real programmes
    assert count(default_store, "?x a mk:Programme ; mk:isSample false ; skos:prefLabel ?l FILTER(lang(?l) = 'en')") \
        == count(default_store, "?x a mk:Programme ; mk:isSample false")


def test_organisations_and_consortia_are_typed_in_org(default_store: Store) -> None:
    assert count(default_store, "?x a mk:Organisation FILTER NOT EXISTS { ?x a org:Organization }") == 0
    assert count(default_store, "{ ?x a mk:Programme } UNION { ?x a mk:Project } "
                                "FILTER NOT EXISTS { ?x a org:OrganizationalCollaboration }") == 0
    assert count(default_store, "?m a org:Membership ; org:organization ?c "
                                "FILTER NOT EXISTS { ?c a org:OrganizationalCollaboration }") == 0


def test_every_sourced_record_says_whether_it_is_a_sample(default_store: Store) -> None:
    assert count(default_store, "?x mk:confidence ?c FILTER NOT EXISTS { ?x mk:isSample ?s }") == 0
    assert count(default_store, "?x mk:isSample false") > count(default_store, "?x mk:isSample true") > 0


def test_samples_do_not_cite_a_chapter_that_names_none_of_them(default_store: Store) -> None:
    assert count(default_store, "?x mk:isSample true ; prov:wasDerivedFrom ?s "
                                "FILTER(STRENDS(STR(?s), '#mjp-portfolio'))") == 0


def test_real_consortia_link_to_missions(default_store: Store) -> None:
    linked = count(default_store, "?x a org:OrganizationalCollaboration ; mk:isSample false . "
                                  "{ ?x mk:contributesToMission ?m } UNION { ?x mk:contributesToMMIP ?m }")
    assert linked >= 10
    consortia = count(default_store, "?x a org:OrganizationalCollaboration ; mk:isSample false . "
                                     "?lead org:organization ?x ; org:role mk:LeadRole . "
                                     "?partner org:organization ?x ; org:role mk:PartnerRole")
    assert consortia >= 40


def test_real_projects_carry_their_source_and_confidence(default_store: Store) -> None:
    projects = count(default_store, "?x a mk:Project")
    assert projects >= 40
    assert count(default_store, "?x a mk:Project ; mk:isSample false ; prov:wasDerivedFrom ?s ; mk:confidence ?c") \
        == projects


def skos_problems(graph: Graph) -> list[str]:
    """What skosify's checks report (they log; fixing is off or works on a copy)."""
    found: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                found.append(record.getMessage())

    handler, root = Collect(), logging.getLogger()
    root.addHandler(handler)
    try:
        check.hierarchy_cycles(graph, fix=False)
        check.disjoint_relations(graph, fix=False)
        check.hierarchical_redundancy(graph, fix=False)
        check.label_overlap(graph, fix=False)
        check.preflabel_uniqueness(graph, policy="shortest")
    finally:
        root.removeHandler(handler)
    return found


def test_skosify_finds_no_problem_in_the_concept_schemes(default_store: Store) -> None:
    graph = Graph()
    graph.parse(data=default_store.query_to("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "nt"), format="nt")
    assert len(graph) > 1000
    assert skos_problems(graph) == []


def test_skosify_check_is_not_blind() -> None:
    graph = Graph()
    graph.parse(data=f"""<{BASE}theme/a> <{SKOS.prefLabel}> "A"@en ; <{SKOS.altLabel}> "A"@en .""", format="turtle")
    assert skos_problems(graph) == [f"Resource {BASE}theme/a has 'A'@en as both prefLabel and altLabel"]


def test_dumps_declare_prefixes(default_store: Store) -> None:
    from kg.export import export_graph
    from kg.formats import rdf_format

    turtle = export_graph(default_store, rdf_format("ttl"), base=BASE).decode()
    assert "@prefix mk: <https://w3id.org/missiekompas/ontology#>" in turtle
    assert "@prefix programme: <" + BASE + "programme/>" in turtle
    assert "ns1:" not in turtle
    assert len(list(ox.parse(turtle.encode(), format=ox.RdfFormat.TURTLE))) > 1000


def test_entity_turtle_and_construct_answers_declare_prefixes(default_app: Flask) -> None:
    client = default_app.test_client()
    entity = client.get("/id/programme/eccm", headers={"Accept": "text/turtle"}).get_data(as_text=True)
    assert "@prefix mk: <https://w3id.org/missiekompas/ontology#>" in entity
    assert "ns1:" not in entity and "mk:Programme" in entity
    query = "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } LIMIT 5"
    answer = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/turtle"})
    assert answer.status_code == 200
    assert "@prefix mk: <https://w3id.org/missiekompas/ontology#>" in answer.get_data(as_text=True)
