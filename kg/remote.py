"""A store behind a remote SPARQL 1.1 endpoint (query + update URLs, optional auth)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
import requests

from kg.access import AUDIENCES, PUBLIC, GraphPolicy
from kg.errors import QueryError, StoreError
from kg.formats import RDF_FORMATS, rdf_format, results_format
from kg.terms import from_json, to_python
from ontology import MK, PREFIXES

RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


# --- Where servers write SPARQL results differently (see docs/virtuoso.md) ---------------------

def standard_term(term: dict[str, str]) -> dict[str, str]:
    """One term of SPARQL JSON results as SPARQL 1.1 writes it. Virtuoso writes typed literals with
    the 2007 draft's type "typed-literal", a blank node as "nodeID://b10000" (not a blank node label)
    and an xsd:boolean as "1" or "0" (its store keeps the value, not the word)."""
    kind = term.get("type")
    if kind == "typed-literal":
        term = {**term, "type": "literal"}
    elif kind == "bnode" and term["value"].startswith("nodeID://"):
        term = {**term, "value": term["value"].removeprefix("nodeID://")}
    if term.get("datatype") == XSD_BOOLEAN and term["value"] in ("0", "1"):
        term = {**term, "value": "true" if term["value"] == "1" else "false"}
    return term


def standard_results(body: dict[str, Any]) -> dict[str, Any]:
    """SPARQL JSON results with every term as `standard_term` writes it."""
    if "results" in body:
        rows = [{name: standard_term(term) for name, term in row.items()} for row in body["results"]["bindings"]]
        body = {**body, "results": {**body["results"], "bindings": rows}}
    return body


@dataclass(frozen=True)
class RemoteEndpoint:
    """Where a remote store answers and how to sign in to it: RemoteStore's arguments, as open_store takes them."""

    query_url: str
    update_url: str
    graph_prefix: str  # the graphs this project writes are named under it: <base URI>graph/
    token: str = ""  # a bearer token; wins over basic auth
    user: str = ""
    password: str = ""
    timeout_s: float = 10.0


