"""A store behind a remote SPARQL 1.1 endpoint (query + update URLs, optional auth)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
import requests

from kg.access import AUDIENCES, PUBLIC, GraphPolicy
from kg.errors import QueryError, StoreError
from kg.formats import rdf_format, results_format
from kg.terms import from_json, to_python
from ontology import MK

RESULTS_JSON = "application/sparql-results+json"


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
    the named graphs (for `oxigraph serve`: --union-default-graph), as the embedded store does.
    Writes replace only the graphs under `graph_prefix`, in one update request (atomic on
    stores that run an update request as one transaction, as Oxigraph does)."""

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
        graphs = [str(row["g"]) for row in self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")]
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
            return self._post(self.query_url, [("query", sparql), *(dataset or [])], RESULTS_JSON).json()
        except ValueError as exc:
            raise StoreError("the remote store did not return SPARQL JSON results") from exc

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
        media = rdf_format(fmt).media_type if fmt in ("ttl", "nt", "jsonld", "rdfxml") else results_format(fmt).media_type
        return self._post(self.query_url, [("query", sparql), *(dataset or [])], media).content

    def quads(self) -> Iterator[ox.Quad]:
        rows = self._json("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")["results"]["bindings"]
        for row in rows:
            yield ox.Quad(from_json(row["s"]), from_json(row["p"]), from_json(row["o"]), from_json(row["g"]))

    def count(self) -> int:
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
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
        by_graph: dict[str, list[str]] = defaultdict(list)
        for q in quads:
            by_graph[str(q.graph_name)].append(f"{q.subject} {q.predicate} {q.object} .")
        prefix = self.graph_prefix.replace("\\", "\\\\").replace('"', '\\"')
        parts = [
            "DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } "
            f'FILTER(STRSTARTS(STR(?g), "{prefix}")) }}'
        ]
        if by_graph:
            body = "\n".join(f"GRAPH {g} {{\n" + "\n".join(lines) + "\n}" for g, lines in by_graph.items())
            parts.append(f"INSERT DATA {{\n{body}\n}}")
        return " ;\n".join(parts)


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
