"""The SPARQL service behind the HTTP endpoint: checks, limits and dispatch to the store."""

from __future__ import annotations

from dataclasses import dataclass

from kg.access import PUBLIC
from kg.errors import KgError, QueryError
from kg.execute import QueryRequest, execute
from kg.fast_queries import FastQueries
from kg.formats import RDF_FORMATS, RESULTS_FORMATS
from kg.results import Serialized
from kg.sparql_text import UpdateDataset, apply_update_dataset, check_complexity, clear_silently, outbound_calls
from kg.store import OxigraphStore, Store, View
from kg.worker import WorkerPool


class QueryRejected(KgError):
    """The request is well-formed but not allowed here (an outbound call, a write without rights)."""


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0
    max_rows: int = 10_000
    outbound_allow: tuple[str, ...] = ()
    inline_s: float = 0.05  # kg.fast_queries: a query seen to finish within this runs in-thread next time


class QueryService:
    """Answers user SPARQL. On the embedded store, queries run in worker processes that are killed
    at the timeout, except those already seen to finish fast on this store version (kg.fast_queries);
    the in-memory store (tests) runs them in-process; a remote store enforces its own limits and gets
    our timeout on the HTTP request."""

    def __init__(self, store: Store, limits: Limits, workers: int = 2) -> None:
        self.store = store
        self.limits = limits
        self._pool = WorkerPool(workers) if isinstance(store, OxigraphStore) else None
        self.fast = FastQueries(limits.inline_s)

    def check(self, text: str) -> None:
        """What every query and update passes before it reaches the parser."""
        check_complexity(text)
        self.check_outbound(text)

    def check_outbound(self, text: str) -> None:
        for target in outbound_calls(text):
            if not any(target.startswith(prefix) for prefix in self.limits.outbound_allow):
                raise QueryRejected(f"SERVICE and LOAD calls to other hosts are not allowed here ({target}); "
                                    "this endpoint only answers from its own data")

    def query(self, request: QueryRequest, fmt: str, audience: str = PUBLIC) -> Serialized:
        """Answer from the audience's view only (kg.access): a public query cannot see internal data."""
        self.check(request.query)
        view = self.store.view(audience)
        if self._pool is not None and isinstance(view, View) and view.path is not None:
            key = self.fast.key(str(view.path), request, fmt)
            whole = self.fast.seen(key)
            if whole is not None:
                return execute(view.handle(), request, fmt, self.limits.max_rows, whole=whole)
            answer, seconds = self._pool.run(view.path, request, fmt, self.limits.max_rows, self.limits.timeout_s)
            self.fast.record(key, request, seconds, whole=not answer.truncated)
            return answer
        if isinstance(view, View):
            return execute(view.handle(), request, fmt, self.limits.max_rows)
        if request.default_graphs or request.named_graphs:
            raise QueryError("default-graph-uri / named-graph-uri are not supported on a remote store")
        media = (RESULTS_FORMATS.get(fmt) or RDF_FORMATS[fmt]).media_type
        return Serialized(view.query_to(request.query, fmt), media)

    def update(self, text: str, dataset: UpdateDataset, base_iri: str | None = None) -> None:
        self.check(text)
        self.store.update(clear_silently(apply_update_dataset(text, dataset)), base_iri)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