class RemoteStore:
    """Talks the SPARQL 1.1 Protocol. The endpoint must treat its default graph as the union of
    the named graphs (for `oxigraph serve`: --union-default-graph; Virtuoso does so unasked), as the
    embedded store does. The store's own graphs are those under `graph_prefix`: writes replace only
    them, in one update request (atomic on stores that run an update request as one transaction, as
    Oxigraph does; Virtuoso keeps the operations before one that fails, see docs/virtuoso.md), and
    count(), quads() and the views read only them."""

    name = "remote"

    def __init__(self, query_url: str, update_url: str, graph_prefix: str, *, token: str = "",
                 user: str = "", password: str = "", timeout_s: float = 10.0) -> None:
        if not query_url:
            raise StoreError("MK_STORE=remote needs MK_REMOTE_QUERY_URL (and MK_REMOTE_UPDATE_URL to build)")
        self.query_url, self.update_url, self.graph_prefix = query_url, update_url, graph_prefix
        self.timeout_s = timeout_s
        self._views: dict[str, RemoteView] = {}
        self._session = requests.Session()
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        elif user:
            self._session.auth = (user, password)

    @classmethod
    def at(cls, endpoint: RemoteEndpoint) -> RemoteStore:
        return cls(endpoint.query_url, endpoint.update_url, endpoint.graph_prefix, token=endpoint.token,
                   user=endpoint.user, password=endpoint.password, timeout_s=endpoint.timeout_s)

    def view(self, audience: str) -> RemoteView:
        """A view that names its graphs in every request (default-graph-uri / named-graph-uri), so the
        remote answers from the audience's graphs only, with past editions out of the default graph."""
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}")
        if audience not in self._views:
            self._views[audience] = self._make_view(audience)
        return self._views[audience]

    def _make_view(self, audience: str) -> RemoteView:
        """Three requests to learn the graphs and their visibility: made once, then again only after
        this store wrote (a view is asked for on every request)."""
        # `GRAPH ?g { }` lists no graphs on Virtuoso (one empty row): ask for graphs that hold a quad.
        graphs = [str(row["g"]) for row in self.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {self._ours} }}")]
        declared: dict[str, set[str]] = defaultdict(set)
        for row in self.select(f"SELECT ?g ?v WHERE {{ GRAPH ?m {{ ?g <{MK.visibility}> ?v }} }}"):
            declared[str(row["g"])].add(str(row["v"]))
        editions = {str(row["g"]) for row in self.select(f"SELECT ?g WHERE {{ GRAPH ?m {{ ?g a <{MK.Edition}> }} }}")}
        policy = GraphPolicy(frozenset(g for g, v in declared.items() if v == {PUBLIC}), frozenset(editions))
        visible = [g for g in graphs if policy.visible(g, audience)]
        return RemoteView(self, audience, tuple(g for g in visible if g not in editions), tuple(visible))

    def _post(self, url: str, data: dict[str, str] | list[tuple[str, str]], accept: str | None = None) -> requests.Response:
        headers = {"Accept": accept} if accept else {}
        try:
            response = self._session.post(url, data=data, headers=headers, timeout=self.timeout_s)
        except requests.Timeout as exc:
            raise StoreError(f"the remote store did not answer within {self.timeout_s:g} s") from exc
        except requests.RequestException as exc:
            raise StoreError(f"cannot reach the remote store at {url}: {type(exc).__name__}") from exc
        if response.status_code == 400:
            raise QueryError(f"the remote store refused the request: {response.text[:500]}")
        if response.status_code in (401, 403):
            raise StoreError(f"the remote store refused access (HTTP {response.status_code}); check the credentials")
        if not response.ok:
            raise StoreError(f"the remote store answered HTTP {response.status_code}: {response.text[:200]}")
        return response

    def _json(self, sparql: str, dataset: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        try:
            body = self._post(self.query_url, [("query", sparql), *(dataset or [])], RESULTS_JSON).json()
        except ValueError as exc:
            raise StoreError("the remote store did not return SPARQL JSON results") from exc
        return standard_results(body)

    def select(self, sparql: str, dataset: list[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
        body = self._json(sparql, dataset)
        if "results" not in body:
            raise QueryError("expected a SELECT query")
        return [{k: to_python(from_json(v)) for k, v in row.items()} for row in body["results"]["bindings"]]

    def ask(self, sparql: str, dataset: list[tuple[str, str]] | None = None) -> bool:
        body = self._json(sparql, dataset)
        if "boolean" not in body:
            raise QueryError("expected an ASK query")
        return bool(body["boolean"])

    def query_to(self, sparql: str, fmt: str, dataset: list[tuple[str, str]] | None = None) -> bytes:
        """Asks the remote for SPARQL JSON results or N-Triples, and writes the format asked for here,
        with pyoxigraph and the project's prefixes, as the embedded store does: servers write the same
        format differently (Virtuoso: CSV with numbers unquoted, JSON-LD without datatypes or
        language tags, N-Triples with tabs and \\u escapes)."""
        if fmt in RDF_FORMATS:  # a CONSTRUCT or DESCRIBE: triples, in any RDF format
            out = rdf_format(fmt).ox_format
            text = self._post(self.query_url, [("query", sparql), *(dataset or [])], N_TRIPLES).content
            try:
                triples = ox.parse(text, format=ox.RdfFormat.N_TRIPLES)
                return ox.serialize((standard_triple(q) for q in triples), format=out, prefixes=PREFIXES) or b""
            except SyntaxError as exc:
                raise StoreError(f"the remote store did not return N-Triples: {exc}") from exc
        results = ox.parse_query_results(json.dumps(self._json(sparql, dataset)), ox.QueryResultsFormat.JSON)
        return results.serialize(format=results_format(fmt).ox_format) or b""

    @property
    def _ours(self) -> str:
        """The filter on ?g that keeps the store-level reads to this project's graphs: those under
        `graph_prefix`. A server may hold graphs of its own (Virtuoso: virtrdf#, ldp#, its service
        description) or of other projects; they are not this store's, as they are not its writes'."""
        prefix = self.graph_prefix.replace("\\", "\\\\").replace('"', '\\"')
        return f'FILTER(STRSTARTS(STR(?g), "{prefix}"))'

    def quads(self) -> Iterator[ox.Quad]:
        rows = self._json(f"SELECT ?g ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {self._ours} }}")["results"]["bindings"]
        for row in rows:
            yield ox.Quad(from_json(row["s"]), from_json(row["p"]), from_json(row["o"]), from_json(row["g"]))

    def count(self) -> int:
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {self._ours} }}")
        return int(rows[0]["n"]) if rows else 0

    def update(self, sparql: str, base_iri: str | None = None) -> None:
        if not self.update_url:
            raise StoreError("writing to the remote store needs MK_REMOTE_UPDATE_URL")
        self._post(self.update_url, {"update": f"BASE <{base_iri}>\n{sparql}" if base_iri else sparql})
        self._views.clear()  # the graphs or their visibility may have changed

    def replace_all(self, quads: Iterable[ox.Quad]) -> None:
        if not self.update_url:
            raise StoreError("writing to the remote store needs MK_REMOTE_UPDATE_URL")
        self._post(self.update_url, {"update": self.replace_request(quads)})
        self._views.clear()

    def replace_request(self, quads: Iterable[ox.Quad]) -> str:
        """One update request: delete this project's graphs, then insert the quads (`insert_request`)."""
        delete = f"DELETE {{ GRAPH ?g {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {self._ours} }}"
        inserts = self.insert_request(quads)
        return f"{delete} ;\n{inserts}" if inserts else delete

    @staticmethod
    def insert_request(quads: Iterable[ox.Quad]) -> str:
        """An update that adds the quads (named graphs only). Quads with a blank node go in an `INSERT { }
        WHERE { }` (one solution: the same blank node labels mean the same new nodes), as Virtuoso refuses
        blank nodes in INSERT DATA (SP031); "" for no quads."""
        ground: dict[str, list[str]] = defaultdict(list)
        blank: dict[str, list[str]] = defaultdict(list)
        for q in quads:
            has_blank = isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)
            (blank if has_blank else ground)[str(q.graph_name)].append(f"{q.subject} {q.predicate} {q.object} .")
        parts = []
        if ground:
            parts.append(f"INSERT DATA {{\n{_graphs(ground)}\n}}")
        if blank:
            parts.append(f"INSERT {{\n{_graphs(blank)}\n}} WHERE {{}}")
        return " ;\n".join(parts)


