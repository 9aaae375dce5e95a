"""A body without Content-Length (chunked transfer) is read here, before any route sees it: over
MK_MAX_BODY_BYTES it is refused with 413 (never cut and run), and a body the server cannot decode
(a broken chunk) is a 400. Below the limit the route gets it as an ordinary sized body."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

from web.problems import build_problem

log = logging.getLogger("missiekompas.web")
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _server_errors() -> tuple[type[Exception], ...]:
    """Errors the WSGI server raises while decoding a body (gunicorn: a broken chunk)."""
    try:
        from gunicorn.http.errors import ParseException
    except ImportError:  # another server
        return ()
    return (ParseException,)


class BodyLimit:
    def __init__(self, app: WsgiApp, limit: int, headers: dict[str, str]) -> None:
        self.app, self.limit, self.headers = app, limit, headers
        self.errors = (OSError, ValueError, *_server_errors())

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("CONTENT_LENGTH") or not self._has_unsized_body(environ):
            return self.app(environ, start_response)
        try:
            body = self._read(environ["wsgi.input"])
        except self.errors as exc:
            log.warning("%s %s: unreadable request body (%s)", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                        type(exc).__name__)
            return self._problem(start_response, 400, "Bad Request", "the request body is malformed (a broken chunk)")
        if len(body) > self.limit:
            return self._problem(start_response, 413, "Content Too Large",
                                 f"the request body is larger than the limit of {self.limit} bytes")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)

    @staticmethod
    def _has_unsized_body(environ: dict[str, Any]) -> bool:
        return bool(environ.get("wsgi.input_terminated")) or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()

    def _read(self, stream: Any) -> bytes:
        parts, size = [], 0
        while size <= self.limit:
            part = stream.read(min(65536, self.limit + 1 - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
        return b"".join(parts)

    def _problem(self, start_response: StartResponse, status: int, title: str, detail: str) -> list[bytes]:
        problem = build_problem(status, title, detail, (("Connection", "close"), *self.headers.items()))
        start_response(problem.status_line, list(problem.headers))
        return [problem.body]
