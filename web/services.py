"""What one server process holds: the store, the query service and the search matcher, opened once, lazily."""

from __future__ import annotations

import threading
from collections.abc import Mapping
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
    """Built once per app by create_app. `store`: the graph, opened from settings when first read if
    none is handed in. `matchers`: search by audience. None (how the server runs): each audience's
    matcher is opened from settings.index_path over the store when first asked, its index rebuilt
    if stale. A mapping is the whole of search: an audience without a matcher in it is told
    SearchUnavailable, and no index on disk is opened or rebuilt ({} for an app without search)."""

    def __init__(self, settings: Settings, store: Store | None = None,
                 matchers: Mapping[str, Matcher] | None = None) -> None:
        self.settings = settings
        self._store = store
        self._query: QueryService | None = None
        self._lock = threading.Lock()
        self._opens_search = matchers is None
        self._matchers: dict[str, Matcher] = dict(matchers or {})  # audience -> its matcher, over its own index
        self._matcher_lock = threading.Lock()  # its own lock: opening search takes seconds, store reads must not wait

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
                if not self._opens_search:
                    raise SearchUnavailable("search is not set up for this app")
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
