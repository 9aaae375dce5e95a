"""The ontology as a document: its terms grouped by kind, each with its labels, comments and the terms it
points to, as plain data for a page (web.ontology_page) or any other reader; and the file in other RDF syntaxes.
Everything is read from the file itself, so a term added there is documented without further work."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from ontology import ONTOLOGY_IRI, ONTOLOGY_PATH
from ontology.namespace import MK

MK_NS = str(MK._NS)
# The kinds of term, in the order a reader meets them; a term goes to the first kind one of its types names.
# What no kind names (roles, concepts, untyped terms) counts as an individual.
KINDS: tuple[tuple[str, tuple[URIRef, ...]], ...] = (
    ("classes", (OWL.Class, RDFS.Class)),
    ("object_properties", (OWL.ObjectProperty,)),
    ("datatype_properties", (OWL.DatatypeProperty,)),
    ("other_properties", (OWL.AnnotationProperty, RDF.Property)),
    ("concept_schemes", (SKOS.ConceptScheme,)),
    ("individuals", ()),
)
# The relations a term shows: OUTGOING the IRIs it points to, INCOMING the terms of this file that point to it.
OUTGOING = (
    ("subclass_of", RDFS.subClassOf),
    ("subproperty_of", RDFS.subPropertyOf),
    ("equivalent", OWL.equivalentClass),
    ("equivalent", OWL.equivalentProperty),
    ("inverse_of", OWL.inverseOf),
    ("domain", RDFS.domain),
    ("range", RDFS.range),
    ("in_scheme", SKOS.inScheme),
)
INCOMING = (
    ("subclasses", RDFS.subClassOf),
    ("subproperties", RDFS.subPropertyOf),
    ("members", SKOS.inScheme),
    ("instances", RDF.type),
    ("domain_of", RDFS.domain),
    ("range_of", RDFS.range),
)
RDF_FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "nt": "nt", "rdfxml": "xml"}  # pretty-xml drops RDF lists
_LOCAL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")


@dataclass(frozen=True)
class Ref:
    """A term something points to: its IRI, its prefixed name (the IRI itself where no prefix fits), the
    anchor on the page where the term is one of this ontology's, and its labels per language."""

    iri: str
    curie: str
    anchor: str | None
    labels: dict[str, str]


@dataclass(frozen=True)
class Relation:
    key: str  # subclass_of, domain, range, members, ... (see OUTGOING and INCOMING)
    refs: tuple[Ref, ...]


@dataclass(frozen=True)
class Term:
    name: str  # the local name: the page's anchor for the term
    iri: str
    kind: str
    labels: dict[str, str]
    comments: dict[str, str]
    relations: tuple[Relation, ...]


@dataclass(frozen=True)
class Section:
    kind: str
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class OntologyDocument:
    iri: str
    labels: dict[str, str]
    comments: dict[str, str]
    version: str
    licence: str
    prefixes: tuple[tuple[str, str], ...]  # (prefix, namespace) of the namespaces the file uses, mk first
    sections: tuple[Section, ...]  # the kinds that have terms, in the order of KINDS

    @property
    def terms(self) -> tuple[Term, ...]:
        return tuple(term for section in self.sections for term in section.terms)


def mk_terms(graph: Graph) -> set[URIRef]:
    """Every term of this ontology the file says something about."""
    return {s for s in graph.subjects() if isinstance(s, URIRef) and str(s).startswith(MK_NS) and str(s) != MK_NS}


def used_prefixes(graph: Graph) -> tuple[tuple[str, str], ...]:
    """The prefixes bound to a namespace that some IRI of the graph is in (rdflib binds many more), mk first."""
    iris = {str(t) for triple in graph for t in triple if isinstance(t, URIRef)}
    found = {prefix: str(ns) for prefix, ns in graph.namespaces()
             if prefix and any(iri.startswith(str(ns)) for iri in iris)}
    return tuple(sorted(found.items(), key=lambda item: (item[0] != "mk", item[0])))


def document(graph: Graph, ontology_iri: str = ONTOLOGY_IRI) -> OntologyDocument:
    prefixes = used_prefixes(graph)
    terms = mk_terms(graph)
    ontology = URIRef(ontology_iri)
    built: dict[str, list[Term]] = {kind: [] for kind, _ in KINDS}
    for subject in terms:
        term = _term(graph, subject, terms, prefixes)
        built[term.kind].append(term)
    sections = tuple(Section(kind, tuple(sorted(built[kind], key=lambda t: (t.name.lower(), t.name))))
                     for kind, _ in KINDS if built[kind])
    version = graph.value(ontology, OWL.versionInfo)
    licence = graph.value(ontology, DCTERMS.license)
    return OntologyDocument(ontology_iri, _texts(graph, ontology, RDFS.label), _texts(graph, ontology, RDFS.comment),
                            str(version) if version is not None else "", str(licence) if licence is not None else "",
                            prefixes, sections)


