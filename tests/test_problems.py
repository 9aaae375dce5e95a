"""The problem+json answer (web/problems.py): one body and header set, whoever writes it."""

from __future__ import annotations

import json

from web.problems import build_problem


def test_a_problem_has_its_body_length_and_type() -> None:
    problem = build_problem(413, "Content Too Large", "over the limit", (("Connection", "close"),))
    assert problem.status_line == "413 Content Too Large"
    assert json.loads(problem.body) == {"type": "about:blank", "title": "Content Too Large", "status": 413,
                                        "detail": "over the limit"}
    assert problem.headers == (("Content-Type", "application/problem+json"), ("Content-Length", str(len(problem.body))),
                               ("Connection", "close"))


def test_401_names_the_credentials_and_429_when_to_try_again() -> None:
    assert ("WWW-Authenticate", 'Bearer realm="missiekompas"') in build_problem(401, "Unauthorized", "x").headers
    assert ("Retry-After", "1") in build_problem(429, "Too Many Requests", "x").headers
