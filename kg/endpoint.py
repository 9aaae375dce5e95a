"""The SPARQL service behind the HTTP endpoint: the checks every request passes, then one executor,
chosen once by the kind of store, that evaluates it under the limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kg.access import PUBLIC
from kg.delta import WriteEffect
from kg.errors import KgError, QueryError
from kg.execute import QueryRequest, execute
from kg.formats import RDF_FORMATS, RESULTS_FORMATS
from kg.remote import RemoteStore
from kg.results import Serialized
from kg.shared import SharedStore
from kg.sparql_text import UpdateDataset, apply_update_dataset, check_complexity, clear_silently, outbound_calls
from kg.store import MemoryStore, OxigraphStore, Store
from kg.worker import QueryJob, UpdateJob, WorkerPool


class QueryRejected(KgError):
    """The request is well-formed but not allowed here (an outbound call, a write without rights)."""


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0
    max_rows: int = 10_000
    outbound_allow: tuple[str, ...] = ()
    update_timeout_s: float = 60.0
    memory_quads: int = 0  # a store version of up to this many quads is queried from an in-memory copy


class Executor(Protocol):
    """Evaluates checked requests against one kind of store."""

    def query(self, audience: str, request: QueryRequest, fmt: str) -> Serialized: ...

    def update(self, sparql: str, base_iri: str | None, *, who: str = "", visibility: str | None = None) -> None:
        """Run a checked update; `who` names the writer for the history, `visibility` is given to the
        graphs it creates (public or internal; None: internal)."""

    def close(self) -> None: ...


class WorkerExecutor:
    """The embedded store: every query and update runs in a worker process fenced off the network
    (unless outbound calls are allowed), killed at its time limit (kg.worker)."""

    def __init__(self, store: OxigraphStore, limits: Limits, workers: int) -> None:
        self.store, self.limits = store, limits
        self.pool = WorkerPool(workers, fenced=not limits.outbound_allow, memory_quads=limits.memory_quads)

    def query(self, audience: str, request: QueryRequest, fmt: str) -> Serialized:
        view = self.store.view(audience)
        job = QueryJob(str(view.path), request, fmt, self.limits.max_rows)
        answer, _ = self.pool.run(job, self.limits.timeout_s)
        return answer  # type: ignore[no-any-return]

    def update(self, sparql: str, base_iri: str | None, *, who: str = "", visibility: str | None = None) -> None:
        def run(previous: Path | None, version: Path) -> WriteEffect:
            job = UpdateJob(str(previous or ""), str(version), sparql, base_iri, visibility)
            effect, _ = self.pool.run(job, self.limits.update_timeout_s)
            return effect  # type: ignore[no-any-return]

        self.store.write(run, sparql=sparql, base_iri=base_iri, who=who, visibility=visibility)

    def close(self) -> None:
        self.pool.close()


class InProcessExecutor:
    """The in-memory store (tests and throw-away runs): evaluated in this process, with no time limit
    and no network fence; the checks of QueryService still apply."""

    def __init__(self, store: MemoryStore, limits: Limits, workers: int) -> None:
        self.store, self.limits = store, limits

    def query(self, audience: str, request: QueryRequest, fmt: str) -> Serialized:
        return execute(self.store.view(audience).handle(), request, fmt, self.limits.max_rows)

    def update(self, sparql: str, base_iri: str | None, *, who: str = "", visibility: str | None = None) -> None:
        self.store.update(sparql, base_iri, who=who, visibility=visibility)

    def close(self) -> None:
        pass


class RemoteExecutor:
    """A remote SPARQL server: it enforces its own limits and gets our timeout on the HTTP request."""

    def __init__(self, store: RemoteStore, limits: Limits, workers: int) -> None:
        self.store = store

    def query(self, audience: str, request: QueryRequest, fmt: str) -> Serialized:
        if request.default_graphs or request.named_graphs:
            raise QueryError("default-graph-uri / named-graph-uri are not supported on a remote store")
        if request.functions is not None:  # the remote server knows no fn: function (kg.functions)
            raise QueryRejected("fn:similarity and fn:textScore are not available on a remote store")
        media = (RESULTS_FORMATS.get(fmt) or RDF_FORMATS[fmt]).media_type
        return Serialized(self.store.view(audience).query_to(request.query, fmt), media)

    def update(self, sparql: str, base_iri: str | None, *, who: str = "", visibility: str | None = None) -> None:
        if visibility == PUBLIC:
            raise QueryRejected("a remote store keeps its own graph visibility; visibility=public is not available here")
        self.store.update(sparql, base_iri)

    def close(self) -> None:
        pass


class SharedExecutor:
    """The shared store (kg.shared): a query goes to the server that holds its audience's view, which
    runs it under its own time limit (`oxigraph serve --timeout-s`) and gets ours on the HTTP request;
    a dataset the request names keeps to the view's graphs (kg.shared.SlotView). The answer is
    serialised here, cut at MK_MAX_ROWS. Writes are published as a new version."""

    def __init__(self, store: SharedStore, limits: Limits, workers: int) -> None:
        self.store, self.limits = store, limits

    def query(self, audience: str, request: QueryRequest, fmt: str) -> Serialized:
        if request.functions is not None:  # the servers know no fn: function (kg.functions)
            raise QueryRejected("fn:similarity and fn:textScore are not available on a shared store")
        return self.store.view(audience).answer(request.query, fmt, self.limits.max_rows, request.default_graphs,
                                                request.named_graphs)

    def update(self, sparql: str, base_iri: str | None, *, who: str = "", visibility: str | None = None) -> None:
        self.store.update(sparql, base_iri, who=who, visibility=visibility)

    def close(self) -> None:
        pass


EXECUTORS = {"oxigraph": WorkerExecutor, "memory": InProcessExecutor, "remote": RemoteExecutor,
             "shared": SharedExecutor}


class QueryService:
    """Answers user SPARQL: every request is read by the lexer's checks (kg.sparql_text) before the
    executor sees it."""

    def __init__(self, executor: Executor, limits: Limits) -> None:
        self.executor, self.limits = executor, limits

    def check(self, text: str, base_iri: str | None = None) -> None:
        """What every query and update passes before it reaches the engine."""
        check_complexity(text)
        for target in outbound_calls(text, base_iri):
            if target is None or not any(target.startswith(prefix) for prefix in self.limits.outbound_allow):
                shown = target or "a target known only when the query runs"
                raise QueryRejected(f"SERVICE and LOAD calls to other hosts are not allowed here ({shown}); "
                                    "this endpoint only answers from its own data")

    def query(self, request: QueryRequest, fmt: str, audience: str = PUBLIC) -> Serialized:
        """Answer from the audience's view only (kg.access): a public query cannot see internal data."""
        self.check(request.query, request.base_iri)
        return self.executor.query(audience, request, fmt)

    def update(self, text: str, dataset: UpdateDataset, base_iri: str | None = None, *, who: str = "",
               visibility: str | None = None) -> None:
        self.check(text, base_iri)
        self.executor.update(clear_silently(apply_update_dataset(text, dataset)), base_iri, who=who,
                             visibility=visibility)

    def close(self) -> None:
        self.executor.close()


def open_query_service(kind: str, store: Store, limits: Limits, workers: int = 2) -> QueryService:
    """The service for a store of `kind` (the MK_STORE setting: oxigraph, memory or remote)."""
    return QueryService(EXECUTORS[kind](store, limits, workers), limits)  # type: ignore[arg-type]
