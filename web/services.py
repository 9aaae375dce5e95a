"""What one server process holds: the store and the query service, opened once, lazily."""

from __future__ import annotations

import threading

from flask import current_app

from kg.endpoint import Limits, QueryService
from kg.settings import Settings
from kg.store import Store, open_store


class Services:
    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self._store = store
        self._query: QueryService | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = open_store(self.settings)
            return self._store

    @property
    def queries(self) -> QueryService:
        store = self.store
        with self._lock:
            if self._query is None:
                s = self.settings
                limits = Limits(timeout_s=s.query_timeout_s, max_rows=s.max_rows, outbound_allow=s.outbound_allow)
                self._query = QueryService(store, limits, workers=s.query_workers)
            return self._query


def services() -> Services:
    found: Services = current_app.extensions["missiekompas"]
    return found
