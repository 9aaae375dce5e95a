"""What one server process holds: the store, the query service and the search matcher, opened once, lazily."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from flask import current_app

from config import Settings
from kg.access import AUDIENCES, PUBLIC
from kg.cli import configured_store
from kg.endpoint import Limits, QueryService, open_query_service
from kg.errors import KgError
from kg.functions import FN, FunctionContext
from kg.shared import SharedStore
from kg.sparql_text import extension_calls
from kg.store import Store
from search.embedder import ModelUnavailable
from search.index import IndexNotWritable, IndexStale
from web.errors import SearchUnavailable

if TYPE_CHECKING:  # search loads numpy, FAISS and spaCy: imported when search is first used
    from search.match import Matcher
    from search.partners import PartnerFinder
    from search.similar import SimilarEntity
    from search.sparql_functions import FunctionScorer

log = logging.getLogger("missiekompas.web")


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
        self._matcher_versions: dict[str, str] = {}  # audience -> the shared store version its matcher was opened on
        self._scorers: dict[str, FunctionScorer] = {}  # audience -> the SPARQL functions' scorer over that index
        self._matcher_lock = threading.Lock()  # its own lock: opening search takes seconds, store reads must not wait
        self._partners: dict[str, PartnerFinder] = {}  # audience -> partner suggestions over its matcher

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = configured_store(self.settings)
            return self._store

    @property
    def queries(self) -> QueryService:
        store = self.store
        with self._lock:
            if self._query is None:
                s = self.settings
                limits = Limits(timeout_s=s.query_timeout_s, max_rows=s.max_rows, outbound_allow=s.outbound_allow,
                                update_timeout_s=s.update_timeout_s, memory_quads=s.memory_quads)
                self._query = open_query_service(s.store, store, limits, workers=s.query_workers)
            return self._query

    def matcher(self, audience: str) -> Matcher:
        """The search matcher of `audience` (its own index, so no hit or explanation shows what it may not
        see); SearchUnavailable where search is not set up."""
        return self._matcher(audience, rebuild=True)

    def _matcher(self, audience: str, *, rebuild: bool) -> Matcher:
        version = self._shared_version()
        with self._matcher_lock:
            opened = self._matcher_versions.get(audience)
            if self._opens_search and version is not None and opened is not None and _newer(version, opened):
                self._matchers.pop(audience, None)  # a newer version went live on the shared store: its index now
                self._matcher_versions.pop(audience, None)
            if audience not in self._matchers:
                if not self._opens_search:
                    raise SearchUnavailable("search is not set up for this app")
                from search.service import open_matcher

                s = self.settings
                self._matchers[audience] = open_matcher(self.store, model=s.model, index_path=s.index_path,
                                                        hnsw_threshold=s.hnsw_threshold, dense_weight=s.dense_weight,
                                                        lexical_weight=s.lexical_weight, audience=audience,
                                                        rebuild=rebuild, hubness_weight=s.hubness_weight,
                                                        strong_threshold=s.strong_threshold,
                                                        fair_threshold=s.fair_threshold)
                if version is not None:
                    self._matcher_versions[audience] = version
            return self._matchers[audience]

    def _shared_version(self) -> str | None:
        """The version a shared store answers from now (the request's, web.version_pin); None
        for the other stores, whose matchers stay as opened."""
        store = self.store
        return store.version_name() if isinstance(store, SharedStore) else None

    def partners(self, audience: str) -> PartnerFinder:
        """Partner suggestions for `audience`, over its matcher and its view of the store (SearchUnavailable
        where search is not set up)."""
        from search.service import open_partner_finder

        matcher = self.matcher(audience)
        with self._matcher_lock:
            finder = self._partners.get(audience)
            if finder is None or finder.matcher is not matcher:
                finder = open_partner_finder(self.store, matcher, base=self.settings.base_uri, audience=audience)
                self._partners[audience] = finder
            return finder

    def preload_search(self) -> bool:
        """Load now what every search needs and the graph does not hold: the model and spaCy (see
        search.service.preload). The gunicorn master calls it before it forks the workers
        (MK_PRELOAD, web/server_hooks.py), so they share one copy. It opens no store: the store's
        RocksDB threads would not survive the fork. False, with a warning, where search cannot be
        loaded (each search then says so, as without preloading)."""
        if not self._opens_search:
            return False
        from search.service import preload

        started = time.perf_counter()
        try:
            preload(self.settings.model)
        except ModelUnavailable as exc:
            log.warning("search not preloaded: %s", exc)
            return False
        log.info("search model loaded in %.1f s, before the workers start", time.perf_counter() - started)
        return True

    def open_search(self) -> tuple[str, ...]:
        """Open the matcher of every audience a request can reach whose index on disk is up to date,
        now: each gunicorn worker does so before it takes requests (MK_PRELOAD), so its first match
        is as fast as the next. The internal audience is reached only with a token, so without one
        configured only the public's is opened. A stale or missing index is left to its first
        search, which rebuilds it (minutes, not here: the master would take a worker that long
        silent for hung). Returns the audiences opened."""
        if not self._opens_search:
            return ()
        s = self.settings
        reachable = AUDIENCES if (s.admin_tokens or s.internal_tokens or s.write_token) else (PUBLIC,)
        opened = []
        for audience in reachable:
            try:
                self._matcher(audience, rebuild=False)
            except IndexStale as exc:
                log.warning("search index of %s not opened ahead: %s; the first search rebuilds it", audience, exc)
            except (SearchUnavailable, ModelUnavailable, IndexNotWritable, KgError) as exc:
                log.warning("search of %s not opened ahead: %s", audience, exc)
            else:
                opened.append(audience)
        return tuple(opened)

    @property
    def open_audiences(self) -> tuple[str, ...]:
        """The audiences whose matcher is open (loaded, ready to answer without loading anything)."""
        with self._matcher_lock:
            return tuple(self._matchers)

    def similar(self, iri: str, audience: str, top: int = 6) -> tuple[SimilarEntity, ...]:
        """Entities near `iri` in the vector index of `audience`; () where search is not set up."""
        from search.similar import similar_entities

        try:
            matcher = self.matcher(audience)
        except (SearchUnavailable, ModelUnavailable, IndexNotWritable):
            return ()
        return similar_entities(matcher.index, iri, top=top)

    def functions(self, sparql: str, audience: str, base_iri: str | None = None) -> FunctionContext | None:
        """The score tables of the SPARQL extension functions `sparql` calls, from the search index of
        `audience` (so a public query is scored from public texts only); None where it calls none or
        search is not set up, and the functions are then unbound."""
        if not extension_calls(sparql, FN, base_iri):
            return None
        from search.sparql_functions import FunctionScorer

        try:
            matcher = self.matcher(audience)
        except (SearchUnavailable, ModelUnavailable, IndexNotWritable):
            return None
        with self._matcher_lock:
            scorer = self._scorers.get(audience)
            if scorer is None or scorer.index is not matcher.index:
                scorer = self._scorers[audience] = FunctionScorer(matcher.index, matcher.embedder)
        return scorer.context(sparql, base_iri)


def _newer(version: str, than: str) -> bool:
    """Whether shared store version `version` was published after `than` (their names end in the time they
    were made, kg.shared): a request still pinned to an older version uses the newer matcher, rather than
    opening the old one again."""
    return int(version.rsplit("-", 1)[-1]) > int(than.rsplit("-", 1)[-1])


def services() -> Services:
    found: Services = current_app.extensions["missiekompas"]
    return found