def load_document(path: Path = ONTOLOGY_PATH) -> OntologyDocument:
    """The document of the ontology file, read again only when the file changes."""
    stat = path.stat()
    return _document(path, stat.st_mtime_ns, stat.st_size)


def rdf_bytes(path: Path, fmt: str) -> bytes:
    """The RDF file at `path` in `fmt` (a key of RDF_FORMATS) with the file's own prefixes: Turtle is the
    file itself, comments and order included; the others are serialised from it."""
    stat = path.stat()
    return _rdf_bytes(path, stat.st_mtime_ns, stat.st_size, fmt)


@lru_cache(maxsize=4)
def _graph(path: Path, mtime_ns: int, size: int) -> Graph:
    return Graph().parse(path, format="turtle")


@lru_cache(maxsize=4)
def _document(path: Path, mtime_ns: int, size: int) -> OntologyDocument:
    return document(_graph(path, mtime_ns, size))


@lru_cache(maxsize=16)
def _rdf_bytes(path: Path, mtime_ns: int, size: int, fmt: str) -> bytes:
    graph = _graph(path, mtime_ns, size)  # parsed in every case: a broken file is an error, never served
    if fmt == "ttl":
        return path.read_bytes()
    if fmt == "jsonld":
        context = dict(used_prefixes(graph))
        return graph.serialize(format="json-ld", context=context, encoding="utf-8")
    return graph.serialize(format=RDF_FORMATS[fmt], encoding="utf-8")


def _term(graph: Graph, subject: URIRef, terms: set[URIRef], prefixes: tuple[tuple[str, str], ...]) -> Term:
    types = set(graph.objects(subject, RDF.type))
    kind = next((k for k, kind_types in KINDS if types & set(kind_types)), "individuals")
    own_types = set(dict(KINDS)[kind])
    relations = []
    others = sorted(t for t in types if isinstance(t, URIRef) and t not in own_types)
    if others:
        relations.append(Relation("type", _refs(graph, others, terms, prefixes)))
    for key, predicate in OUTGOING:
        _add(relations, key, _refs(graph, graph.objects(subject, predicate), terms, prefixes))
    for key, predicate in INCOMING:
        pointing = (s for s in graph.subjects(predicate, subject) if s in terms)
        _add(relations, key, _refs(graph, pointing, terms, prefixes))
    labels = _texts(graph, subject, RDFS.label) or _texts(graph, subject, SKOS.prefLabel)
    comments = _texts(graph, subject, RDFS.comment) or _texts(graph, subject, SKOS.definition)
    return Term(str(subject)[len(MK_NS):], str(subject), kind, labels, comments, tuple(relations))


def _add(relations: list[Relation], key: str, refs: tuple[Ref, ...]) -> None:
    """Adds the refs, to the relation of the same key where there is one (equivalent class or property)."""
    if not refs:
        return
    for i, relation in enumerate(relations):
        if relation.key == key:
            relations[i] = Relation(key, relation.refs + refs)
            return
    relations.append(Relation(key, refs))


def _refs(graph: Graph, objects: Iterable[object], terms: set[URIRef],
          prefixes: tuple[tuple[str, str], ...]) -> tuple[Ref, ...]:
    """The IRIs among `objects` (class expressions as blank nodes are left out), sorted by prefixed name."""
    found: dict[str, Ref] = {}
    for o in objects:
        if isinstance(o, URIRef) and str(o) not in found:
            mine = o in terms
            found[str(o)] = Ref(str(o), _curie(str(o), prefixes), str(o)[len(MK_NS):] if mine else None,
                                 _texts(graph, o, RDFS.label) if mine else {})
    return tuple(sorted(found.values(), key=lambda r: r.curie.lower()))


def _curie(iri: str, prefixes: tuple[tuple[str, str], ...]) -> str:
    for prefix, ns in sorted(prefixes, key=lambda p: -len(p[1])):
        rest = iri[len(ns):]
        if iri.startswith(ns) and _LOCAL_NAME.match(rest):
            return f"{prefix}:{rest}"
    return iri


def _texts(graph: Graph, subject: object, predicate: URIRef) -> dict[str, str]:
    """language -> text ('' for untagged); of two texts in one language the first in sort order."""
    texts: dict[str, str] = {}
    for o in sorted((o for o in graph.objects(subject, predicate) if isinstance(o, Literal)), key=str):  # type: ignore[arg-type]
        texts.setdefault(o.language or "", str(o))
    return texts
