"""What gunicorn does on its own, made to follow the house rules: its error answers (a request it
cannot parse never reaches Flask) carry the security headers, a connection gets KEEPALIVE_S for a
request's headers, and no log line carries a secret. And its hooks (web/gunicorn_conf.py): with
MK_PRELOAD the master loads search's model before it forks the workers, and each worker opens its
search indexes before it takes requests."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
import sys
import time
from typing import TYPE_CHECKING, Any

from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.glogging import Logger
from gunicorn.workers import gasgi

from config import load_settings
from web.headers import SECURITY_HEADERS
from web.problems import build_problem

if TYPE_CHECKING:
    from web.services import Services

# Longer than clients keep an idle connection for reuse (Node's agent and undici: 4 s), so the server
# never closes one a client is about to use; answers say so in `Keep-Alive: timeout=`.
KEEPALIVE_S = 10

log = logging.getLogger("missiekompas.web")
_CREDENTIALS = re.compile(r"(?i)\b(authorization|bearer|basic|token|password)\b([\s:='\"]*)([^\s'\",;]+)")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Blank out credentials: anything after Authorization/Bearer/Basic/token/password, and every
    configured secret wherever it appears."""
    text = _CREDENTIALS.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text


def _configured_secrets() -> tuple[str, ...]:
    s = load_settings()
    values = (*s.admin_tokens, *s.internal_tokens, s.write_token, s.remote_token, s.remote_password)
    return tuple(v for v in values if len(v) >= 4)


class RedactSecrets(logging.Filter):
    """A logging filter (web/gunicorn_conf.py puts it on every handler)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets = _configured_secrets()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and record.exc_info[1] is not None:
            text = redact(str(record.exc_info[1]), self.secrets)
            if text != str(record.exc_info[1]):  # the traceback would repeat the secret: keep only its kind
                record.msg, record.args, record.exc_info = f"{cleaned} ({type(record.exc_info[1]).__name__})", (), None
        return True


def problem_answer(status: int, reason: str, detail: str) -> tuple[list[tuple[str, str]], bytes]:
    """The headers and body of an answer the server writes itself (not Flask): problem+json with the
    security headers, and the connection closes after it."""
    problem = build_problem(status, reason, redact(detail), (("Connection", "close"), *SECURITY_HEADERS.items()))
    return list(problem.headers), problem.body


class Protocol(ASGIProtocol):
    """gunicorn's connection of the asgi worker, made to keep the limits the gthread worker kept: at
    most `worker_connections` open at once, and the first request's headers must come within the
    keep-alive time, as every later one's do (gunicorn times only those, so a silent connection stayed
    open for good). The error answers it writes itself are `problem_answer`s."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self._request_ready is None:  # not HTTP/1 (HTTP/2 chosen in the TLS handshake)
            return
        if self.worker.nr_conns > self.worker.worker_connections:
            self._keepalive_timeout()  # closes it at once, as the timer would
        else:
            self._arm_keepalive_timer()  # stopped when the request's headers are in

    def _send_error_response(self, status: int, message: str, extra_headers: tuple[tuple[str, str], ...] = ()) -> None:
        reason = self._get_reason_phrase(status)
        headers, body = problem_answer(status, reason, str(message))
        head = "".join(f"{name}: {value}\r\n" for name, value in (*headers, *extra_headers))
        self._safe_write(f"HTTP/1.1 {status} {reason}\r\n{head}\r\n".encode("latin-1") + body)


class QuietLogger(Logger):
    """gunicorn's logger, which builds an access line for every request once any log configuration is
    given, even when the access logger drops it (web/gunicorn_conf.py sets it to WARNING): it builds one
    only when that logger would write it."""

    def setup(self, cfg: Any) -> None:  # noqa: ANN401 - gunicorn's Config
        super().setup(cfg)  # applies the log configuration, then:
        self._access_log_enabled = bool(self._compute_access_log_enabled() and self.access_log.isEnabledFor(logging.INFO))


def install() -> None:
    gasgi.ASGIProtocol = Protocol  # the asgi worker makes one per connection by this name


# --- gunicorn's hooks (web/gunicorn_conf.py) -------------------------------------------------------------

def served_services(served: Any) -> Services | None:  # noqa: ANN401 - what gunicorn loaded
    """The Services of the app gunicorn serves (web.asgi keeps the Flask app as `app`); None for another app."""
    from web.services import Services

    app = getattr(served, "app", served)
    found = getattr(app, "extensions", {}).get("missiekompas")
    return found if isinstance(found, Services) else None


def worker_threads(workers: int) -> int:
    """torch and FAISS threads per worker: its share of the cores this process may run on."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, workers))


def on_starting(server: Any) -> None:  # noqa: ANN401 - gunicorn's Arbiter
    """In the master, after it loaded the app (preload_app, MK_PRELOAD) and before it listens and forks
    the workers: load search's model and spaCy once (web.services.Services.preload_search), shared by
    every worker copy-on-write. torch and FAISS run on one thread here: an OpenMP pool started before
    the fork would leave the workers hanging in their first parallel operation. gc.freeze keeps the
    collector from writing to (and so copying) the shared objects in every worker."""
    if not server.cfg.preload_app:
        return
    services = served_services(server.app.wsgi())
    if services is None:
        return
    try:
        from search.service import set_threads

        set_threads(1)
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # its thread pool would not survive the fork either
        services.preload_search()
    except KeyboardInterrupt:  # Ctrl-C while loading: stop without a traceback
        sys.exit(130)
    except Exception:  # search is then loaded at its first use, as without MK_PRELOAD; the rest serves
        log.exception("search not preloaded")
    gc.collect()
    gc.freeze()


def when_ready(server: Any) -> None:  # noqa: ANN401 - gunicorn's Arbiter
    """The line `make run` shows once the server listens, with search loaded where MK_PRELOAD is on."""
    where = ", ".join(f"{listener}/" for listener in server.LISTENERS)
    print(f"serving on {where} (SPARQL at /sparql; Ctrl-C stops)", flush=True)


def post_fork(server: Any, worker: Any) -> None:  # noqa: ANN401 - gunicorn's Arbiter and worker
    """In a new worker: its share of the cores for torch and FAISS (the master ran them on one)."""
    if server.cfg.preload_app and "torch" in sys.modules:
        from search.service import set_threads

        set_threads(worker_threads(server.cfg.workers))


def post_worker_init(worker: Any) -> None:  # noqa: ANN401 - gunicorn's worker
    """In a worker, before it takes requests (MK_PRELOAD): open every audience's search index, so the
    first match answers as fast as the next (web.services.Services.open_search)."""
    if not worker.cfg.preload_app:
        return
    services = served_services(worker.app.wsgi())
    if services is None:
        return
    started = time.perf_counter()
    try:
        opened = services.open_search()
    except Exception:  # the worker serves all the same; search opens at its first use
        log.exception("worker %d: search not opened ahead", os.getpid())
        return
    if opened:
        log.info("worker %d: search of %s ready in %.1f s", os.getpid(), ", ".join(opened), time.perf_counter() - started)
