"""Which queries may skip the query worker: those already seen to finish fast on this store version.

A query worker is what makes the timeout real (kg.worker kills it), but the hop to it costs more
than a small query itself. A store version never changes, and evaluating the same query text over
the same data does the same work, so a text that finished within the inline limit in a worker
will again: it runs in the server thread (pyoxigraph releases the GIL while it evaluates). Never
seen, slow, or volatile (RAND, NOW, UUID, STRUUID: their work may differ from one run to the
next): the query goes to a worker, under the timeout."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict

from kg.execute import QueryRequest

_VOLATILE = re.compile(r"\b(?:RAND|NOW|UUID|STRUUID)\s*\(", re.IGNORECASE)


class FastQueries:
    def __init__(self, limit_s: float, size: int = 4096) -> None:
        self.limit_s = limit_s
        self._size = size
        self._seen: OrderedDict[bytes, bool] = OrderedDict()  # digest -> whether the answer was whole (not cut)
        self._lock = threading.Lock()

    @staticmethod
    def key(version: str, request: QueryRequest, fmt: str) -> bytes:
        """What the work depends on: the store version, the query and its dataset, the answer's format."""
        parts = (version, fmt, request.base_iri or "", *request.default_graphs, "\0", *request.named_graphs, "\0",
                 request.query)
        return hashlib.blake2b("\n".join(parts).encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def seen(self, key: bytes) -> bool | None:
        """None for a query not known to be fast; else whether its answer was whole (within the row
        limit), which it will be again: the same query over the same data gives as many rows."""
        with self._lock:
            whole = self._seen.get(key)
            if whole is not None:
                self._seen.move_to_end(key)
            return whole

    def record(self, key: bytes, request: QueryRequest, seconds: float, whole: bool) -> None:
        """Remember a query that finished in a worker within the limit (the oldest are forgotten first)."""
        if seconds > self.limit_s or _VOLATILE.search(request.query):
            return
        with self._lock:
            self._seen[key] = whole
            self._seen.move_to_end(key)
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
