"""Turning records into RDF: one rdflib graph per data file, plus where each node came from."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from rdflib import Graph, Literal
from rdflib.namespace import ORG, RDF, SKOS, XSD
from rdflib.term import URIRef

from kg.errors import Violation
from kg.readers import DataFile
from kg.schema import CONFIDENCE, TYPES_BY_NAME, EntityType, Field
from kg.uris import is_slug, membership_uri, mint_uri, source_uri
from ontology import MK

LANGS = ("nl", "en")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Origin:
    """Which file, record and (for membership nodes) field a subject came from."""

    file: str
    record_id: str
    entity_type: EntityType
    field: str | None = None


@dataclass
class Conversion:
    """The graphs of all files, the origin of every subject, and the problems found on the way."""

    graphs: dict[str, Graph] = field(default_factory=dict)
    origins: dict[URIRef, Origin] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    source_ids: set[str] = field(default_factory=set)


class _Problem(ValueError):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def convert_files(files: list[DataFile], base: str, graph_names: dict[str, str]) -> Conversion:
    """Convert every file; structural problems are collected as violations, never raised."""
    out = Conversion()
    out.source_ids = {str(r.get("id")) for f in files if f.entity_type.name == "source" for r in f.records}
    seen: dict[tuple[str, str], str] = {}
    for data_file in files:
        graph = Graph()
        for record in data_file.records:
            _convert_record(data_file, record, base, graph, out, seen)
        out.graphs[graph_names[data_file.display]] = graph
    return out


def _convert_record(
    data_file: DataFile, record: dict[str, Any], base: str, graph: Graph, out: Conversion,
    seen: dict[tuple[str, str], str],
) -> None:
    et = data_file.entity_type
    rid = str(record.get("id", "")).strip()

    def report(field_name: str, rule: str, message: str) -> None:
        out.violations.append(Violation(data_file.display, rid or "?", field_name, rule, message))

    if not is_slug(rid):
        report("id", "id-slug", f"id {rid!r} must be a slug: lowercase letters, digits and single '-'")
        return
    key = (et.name, rid)
    if key in seen:
        report("id", "id-unique", f"{et.name} id '{rid}' is also used in {seen[key]}")
        return
    seen[key] = data_file.display
    subject = mint_uri(base, et.path, rid)
    out.origins[subject] = Origin(data_file.display, rid, et)
    graph.add((subject, RDF.type, et.rdf_class))
    for also in et.also_types:
        graph.add((subject, RDF.type, also))
    if et.scheme is not None:  # a SKOS concept in its scheme; without a broader one it is a top concept
        graph.add((subject, RDF.type, SKOS.Concept))
        graph.add((subject, SKOS.inScheme, et.scheme))
        if not record.get("broader"):
            graph.add((subject, SKOS.topConceptOf, et.scheme))
            graph.add((et.scheme, SKOS.hasTopConcept, subject))
    if et.needs_provenance and record.get("sample") in (None, ""):  # real unless marked: said, not left out
        graph.add((subject, MK.isSample, Literal(False)))
    known = {f.name for f in et.fields} | {"id"}
    for name in record:
        if name not in known:
            report(str(name), "known-field", f"unknown field for a {et.name}; allowed: {', '.join(sorted(known))}")
    for spec in et.fields:
        value = record.get(spec.name)
        if value is None or value == "" or value == []:
            if spec.required and (et.needs_provenance or spec.name not in ("source", "confidence")):
                report(spec.name, "required", "this field is required")
            continue
        try:
            _emit(graph, subject, spec, value, base, out, data_file)
        except _Problem as problem:
            report(spec.name, problem.rule, str(problem))


def _emit(graph: Graph, subject: URIRef, spec: Field, value: Any, base: str, out: Conversion,
          data_file: DataFile) -> None:
    kind = spec.kind
    if kind == "nested":
        if not isinstance(value, dict):
            raise _Problem("type", "expected a mapping of " + ", ".join(s.name for s in spec.sub_fields))
        subs = {s.name: s for s in spec.sub_fields}
        for key, sub_value in value.items():
            if key not in subs:
                raise _Problem("known-field", f"unknown key {key!r}; allowed: {', '.join(subs)}")
            if sub_value is not None:
                _emit(graph, subject, subs[key], sub_value, base, out, data_file)
        return
    if kind == "class":
        choices = dict(spec.choices)
        if str(value) not in choices:
            raise _Problem("choice", f"{value!r} is not one of: {', '.join(choices)}")
        graph.add((subject, RDF.type, choices[str(value)]))  # type: ignore[arg-type]
        return
    if kind in ("lead", "partners"):
        role = MK.LeadRole if kind == "lead" else MK.PartnerRole
        for org_id in _as_list(value):
            membership = membership_uri(subject, org_id)
            origin = out.origins[subject]
            out.origins[membership] = Origin(origin.file, origin.record_id, origin.entity_type, spec.name)
            graph.add((membership, RDF.type, ORG.Membership))
            graph.add((membership, ORG.organization, subject))
            graph.add((membership, ORG.member, _ref(base, "organisation", org_id)))
            graph.add((membership, ORG.role, role))
        return
    assert spec.predicate is not None
    for obj in _objects(spec, value, base, out.source_ids):
        if spec.predicate == SKOS.altLabel and (subject, SKOS.prefLabel, obj) in graph:
            continue  # SKOS: a label is preferred or alternative, not both
        graph.add((subject, spec.predicate, obj))


def _objects(spec: Field, value: Any, base: str, source_ids: set[str]) -> list[URIRef | Literal]:
    kind = spec.kind
    if kind == "text":
        return _text(value, name_langs=spec.predicate == SKOS.prefLabel)
    if kind == "labels":
        if isinstance(value, dict):
            return [Literal(str(v), lang=lang) for lang, vs in _lang_items(value) for v in _as_list(vs)]
        return [Literal(str(v), lang=lang) for v in _as_list(value) for lang in LANGS]
    if kind in ("source", "sources"):
        return [_source(ref, base, source_ids) for ref in _as_list(value)]
    if kind == "confidence":
        if str(value) not in CONFIDENCE:
            raise _Problem("confidence", f"{value!r} is not one of: high, medium, low")
        return [CONFIDENCE[str(value)]]
    if kind in ("ref", "refs"):
        ids = _as_list(value)
        if kind == "ref" and len(ids) != 1:
            raise _Problem("type", "expected a single id")
        assert spec.target is not None
        return [_ref(base, TYPES_BY_NAME[spec.target].path, i) for i in ids]
    if kind == "url":
        text = str(value)
        if not text.startswith(("http://", "https://")) or " " in text:
            raise _Problem("url", f"{text!r} is not an http(s) URL")
        return [URIRef(text)]
    return [_typed_literal(kind, value)]


def _text(value: Any, *, name_langs: bool = False) -> list[URIRef | Literal]:
    """A {nl, en} mapping gives one literal per language. A plain string is a name when `name_langs`
    (a label: the same name in Dutch and English texts, so it is tagged with both) and untagged otherwise."""
    if isinstance(value, dict):
        return [Literal(str(v).strip(), lang=lang) for lang, v in _lang_items(value)]
    if isinstance(value, str):
        return [Literal(value.strip(), lang=lang) for lang in LANGS] if name_langs else [Literal(value.strip())]
    raise _Problem("type", "expected text, or a mapping {nl: ..., en: ...}")


def _lang_items(value: dict[str, Any]) -> list[tuple[str, Any]]:
    bad = [k for k in value if k not in LANGS]
    if bad:
        raise _Problem("language", f"language {bad[0]!r} is not supported; use nl and en")
    return [(k, v) for k, v in value.items() if v not in (None, "", [])]


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def _ref(base: str, path: str, record_id: str) -> URIRef:
    if not is_slug(record_id):
        raise _Problem("reference", f"{record_id!r} is not a valid id")
    return mint_uri(base, path, record_id)


def _source(reference: str, base: str, source_ids: set[str]) -> URIRef:
    if reference.startswith(("http://", "https://")):
        if " " in reference:
            raise _Problem("source", f"{reference!r} is not a valid URL")
        return source_uri(base, reference)
    doc = reference.partition("#")[0]
    if doc not in source_ids:
        raise _Problem("source", f"{reference!r} is neither a URL nor '<source-id>#<section>' of a known source")
    return source_uri(base, reference)


def _typed_literal(kind: str, value: Any) -> Literal:
    try:
        if kind == "string":
            return Literal(str(value).strip())
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return Literal(int(str(value).strip()) if isinstance(value, str) else int(value), datatype=XSD.integer)
        if kind == "decimal":
            if isinstance(value, bool):
                raise ValueError
            return Literal(Decimal(str(value).strip()), datatype=XSD.decimal)
        if kind == "bool":
            if isinstance(value, bool):
                return Literal(value, datatype=XSD.boolean)
            if str(value).strip().lower() in ("true", "false"):
                return Literal(str(value).strip().lower() == "true", datatype=XSD.boolean)
            raise ValueError
        if kind == "date":
            text = value.isoformat() if isinstance(value, dt.date) else str(value).strip()
            if not DATE.match(text):
                raise ValueError
            dt.date.fromisoformat(text)
            return Literal(text, datatype=XSD.date)
    except (ValueError, InvalidOperation) as exc:
        raise _Problem("type", f"{value!r} is not a valid {kind}") from exc
    raise _Problem("type", f"unsupported field kind {kind}")
