"""The app as `make run` serves it (gunicorn's asgi worker, see web/gunicorn_conf.py): the event loop
reads each request whole, its headers and then its body (up to MK_MAX_BODY_BYTES, within
MK_BODY_TIMEOUT_S, else 408), before the WSGI app gets one of MK_THREADS threads. A slow or stalled
client holds a socket, never a thread. (asgiref's WsgiToAsgi is not used: it runs every request of a
process on one thread, `sync_to_async` being thread-sensitive by default, and takes a body of any size.)"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote_to_bytes

from config import Settings, load_settings
from web.app import create_app
from web.server_hooks import KEEPALIVE_S, problem_answer

log = logging.getLogger("missiekompas.web")
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Head = tuple[str, list[tuple[str, str]]]

# An answer up to this size goes out in one write; a longer one goes out in pieces of this size,
# sent from its thread as the app produces them.
PIECE_BYTES = 256 * 1024


class WsgiOnThreads:
    """An ASGI app that answers each HTTP request with a WSGI app on a pool of `threads` threads."""

    def __init__(self, app: WsgiApp, threads: int, max_body_bytes: int, body_timeout_s: float) -> None:
        self.app, self.max_body_bytes, self.body_timeout_s = app, max_body_bytes, body_timeout_s
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="wsgi")  # threads start when first needed

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan is off (web/gunicorn_conf.py); no websockets here
            return
        try:
            async with asyncio.timeout(self.body_timeout_s):
                body = await self._read_body(scope, receive)
        except TimeoutError:
            body = None
        if body is None:  # too slow, or gone (then nothing is written)
            log.warning("%s %s: the request body did not arrive within %g s", scope["method"], scope["path"],
                        self.body_timeout_s)
            headers, text = problem_answer(408, "Request Timeout",
                                           f"the request body did not arrive within {self.body_timeout_s:g} s")
            await send(start_message("408 Request Timeout", headers, keep_alive=False))
            await send({"type": "http.response.body", "body": text})
            return
        environ = wsgi_environ(scope, body, self.max_body_bytes)
        is_read = len(body) <= self.max_body_bytes and (_content_length(scope) or 0) <= self.max_body_bytes
        keep_alive = is_read and scope["http_version"] == "1.1" and not _asks_close(scope)
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(self.pool, self._answer, environ, keep_alive, send, loop)
        if answer is not None:
            head, text = answer
            await send(start_message(*head, keep_alive=keep_alive))
            await send({"type": "http.response.body", "body": text})

    async def _read_body(self, scope: Message, receive: Receive) -> bytes | None:
        """The body, or its first max_body_bytes + 1 bytes: the app refuses those with a 413. A declared
        length over the limit is refused from the header alone, without reading. None: the client left."""
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            return b""
        parts, size = [], 0
        while size <= self.max_body_bytes:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            if not message.get("more_body", False):
                break
        return b"".join(parts)

    def _answer(self, environ: dict[str, Any], keep_alive: bool, send: Send,
                loop: asyncio.AbstractEventLoop) -> tuple[Head, bytes] | None:
        """In a pool thread: the WSGI app's answer, returned whole when it is short; a longer one is
        sent from here piece by piece (then None)."""
        head: list[Any] = []
        pieces: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            head[:] = [status, headers]
            return pieces.append  # WSGI's write(): what it gets goes out before the iterable's pieces

        def send_now(message: Message) -> None:
            asyncio.run_coroutine_threadsafe(send(message), loop).result()

        result = self.app(environ, start_response)
        try:
            size, started = 0, False
            for piece in result:
                pieces.append(piece)
                size += len(piece)
                if size >= PIECE_BYTES:
                    if not started:
                        send_now(start_message(head[0], head[1], keep_alive=keep_alive))
                        started = True
                    send_now({"type": "http.response.body", "body": b"".join(pieces), "more_body": True})
                    pieces.clear()
                    size = 0
            if not started:
                return (head[0], head[1]), b"".join(pieces)
            send_now({"type": "http.response.body", "body": b"".join(pieces)})
            return None
        finally:
            if hasattr(result, "close"):
                result.close()


def start_message(status: str, headers: list[tuple[str, str]], keep_alive: bool) -> Message:
    """The ASGI start of an answer; a kept-alive one says for how long the server keeps it open idle
    (RFC 9112 section 9.3; Node's agent and undici read it), an answer to an unread body closes."""
    listed = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    closes = any(name.lower() == b"connection" and b"close" in value.lower() for name, value in listed)
    if keep_alive and not closes:
        listed.append((b"Keep-Alive", b"timeout=%d" % KEEPALIVE_S))
    elif not closes:
        listed.append((b"Connection", b"close"))
    return {"type": "http.response.start", "status": int(status[:3]), "headers": listed}


def wsgi_environ(scope: Message, body: bytes, max_body_bytes: int) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) of an HTTP scope whose body has been read, as gunicorn's WSGI
    workers build it. A body past the limit is not sized: the app sees a declared Content-Length over
    the limit, or an unsized body of limit + 1 bytes, and answers 413 (web.body_limit)."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    server, client = scope.get("server") or ("", 0), scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", ""),
        "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "SERVER_NAME": str(server[0]), "SERVER_PORT": str(server[1]),
        "REMOTE_ADDR": str(client[0]), "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0), "wsgi.url_scheme": scope.get("scheme", "http"), "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    for name, value in scope["headers"]:
        key = name.decode("latin-1").upper().replace("-", "_")
        if key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):  # the body is decoded and sized below
            continue
        key = key if key == "CONTENT_TYPE" else "HTTP_" + key
        text = value.decode("latin-1")
        environ[key] = f"{environ[key]}{'; ' if key == 'HTTP_COOKIE' else ','}{text}" if key in environ else text
    declared = _content_length(scope)
    if len(body) > max_body_bytes:
        environ["wsgi.input_terminated"] = True
    elif declared is not None and declared > max_body_bytes:
        environ["CONTENT_LENGTH"] = str(declared)
    elif body or declared is not None:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def _content_length(scope: Message) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value)  # gunicorn has refused a malformed or repeated one
    return None


def _asks_close(scope: Message) -> bool:
    return any(name == b"connection" and b"close" in value.lower() for name, value in scope["headers"])


def create_asgi_app(settings: Settings | None = None) -> WsgiOnThreads:
    """gunicorn loads this in each worker process: `web.asgi:create_asgi_app()`."""
    settings = settings or load_settings()
    return WsgiOnThreads(create_app(settings), settings.threads, settings.max_body_bytes, settings.body_timeout_s)