def _graphs(by_graph: dict[str, list[str]]) -> str:
    return "\n".join(f"GRAPH {g} {{\n" + "\n".join(lines) + "\n}" for g, lines in by_graph.items())


def standard_triple(quad: ox.Quad) -> ox.Triple:
    """A triple of the remote's N-Triples, its xsd:boolean written as a word (see `standard_term`)."""
    obj = quad.object
    if isinstance(obj, ox.Literal) and obj.datatype.value == XSD_BOOLEAN and obj.value in ("0", "1"):
        obj = ox.Literal("true" if obj.value == "1" else "false", datatype=obj.datatype)
    return ox.Triple(quad.subject, quad.predicate, obj)


class RemoteView:
    """One audience's reads from a remote store: every request carries the audience's dataset."""

    def __init__(self, remote: RemoteStore, audience: str, default: tuple[str, ...], named: tuple[str, ...]) -> None:
        self.remote, self.audience, self.named = remote, audience, named
        self._dataset = [("default-graph-uri", g) for g in default] + [("named-graph-uri", g) for g in named]
        if not default:  # an empty list would mean "no dataset given": name one that holds nothing
            self._dataset.insert(0, ("default-graph-uri", "urn:missiekompas:empty"))

    def cache_key(self) -> str:
        return f"{self.audience}:remote:{hash(tuple(self._dataset))}"

    def select(self, sparql: str) -> list[dict[str, Any]]:
        return self.remote.select(sparql, self._dataset)

    def ask(self, sparql: str) -> bool:
        return self.remote.ask(sparql, self._dataset)

    def query_to(self, sparql: str, fmt: str) -> bytes:
        return self.remote.query_to(sparql, fmt, self._dataset)

    def quads(self) -> Iterator[ox.Quad]:
        return (q for q in self.remote.quads() if q.graph_name.value in self.named)

    def count(self) -> int:
        return sum(1 for _ in self.quads())
