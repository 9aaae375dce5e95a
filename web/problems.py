"""The application/problem+json answer (RFC 9457): one body and set of headers for every writer of one,
Flask (web.errors), the body guard (web.body_limit) and gunicorn's own error answers (web.server_hooks).
No Flask here, so the two that run outside Flask can use it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class Problem:
    """A problem answer ready to write: status line, headers (Content-Length included) and body."""

    status: int
    title: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def status_line(self) -> str:
        return f"{self.status} {self.title}"


def build_problem(status: int, title: str, detail: str, extra_headers: Iterable[tuple[str, str]] = ()) -> Problem:
    """The answer for `status`; a 401 says which credentials to send, a 429 when to try again."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail},
                      sort_keys=True).encode()
    headers = [("Content-Type", MEDIA_TYPE), ("Content-Length", str(len(body)))]
    if status == 401:
        headers.append(("WWW-Authenticate", 'Bearer realm="missiekompas"'))
    if status == 429:
        headers.append(("Retry-After", "1"))
    return Problem(status, title, (*headers, *extra_headers), body)
