"""The lexer reads SPARQL as the engine does: on the W3C syntax suites (1.0, 1.1 query, update and
federation, the 1.2 drafts) every text the engine accepts is read, and every text the lexer refuses
the engine refuses too; the engine's own quirks are read its way."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
import rdflib

from kg.sparql_lexer import IRI, PNAME, PUNCT, VAR, WORD, SparqlSyntaxError, tokens
from kg.sparql_text import outbound_calls

SUITES = Path(__file__).with_name("fixtures") / "w3c-sparql-syntax" / "sparql"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")


def _syntax_tests() -> list[tuple[str, Path]]:
    """(test type, file) for every syntax test in every manifest."""
    found = []
    for manifest in sorted(SUITES.rglob("manifest.ttl")):
        graph = rdflib.Graph().parse(manifest, format="turtle")
        for test, kind in graph.subject_objects(rdflib.RDF.type):
            name = str(kind).rsplit("#", 1)[-1]
            action = graph.value(test, MF.action)
            if "Syntax" in name and action is not None:
                found.append((name, Path(str(action).removeprefix("file://"))))
    return sorted(found, key=lambda row: str(row[1]))


def _engine_reads(jobs: list[tuple[bool, str]]) -> list[bool]:
    """Whether pyoxigraph parses each text (query or update), in a process fenced off the network:
    a SERVICE or LOAD that parses fails later, at evaluation, which still counts as read."""
    from kg.network_fence import fence_network

    fence_network()
    import pyoxigraph as ox

    results = []
    for is_update, text in jobs:
        store = ox.Store()
        try:
            (store.update if is_update else store.query)(text, base_iri="http://example.org/base/")
            results.append(True)
        except SyntaxError:
            results.append(False)
        except (OSError, RuntimeError, ValueError):
            results.append(True)
    return results


@pytest.fixture(scope="module")
def suite() -> list[tuple[str, Path, str, bool]]:
    """(test type, file, text, whether the engine reads it) for the whole suite."""
    tests = _syntax_tests()
    texts = [path.read_text(encoding="utf-8") for _, path in tests]
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        engine = pool.apply(_engine_reads, ([("Update" in kind, text) for (kind, _), text in zip(tests, texts, strict=True)],))
    return [(kind, path, text, reads) for (kind, path), text, reads in zip(tests, texts, engine, strict=True)]


def _lexes(text: str) -> bool:
    try:
        tokens(text)
    except SparqlSyntaxError:
        return False
    return True


def test_the_suite_is_all_there(suite: list[tuple[str, Path, str, bool]]) -> None:
    folders = {path.parent.name for _, path, _, _ in suite}
    assert {"syntax-query", "syntax-update-1", "syntax-update-2", "syntax-fed", "syntax-sparql1",
            "syntax-triple-terms-positive", "syntax-triple-terms-negative", "codepoint-escapes", "version"} <= folders
    assert len(suite) > 500
    assert sum(1 for kind, *_ in suite if kind.startswith("Negative")) > 150


def test_every_text_the_engine_reads_the_lexer_reads(suite: list[tuple[str, Path, str, bool]]) -> None:
    missed = [f"{path.parent.name}/{path.name}" for _, path, text, reads in suite if reads and not _lexes(text)]
    assert missed == []


def test_every_positive_syntax_test_is_read(suite: list[tuple[str, Path, str, bool]]) -> None:
    missed = [f"{path.parent.name}/{path.name}" for kind, path, text, _ in suite
              if kind.startswith("Positive") and not _lexes(text)]
    assert missed == []


def test_what_the_lexer_refuses_the_engine_refuses(suite: list[tuple[str, Path, str, bool]]) -> None:
    refused = [(path, reads) for _, path, text, reads in suite if not _lexes(text)]
    assert len(refused) > 10  # the lexer does refuse some negative tests (unknown words, broken strings ...)
    assert [path.name for path, reads in refused if reads] == []


def test_every_federated_query_names_its_service(suite: list[tuple[str, Path, str, bool]]) -> None:
    federated = [(path, text) for kind, path, text, _ in suite if path.parent.name == "syntax-fed" and
                 kind.startswith("Positive")]
    assert federated
    assert [path.name for path, text in federated if not outbound_calls(text)] == []


@pytest.mark.parametrize("text, expected", [
    # "<" after an operand in an expression compares; a SERVICE behind it is a SERVICE
    ("SELECT ?x {BIND(1 AS ?x) FILTER(?x<?x)SERVICE $x#>\n{}}", [(PUNCT, "<"), (WORD, "SERVICE"), (VAR, "$x")]),
    # a prefixed name takes one run of dots inside its local part, as the engine reads it
    ("PREFIX ex: <http://e/> SELECT * { ?s ?p ex:a.b.SERVICE <http://h/> {} }",
     [(PNAME, "ex:a.b"), (PUNCT, "."), (WORD, "SERVICE"), (IRI, "<http://h/>")]),
    # an escaped quote in a local name is part of the name, not the start of a string
    ("PREFIX ex: <http://e/> SELECT * { BIND(ex:a\\' AS ?v) SERVICE <http://h/> {} FILTER(?v != \"'\") }",
     [(PNAME, "ex:a\\'"), (WORD, "SERVICE"), (IRI, "<http://h/>")]),
    # in a collection "<" opens an IRI
    ("SELECT * { ?s ?p (1 <http://a>) }", [(IRI, "<http://a>")]),
    ("SELECT * { FILTER(?a<<x>) }", [(PUNCT, "<"), (IRI, "<x>")]),
    # a comment ends at a line break, never at an escaped one
    ("SELECT * {} # c\\u000A SERVICE <http://h/> {}", []),
])
def test_the_engines_readings(text: str, expected: list[tuple[str, str]]) -> None:
    found = [(token.kind, token.text) for token in tokens(text)]
    for pair in expected:
        assert pair in found
    if not expected:
        assert all(kind != WORD or value != "SERVICE" for kind, value in found)


@pytest.mark.parametrize("text", [
    "SELECT * { SERVICESILENT <http://h/> {} }",  # the engine reads SERVICE SILENT: refused as unknown
    "SELECT * WHERE { \\u003Fs ?p ?o }",  # no codepoint escapes outside strings and IRIs
    'SELECT * { ?s ?p "unterminated }',
    "SELECT * { ?s ?p ?o ) }",
    "SELECT * { ?s ?p ?o \u00a0}",  # only space, tab, CR and LF separate tokens
])
def test_what_cannot_be_read_is_refused_with_its_place(text: str) -> None:
    with pytest.raises(SparqlSyntaxError, match="line 1, column"):
        tokens(text)


@pytest.mark.parametrize("text, targets", [
    ("PREFIX ex: <http://h/> SELECT * { SERVICEex:a {} }", [None]),  # the engine reads SERVICE ex:a
    ("PREFIX : <http://h/> SELECT * { SERVICE:x {} }", [None]),
    ("PREFIX ex: <http://h/> SELECT * { SERVICE ex:a\\.b {} }", ["http://h/a.b"]),
    ("BASE <http://h/> SELECT * { SERVICE <x> {} }", ["http://h/x"]),
    ("SELECT * { SERVICE <\\u0068ttp://h/> {} }", ["http://h/"]),
    ("SELECT * { SERVICE <x> {} }", [None]),  # relative, and no base to resolve it against
    ("PREFIX SILENTex: <http://ok/> SELECT * { SERVICE SILENTex:a {} }", [None]),
    ("LOAD SILENT <http://h/d.ttl> INTO GRAPH <urn:g>", ["http://h/d.ttl"]),
])
def test_outbound_targets_are_resolved_or_unknown(text: str, targets: list[str | None]) -> None:
    assert outbound_calls(text) == targets


def test_relative_targets_resolve_against_the_request_base() -> None:
    assert outbound_calls("SELECT * { SERVICE <other> {} }", "http://here/sparql") == ["http://here/other"]


def test_a_subquerys_projection_and_order_are_expressions() -> None:
    text = "SELECT * { { SELECT ?x (?a<?b AS ?c) { ?s ?p ?o } ORDER BY ?x <http://f>(?a<?b) } ?s ?p (1 <http://x>) }"
    found = [(token.kind, token.text) for token in tokens(text) if token.text.startswith("<")]
    assert found == [(PUNCT, "<"), (IRI, "<http://f>"), (PUNCT, "<"), (IRI, "<http://x>")]
