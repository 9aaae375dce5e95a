"""What gunicorn does on its own, made to follow the house rules: its error answers (a request it
cannot parse never reaches Flask) carry the security headers, a connection gets KEEPALIVE_S for a
request's headers, and no log line carries a secret."""

from __future__ import annotations

import asyncio
import logging
import re

from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.workers import gasgi

from kg.settings import load_settings
from web.headers import SECURITY_HEADERS
from web.problems import build_problem

# Longer than clients keep an idle connection for reuse (Node's agent and undici: 4 s), so the server
# never closes one a client is about to use; answers say so in `Keep-Alive: timeout=`.
KEEPALIVE_S = 10

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


def install() -> None:
    gasgi.ASGIProtocol = Protocol  # the asgi worker makes one per connection by this name
