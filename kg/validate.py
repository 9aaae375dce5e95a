"""SHACL validation of converted records, reported as file / record / field / rule."""

from __future__ import annotations

from functools import lru_cache

from rdflib import Graph
from rdflib.namespace import RDF, SH
from rdflib.term import Node, URIRef

from kg.convert import Conversion, Origin
from kg.errors import Violation
from kg.schema import predicate_fields
from ontology import ONTOLOGY_PATH, SHAPES_PATH


@lru_cache(maxsize=1)
def load_shapes() -> Graph:
    return Graph().parse(SHAPES_PATH, format="turtle")


@lru_cache(maxsize=1)
def load_ontology() -> Graph:
    return Graph().parse(ONTOLOGY_PATH, format="turtle")


def validate_conversion(conversion: Conversion) -> list[Violation]:
    """Every violation in the union of all converted graphs; an empty list means valid."""
    import pyshacl  # heavy import, paid only when validating

    data = Graph()
    for graph in conversion.graphs.values():
        data += graph
    conforms, report, _ = pyshacl.validate(
        data, shacl_graph=load_shapes(), ont_graph=load_ontology(), inference="none", advanced=True,
        allow_warnings=True,
    )
    if conforms:
        return []
    return _violations(report, conversion)


def _violations(report: Graph, conversion: Conversion) -> list[Violation]:
    found: list[Violation] = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        origin = conversion.origins.get(focus) if isinstance(focus, URIRef) else None
        path = report.value(result, SH.resultPath)
        message = str(report.value(result, SH.resultMessage) or "breaks a rule")
        found.append(Violation(
            file=origin.file if origin else "?",
            record_id=origin.record_id if origin else str(focus),
            field=_field_name(origin, path),
            rule=_rule_name(report, result),
            message=message,
        ))
    return sorted(set(found), key=lambda v: (v.file, v.record_id, v.field, v.message))


def _field_name(origin: Origin | None, path: Node | None) -> str:
    if origin is None:
        return str(path)
    if origin.field:
        return origin.field
    if isinstance(path, URIRef):
        if path == RDF.type:
            return "kind"
        return predicate_fields(origin.entity_type).get(path, str(path))
    return "-"


def _rule_name(report: Graph, result: Node) -> str:
    component = report.value(result, SH.sourceConstraintComponent)
    name = str(component).rsplit("#", 1)[-1] if component else "shape"
    return name.removesuffix("ConstraintComponent")
