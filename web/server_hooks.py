"""What gunicorn does on its own, made to follow the house rules: its error answers (a request it
cannot parse never reaches Flask) carry the security headers, and no log line carries a secret."""

from __future__ import annotations

import json
import logging
import re
import socket

from gunicorn import util

from kg.settings import load_settings
from web.headers import SECURITY_HEADERS

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


def write_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own error answer, as problem+json with the security headers."""
    body = json.dumps({"type": "about:blank", "title": reason, "status": status_int,
                       "detail": redact(str(mesg))}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in SECURITY_HEADERS.items()) + "\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    util.write_error = write_error  # gunicorn's workers call util.write_error for requests they cannot parse
