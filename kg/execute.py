"""Running one SPARQL query on a pyoxigraph store and serialising the answer within a row limit."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from kg.errors import QueryError, StoreError
from kg.functions import FunctionContext, custom_functions
from kg.results import Serialized, serialize_boolean, serialize_solutions, serialize_triples


@dataclass(frozen=True)
class QueryRequest:
    """A query with the dataset the protocol may give (default-graph-uri / named-graph-uri), and the
    score tables of the extension functions it calls (kg.functions; None: they are unbound)."""

    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    base_iri: str | None = None
    functions: FunctionContext | None = None


def execute(store: ox.Store, request: QueryRequest, fmt: str, max_rows: int) -> Serialized:
    """Evaluate and serialise; `fmt` is a results format for SELECT/ASK, an RDF format otherwise.
    `store` is one audience's view (kg.access), whose default graph is already the union of its
    current graphs. A protocol-given dataset replaces the query's own FROM / FROM NAMED."""
    kwargs: dict[str, object] = {"base_iri": request.base_iri, "custom_functions": custom_functions(request.functions)}
    try:
        if request.default_graphs or request.named_graphs:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in request.default_graphs]
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in request.named_graphs]
        result = store.query(request.query, **kwargs)
        if isinstance(result, ox.QueryBoolean):
            return serialize_boolean(bool(result), fmt)
        if isinstance(result, ox.QuerySolutions):
            return serialize_solutions([v.value for v in result.variables], result, fmt, max_rows)
        return serialize_triples(result, fmt, max_rows)
    except SyntaxError as exc:
        raise QueryError(f"malformed SPARQL: {exc}") from exc
    except ValueError as exc:
        raise QueryError(f"invalid query or dataset IRI: {exc}") from exc
    except RuntimeError as exc:  # what the engine cannot evaluate, such as a function it does not know
        raise QueryError(f"the query cannot be evaluated here: {exc}") from exc
    except OSError as exc:
        raise StoreError(f"store read failed: {exc}") from exc
