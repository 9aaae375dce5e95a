"""Worker processes for user SPARQL: queries and updates run outside the server process, fenced off
the network (kg.network_fence), so a time limit can stop them and SERVICE or LOAD cannot reach out."""

from __future__ import annotations

import multiprocessing
import queue
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kg.delta import WriteEffect
from kg.errors import KgError, QueryError, StoreError, UnsupportedResultFormat
from kg.execute import QueryRequest, execute
from kg.results import Serialized

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


def _serve(conn: Connection, fenced: bool) -> None:
    """Worker loop: fence the process off the network first, then answer jobs until the pipe closes."""
    broken = ""
    if fenced:
        from kg.network_fence import FenceUnavailable, fence_network

        try:
            fence_network()
        except FenceUnavailable as exc:
            broken = str(exc)  # answer every job with it: never evaluate unfenced by accident
    opened: dict[str, Any] = {}
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
            result = _run_update(job, opened) if isinstance(job, UpdateJob) else _run_query(job, opened)
            conn.send(("ok", (result, time.perf_counter() - started)))
        except QueryError as exc:
            conn.send(("query", str(exc)))
        except UnsupportedResultFormat as exc:
            conn.send(("format", str(exc)))
        except (StoreError, OSError) as exc:
            conn.send(("store", str(exc)))
        except Exception as exc:  # noqa: BLE001 - the worker must answer and live on, whatever broke
            conn.send(("store", f"the request failed unexpectedly: {type(exc).__name__}"))


def _run_query(job: QueryJob, opened: dict[str, Any]) -> Serialized:
    return execute(_view(job.version, opened), job.request, job.fmt, job.max_rows)


def _view(folder: str, opened: dict[str, Any]) -> Any:  # noqa: ANN401 - a pyoxigraph Store, imported lazily
    """A view folder opened read-only, kept for the next job: the views of one or two store versions
    (the current one, and the one a write is making from it) stay open, older ones are let go."""
    import pyoxigraph as ox

    if folder not in opened:
        version = str(Path(folder).parent)
        for kept in [k for k in opened if str(Path(k).parent) != version][:-_KEPT_VIEWS]:
            del opened[kept]
        opened[folder] = ox.Store.read_only(folder)
    return opened[folder]


def _run_update(job: UpdateJob, opened: dict[str, Any]) -> WriteEffect:
    from kg.delta import write_version

    return write_version(Path(job.previous) if job.previous else None, Path(job.target), job.sparql, job.base_iri,
                         job.visibility, open_view=lambda folder: _view(str(folder), opened))


class _Worker:
    def __init__(self, context: Any, fenced: bool) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, fenced), daemon=True)
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

    def __init__(self, size: int = 2, *, fenced: bool = True) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._fenced = fenced
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
        worker = worker if worker is not None and worker.process.is_alive() else _Worker(self._context, self._fenced)
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
