"""Query worker processes: user queries run outside the server process so a timeout can stop them."""

from __future__ import annotations

import multiprocessing
import queue
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kg.errors import KgError, QueryError, StoreError, UnsupportedResultFormat
from kg.execute import QueryRequest, execute
from kg.results import Serialized


class QueryTimeout(KgError):
    """The query ran past its time limit and was stopped."""


def _serve(conn: Connection) -> None:
    """Worker loop: open the store version it is asked for (read-only) and answer queries."""
    import pyoxigraph as ox

    store, opened = None, None
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        version, request, fmt, max_rows = job
        try:
            if version != opened:
                store, opened = ox.Store.read_only(version), version
            started = time.perf_counter()
            answer = execute(store, request, fmt, max_rows)
            conn.send(("ok", (answer, time.perf_counter() - started)))
        except QueryError as exc:
            conn.send(("query", str(exc)))
        except UnsupportedResultFormat as exc:
            conn.send(("format", str(exc)))
        except (StoreError, OSError) as exc:
            conn.send(("store", str(exc)))
        except Exception as exc:  # noqa: BLE001 - the worker must answer and live on, whatever broke
            conn.send(("store", f"the query failed unexpectedly: {type(exc).__name__}"))


class _Worker:
    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        child.close()

    def stop(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class WorkerPool:
    """A fixed number of worker processes shared by the threads of one server process.
    A query past its timeout has its worker killed (which really stops the work) and replaced."""

    def __init__(self, size: int = 2) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(size):
            self._idle.put(None)  # workers start lazily, on first use

    def run(self, version: Path, request: QueryRequest, fmt: str, max_rows: int,
            timeout_s: float) -> tuple[Serialized, float]:
        """The answer, and the seconds the worker spent evaluating and writing it (not counting a
        wait for a free worker or a worker's start)."""
        try:
            worker = self._idle.get(timeout=timeout_s)
        except queue.Empty:
            raise QueryTimeout(f"all query workers stayed busy for {timeout_s:g} s; try again shortly") from None
        worker = worker if worker is not None and worker.process.is_alive() else _Worker(self._context)
        try:
            worker.conn.send((str(version), request, fmt, max_rows))
            if not worker.conn.poll(timeout_s):
                worker.stop()
                worker = None
                raise QueryTimeout(f"the query was stopped after {timeout_s:g} s (the time limit)")
            kind, payload = worker.conn.recv()
        except (EOFError, BrokenPipeError, OSError) as exc:
            if worker is not None:
                worker.stop()
            worker = None
            raise StoreError(f"the query worker failed: {exc}") from exc
        finally:
            self._idle.put(worker)
        if kind == "query":
            raise QueryError(payload)
        if kind == "format":
            raise UnsupportedResultFormat(payload)
        if kind == "store":
            raise StoreError(payload)
        return payload

    def close(self) -> None:
        while not self._idle.empty():
            worker = self._idle.get_nowait()
            if worker is not None:
                worker.stop()
