"""Worker processes for user SPARQL: queries and updates run outside the server process, fenced off
the network (kg.network_fence), so a time limit can stop them and SERVICE or LOAD cannot reach out."""

from __future__ import annotations

import multiprocessing
import queue
import time
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kg.delta import WriteEffect
from kg.errors import KgError, QueryError, StoreError, UnsupportedResultFormat
from kg.execute import QueryRequest, execute
from kg.versions import read_manifest

_KEPT_VIEWS = 2  # view folders of older store versions kept open besides those of the newest one asked for


class QueryTimeout(KgError):
    """The query or update ran past its time limit and was stopped."""


@dataclass(frozen=True)
class QueryJob:
    version: str  # the folder of one audience's view in one store version
    request: QueryRequest
    fmt: str
    max_rows: int


@dataclass(frozen=True)
class UpdateJob:
    previous: str  # the current version's folder (read-only); "" for an empty store
    target: str  # the new version's folder, filled by the worker (kg.delta.write_version)
    sparql: str
    base_iri: str | None
    visibility: str | None = None  # of the graphs the update creates


_ERRORS: dict[str, type[KgError]] = {"query": QueryError, "format": UnsupportedResultFormat, "store": StoreError}


def _serve(conn: Connection, fenced: bool, memory_quads: int = 0) -> None:
    """Worker loop: fence the process off the network first, then answer jobs until the pipe closes.
    A store version of up to `memory_quads` quads is answered from an in-memory copy of its views."""
    broken = ""
    if fenced:
        from kg.network_fence import FenceUnavailable, fence_network

        try:
            fence_network()
        except FenceUnavailable as exc:
            broken = str(exc)  # answer every job with it: never evaluate unfenced by accident
    opened: dict[tuple[str, bool], Any] = {}
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if broken:
            conn.send(("store", broken))
            continue
        try:
            started = time.perf_counter()
            if isinstance(job, UpdateJob):
                result: Any = _run_update(job, opened)
            else:
                result = execute(_view(job.version, opened, memory_quads), job.request, job.fmt, job.max_rows)
            conn.send(("ok", (result, time.perf_counter() - started)))
        except QueryError as exc:
            conn.send(("query", str(exc)))
        except UnsupportedResultFormat as exc:
            conn.send(("format", str(exc)))
        except (StoreError, OSError) as exc:
            conn.send(("store", str(exc)))
        except Exception as exc:  # noqa: BLE001 - the worker must answer and live on, whatever broke
            conn.send(("store", f"the request failed unexpectedly: {type(exc).__name__}"))


def _view(folder: str, opened: dict[tuple[str, bool], Any], memory_quads: int) -> Any:  # noqa: ANN401 - a pyoxigraph Store
    """A view folder opened read-only, kept for the next job: the views of one or two store versions
    (the current one, and the one a write is making from it) stay open, older ones are let go.

    A version never changes once published, so a query on one of up to `memory_quads` quads is
    answered from an in-memory copy, made once, which answers faster than the RocksDB folder
    (bench/bench_http.py measures both). Writes read the folder itself: the new version starts as its
    checkpoint (kg.delta)."""
    import pyoxigraph as ox

    version = Path(folder).parent
    in_memory = memory_quads > 0 and _quads(str(version)) <= memory_quads
    key = (folder, in_memory)
    if key not in opened:
        for kept in [k for k in opened if Path(k[0]).parent != version][:-_KEPT_VIEWS]:
            del opened[kept]
        store = ox.Store.read_only(folder)
        if in_memory:
            copy = ox.Store()
            copy.bulk_load(store.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
            store = copy
        opened[key] = store
    return opened[key]


@lru_cache(maxsize=64)
def _quads(version: str) -> float:
    """The quads of a store version, from its manifest (a version never changes); unknown: infinite."""
    quads = read_manifest(Path(version)).quads
    return float("inf") if quads is None else quads


def _run_update(job: UpdateJob, opened: dict[tuple[str, bool], Any]) -> WriteEffect:
    from kg.delta import write_version

    return write_version(Path(job.previous) if job.previous else None, Path(job.target), job.sparql, job.base_iri,
                         job.visibility, open_view=lambda folder: _view(str(folder), opened, 0))


class _Worker:
    def __init__(self, context: Any, fenced: bool, memory_quads: int) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, fenced, memory_quads), daemon=True)
        self.process.start()
        child.close()

    def stop(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class _Idle(queue.LifoQueue["_Worker | None"]):
    """The idle workers, the one used last taken first: its caches are warm (a query took about a sixth
    less time than on workers taken in turn). A free place without a worker (None) is taken only when
    no started worker is idle, so a worker is started only when one is needed."""

    def _put(self, item: _Worker | None) -> None:
        if item is None:
            self.queue.insert(0, item)
        else:
            self.queue.append(item)


class WorkerPool:
    """A fixed number of worker processes shared by the threads of one server process. The time limit
    covers the whole request: waiting for a free worker, starting it, and the work; a job past it has
    its worker killed (which really stops the work) and replaced."""

    def __init__(self, size: int = 2, *, fenced: bool = True, memory_quads: int = 0) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._fenced, self._memory_quads = fenced, memory_quads
        self._idle = _Idle()
        for _ in range(size):
            self._idle.put(None)  # workers start lazily, on first use

    def run(self, job: QueryJob | UpdateJob, timeout_s: float) -> tuple[Any, float]:
        """The job's result, and the seconds the worker spent on it."""
        deadline = time.monotonic() + timeout_s
        try:
            worker = self._idle.get(timeout=timeout_s)
        except queue.Empty:
            raise QueryTimeout(f"all query workers stayed busy for {timeout_s:g} s (the time limit); "
                               "try again shortly") from None
        if worker is None or not worker.process.is_alive():
            worker = _Worker(self._context, self._fenced, self._memory_quads)
        try:
            worker.conn.send(job)
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                worker.stop()
                worker = None
                what = "update" if isinstance(job, UpdateJob) else "query"
                raise QueryTimeout(f"the {what} was stopped after {timeout_s:g} s (the time limit)")
            kind, payload = worker.conn.recv()
        except (EOFError, BrokenPipeError, OSError) as exc:
            if worker is not None:
                worker.stop()
            worker = None
            raise StoreError(f"the query worker failed: {exc}") from exc
        finally:
            self._idle.put(worker)
        if kind != "ok":
            raise _ERRORS[kind](payload)
        return payload  # type: ignore[no-any-return]

    def close(self) -> None:
        while not self._idle.empty():
            worker = self._idle.get_nowait()
            if worker is not None:
                worker.stop()
