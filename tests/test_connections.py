"""Connections on the real server (web.asgi under gunicorn's asgi worker): slow and stalled clients
hold no thread and are cut off, idle connections live longer than clients keep them, and answers
say how long. The exact timings are in bench/bench_slow_clients.py."""

from __future__ import annotations

import http.client
import re
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, suppress
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from kg.build import build
from kg.store import OxigraphStore
from tests.conftest import BASE, TINY, start_server, stop_server
from web.server_hooks import KEEPALIVE_S

ASK = "/sparql?query=ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D"
JSON = {"Accept": "application/sparql-results+json"}
BODY_TIMEOUT_S = 10  # MK_BODY_TIMEOUT_S of the `server` fixture


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def stalled_body(url: str) -> socket.socket:
    """Headers that promise a 1,000-byte body, 10 bytes of it, then nothing."""
    conn = socket.create_connection(address(url), timeout=5)
    conn.sendall(b"POST /sparql HTTP/1.1\r\nHost: test\r\nContent-Type: application/sparql-query\r\n"
                 b"Content-Length: 1000\r\n\r\nASK { ?s ?")
    return conn


def stalled_headers(url: str) -> socket.socket:
    conn = socket.create_connection(address(url), timeout=5)
    conn.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: test\r\nAccept: application/")
    return conn


def read_until_closed(conn: socket.socket, timeout_s: float) -> bytes:
    conn.settimeout(timeout_s)
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


@pytest.fixture
def connection(server: str) -> Iterator[http.client.HTTPConnection]:
    host, port = address(server)
    with closing(http.client.HTTPConnection(host, port, timeout=30)) as conn:
        yield conn


def test_stalled_clients_do_not_block_a_cheap_query(server: str) -> None:
    with ExitStack() as stack:
        for _ in range(8):
            stack.enter_context(closing(stalled_body(server)))
            stack.enter_context(closing(stalled_headers(server)))
        time.sleep(0.5)  # the stalled requests are in first
        started = time.monotonic()
        response = requests.get(server + ASK, headers=JSON, timeout=60)
        waited = time.monotonic() - started
    assert response.status_code == 200 and response.json()["boolean"] is True
    # 16 stalled clients against 4 threads: were any of them holding a thread, the query would wait for
    # the body timeout (10 s); 5 s leaves room for a loaded machine.
    assert waited < BODY_TIMEOUT_S / 2, f"a cheap ASK waited {waited:.1f} s behind stalled clients"


def test_a_connection_idle_for_longer_than_clients_wait_is_reused(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", ASK, headers=JSON)
    first = connection.getresponse()
    assert first.status == 200 and first.read()
    sock = connection.sock
    time.sleep(4.5)  # Node's agent and undici reuse an idle connection for up to 4 s
    connection.request("GET", ASK, headers=JSON)
    second = connection.getresponse()
    assert second.status == 200 and second.read()
    assert connection.sock is sock, "the second request went over a new connection"


def test_kept_alive_answers_say_how_long(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", ASK, headers=JSON)
    response = connection.getresponse()
    response.read()
    offered = re.fullmatch(r"timeout=(\d+)", response.getheader("Keep-Alive") or "")
    assert offered, response.getheaders()
    assert int(offered.group(1)) == KEEPALIVE_S >= 5  # longer than clients keep an idle connection
    assert response.getheader("Connection") is None


def test_an_answer_that_closes_does_not_offer_keep_alive(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", ASK, headers={**JSON, "Connection": "close"})
    response = connection.getresponse()
    response.read()
    assert response.status == 200
    assert response.getheader("Connection") == "close"
    assert response.getheader("Keep-Alive") is None


def test_a_stalled_body_gets_408_and_a_silent_connection_is_closed(server: str) -> None:
    silent = socket.create_connection(address(server), timeout=5)
    with closing(stalled_body(server)) as stalled, closing(silent):
        started = time.monotonic()
        answer = read_until_closed(stalled, BODY_TIMEOUT_S + 20)
        assert time.monotonic() - started >= BODY_TIMEOUT_S - 1
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 ")
        assert b"Connection: close" in head and b"X-Content-Type-Options: nosniff" in head
        assert b'"status": 408' in body
        assert read_until_closed(silent, KEEPALIVE_S + 20) == b"", "a connection that never sent a request"


def test_a_chunked_body_is_read_whole_and_capped(server: str) -> None:
    host, port = address(server)
    with closing(http.client.HTTPConnection(host, port, timeout=30)) as conn:
        conn.request("POST", "/sparql", body=iter([b"ASK { ", b"?s ?p ?o }"]), encode_chunked=True,
                     headers={**JSON, "Content-Type": "application/sparql-query", "Transfer-Encoding": "chunked"})
        response = conn.getresponse()
        assert response.status == 200 and b"true" in response.read()
    with closing(http.client.HTTPConnection(host, port, timeout=30)) as conn:
        pieces = (b"#" + b"x" * 9_999 for _ in range(30))  # 300 kB, over the fixture's 200 kB limit
        with suppress(BrokenPipeError, ConnectionResetError):  # the answer may come before the rest of the body
            conn.request("POST", "/sparql", body=pieces, encode_chunked=True,
                         headers={**JSON, "Content-Type": "application/sparql-query", "Transfer-Encoding": "chunked"})
        response = conn.getresponse()
        assert response.status == 413
        assert response.getheader("Connection") == "close"


def test_connections_past_the_limit_are_closed_at_once(tmp_path: Path) -> None:
    build((TINY,), BASE, OxigraphStore(tmp_path / "store", create=True))
    proc, url = start_server(tmp_path / "store", tmp_path / "server.log", ("--worker-connections", "8"))
    try:
        with ExitStack() as stack:
            held = [stack.enter_context(closing(socket.create_connection(address(url), timeout=5))) for _ in range(8)]
            one_more = stack.enter_context(closing(stalled_headers(url)))
            assert read_until_closed(one_more, 10) == b"", "a ninth connection was served"
            held[0].sendall(f"GET {ASK} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode())
            assert read_until_closed(held[0], 30).startswith(b"HTTP/1.1 200 "), "the connections within the limit"
    finally:
        stop_server(proc)
