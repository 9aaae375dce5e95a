"""The time limit holds for every anonymous query, whatever it did before: queries whose cost depends
on a random draw, the clock or the data are primed (asked again and again) and never outlive the
limit (3 s on the `server` fixture) by more than 20%; one client's burst cannot take every worker."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

LIMIT_S = 3.0  # MK_QUERY_TIMEOUT_S of the `server` fixture (tests/conftest.py)
PRODUCT = "EXISTS { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
CHEAP_OR_NOT = [
    f"SELECT * {{ BIND(RAND#c\n() AS ?r) BIND(IF(?r < 0.5, false, {PRODUCT}) AS ?x) }}",
    f"SELECT * {{ BIND(STRUUID() AS ?u) BIND(IF(STRSTARTS(?u, '0'), false, {PRODUCT}) AS ?x) }}",
    f"SELECT * {{ BIND(SECONDS(NOW()) AS ?t) BIND(IF(?t < 0, false, {PRODUCT}) AS ?x) }}",
    f"SELECT * {{ BIND(BNODE() AS ?b) BIND(IF(isBlank(?b), {PRODUCT}, false) AS ?x) }}",
    f"SELECT * {{ {{ SELECT (COUNT(*) AS ?n) {{ ?s ?p ?o }} }} BIND(IF(?n < 10, false, {PRODUCT}) AS ?x) }}",
    f"ASK {{ FILTER({PRODUCT}) }}",
]


def _timed(server: str, query: str) -> tuple[int, float]:
    started = time.monotonic()
    answer = requests.post(f"{server}/sparql", data={"query": query}, timeout=60)
    return answer.status_code, time.monotonic() - started


@pytest.mark.parametrize("query", CHEAP_OR_NOT)
def test_a_primed_query_never_outlives_the_limit(server: str, query: str) -> None:
    runs = [_timed(server, query) for _ in range(3)]
    assert all(status in (200, 503) for status, _ in runs), runs
    assert max(seconds for _, seconds in runs) <= LIMIT_S * 1.2, runs


def test_one_clients_burst_is_capped_and_still_bounded(server: str) -> None:
    """Eight slow queries at once from one address: two run (MK_CLIENT_QUERIES), the rest are refused
    at once with 429; all end within the limit, and the client is answered again afterwards."""
    query = CHEAP_OR_NOT[-1]
    with ThreadPoolExecutor(8) as pool:
        burst = [pool.submit(_timed, server, query) for _ in range(8)]
        results = [future.result() for future in burst]
    statuses = sorted(status for status, _ in results)
    assert statuses.count(429) >= 6 and set(statuses) <= {429, 503, 200}
    assert max(seconds for _, seconds in results) <= LIMIT_S * 1.2
    assert requests.get(f"{server}/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=60).status_code == 200
