"""The ontology parses, labels every term in Dutch and English, and matches the typed namespace."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import OWL, RDF, RDFS, SH

from ontology import MK, ONTOLOGY_PATH, SHAPES_PATH

MK_NS = str(MK._NS)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_PATH, format="turtle")


def mk_terms(graph: Graph) -> set[str]:
    return {str(s)[len(MK_NS):] for s in graph.subjects() if str(s).startswith(MK_NS) and str(s) != MK_NS}


def langs(graph: Graph, subject: object, predicate: object) -> set[str | None]:
    return {o.language for o in graph.objects(subject, predicate) if isinstance(o, Literal)}


def test_ontology_declares_the_core_classes(ontology: Graph) -> None:
    classes = {str(c)[len(MK_NS):] for c in ontology.subjects(RDF.type, OWL.Class)}
    for name in ("Agenda", "Theme", "Mission", "MMIP", "MJP", "TechnologyCluster", "KeyTechnology",
                 "KEMCategory", "KnowledgeQuestion", "Organisation"):
        assert name in classes


def test_every_term_has_dutch_and_english_label_and_comment(ontology: Graph) -> None:
    missing = []
    for name in sorted(mk_terms(ontology)):
        term = MK[name]
        for predicate in (RDFS.label, RDFS.comment):
            if not {"nl", "en"} <= langs(ontology, term, predicate):
                missing.append(f"{name} {predicate.n3()}")
    assert missing == []


def test_namespace_module_and_ontology_name_the_same_terms(ontology: Graph) -> None:
    declared = set(MK.__annotations__)
    assert declared == mk_terms(ontology)


def test_misspelled_term_fails() -> None:
    with pytest.raises(AttributeError):
        _ = MK.Programm


def test_shapes_parse_and_target_every_record_class(ontology: Graph) -> None:
    shapes = Graph().parse(SHAPES_PATH, format="turtle")
    targets = set(shapes.objects(None, SH.targetClass))
    for name in ("Programme", "Mission", "MMIP", "KnowledgeQuestion", "TechnologyCluster", "Organisation"):
        assert MK[name] in targets
