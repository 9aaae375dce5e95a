"""Values derived from one store version, computed once and kept until the next write.

A store version never changes once written, so whatever a page derives from it (figures, blank spots,
overlaps, an edition diff) holds until a write makes a new version. The key is the view's cache_key(),
which names the version (kg.store.View, kg.shared.SlotView: views that say they are `versioned`). A
remote view is not cached: its key does not change when the remote store is written to. A MemoryStore
view's key is the id of its handle, so the cache holds the view itself: while its entry lives, no new
handle can get that id."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from kg.store import GraphView

T = TypeVar("T")
MAX_VALUES = 256  # per audience and version: a bound on what odd request parameters can add


class _Version:
    """The values of one audience's view of one version."""

    def __init__(self, view: GraphView) -> None:
        self.view = view  # keeps an id-based key from being reused (see above)
        self.values: dict[Hashable, object] = {}
        self.pinned: list[object] = []  # objects a key names by id (a search index): kept alive with it
        self.locks: dict[Hashable, threading.Lock] = {}
        self.lock = threading.Lock()

    def lock_for(self, key: Hashable) -> threading.Lock:
        with self.lock:
            return self.locks.setdefault(key, threading.Lock())


class VersionCache:
    """Per audience, the values derived from the last two versions seen (a request that began before a write
    still reads the version before it); a newer version drops the oldest."""

    def __init__(self, max_values: int = MAX_VALUES, versions: int = 2) -> None:
        self.max_values, self.versions = max_values, versions
        self._seen: dict[str, dict[str, _Version]] = {}  # audience -> version key -> its values, oldest first
        self._lock = threading.Lock()

    def get(self, view: GraphView, key: Hashable, compute: Callable[[], T], *, pin: tuple[object, ...] = ()) -> T:
        """The value of `key` for this view's version: `compute()` the first time (once, whoever else asks at
        the same time waits for it), the kept value after. `pin`: objects `key` names by id, kept alive
        as long as the value."""
        if not getattr(view, "versioned", False):
            return compute()
        version = self._version(view)
        with version.lock_for(key):
            if key in version.values:
                return version.values[key]  # type: ignore[return-value]
            value = compute()
            if len(version.values) < self.max_values:
                version.values[key] = value
                version.pinned.extend(pin)
            return value

    def _version(self, view: GraphView) -> _Version:
        key = view.cache_key()
        with self._lock:
            seen = self._seen.setdefault(view.audience, {})
            found = seen.get(key)
            if found is None:
                found = seen[key] = _Version(view)
                while len(seen) > self.versions:
                    del seen[next(iter(seen))]
            return found
