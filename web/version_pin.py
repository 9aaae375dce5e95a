"""One store version per request where replicas share a store (MK_STORE=shared, kg.shared).

The pointer to the live version is read once, when a request comes in, and every read of that
request answers from that version; the answer says which in `X-Missiekompas-Version`. A publish
while the request runs goes to the other slot, so nothing the request reads changes under it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ExitStack
from typing import Any

from kg.errors import StoreError
from kg.shared import SharedStore
from web.services import Services

VERSION_HEADER = "X-Missiekompas-Version"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class VersionPin:
    """WSGI middleware around the whole app (the /sparql door included)."""

    def __init__(self, app: WsgiApp, services: Services) -> None:
        self.app, self.services = app, services

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        store = self.services.store
        if not isinstance(store, SharedStore):
            return self.app(environ, start_response)
        with ExitStack() as pinned:
            try:
                pointer = pinned.enter_context(store.pinned())
            except StoreError:  # nothing published yet, an unreadable pointer: the route says so itself
                return self.app(environ, start_response)

            def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:  # noqa: ANN401
                headers.append((VERSION_HEADER, pointer.version))
                return start_response(status, headers, exc_info)

            answer = self.app(environ, start)
            try:
                return list(answer)  # the whole answer from the pinned version
            finally:
                if hasattr(answer, "close"):
                    answer.close()
