"""What one server process holds: the store, the query service and the search matcher, opened once, lazily."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from flask import current_app

from kg.endpoint import Limits, QueryService, open_query_service
from kg.settings import Settings
from kg.store import Store, open_store
from search.embedder import ModelUnavailable
from search.index import IndexNotWritable
from web.errors import SearchUnavailable

if TYPE_CHECKING:  # search loads numpy, FAISS and spaCy: imported when search is first used
    from search.match import Matcher
    from search.similar import SimilarEntity


class Services:
    def __init__(self, settings: Settings, store: Store | None = None,
                 matchers: dict[str, Matcher] | None = None) -> None:
        self.settings = settings
        self._store = store
        self._query: QueryService | None = None
        self._lock = threading.Lock()
        self._matchers: dict[str, Matcher] = dict(matchers or {})  # audience -> its matcher, over its own index
        self._matcher_lock = threading.Lock()  # its own lock: opening search takes seconds, store reads must not wait
        # The indexes on disk (settings.index_path) belong to the store the settings name. A store handed in
        # (tests, tools) comes with its own matchers or without search: never rebuild an index for another graph.
        self._may_open_search = store is None

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
                limits = Limits(timeout_s=s.query_timeout_s, max_rows=s.max_rows, outbound_allow=s.outbound_allow,
                                update_timeout_s=s.update_timeout_s)
                self._query = open_query_service(s.store, store, limits, workers=s.query_workers)
            return self._query

    def matcher(self, audience: str) -> Matcher:
        """The search matcher of `audience` (its own index, so no hit or explanation shows what it may not
        see); SearchUnavailable where search is not set up."""
        with self._matcher_lock:
            if audience not in self._matchers:
                if not self._may_open_search:
                    raise SearchUnavailable("search is not set up for this store")
                from search.service import open_matcher

                self._matchers[audience] = open_matcher(self.settings, self.store, audience=audience)
            return self._matchers[audience]

    def similar(self, iri: str, audience: str, top: int = 6) -> tuple[SimilarEntity, ...]:
        """Entities near `iri` in the vector index of `audience`; () where search is not set up."""
        from search.similar import similar_entities

        try:
            matcher = self.matcher(audience)
        except (SearchUnavailable, ModelUnavailable, IndexNotWritable):
            return ()
        return similar_entities(matcher.index, iri, top=top)


def services() -> Services:
    found: Services = current_app.extensions["missiekompas"]
    return found
