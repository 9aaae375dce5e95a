"""Reading SPARQL text: query forms, outbound calls and protocol dataset clauses, without evaluating."""

from __future__ import annotations

import pytest

from kg.errors import QueryError
from kg.sparql_text import UpdateDataset, apply_update_dataset, clear_silently, extension_calls, outbound_calls, query_form


@pytest.mark.parametrize("text, form", [
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
    ("PREFIX ask: <http://example.org/select#>\n# CONSTRUCT in a comment\nASK { ?s ?p 'DESCRIBE' }", "ASK"),
    ("BASE <http://x/> construct where { ?s ?p ?o }", "CONSTRUCT"),
    ("DESCRIBE <http://example.org/a>", "DESCRIBE"),
])
def test_query_form_ignores_comments_iris_and_strings(text: str, form: str) -> None:
    assert query_form(text) == form


def test_text_without_a_form_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="no SELECT"):
        query_form("INSERT DATA { <a> <b> <c> }")


@pytest.mark.parametrize("text, targets", [
    ("SELECT * { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }", ["http://evil.example/sparql"]),
    ("SELECT * { SERVICE SILENT <http://a/> { ?s ?p ?o } }", ["http://a/"]),
    ("LOAD <http://example.org/data.ttl> INTO GRAPH <urn:g>", ["http://example.org/data.ttl"]),
    ("select * { service ?endpoint { ?s ?p ?o } }", [None]),
    ('SELECT * { ?s ?p "SERVICE <http://a/>" } # LOAD <http://b/>', []),
    ("SELECT * { ?s <http://example.org/SERVICE> ?o }", []),
])
def test_outbound_calls_are_found_only_in_syntax(text: str, targets: list[str]) -> None:
    assert outbound_calls(text) == targets


UPDATE = """PREFIX foaf: <http://xmlns.com/foaf/0.1/>
DROP ALL ;
INSERT DATA { GRAPH <http://x/1> { <http://x/1> a foaf:Document } } ;
INSERT { GRAPH <http://t/> { ?s a foaf:Thing } }
WHERE { ?s a foaf:Document }"""


def test_using_clauses_go_before_where_of_modify_operations_only() -> None:
    out = apply_update_dataset(UPDATE, UpdateDataset(using=("http://x/1",), using_named=("http://x/2",)))
    assert out.count("USING <http://x/1> USING NAMED <http://x/2> WHERE") == 1
    assert "INSERT DATA { GRAPH <http://x/1>" in out


def test_update_with_its_own_dataset_conflicts_with_protocol_dataset() -> None:
    with pytest.raises(QueryError, match="USING/WITH"):
        apply_update_dataset("DELETE { ?s ?p ?o } USING <urn:g> WHERE { ?s ?p ?o }", UpdateDataset(using=("urn:h",)))


def test_no_protocol_dataset_leaves_the_update_alone() -> None:
    assert apply_update_dataset(UPDATE, UpdateDataset()) == UPDATE


def test_clear_becomes_silent_but_drop_and_strings_stay() -> None:
    update = 'CLEAR GRAPH <urn:g> ; clear silent all ; DROP GRAPH <urn:h> ; INSERT DATA { <urn:a> <urn:b> "CLEAR" }'
    assert clear_silently(update) == ('CLEAR SILENT GRAPH <urn:g> ; clear silent all ; DROP GRAPH <urn:h> ; '
                                      'INSERT DATA { <urn:a> <urn:b> "CLEAR" }')


FN = "https://w3id.org/missiekompas/fn#"


@pytest.mark.parametrize("text, calls", [
    ('PREFIX fn: <https://w3id.org/missiekompas/fn#> SELECT * { BIND(fn:similarity(?e, "wind op zee") AS ?s) }',
     [(FN + "similarity", "wind op zee")]),
    ("SELECT (<https://w3id.org/missiekompas/fn#textScore>(?e, 'a\\tb \\u0041', \"\"\"c \"d\" e\"\"\"@en) AS ?s) {}",
     [(FN + "textScore", "a\tb A"), (FN + "textScore", 'c "d" e')]),
    ('BASE <https://w3id.org/missiekompas/> SELECT * { FILTER(<fn#similarity>(?e, "x") > 0.5) }', [(FN + "similarity", "x")]),
    ('PREFIX fn: <https://w3id.org/missiekompas/fn#> SELECT * { BIND(fn:similarity(?e, CONCAT("a", "b")) AS ?s) }', []),
    ('PREFIX fn: <https://example.org/other#> SELECT * { BIND(fn:similarity(?e, "x") AS ?s) }', []),
    ('SELECT * { ?s ?p "fn:similarity(?e, \\"x\\")" }', []),
])
def test_extension_calls_are_the_literal_arguments_as_the_engine_reads_them(text: str,
                                                                           calls: list[tuple[str, str]]) -> None:
    assert extension_calls(text, FN) == calls
