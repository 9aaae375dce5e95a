"""Serialising SPARQL results with a row limit: SELECT rows, ASK booleans and CONSTRUCT triples."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from json.encoder import encode_basestring as _string  # a JSON string, as json.dumps(ensure_ascii=False) writes it
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from kg.errors import UnsupportedResultFormat
from kg.formats import rdf_format, results_format
from ontology import PREFIXES

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
_QUOT = {'"': "&quot;"}
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


@dataclass(frozen=True)
class Serialized:
    """A serialised result, its media type, and whether rows were cut at the limit."""

    body: bytes
    media_type: str
    truncated: bool = False


def serialize_solutions(variables: Sequence[str], rows: Iterable[ox.QuerySolution], fmt: str,
                        max_rows: int) -> Serialized:
    taken = list(islice(rows, max_rows + 1))
    truncated = len(taken) > max_rows
    positions = range(len(variables))  # by position: a lookup by name costs a search per value
    values = [[row[i] for i in positions] for row in taken[:max_rows]]
    writer = {"json": _json, "xml": _xml, "csv": _csv, "tsv": _tsv}[results_format(fmt).name]
    return Serialized(writer(list(variables), values), _media(fmt), truncated)


def serialize_boolean(value: bool, fmt: str) -> Serialized:
    if fmt == "json":
        body = json.dumps({"head": {}, "boolean": value}, separators=(",", ":")).encode()
    elif fmt == "xml":
        body = (f'<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head></head><boolean>{str(value).lower()}</boolean></sparql>").encode()
    else:
        body = str(value).lower().encode()
    return Serialized(body, _media(fmt))


def serialize_triples(triples: Iterable[ox.Triple], fmt: str, max_rows: int) -> Serialized:
    taken = list(islice(triples, max_rows + 1))
    spec = rdf_format(fmt)
    try:
        body = ox.serialize(taken[:max_rows], format=spec.ox_format, prefixes=PREFIXES) or b""
    except (OSError, ValueError) as exc:  # e.g. RDF 1.2 triple terms, which JSON-LD cannot hold
        raise UnsupportedResultFormat(f"the result cannot be written as {spec.media_type}: {exc}; "
                                      "ask for Turtle or N-Triples instead") from exc
    return Serialized(body, spec.media_type, len(taken) > max_rows)


def _media(fmt: str) -> str:
    media = results_format(fmt).media_type
    return f"{media}; charset=utf-8" if fmt in ("csv", "tsv") else media


def _json_term(term: Term) -> dict[str, object]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                             "predicate": _json_term(term.predicate),
                                             "object": _json_term(term.object)}}
    out: dict[str, object] = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def _json_text(term: Term) -> str:
    """One term as JSON text, written directly for the common kinds (twice as fast as dicts and dumps)."""
    kind = type(term)
    if kind is ox.NamedNode:
        return f'{{"type":"uri","value":{_string(term.value)}}}'
    if kind is ox.Literal:
        if term.language:
            return f'{{"type":"literal","value":{_string(term.value)},"xml:lang":{_string(term.language)}}}'
        datatype = term.datatype.value
        if datatype == XSD_STRING:
            return f'{{"type":"literal","value":{_string(term.value)}}}'
        return f'{{"type":"literal","value":{_string(term.value)},"datatype":{_string(datatype)}}}'
    if kind is ox.BlankNode:
        return f'{{"type":"bnode","value":{_string(term.value)}}}'
    return json.dumps(_json_term(term), ensure_ascii=False, separators=(",", ":"))


def _json(variables: list[str], rows: list[list[Term | None]]) -> bytes:
    names = [f"{_string(v)}:" for v in variables]
    bindings = ",".join("{" + ",".join(n + _json_text(t) for n, t in zip(names, row, strict=True) if t is not None) + "}"
                        for row in rows)
    head = ",".join(_string(v) for v in variables)
    return f'{{"head":{{"vars":[{head}]}},"results":{{"bindings":[{bindings}]}}}}'.encode()


def _xml_term(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Triple):
        parts = zip(("subject", "predicate", "object"), (term.subject, term.predicate, term.object), strict=True)
        return "<triple>" + "".join(f"<{n}>{_xml_term(t)}</{n}>" for n, t in parts) + "</triple>"
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value, _QUOT)}</literal>"
    if term.datatype.value != XSD_STRING:
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value, _QUOT)}</literal>"
    return f"<literal>{escape(term.value, _QUOT)}</literal>"


def _xml(variables: list[str], rows: list[list[Term | None]]) -> bytes:
    head = "".join(f"<variable name={quoteattr(v)}/>" for v in variables)
    results = "".join(
        "<result>" + "".join(f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                             for v, t in zip(variables, row, strict=True) if t is not None) + "</result>"
        for row in rows)
    return (f'<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>{head}</head>'
            f"<results>{results}</results></sparql>").encode()


def _csv_value(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def _csv(variables: list[str], rows: list[list[Term | None]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(variables)
    writer.writerows([_csv_value(t) for t in row] for row in rows)
    return out.getvalue().encode()


_SHORT_FORMS = {
    XSD + "integer": re.compile(r"^[+-]?\d+$"),
    XSD + "decimal": re.compile(r"^[+-]?\d*\.\d+$"),
    XSD + "double": re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+$"),
    XSD + "boolean": re.compile(r"^(?:true|false)$"),
}


def _tsv_term(term: Term | None) -> str:
    """Turtle syntax, with the short form for numbers and booleans (as the TSV format allows)."""
    if term is None:
        return ""
    if isinstance(term, ox.Literal) and not term.language:
        pattern = _SHORT_FORMS.get(term.datatype.value)
        if pattern and pattern.match(term.value):
            return term.value
    return str(term)


def _tsv(variables: list[str], rows: list[list[Term | None]]) -> bytes:
    lines = ["\t".join(f"?{v}" for v in variables)]
    lines += ["\t".join(_tsv_term(t) for t in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()
